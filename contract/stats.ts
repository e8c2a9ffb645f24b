// The one statistics module: agent, CLI and panels turn raw samples into numbers here, so a run
// file can always be re-analysed without re-measuring. Pure code (no Node or DOM APIs).
import type { Stats, TrialSummary } from './protocol';

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

/** Each trial's summary from the run's measured samples (trials' samples are consecutive, in order). */
export function trialSummaries(latencyMs: readonly number[], trials: ReadonlyArray<{ warmupCount: number; count: number }>): TrialSummary[] {
  let from = 0;
  return trials.map(({ warmupCount, count }) => {
    const stats = computeStats(latencyMs.slice(from, from + count));
    from += count;
    return { warmupCount, count, stats };
  });
}

// ---- comparing runs of several trials ------------------------------------------------------------

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits). */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Regularized incomplete beta I_x(a, b), by its continued fraction (modified Lentz). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x)) / a;
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = Math.floor(i / 2);
    const numerator = i === 0 ? 1 : i % 2 === 0 ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)) : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + numerator * d;
    d = Math.abs(d) < tiny ? tiny : d;
    d = 1 / d;
    c = 1 + numerator / c;
    c = Math.abs(c) < tiny ? tiny : c;
    const step = c * d;
    f *= step;
    if (Math.abs(1 - step) < 1e-15) break;
  }
  return front * (f - 1);
}

/** P(T <= t) for Student's t with df degrees of freedom (df > 0, not necessarily whole). */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (p in (0, 1)), by bisection on the CDF. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new RangeError(`t quantile needs 0 < p < 1 and df > 0 (got p ${p}, df ${df})`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Fewest trials per run for a comparison against the spread between trials. */
export const MIN_TRIALS_TO_COMPARE = 2;

/** What a comparison of two runs of several trials says: `different` = the ratio's whole 95%
 * interval lies beyond 1 +- MEANINGFUL_DIFFERENCE; `within-noise` = the ratio is at least that far
 * from 1 but its interval reaches into the band. */
export type TrialComparisonFinding = 'below-meaningful' | 'within-noise' | 'different';

export interface TrialComparison {
  /** Candidate / baseline: the ratio of the geometric means of the trials' medians. */
  ratio: number;
  /** 95% confidence interval of that ratio (Welch's t on the logs of the trials' medians). */
  ratioCi95: [number, number];
  /** Trials with a median in each run: [baseline, candidate]. */
  trials: [number, number];
  finding: TrialComparisonFinding;
}

/**
 * Compares two runs by their trials' medians: each trial is one independent measurement of the
 * configuration, so the spread of the trial medians is the run-to-run noise that one trial cannot
 * show. Welch's t-interval on the log medians gives the ratio with a 95% interval (logs: latency
 * ratios are what people quote, and the interval stays positive; Welch: the runs' spreads may
 * differ). A difference smaller than MEANINGFUL_DIFFERENCE is reported as none even when the
 * interval excludes 1, and a larger one only when the whole interval is beyond it. Null when either run has fewer than MIN_TRIALS_TO_COMPARE trial medians.
 */
export function compareTrials(baseline: readonly number[], candidate: readonly number[]): TrialComparison | null {
  if (baseline.length < MIN_TRIALS_TO_COMPARE || candidate.length < MIN_TRIALS_TO_COMPARE) return null;
  const lb = baseline.map(Math.log);
  const lc = candidate.map(Math.log);
  // Both have 2+ values, so computeStats is not null; its stdMs is the sample (n - 1) deviation.
  const sb = computeStats(lb)!;
  const sc = computeStats(lc)!;
  const diff = sc.meanMs - sb.meanMs;
  const qb = sb.stdMs ** 2 / lb.length;
  const qc = sc.stdMs ** 2 / lc.length;
  const se = Math.sqrt(qb + qc);
  // Welch-Satterthwaite degrees of freedom; with no spread at all the interval is the point.
  const df = se > 0 ? (qb + qc) ** 2 / ((qb * qb) / (lb.length - 1) + (qc * qc) / (lc.length - 1)) : Infinity;
  const half = se > 0 ? studentTQuantile(0.975, df) * se : 0;
  const ratio = Math.exp(diff);
  const ratioCi95: [number, number] = [Math.exp(diff - half), Math.exp(diff + half)];
  // Different only when the whole interval is beyond the meaningful band: 95% sure the difference
  // is at least MEANINGFUL_DIFFERENCE, not merely that there is one (trials in one run share the
  // machine's state of those seconds, so their spread can understate the noise between runs).
  const beyond = ratioCi95[0] >= 1 + MEANINGFUL_DIFFERENCE || ratioCi95[1] <= 1 - MEANINGFUL_DIFFERENCE;
  const finding: TrialComparisonFinding = !(Math.abs(ratio - 1) >= MEANINGFUL_DIFFERENCE) ? 'below-meaningful' : beyond ? 'different' : 'within-noise';
  return { ratio, ratioCi95, trials: [baseline.length, candidate.length], finding };
}

/** The medians of a run's trials that measured something; empty for a run of one trial. */
export function trialMedians(trials: readonly TrialSummary[] | undefined): number[] {
  return (trials ?? []).flatMap((t) => (t.stats ? [t.stats.medianMs] : []));
}
