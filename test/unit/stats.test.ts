import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEANINGFUL_DIFFERENCE, compareMedians, computeStats, medianCi95Sorted, percentileSorted } from '../../contract/stats';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);

test('statistics of 1..10 match NumPy (linear interpolation, sample std)', () => {
  const s = computeStats([7, 3, 10, 1, 5, 2, 9, 4, 8, 6])!;
  assert.equal(s.count, 10);
  close(s.meanMs, 5.5);
  close(s.stdMs, 3.0276503540974917); // numpy.std(x, ddof=1)
  close(s.minMs, 1);
  close(s.maxMs, 10);
  close(s.medianMs, 5.5);
  close(s.p90Ms, 9.1); // numpy.percentile(x, 90)
  close(s.p95Ms, 9.55);
  close(s.p99Ms, 9.91);
  close(s.fps, 1000 / 5.5);
  close(s.covPercent, (100 * 3.0276503540974917) / 5.5);
});

test('percentile handles the ends and a single value', () => {
  close(percentileSorted([4], 99), 4);
  close(percentileSorted([1, 2], 0), 1);
  close(percentileSorted([1, 2], 100), 2);
  close(percentileSorted([1, 2], 50), 1.5);
  assert.throws(() => percentileSorted([], 50), RangeError);
  assert.throws(() => percentileSorted([1], 101), RangeError);
});

test('median CI uses the binomial order statistics (n=100 -> ranks 40 and 61)', () => {
  const x = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual(medianCi95Sorted(x), [40, 61]);
  // n = 10: P(B <= 1) = 0.0107 <= 0.025 < P(B <= 2) = 0.0547 -> ranks 2 and 9.
  assert.deepEqual(medianCi95Sorted(Array.from({ length: 10 }, (_, i) => i + 1)), [2, 9]);
  // Too few samples for 95%: the whole range.
  assert.deepEqual(medianCi95Sorted([1, 2, 3]), [1, 3]);
  // Large n: the normal approximation stays centred and narrows like 1/sqrt(n).
  const big = Array.from({ length: 10000 }, (_, i) => i + 1);
  const [lo, hi] = medianCi95Sorted(big);
  assert.ok(lo >= 4900 && lo <= 4903 && hi >= 5098 && hi <= 5101, `${lo} ${hi}`);
});

test('a single sample has zero spread and no sample gives null', () => {
  const s = computeStats([2.5])!;
  assert.equal(s.stdMs, 0);
  assert.deepEqual(s.medianCi95Ms, [2.5, 2.5]);
  assert.equal(computeStats([]), null);
});

test('compareMedians: a clear difference exceeds the within-run noise, an overlap is noise, a small difference is none', () => {
  const noisy = (base: number) => Array.from({ length: 200 }, (_, i) => base + ((i * 37) % 100) / 100);
  const a = computeStats(noisy(10))!;
  const b = computeStats(noisy(5))!;
  const a2 = computeStats(noisy(10.01))!;
  const faster = compareMedians(a, b);
  assert.equal(faster.finding, 'beyond-within-run-noise');
  assert.ok(faster.ratio < 0.6 && faster.differenceMs < -4.9);
  assert.equal(compareMedians(a, a2).finding, 'below-meaningful');
  // Overlapping intervals with a difference above the threshold: within the noise.
  const wide = (base: number) => Array.from({ length: 20 }, (_, i) => base + ((i * 7) % 20));
  const w = compareMedians(computeStats(wide(10))!, computeStats(wide(11))!);
  assert.ok(Math.abs(w.ratio - 1) >= MEANINGFUL_DIFFERENCE);
  assert.equal(w.finding, 'within-noise');
});

test('compareMedians: two quiet runs 4% apart are no meaningful difference, though their intervals do not overlap (issue 13)', () => {
  // Tight runs: each median's 95% interval is far narrower than 4%, as in back-to-back runs of one configuration.
  const tight = (base: number) => Array.from({ length: 500 }, (_, i) => base + ((i * 37) % 100) / 1000);
  const a = computeStats(tight(20))!;
  const b = computeStats(tight(20.8))!;
  assert.ok(b.medianCi95Ms[0] > a.medianCi95Ms[1], 'the intervals do not overlap');
  const cmp = compareMedians(a, b);
  assert.ok(cmp.ratio > 1.03 && cmp.ratio < MEANINGFUL_DIFFERENCE + 1);
  assert.equal(cmp.finding, 'below-meaningful');
});
