// The one statistics module: agent, CLI and panels turn raw samples into numbers here, so a run
// file can always be re-analysed without re-measuring. Pure code (no Node or DOM APIs).
import type { Stats } from './protocol';

/**
 * Percentile of an ascending-sorted array, p in [0, 100], by linear interpolation between the
 * closest ranks: h = (n - 1) * p / 100, result = x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h]).
 * This is Hyndman & Fan definition 7, the default of NumPy, R and Excel's PERCENTILE.INC.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside [0, 100]`);
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Distribution-free 95% confidence interval of the median from order statistics: the ranks
 * j < k are the smallest symmetric pair around n/2 with P(j <= B < k) >= 0.95 for
 * B ~ Binomial(n, 1/2) (exact binomial tail for n <= 1000, the normal approximation above).
 * For n < 6 no pair reaches 95%, so the interval is [min, max].
 */
export function medianCi95Sorted(sorted: ArrayLike<number>): [number, number] {
  const n = sorted.length;
  if (n === 0) throw new RangeError('confidence interval of an empty sample');
  if (n < 6) return [sorted[0]!, sorted[n - 1]!];
  let j: number; // 1-based rank of the lower bound; upper bound has rank n + 1 - j
  if (n <= 1000) {
    // Largest j such that P(B < j) <= 0.025, i.e. the interval [x(j), x(n+1-j)] covers >= 95%.
    const logHalfN = n * Math.log(0.5);
    let cdf = 0;
    let logC = 0; // log C(n, i)
    j = 1;
    for (let i = 0; i < n; i++) {
      if (i > 0) logC += Math.log((n - i + 1) / i);
      cdf += Math.exp(logC + logHalfN);
      if (cdf > 0.025) break;
      j = i + 1;
    }
  } else {
    j = Math.floor(n / 2 - (1.959964 * Math.sqrt(n)) / 2);
  }
  j = Math.max(1, j);
  return [sorted[j - 1]!, sorted[n - j]!];
}

/** Statistics of measured latencies in ms; null for an empty sample. */
export function computeStats(latencyMs: readonly number[]): Stats | null {
  const n = latencyMs.length;
  if (n === 0) return null;
  // A typed array sorts numerically without a comparator, several times faster than an array.
  const s = Float64Array.from(latencyMs).sort();
  let sum = 0;
  for (const v of s) sum += v;
  const mean = sum / n;
  let sq = 0;
  for (const v of s) sq += (v - mean) * (v - mean);
  // Sample standard deviation (n - 1), 0 for a single sample.
  const std = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  return {
    count: n,
    meanMs: mean,
    stdMs: std,
    minMs: s[0]!,
    maxMs: s[n - 1]!,
    medianMs: percentileSorted(s, 50),
    p90Ms: percentileSorted(s, 90),
    p95Ms: percentileSorted(s, 95),
    p99Ms: percentileSorted(s, 99),
    fps: mean > 0 ? 1000 / mean : 0,
    medianCi95Ms: medianCi95Sorted(s),
    covPercent: mean > 0 ? (100 * std) / mean : 0,
  };
}

/**
 * Smallest relative difference of medians we call meaningful: identical configurations run back to
 * back on an idle machine differed by 4-5% here (issue 13), so a smaller difference is not
 * reported as one even when it exceeds the noise inside each run (criterion.rs uses 1-2% for
 * longer, quieter measurements).
 */
export const MEANINGFUL_DIFFERENCE = 0.05;

/** What a comparison of two single-trial runs can say. `beyond-within-run-noise`: the medians'
 * 95% intervals do not overlap and differ by at least MEANINGFUL_DIFFERENCE, but with one trial per
 * run the noise between runs is unknown, so it is not a claim that a repeat would agree. */
export type ComparisonFinding = 'below-meaningful' | 'within-noise' | 'beyond-within-run-noise';

/** Comparing two runs' medians against their noise. */
export interface MedianComparison {
  /** candidate median / baseline median. */
  ratio: number;
  /** candidate median - baseline median, ms. */
  differenceMs: number;
  finding: ComparisonFinding;
}

/**
 * Compares medians of two single-trial runs: a difference below MEANINGFUL_DIFFERENCE, or with
 * overlapping 95% intervals of the medians, is no difference; otherwise it exceeds the noise inside
 * each run, which is all one trial per run can tell.
 */
export function compareMedians(baseline: Stats, candidate: Stats): MedianComparison {
  const [bLo, bHi] = baseline.medianCi95Ms;
  const [cLo, cHi] = candidate.medianCi95Ms;
  const ratio = candidate.medianMs / baseline.medianMs;
  const finding: ComparisonFinding =
    !(Math.abs(ratio - 1) >= MEANINGFUL_DIFFERENCE) ? 'below-meaningful' : cLo > bHi || cHi < bLo ? 'beyond-within-run-noise' : 'within-noise';
  return { ratio, differenceMs: candidate.medianMs - baseline.medianMs, finding };
}
