// The verdict's rules on crafted latency series: each rule fires on the pattern it names, stays
// quiet on a steady series, and the verdict is the worst finding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { THRESHOLDS, ciWidthFinding, clocksNotLockedFinding, dispersionFinding, driftFinding, governorFinding, outliersFinding, powerModeFinding, runValidity, tailFinding, threadsFinding, warmupFinding } from '../../contract/validityRules';
import type { DeviceState, RunFile } from '../../contract/protocol';
import { fakeRun } from '../helpers/fakeRun';
import { formatBenchTable } from '../../src/core/report';
import { buildRunsTree } from '../../src/views/runsTree';

/** A steady series: 10 ms with +-1% deterministic jitter. */
const steady = (n = 400, base = 10) => Array.from({ length: n }, (_, i) => base * (1 + (((i * 37) % 21) - 10) / 1000));

function input(latencyMs: number[], patch: Partial<RunFile['spec']> = {}, deviceState?: RunFile['deviceState']) {
  const run = fakeRun({ latencyMs });
  return { spec: { ...run.spec, ...patch }, device: run.device, samples: run.samples, stats: run.stats!, deviceState };
}

test('a steady run has no finding and an ok verdict, saying what it could not check', () => {
  const v = runValidity(input(steady()));
  assert.equal(v.verdict, 'ok', JSON.stringify(v.findings));
  assert.deepEqual(v.findings, []);
  assert.ok(v.notChecked!.some((n) => /contention/.test(n)));
});

test('dispersion: caution above the threshold, unreliable far above it, stricter for TensorRT', () => {
  // Alternating 10 / 10*(1+2a): CoV grows with a.
  const spread = (a: number) => Array.from({ length: 200 }, (_, i) => (i % 2 ? 10 : 10 * (1 + 2 * a)));
  assert.equal(dispersionFinding(input(steady())), null);
  const mild = dispersionFinding(input(spread(0.12)))!;
  assert.equal(mild.code, 'high-dispersion');
  assert.equal(mild.severity, 'caution');
  assert.ok((mild.evidence.covPercent as number) > THRESHOLDS.covCautionPercent.default);
  assert.equal(dispersionFinding(input(spread(0.6)))!.severity, 'unreliable');
  // 4% CoV: fine on the CPU, a caution for TensorRT (trtexec's 2.5%).
  assert.equal(dispersionFinding(input(spread(0.045))), null);
  assert.equal(dispersionFinding(input(spread(0.045), { backend: 'tensorrt' }))?.severity, 'caution');
});

test('heavy tail: one stall in fifty iterations of 5x the median', () => {
  const s = steady(500).map((v, i) => (i % 50 === 0 ? v * 5 : v));
  const f = tailFinding(input(s))!;
  assert.equal(f.code, 'heavy-tail');
  assert.ok((f.evidence.ratio as number) > THRESHOLDS.tailRatio);
  assert.equal(tailFinding(input(steady())), null);
});

test('outliers: 2% of iterations far beyond Q3 + 3 IQR is a caution naming the fence and the slowest; 0.5% is not', () => {
  const spiked = (every: number) => steady(400).map((v, i) => (i % every === 7 ? v * 3 : v));
  const f = outliersFinding(input(spiked(50)))!;
  assert.equal(f.code, 'outliers');
  assert.equal(f.evidence.outliers, 8);
  assert.equal(f.evidence.sharePercent, 2);
  assert.match(f.summary, /8 of 400 samples .* Q3 \+ 3 IQR\); the slowest took 30\.\d\d ms/);
  assert.equal(outliersFinding(input(spiked(200))), null, '2 of 400 is within the share');
  assert.equal(outliersFinding(input(steady())), null);
});

test('warm-up not converged: the last warm-up iterations 50% slower than the measured median; a settled warm-up is fine', () => {
  const withWarmup = (warmupLatencyMs: number[]) => {
    const run = fakeRun({ latencyMs: steady(), warmupLatencyMs });
    return { spec: run.spec, device: run.device, samples: run.samples, stats: run.stats! };
  };
  const slow = warmupFinding(withWarmup([40, 30, 20, ...Array.from({ length: 17 }, () => 15)]))!;
  assert.equal(slow.code, 'warmup-not-converged');
  assert.equal(slow.evidence.lastWarmupCount, 10);
  assert.equal(slow.evidence.excessPercent, 50);
  assert.match(slow.fix, /--warmup 60/);
  assert.equal(warmupFinding(withWarmup([40, 30, 20, ...Array.from({ length: 17 }, () => 10.1)])), null, 'settled by its end');
  assert.equal(warmupFinding(withWarmup([40, 30, 20, 15])), null, 'too short to judge');
  // A microsecond model's times keep their digits (formatMs: 3 decimals below 1 ms).
  const micro = fakeRun({ latencyMs: steady(400, 0.008), warmupLatencyMs: Array.from({ length: 10 }, () => 0.02) });
  assert.match(warmupFinding({ spec: micro.spec, device: micro.device, samples: micro.samples, stats: micro.stats! })!.summary, /\(median 0\.020 vs 0\.008 ms\)/);
});

