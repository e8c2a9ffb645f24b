import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareMedians, computeStats, medianCi95Sorted, percentileSorted } from '../../contract/stats';

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

test('compareMedians calls a clear difference significant and an overlap noise', () => {
  const noisy = (base: number) => Array.from({ length: 200 }, (_, i) => base + ((i * 37) % 100) / 100);
  const a = computeStats(noisy(10))!;
  const b = computeStats(noisy(5))!;
  const a2 = computeStats(noisy(10.01))!;
  const faster = compareMedians(a, b);
  assert.equal(faster.significant, true);
  assert.ok(faster.ratio < 0.6 && faster.differenceMs < -4.9);
  assert.equal(compareMedians(a, a2).significant, false);
});
