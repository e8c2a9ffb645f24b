// Histogram bins for latency samples. Pure code (no DOM), unit-tested under test/unit.
import { percentileSorted } from '../../contract/stats';

export interface Histogram {
  /** Left edge of the first bin, ms. */
  startMs: number;
  binWidthMs: number;
  counts: number[];
}

/** Enough bins to see a shape, few enough for a panel a few hundred pixels wide. */
export const MAX_BINS = 120;

/**
 * Bin width by the Freedman–Diaconis rule, h = 2 IQR n^(-1/3): robust to the long right tail
 * latencies have (outliers widen Scott's rule, not this one). When the IQR is 0 (most samples
 * equal, as with a coarse clock), the range is split by Sturges' count instead; the number of bins
 * is then clamped to [1, MAX_BINS].
 */
export function freedmanDiaconisWidth(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n < 2) return 1;
  const range = sorted[n - 1]! - sorted[0]!;
  if (range <= 0) return 1;
  const iqr = percentileSorted(sorted, 75) - percentileSorted(sorted, 25);
  let width = iqr > 0 ? (2 * iqr) / Math.cbrt(n) : range / (Math.ceil(Math.log2(n)) + 1);
  if (range / width > MAX_BINS) width = range / MAX_BINS;
  return width;
}

/** Counts of ascending-sorted samples in bins of the given width starting at `startMs` (the last
 * bin is closed on the right so the maximum is counted). */
export function binSorted(sorted: ArrayLike<number>, startMs: number, binWidthMs: number, binCount: number): number[] {
  const counts = new Array<number>(binCount).fill(0);
  for (let k = 0; k < sorted.length; k++) {
    const v = sorted[k]!;
    const i = Math.floor((v - startMs) / binWidthMs);
    if (i < 0 || i > binCount) continue;
    counts[Math.min(i, binCount - 1)]!++;
  }
  return counts;
}

/** The histogram's x-axis bounds: every bin whole (its left edge to the last bin's right edge) and
 * every marker value inside, so neither the last bin nor a P99 just past the last bin centre is cut
 * off. */
export function histogramXRange(h: Histogram, markerValuesMs: readonly number[]): { min: number; max: number } {
  let min = h.startMs;
  let max = h.startMs + Math.max(1, h.counts.length) * h.binWidthMs;
  for (const v of markerValuesMs) {
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max };
}

/** Freedman–Diaconis histogram of ascending-sorted samples. */
export function histogramSorted(sorted: ArrayLike<number>): Histogram {
  if (sorted.length === 0) return { startMs: 0, binWidthMs: 1, counts: [] };
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  const width = freedmanDiaconisWidth(sorted);
  const binCount = Math.max(1, Math.ceil((max - min) / width));
  return { startMs: min, binWidthMs: width, counts: binSorted(sorted, min, width, binCount) };
}

/** A run's empirical cumulative distribution (ECDF) as points: x the latency, y the percent of its
 * iterations at or below it; at most `maxPoints` points (evenly spaced ranks, first and last kept),
 * so 100,000 samples draw as fast as 1,000. Runs of any length and speed overlay without shared
 * bins (common bins over pooled fp32/fp16/int8 samples of yolov5n were 3 bins of 7 ms: no shape). */
export function ecdfPoints(samples: ArrayLike<number>, maxPoints = 1000): Array<{ x: number; y: number }> {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  if (n === 0) return [];
  const count = Math.min(n, Math.max(2, maxPoints));
  const points: Array<{ x: number; y: number }> = [];
  for (let k = 0; k < count; k++) {
    const i = count === 1 ? n - 1 : Math.round((k * (n - 1)) / (count - 1));
    points.push({ x: sorted[i]!, y: (100 * (i + 1)) / n });
  }
  return points;
}