test('drift: a run that slows by 20% is flagged, with the direction and a fix; a steady one is not', () => {
  const rising = steady(400).map((v, i) => v * (1 + (0.2 * i) / 400));
  const f = driftFinding(input(rising))!;
  assert.equal(f.code, 'drift');
  assert.ok((f.evidence.changePercent as number) > 10);
  assert.match(f.summary, /rose/);
  const falling = driftFinding(input([...rising].reverse()))!;
  assert.match(falling.summary, /fell/);
  assert.match(falling.fix, /warm-up|--warmup/);
  assert.equal(driftFinding(input(steady())), null);
  assert.equal(driftFinding(input(rising.slice(0, THRESHOLDS.driftMinSamples - 1))), null, 'too few samples to judge');
});

test('a wide interval of the median with few samples; threads above the cores; a governor that is not performance', () => {
  const few = [10, 14, 9, 16, 11, 8, 15, 12];
  assert.equal(ciWidthFinding(input(few))?.code, 'wide-median-ci');
  assert.equal(ciWidthFinding(input(steady())), null);
  const cores = fakeRun({ latencyMs: [1] }).device.cpuCount;
  assert.equal(threadsFinding(input(steady(), { threads: cores + 1 }))?.code, 'threads-above-cores');
  assert.equal(threadsFinding(input(steady(), { threads: cores })), null);
  const state = (governor: string): DeviceState => ({ readAt: '2025-01-01T00:00:00Z', powerMode: null, gpuClock: null, cpus: [0, 1].map((cpu) => ({ cpu, governor, curKHz: null, minKHz: null, maxKHz: null })) });
  assert.equal(governorFinding(input(steady(), {}, state('powersave')))?.code, 'governor-not-performance');
  assert.equal(governorFinding(input(steady(), {}, state('performance'))), null);
});

test('the verdict is the worst finding, and the bench table prints it with the evidence and the fix', () => {
  const s = Array.from({ length: 200 }, (_, i) => (i % 2 ? 10 : 22));
  const run = fakeRun({ latencyMs: s });
  run.validity = runValidity({ spec: run.spec, device: run.device, samples: run.samples, stats: run.stats! });
  assert.equal(run.validity.verdict, 'unreliable');
  const text = formatBenchTable(run);
  assert.match(text, /^Verdict: unreliable/m);
  assert.match(text, /unreliable high-dispersion: latency varies a lot: coefficient of variation \d/);
  assert.match(text, /^ {4}fix: /m);
});

test('the Runs view marks a run whose verdict is not ok, and only such a run', () => {
  const noisy = fakeRun({ id: 'noisy', latencyMs: Array.from({ length: 200 }, (_, i) => (i % 2 ? 10 : 22)) });
  noisy.validity = runValidity({ spec: noisy.spec, device: noisy.device, samples: noisy.samples, stats: noisy.stats! });
  const quiet = fakeRun({ id: 'quiet', latencyMs: steady(), createdAt: '2025-01-01T11:00:00.000Z' });
  quiet.validity = runValidity({ spec: quiet.spec, device: quiet.device, samples: quiet.samples, stats: quiet.stats! });
  const [group] = buildRunsTree([
    { file: '/r/noisy.json', run: noisy, problem: null },
    { file: '/r/quiet.json', run: quiet, problem: null },
  ]);
  assert.ok(group?.kind === 'model');
  const byId = new Map(group.devices[0]!.runs.map((r) => [r.run.id, r.description]));
  assert.match(byId.get('noisy')!, / · unreliable · /);
  assert.doesNotMatch(byId.get('quiet')!, /ok|caution|unreliable/);
});

test('on a Jetson: clocks not locked (jtop\'s rule: min == max) and a power mode below MAXN; jetson_clocks silences both the lock and the governor findings', () => {
  const jetson = (minKHz: number, gpuMin: number, mode: string | null): DeviceState => ({
    readAt: '2025-01-01T00:00:00Z',
    powerMode: mode === null ? null : { id: mode === 'MAXN' ? 0 : 1, name: mode, source: 'status-file' },
    gpuClock: { device: '17000000.gpu', curHz: 1020000000, minHz: gpuMin, maxHz: 1020000000, governor: 'nvhost_podgov' },
    cpus: [0, 1, 2].map((cpu) => ({ cpu, governor: 'schedutil', curKHz: 1510400, minKHz, maxKHz: 1510400 })),
  });
  const free = input(steady(), {}, jetson(115200, 306000000, '15W'));
  assert.equal(clocksNotLockedFinding(free)?.code, 'clocks-not-locked');
  assert.match(clocksNotLockedFinding(free)!.summary, /^CPU and GPU clocks are not locked/);
  assert.match(powerModeFinding(free)!.summary, /power mode 15W \(nvpmodel 1\), not MAXN/);
  assert.equal(governorFinding(free), null, 'on a Jetson the lock is what counts, not the governor name');
  // After sudo jetson_clocks at MAXN: min = max everywhere, governor still schedutil: nothing to say.
  const pinned = input(steady(), {}, jetson(1510400, 1020000000, 'MAXN'));
  assert.equal(clocksNotLockedFinding(pinned), null);
  assert.equal(powerModeFinding(pinned), null);
  assert.equal(governorFinding(pinned), null);
  assert.deepEqual(runValidity(pinned).findings, []);
  // Not a Jetson (no devfreq GPU, no nvpmodel): the governor rule, not these.
  const pc: DeviceState = { readAt: '2025-01-01T00:00:00Z', powerMode: null, gpuClock: null, cpus: [{ cpu: 0, governor: 'schedutil', curKHz: 1, minKHz: 1, maxKHz: 2 }] };
  assert.equal(clocksNotLockedFinding(input(steady(), {}, pc)), null);
  assert.equal(governorFinding(input(steady(), {}, pc))?.code, 'governor-not-performance');
});
