// Colours for canvases from the `--vscode-*` CSS variables VS Code sets on the page (CSS can use
// them directly; chart.js draws on a canvas and needs them as values). VS Code swaps the variables
// and the body's theme class when the user changes theme: `onThemeChange` tells the charts.
import { legibleOn } from './contrast';

export interface Theme {
  foreground: string;
  /** The editor background the charts are drawn on: markers are made legible against it. */
  background: string;
  muted: string;
  grid: string;
  fontFamily: string;
  fontSizePx: number;
  /** Series colours, in order. */
  series: string[];
  warmup: string;
  p50: string;
  p95: string;
  p99: string;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

export function readTheme(): Theme {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => cssVar(style, name, fallback);
  const foreground = v('--vscode-editor-foreground', v('--vscode-foreground', '#cccccc'));
  const background = v('--vscode-editor-background', '#1e1e1e');
  return {
    foreground,
    background,
    muted: v('--vscode-descriptionForeground', foreground),
    grid: v('--vscode-charts-lines', v('--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    fontFamily: v('--vscode-font-family', 'sans-serif'),
    fontSizePx: Number.parseFloat(v('--vscode-font-size', '13')) || 13,
    series: [
      v('--vscode-charts-blue', '#3794ff'),
      v('--vscode-charts-orange', '#d18616'),
      v('--vscode-charts-green', '#89d185'),
      v('--vscode-charts-purple', '#b180d7'),
      v('--vscode-charts-yellow', '#cca700'),
      v('--vscode-charts-red', '#f14c4c'),
    ],
    warmup: v('--vscode-charts-yellow', '#cca700'),
    p50: legibleOn(v('--vscode-charts-green', '#89d185'), background),
    p95: legibleOn(v('--vscode-charts-orange', '#d18616'), background),
    p99: legibleOn(v('--vscode-charts-red', '#f14c4c'), background),
  };
}

/** Calls `listener` with the new theme whenever VS Code changes the theme class or variables. */
export function onThemeChange(listener: (theme: Theme) => void): void {
  let last = JSON.stringify(readTheme());
  const check = () => {
    const theme = readTheme();
    const now = JSON.stringify(theme);
    if (now === last) return;
    last = now;
    listener(theme);
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}

/** A colour with an alpha, for fills under a series colour (#rrggbb or #rgb; others unchanged). */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const hex = m[1]!.length === 3 ? m[1]!.replace(/./g, (c) => c + c) : m[1]!;
  const n = Number.parseInt(hex, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
