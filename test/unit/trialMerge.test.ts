// Interleaved comparisons (bench --vs): one-trial parts of a configuration join into one run of
// K trials whose samples, trial statistics, verdict and telemetry are the parts'; the CLI's --vs
// flags make each configuration from the command's flags; labels say what tells them apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunFile, Telemetry } from '../../contract/protocol';
import { computeStats, compareTrials, trialMedians } from '../../contract/stats';
import { mergeTelemetry, mergeTrialRuns } from '../../contract/trialMerge';
import { parseBenchArgs, splitFlags, UsageError } from '../../src/cli/args';
import { configurationLabels } from '../../src/cli/interleave';
import { compareNotes, formatBenchTable } from '../../src/core/report';
import { runFileProblems } from '../../contract/runFileCheck';
import { fakeRun, latencies } from '../helpers/fakeRun';

const at = (s: number) => new Date(Date.UTC(2026, 11, 4, 9, 0, s)).toISOString();
const part = (centre: number, second: number, seed: number, extra: Partial<RunFile> = {}): RunFile => ({
  ...fakeRun({ latencyMs: latencies(40, centre, seed), warmupLatencyMs: [centre * 2, centre * 1.5], createdAt: at(second), label: 'threads 1' }),
  finishedAt: at(second + 2),
  ...extra,
});
const interleaving = { runs: ['run-a', 'run-b'], position: 1, rounds: 3 };

test('mergeTrialRuns: the parts in order as trials, statistics over all samples, each trial with its start, a valid run file', () => {
  const parts = [part(10, 0, 1), part(11, 10, 2), part(10.5, 20, 3)];
  const run = mergeTrialRuns(parts, 'run-b', interleaving);
  assert.equal(run.id, 'run-b');
  assert.equal(run.spec.trials, 3);
  assert.equal(run.spec.label, 'threads 1');
  assert.deepEqual(run.samples.latencyMs, parts.flatMap((p) => p.samples.latencyMs));
  assert.deepEqual(run.samples.warmupLatencyMs, parts.flatMap((p) => p.samples.warmupLatencyMs));
  assert.deepEqual(run.stats, computeStats(run.samples.latencyMs));
  assert.equal(run.trials!.length, 3);
  assert.deepEqual(trialMedians(run.trials), parts.map((p) => p.stats!.medianMs));
  assert.deepEqual(run.trials!.map((t) => t.startedAt), [at(0), at(10), at(20)]);
  assert.deepEqual(run.trials!.map((t) => t.warmupCount), [2, 2, 2]);
  assert.equal(run.createdAt, at(0));
  assert.equal(run.finishedAt, at(22));
  assert.deepEqual(run.interleaved, interleaving);
  assert.equal(run.status, 'ok');
  assert.ok(run.validity, 'the joined run is judged again');
  assert.deepEqual(runFileProblems(JSON.parse(JSON.stringify(run))), [], 'the joined run is a valid run file');
  // The joined run's trials are what compare judges by.
  const other = mergeTrialRuns([part(20, 5, 4), part(21, 15, 5), part(20.5, 25, 6)], 'run-a', { ...interleaving, position: 0 });
  const c = compareTrials(trialMedians(other.trials), trialMedians(run.trials))!;
  assert.equal(c.finding, 'different');
  assert.ok(c.ratio < 0.6);
});

test('mergeTrialRuns: a cancelled or failed part makes the run so, every sample kept; other configurations and multi-trial parts are refused', () => {
  const cancelled = mergeTrialRuns([part(10, 0, 1), { ...part(10, 10, 2), status: 'cancelled' }], 'r', interleaving);
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.samples.latencyMs.length, 80);
  const failed = mergeTrialRuns([part(10, 0, 1), { ...part(10, 10, 2), status: 'failed', error: 'onnxruntime failed during the run: boom' }], 'r', interleaving);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error, 'trial 2 of 2: onnxruntime failed during the run: boom');
  const fp16 = part(10, 10, 2);
  assert.throws(() => mergeTrialRuns([part(10, 0, 1), { ...fp16, spec: { ...fp16.spec, precision: 'fp16' } }], 'r', interleaving), /not the same configuration/);
  const three = fakeRun({ latencyMs: latencies(30, 10, 1), trialCount: 3 });
  assert.throws(() => mergeTrialRuns([three], 'r', interleaving), /has 3 trials: join one-trial runs/);
});

