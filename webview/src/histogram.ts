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

/** Histograms of several runs on common bins (Freedman–Diaconis of the pooled samples), each as
 * a share of its run's samples in percent, so runs of different length overlay fairly. */
export function sharedHistograms(runs: ReadonlyArray<ArrayLike<number>>): { startMs: number; binWidthMs: number; percents: number[][] } {
  const sortedRuns = runs.map((r) => Float64Array.from(r).sort());
  const pooled = new Float64Array(sortedRuns.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of sortedRuns) {
    pooled.set(r, at);
    at += r.length;
  }
  pooled.sort();
  if (pooled.length === 0) return { startMs: 0, binWidthMs: 1, percents: runs.map(() => []) };
  const base = histogramSorted(pooled);
  const percents = sortedRuns.map((r) => {
    const counts = binSorted(r, base.startMs, base.binWidthMs, base.counts.length);
    return counts.map((c) => (r.length > 0 ? (100 * c) / r.length : 0));
  });
  return { startMs: base.startMs, binWidthMs: base.binWidthMs, percents };
}
