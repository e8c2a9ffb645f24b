// Colour contrast for what the pages draw on a canvas (WCAG 2 relative luminance and contrast
// ratio). Theme colours are chosen for text on VS Code's own surfaces, not for thin dashed lines on
// an editor background: a dark theme's orange could come out as dark brown on near-black. Pure code,
// unit-tested (test/unit/contrast.test.ts).

export type Rgb = [number, number, number];

/** WCAG's minimum for graphics and large text (1.4.11): what a percentile marker must reach. */
export const MIN_MARKER_CONTRAST = 3;

/** #rgb, #rrggbb, #rrggbbaa, rgb() and rgba() (alpha ignored); null for any other syntax. */
export function parseRgb(css: string): Rgb | null {
  const s = css.trim();
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(s);
  if (hex) {
    const h = hex[1]!.length === 3 ? hex[1]!.replace(/./g, (c) => c + c) : hex[1]!.slice(0, 6);
    const n = Number.parseInt(h, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(s);
  if (fn) return [Number(fn[1]), Number(fn[2]), Number(fn[3])].map((v) => Math.max(0, Math.min(255, Math.round(v)))) as Rgb;
  return null;
}

export function relativeLuminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrastRatio(a: Rgb, b: Rgb): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const hex = (rgb: Rgb) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;

/** `color`, or the nearest mix of it towards white (dark background) or black (light background)
 * that reaches `min` contrast against `background`: the hue stays recognisable, the line readable.
 * Colours in a syntax we cannot parse are returned unchanged. */
export function legibleOn(color: string, background: string, min = MIN_MARKER_CONTRAST): string {
  const fg = parseRgb(color);
  const bg = parseRgb(background);
  if (!fg || !bg || contrastRatio(fg, bg) >= min) return color;
  const target: Rgb = relativeLuminance(bg) < 0.5 ? [255, 255, 255] : [0, 0, 0];
  for (let step = 1; step <= 20; step++) {
    const t = step / 20;
    const mixed = fg.map((c, i) => Math.round(c + (target[i]! - c) * t)) as Rgb;
    if (contrastRatio(mixed, bg) >= min) return hex(mixed);
  }
  return hex(target);
}

/** Line height of a marker label, and the band above the plot area the labels are drawn in, so a
 * label never sits on a bar (they used to be drawn inside the plot, over the tallest bins). */
export const MARKER_LABEL_LINE_PX = 14;
export function markerBandPx(markers: number): number {
  return markers * MARKER_LABEL_LINE_PX + 4;
}
/** Baseline of the i-th label: inside the band above `plotTop`, stepping up so close percentiles
 * do not overlap. */
export function markerLabelY(i: number, markers: number, plotTop: number): number {
  return plotTop - 4 - MARKER_LABEL_LINE_PX * (markers - 1 - i);
}