test('mergeTrialRuns: contention findings are the parts\' (worst of each code), dispersion is judged again on the joined samples', () => {
  const busy = { code: 'busy-processes', severity: 'unreliable' as const, summary: 'chromium used 1.2 CPUs', evidence: {}, why: 'w', fix: 'f' };
  const mild = { ...busy, severity: 'caution' as const };
  const a = { ...part(10, 0, 1), validity: { verdict: 'caution' as const, findings: [mild] } };
  const b = { ...part(10, 10, 2), validity: { verdict: 'unreliable' as const, findings: [busy, { ...busy, code: 'high-dispersion', summary: 'a part said so' }] } };
  const run = mergeTrialRuns([a, b], 'r', interleaving);
  const codes = run.validity!.findings.map((f) => f.code);
  assert.deepEqual(codes.filter((c) => c === 'busy-processes'), ['busy-processes']);
  assert.equal(run.validity!.findings.find((f) => f.code === 'busy-processes')!.severity, 'unreliable');
  assert.ok(!run.validity!.findings.some((f) => f.summary === 'a part said so'), 'a part\'s dispersion finding is not copied: the joined samples are judged');
  assert.equal(run.validity!.verdict, 'unreliable');
  // Parts whose contention was not sampled: the joined verdict says so rather than claiming none.
  const unsampled = mergeTrialRuns([{ ...part(10, 0, 1), validity: { verdict: 'ok', findings: [], notChecked: ['contention from other processes (not sampled on this device)'] } }], 'r', interleaving);
  assert.ok(unsampled.validity!.notChecked!.some((n) => n.startsWith('contention')));
});

function telemetry(powerMw: number[], energyJ: number, perInference: number, overCurrent: number): Telemetry {
  const tMs = powerMw.map((_, i) => i * 100);
  return {
    sources: ['ina3221-hwmon', 'thermal'],
    requestedHz: 10,
    achievedHz: 10,
    totalPowerRule: 'VDD_IN',
    series: { tMs, totalPowerMw: powerMw, tempC: { cpu: powerMw.map(() => 50) }, railsMw: { VDD_IN: powerMw } },
    phases: [
      { phase: 'idle', startMs: 0, endMs: 100, samples: 2, energyJ: 0.5, meanPowerW: 5, maxPowerW: 5, cpuKHz: null, gpuHz: null, maxTempC: 50, hottestZone: 'cpu' },
      { phase: 'measure', startMs: 100, endMs: tMs[tMs.length - 1]!, samples: powerMw.length - 1, energyJ, meanPowerW: 8, maxPowerW: 9, cpuKHz: null, gpuHz: null, maxTempC: 50, hottestZone: 'cpu' },
    ],
    energyPerInferenceMj: perInference,
    energyPerInferenceAboveIdleMj: perInference / 2,
    overCurrent: [{ counter: 'oc1_event_cnt', start: overCurrent, end: overCurrent }],
    energySource: 'integrated-power',
  };
}

test('mergeTelemetry: series follow each other on the wall clock, phases shifted alike, energy per inference weighted by samples, over-current from first start to last end', () => {
  const a = { ...part(10, 0, 1), telemetry: telemetry([5000, 8000, 8000, 8000], 1.6, 40, 3) };
  const b = { ...part(10, 10, 2), samples: { latencyMs: latencies(120, 10, 2), warmupLatencyMs: [20] }, telemetry: { ...telemetry([5000, 9000, 9000], 0.9, 20, 5), sources: ['ina3221-hwmon'] } };
  const t = mergeTelemetry([a, b])!;
  assert.deepEqual(t.series.tMs, [0, 100, 200, 300, 10000, 10100, 10200]);
  assert.deepEqual(t.series.totalPowerMw, [5000, 8000, 8000, 8000, 5000, 9000, 9000]);
  assert.deepEqual(t.series.railsMw!.VDD_IN, t.series.totalPowerMw);
  assert.equal(t.series.tempC!.cpu!.length, 7);
  assert.deepEqual(t.phases.map((p) => [p.phase, p.startMs, p.endMs]), [['idle', 0, 100], ['measure', 100, 300], ['idle', 10000, 10100], ['measure', 10100, 10200]]);
  // 40 samples at 40 mJ and 120 at 20 mJ.
  assert.equal(t.energyPerInferenceMj, (40 * 40 + 120 * 20) / 160);
  assert.equal(t.energyPerInferenceAboveIdleMj, (40 * 20 + 120 * 10) / 160);
  assert.deepEqual(t.overCurrent, [{ counter: 'oc1_event_cnt', start: 3, end: 5 }]);
  assert.deepEqual(t.sources, ['ina3221-hwmon'], 'only sources every part had');
  assert.equal(t.achievedHz, 10);
  // A part that ran longer than the gap to the next part's start: the next follows its last sample.
  const late = { ...b, createdAt: at(0) };
  assert.equal(mergeTelemetry([a, late])!.series.tMs[4], 301);
  // Energy counters continue from the previous part's last value; a part without telemetry: none.
  const counter = (e: number[]) => ({ ...telemetry([1, 1, 1], 1, 1, 0), series: { tMs: [0, 100, 200], energyMj: e } });
  assert.deepEqual(mergeTelemetry([{ ...a, telemetry: counter([0, 5, 10]) }, { ...b, telemetry: counter([0, 7, 9]) }])!.series.energyMj, [0, 5, 10, 10, 17, 19]);
  assert.equal(mergeTelemetry([a, part(10, 10, 2)]), undefined);
  // Sample starts move with their part's series; a part without them leaves the join without them.
  const starts = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + 2 * i);
  const sa = { ...a, telemetry: { ...a.telemetry, sampleStartMs: starts(40, 100) } };
  const sb = { ...b, telemetry: { ...b.telemetry, sampleStartMs: starts(120, 100) } };
  const joined = mergeTelemetry([sa, sb])!.sampleStartMs!;
  assert.equal(joined.length, 160);
  assert.deepEqual([joined[0], joined[39], joined[40], joined[159]], [100, 178, 10100, 10338]);
  assert.equal(mergeTelemetry([sa, b])!.sampleStartMs, undefined);
});

