// Fewer points for the latency-over-iterations line: a panel is a few hundred pixels wide, and
// chart.js draws 100k points slowly. Pure code, unit-tested under test/unit.

export interface Point {
  x: number;
  y: number;
}

/**
 * Min/max decimation: the series is cut into buckets of consecutive iterations and each bucket
 * keeps its smallest and largest value, in the order they occurred. Spikes (throttling, a GC
 * pause) survive, which averaging would hide. `offset` is added to every x (warm-up iterations
 * come first, so measured iteration i is drawn at x = warm-up count + i).
 */
export function decimateMinMax(values: ArrayLike<number>, maxPoints: number, offset = 0): Point[] {
  return decimateWith(values, maxPoints, (i) => offset + i);
}

/** The same min/max decimation for samples drawn at their own x (e.g. each sample's start time,
 * seconds): `xs[i]` is sample i's x. */
export function decimateMinMaxAt(xs: ArrayLike<number>, values: ArrayLike<number>, maxPoints: number): Point[] {
  if (xs.length !== values.length) throw new Error(`decimateMinMaxAt: ${xs.length} x values for ${values.length} samples`);
  return decimateWith(values, maxPoints, (i) => xs[i]!);
}

function decimateWith(values: ArrayLike<number>, maxPoints: number, xOf: (i: number) => number): Point[] {
  const n = values.length;
  if (n <= maxPoints) {
    const all = new Array<Point>(n);
    for (let i = 0; i < n; i++) all[i] = { x: xOf(i), y: values[i]! };
    return all;
  }
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const size = n / buckets;
  const out: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(n, Math.floor((b + 1) * size));
    if (end <= start) continue;
    let iMin = start;
    let iMax = start;
    for (let i = start + 1; i < end; i++) {
      if (values[i]! < values[iMin]!) iMin = i;
      if (values[i]! > values[iMax]!) iMax = i;
    }
    const first = Math.min(iMin, iMax);
    const second = Math.max(iMin, iMax);
    out.push({ x: xOf(first), y: values[first]! });
    if (second !== first) out.push({ x: xOf(second), y: values[second]! });
  }
  return out;
}
