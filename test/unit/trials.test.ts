// Trials: the measurement loop repeats warm-up and measurement per trial and says where each
// trial's samples are; runs of several trials are compared by their trials' medians (Welch's t on
// the logs, checked against SciPy), and the compare table shows the ratio's interval, says "no"
// below the meaningful threshold and marks comparisons that involve an unreliable run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completeSpec } from '../../contract/runSpec';
import { MEANINGFUL_DIFFERENCE, compareTrials, computeStats, studentTQuantile, trialMedians, trialSummaries } from '../../contract/stats';
import { measure } from '../../device-agent/src/measure';
import { phaseProgress } from '../../device-agent/src/runner';
import { compareNotes, compareTable } from '../../src/core/report';
import { fakeRun } from '../helpers/fakeRun';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} != ${b}`);

test("Student's t quantiles match SciPy (scipy.stats.t.ppf(0.975, df)), whole and fractional df", () => {
  const scipy: Array<[number, number]> = [
    [1, 12.706204736174694],
    [1.5, 6.016663104427929],
    [2, 4.302652729749462],
    [3.7, 2.8675207071911895],
    [4, 2.7764451051977934],
    [8, 2.306004135204166],
    [20.5, 2.0827066506260796],
    [100, 1.9839715185235518],
    [1e4, 1.960201239890626],
  ];
  for (const [df, t] of scipy) close(studentTQuantile(0.975, df), t);
  close(studentTQuantile(0.025, 4), -2.7764451051977934);
  assert.throws(() => studentTQuantile(1, 3), /0 < p < 1/);
});

test('compareTrials: the ratio and its 95% interval are Welch\'s on the log medians (SciPy ttest_ind, equal_var=False); different only when the whole interval is beyond 5%', () => {
  const a = [10.0, 10.2, 9.9, 10.1, 10.05];
  const b = [10.6, 10.9, 10.5, 10.8, 10.7];
  const c = compareTrials(a, b)!;
  // scipy.stats.ttest_ind(log b, log a, equal_var=False).confidence_interval(0.95), exponentiated.
  close(c.ratio, 1.0646363216959451);
  close(c.ratioCi95[0], 1.0442504886526744);
  close(c.ratioCi95[1], 1.0854201264839112);
  assert.deepEqual(c.trials, [5, 5]);
  // 6.5% slower and the interval excludes 1, but it reaches below 1.05: not 95% sure the
  // difference is a meaningful one, so no claim.
  assert.equal(c.finding, 'within-noise');
  // The same spread 12% slower: the whole interval is beyond 1.05.
  const d = compareTrials(a, a.map((v) => v * 1.12))!;
  assert.ok(d.ratioCi95[0] > 1.05, JSON.stringify(d));
  assert.equal(d.finding, 'different');
});

test('compareTrials: below the meaningful threshold is no difference even when detectable; a wide spread is noise; one trial is not enough', () => {
  // 3% slower, very tight: the interval excludes 1, and still "below-meaningful".
  const base = [10.0, 10.01, 9.99, 10.0, 10.005];
  const tight = compareTrials(base, base.map((v) => v * 1.03))!;
  assert.ok(tight.ratioCi95[0] > 1, JSON.stringify(tight));
  assert.ok(MEANINGFUL_DIFFERENCE > 0.03);
  assert.equal(tight.finding, 'below-meaningful');
  // 8% slower on average, but trials spread by +-20%: within the noise between trials.
  const noisy = compareTrials([8, 12, 10, 9, 11], [9, 13, 10.8, 9.7, 11.9].map((v) => v * 1.0))!;
  assert.ok(noisy.ratio > 1.05, `${noisy.ratio}`);
  assert.equal(noisy.finding, 'within-noise');
  assert.ok(noisy.ratioCi95[0] < 1 && noisy.ratioCi95[1] > 1);
  // 2x faster, clearly.
  assert.equal(compareTrials([20, 20.4, 19.8], [10, 10.1, 9.9])!.finding, 'different');
  assert.equal(compareTrials([10], [10, 11]), null);
  assert.equal(compareTrials([10, 10], [11]), null);
});

test('measure runs each trial\'s warm-up and measurement, says where each trial\'s samples are, and stops mid-trial on cancel', async () => {
  let i = 0;
  const infer = async () => ++i;
  const began: number[] = [];
  const r = await measure(infer, { warmup: 2, warmupMs: 0, iterations: 3, durationS: 0, trials: 3 }, { signal: new AbortController().signal, onSample: () => undefined, onTrial: (t, n) => began.push(t * 10 + n) });
  assert.deepEqual(r.trials, [{ warmupCount: 2, count: 3 }, { warmupCount: 2, count: 3 }, { warmupCount: 2, count: 3 }]);
  // Interleaved in time: trial 1's warm-up (1, 2), its measurement (3, 4, 5), trial 2's warm-up (6, 7)...
  assert.deepEqual(r.warmupMs, [1, 2, 6, 7, 11, 12]);
  assert.deepEqual(r.latencyMs, [3, 4, 5, 8, 9, 10, 13, 14, 15]);
  assert.deepEqual(began, [3, 13, 23]);
  assert.deepEqual(trialMedians(trialSummaries(r.latencyMs, r.trials)), [4, 9, 14]);
  assert.deepEqual(trialSummaries(r.latencyMs, r.trials)[1]!.stats, computeStats([8, 9, 10]));

  const stop = new AbortController();
  let n = 0;
  const cancelled = await measure(async () => 1, { warmup: 1, warmupMs: 0, iterations: 2, durationS: 0, trials: 5 }, {
    signal: stop.signal,
    onSample: () => {
      if (++n === 5) stop.abort();
    },
  });
  assert.equal(cancelled.cancelled, true);
  assert.deepEqual(cancelled.trials, [{ warmupCount: 1, count: 2 }, { warmupCount: 1, count: 1 }]);
  // Without trials, one.
  assert.equal((await measure(async () => 1, { warmup: 0, warmupMs: 0, iterations: 2, durationS: 0 }, { signal: new AbortController().signal, onSample: () => undefined })).trials.length, 1);
});

test('progress names the trial and the overall percentage grows across trials', () => {
  const spec = { warmup: 10, warmupMs: 0, iterations: 100, durationS: 0 };
  assert.deepEqual(phaseProgress('warmup', 5, 1, spec, { index: 1, count: 4 }), ['trial 2/4, warm-up: 5/10 iterations', 26]);
  assert.deepEqual(phaseProgress('measure', 100, 1, spec, { index: 3, count: 4 }), ['trial 4/4, measuring: 100/100 iterations', 100]);
  assert.deepEqual(phaseProgress('measure', 50, 1, spec), ['measuring: 50/100 iterations', 55]);
  let last = -1;
  for (let t = 0; t < 3; t++)
    for (const [phase, counts] of [['warmup', [0, 5, 10]], ['measure', [0, 50, 100]]] as const)
      for (const c of counts) {
        const pct = phaseProgress(phase, c, 0, spec, { index: t, count: 3 })[1];
        assert.ok(pct >= last, `${t} ${phase} ${c}: ${pct} < ${last}`);
        last = pct;
      }
});

test('the spec: trials absent means one, 2+ kept, 0 and pipelines with trials refused with the fix', () => {
  assert.equal(completeSpec({ model: 'tiny' }).spec!.trials, undefined);
  assert.equal(completeSpec({ model: 'tiny', trials: 1 }).spec!.trials, undefined);
  assert.equal(completeSpec({ model: 'tiny', trials: 5 }).spec!.trials, 5);
  assert.equal(completeSpec({ model: 'tiny' }, { trials: 3 }).spec!.trials, 3);
  assert.deepEqual(completeSpec({ model: 'tiny', trials: 0 }).problems, [{ field: 'trials', message: 'must be a whole number from 1 to 1000 (got 0)' }]);
  const pipe = completeSpec({ model: 'tiny', trials: 2, pipeline: { mode: 'conventional', memory: 'pageable', source: 'synthetic', frameCount: 8, objects: 12, confThreshold: 0.25, iouThreshold: 0.45, maxDetections: 300 } });
  assert.match(pipe.problems.map((p) => p.message).join(), /must be 1 for a pipeline run/);
});

test('the compare table judges runs of several trials by their trials, shows the interval, and marks an unreliable run', () => {
  // Five trials of 40 samples each; B's trials are 2x faster, C's within 1%.
  const trialsOf = (scale: number[]) => scale.flatMap((s, t) => Array.from({ length: 40 }, (_, i) => s * (10 + ((i * 7 + t) % 5) * 0.01)));
  const a = fakeRun({ id: 'a', label: 'A', latencyMs: trialsOf([1, 1.01, 0.99, 1.005, 0.995]), trialCount: 5 });
  const b = fakeRun({ id: 'b', label: 'B', latencyMs: trialsOf([0.5, 0.505, 0.495, 0.5, 0.502]), trialCount: 5 });
  const c = fakeRun({ id: 'c', label: 'C', latencyMs: trialsOf([1.01, 1.0, 1.0, 1.012, 0.998]), trialCount: 5 });
  const single = fakeRun({ id: 'd', label: 'D', latencyMs: trialsOf([0.5]) });
  assert.equal(a.trials!.length, 5);
  const t = compareTable([a, b, c, single], 0);
  const cells = (label: string) => t.rows.find((r) => r[0] === label)!;
  assert.match(cells('B')[8]!, /^2\.0\dx \(1\.9\d-2\.0\d\)$/);
  assert.equal(cells('B')[9], 'faster');
  assert.match(cells('C')[8]!, /^(0\.99|1\.00)x \(0\.9\d-1\.0\d\)$/);
  assert.equal(cells('C')[9], 'no (< 5%)');
  // One trial on either side: the within-run comparison, which says it is one trial.
  assert.equal(cells('D')[9], 'faster (1 trial)');
  assert.ok(!compareNotes([a, b], 0).some((n) => /unreliable run/.test(n)));

  const shaky = { ...b, validity: { verdict: 'unreliable' as const, findings: [] } };
  const marked = compareTable([a, shaky], 0);
  assert.equal(marked.rows[1]![9], 'faster; unreliable run');
  assert.ok(compareNotes([a, shaky], 0).some((n) => /^unreliable run = .*do not quote this comparison/.test(n)));
});