test('bench --vs: each configuration is the command\'s flags with its own over them; whole-command flags are refused inside --vs', () => {
  const a = parseBenchArgs(['--model', 'tiny', '--iterations', '50', '--vs', '--threads 1', '--vs=--precision fp16 --label "half precision"']);
  assert.ok(a !== 'help');
  assert.equal(a.spec.threads, null);
  assert.equal(a.vs.length, 2);
  assert.equal(a.vs[0]!.spec.threads, 1);
  assert.equal(a.vs[0]!.spec.iterations, 50);
  assert.equal(a.vs[0]!.spec.model, 'tiny');
  assert.equal(a.vs[1]!.spec.precision, 'fp16');
  assert.equal(a.vs[1]!.spec.threads, null, 'one --vs does not leak into another');
  assert.equal(a.vs[1]!.spec.label, 'half precision');
  for (const [flags, message] of [
    ['--out x', /--out applies to the whole command/],
    ['--json', /--json applies to the whole command/],
    ['', /--vs needs the flags/],
    ['--threads', /--threads needs a value/],
    ['--precision fp64', /--precision/],
    ['--label "open', /unclosed quote/],
  ] as const) {
    assert.throws(() => parseBenchArgs(['--model', 'tiny', '--vs', flags]), (e: Error) => e instanceof UsageError && message.test(e.message), flags);
  }
  assert.deepEqual(splitFlags(`--label 'a b' --label="c d"x --threads 2`), ['--label', 'a b', '--label=c dx', '--threads', '2']);
  // --trials given anywhere (the command, --trials=N, inside one --vs) is the user's; else --vs's default.
  const given = (args: string[]) => {
    const p = parseBenchArgs(args);
    assert.ok(p !== 'help');
    return p.trialsGiven;
  };
  assert.equal(given(['--model', 'tiny', '--vs', '--threads 1']), false);
  assert.equal(given(['--model', 'tiny', '--trials', '3', '--vs', '--threads 1']), true);
  assert.equal(given(['--model', 'tiny', '--trials=3', '--vs', '--threads 1']), true);
  assert.equal(given(['--model', 'tiny', '--vs', '--threads 1 --trials 4']), true);
  assert.equal(given(['--model', 'tiny', '--vs', '--label trials-3']), false);
});

test('configuration labels name what differs (the user\'s label wins); identical configurations get none', () => {
  const args = parseBenchArgs(['--model', 'tiny', '--vs', '--threads 1 --precision fp16', '--vs', '--label mine']);
  assert.ok(args !== 'help');
  const labels = configurationLabels([args.spec, ...args.vs.map((v) => v.spec)]);
  assert.deepEqual(labels, ['precision fp32, threads default', 'precision fp16, threads 1', 'mine']);
  assert.deepEqual(configurationLabels([args.spec, args.spec]), ['', '']);
});

test('the bench table and compare notes say a run was interleaved, and with what', () => {
  const b = mergeTrialRuns([part(10, 0, 1), part(11, 10, 2)], 'run-b', { runs: ['run-a', 'run-b'], position: 1, rounds: 2 });
  const a = mergeTrialRuns([part(12, 5, 3), part(12, 15, 4)], 'run-a', { runs: ['run-a', 'run-b'], position: 0, rounds: 2 });
  assert.match(formatBenchTable(b), /Interleaved: 2 rounds of A B, this configuration B, with 1 other \(run-a\)/);
  assert.ok(compareNotes([a, b], 0).some((n) => /Interleaved: 2 of these runs were measured together.*2 rounds/.test(n)));
  assert.ok(!compareNotes([a, fakeRun({ latencyMs: latencies(40, 10) })], 0).some((n) => n.startsWith('Interleaved')), 'no note for runs not measured together');
});
