// Telemetry through the CLI (issue 14): a run on a Jetson-shaped device root (the sysfs tree of an
// Orin Nano whose values are a real tegrastats line, test/helpers/jetsonTrees.ts) records power,
// clocks and temperatures per phase, energy per inference, and an over-current event that happens
// mid-run as an unreliable verdict; on this machine's own /sys the run says what it could not check.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AttachRunRequest, StopDaemonRequest, TelemetryLiveNotification, TelemetryNowRequest, type RunSpec, type TelemetryLiveBatch, type TelemetryReading } from '../../contract/protocol';
import { liveTelemetry, telemetryNowText } from '../../contract/telemetry';
import { runOnAgent } from '../../src/core/runClient';
import { daemonClient } from '../helpers/daemon';
import { runCli, scratchDir } from '../helpers/cli';
import { overCurrentWhileMeasuring, writeJetsonTree } from '../helpers/jetsonTrees';
import { readRun } from '../helpers/runFile';

test('a run on an Orin Nano tree: idle baseline, power per phase, energy per inference, an over-current event named', async () => {
  const root = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  const out = path.join(scratchDir(), 'run.json');
  // The board throttles for over-current while the run measures.
  const oc = overCurrentWhileMeasuring(root);
  const r = await runCli(['bench', '--model', 'tiny', '--warmup', '3', '--iterations', '40', '--threads', '1', '--out', out], {
    env: { JETBENCH_DEVICE_ROOT: root, JETBENCH_TELEMETRY_IDLE_MS: '600', JETBENCH_TELEMETRY_HZ: '20' },
    onStderr: (text) => oc.onStderr(text),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /idle baseline: 0\.6 s/);
  assert.ok(oc.bumped);
  const run = readRun(out);
  const t = run.telemetry!;
  assert.deepEqual(t.sources, ['ina3221-hwmon', 'cpufreq', 'thermal', 'gpu-devfreq', 'soctherm-oc']);
  assert.equal(t.totalPowerRule, 'VDD_IN');
  assert.deepEqual(t.phases.map((p) => p.phase), ['idle', 'warmup', 'measure']);
  const [idle, , measure] = t.phases;
  assert.ok(idle!.endMs - idle!.startMs >= 550, `idle ${idle!.endMs - idle!.startMs} ms`);
  assert.ok(measure!.samples >= 2, `${measure!.samples} samples while measuring`);
  // Constant 12.48 W (VDD_IN of the tegrastats line): energy per inference = power x measuring time / inferences.
  const seconds = (measure!.endMs - measure!.startMs) / 1000;
  assert.ok(Math.abs(measure!.meanPowerW! - 12.48) < 0.01, String(measure!.meanPowerW));
  assert.ok(Math.abs(t.energyPerInferenceMj! - (12479.8 * seconds) / 40) / t.energyPerInferenceMj! < 0.01, `${t.energyPerInferenceMj} mJ over ${seconds} s`);
  assert.ok(Math.abs(t.energyPerInferenceAboveIdleMj!) < 0.01 * t.energyPerInferenceMj!, 'a flat power line: nothing above idle');
  assert.deepEqual(measure!.gpuHz, { min: 621000000, max: 621000000 });
  assert.equal(measure!.hottestZone, 'cpu-thermal');
  assert.deepEqual(t.overCurrent?.find((c) => c.counter === 'oc3'), { counter: 'oc3', start: 12, end: 15 });
  assert.equal(run.validity!.verdict, 'unreliable');
  assert.ok(run.validity!.findings.some((f) => f.code === 'over-current-throttled' && /oc3 \+3/.test(f.summary)));
  assert.match(r.stdout, /Power \(VDD_IN\): measuring mean 12\.48 W, max 12\.48 W; idle 12\.48 W; energy per inference [0-9.]+ mJ/);
  assert.match(r.stdout, /While measuring: CPU 730-730 MHz, GPU 621-621 MHz, hottest cpu-thermal 54\.0 °C/);
  // Where the counter rose, from the counters sampled with the rest (not only their start and end).
  assert.match(r.stdout, /Over-current events \(Orin soctherm\): oc3 \+3 at \d+\.\d\d s/);
  const md = await runCli(['report', out]);
  assert.match(md.stdout, /- Power \(VDD_IN\): measuring mean 12\.48 W/);
  // Each measured sample's start on the telemetry's clock (phases are rounded to 0.1 ms): inside the measured phase, in order, one
  // after the other (a sample starts after the previous one ended).
  assertSampleStarts(t.sampleStartMs, run.samples.latencyMs, [measure!]);
});

/** Sample starts: one per measured sample, increasing by at least the previous latency, each in
 * one of the measured phases, and every measured phase holding as many as it measured. */
function assertSampleStarts(starts: number[] | undefined, latencies: number[], measures: Array<{ startMs: number; endMs: number }>): void {
  assert.ok(starts, 'telemetry.sampleStartMs');
  assert.equal(starts.length, latencies.length);
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! >= starts[i - 1]! + latencies[i - 1]! - 0.01, `sample ${i} starts at ${starts[i]} ms, before sample ${i - 1} (${starts[i - 1]} + ${latencies[i - 1]} ms) ended`);
  const per = measures.map((m) => starts.filter((x) => x >= m.startMs - 0.06 && x <= m.endMs + 0.06).length);
  assert.equal(per.reduce((a, b) => a + b, 0), starts.length, `starts ${starts[0]}..${starts[starts.length - 1]} outside the measured phases ${JSON.stringify(measures.map((m) => [m.startMs, m.endMs]))}`);
}

test('--trials on an Orin Nano tree: each trial\'s process starting and loading the model is its own phase, outside the idle baseline and the measured energy and clocks', async () => {
  const root = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  const out = path.join(scratchDir(), 'trials.json');
  const r = await runCli(['bench', '--model', 'tiny', '--trials', '2', '--warmup', '3', '--iterations', '30', '--threads', '1', '--out', out], {
    env: { JETBENCH_DEVICE_ROOT: root, JETBENCH_TELEMETRY_IDLE_MS: '300', JETBENCH_TELEMETRY_HZ: '20' },
  });
  assert.equal(r.code, 0, r.stderr);
  const t = readRun(out).telemetry!;
  assert.deepEqual(t.phases.map((p) => p.phase), ['idle', 'load', 'warmup', 'measure', 'load', 'warmup', 'measure']);
  const idle = t.phases[0]!;
  assert.ok(idle.endMs - idle.startMs < 1000, `the idle baseline is its 300 ms, not the first trial's start too (${idle.endMs - idle.startMs} ms)`);
  // A fresh process loading the model takes far longer than 30 inferences of tiny.
  for (const load of t.phases.filter((p) => p.phase === 'load')) assert.ok(load.endMs - load.startMs > 100, `trial load ${load.endMs - load.startMs} ms`);
  const measures = t.phases.filter((p) => p.phase === 'measure');
  const energy = measures.reduce((a, p) => a + p.energyJ!, 0);
  assert.ok(Math.abs(t.energyPerInferenceMj! - (1000 * energy) / 60) < 1e-3 * t.energyPerInferenceMj!, 'energy per inference is the measured phases\' over the 60 samples');
  for (const [a, b] of t.phases.slice(1).map((p, i) => [t.phases[i]!, p] as const)) assert.equal(a.endMs, b.startMs, 'phases follow each other');
  // The trial processes' sample starts, moved onto the agent's clock: 30 in each trial's measured phase.
  const run = readRun(out);
  assertSampleStarts(t.sampleStartMs, run.samples.latencyMs, measures);
  for (const m of measures) assert.equal(t.sampleStartMs!.filter((x) => x >= m.startMs - 0.06 && x <= m.endMs + 0.06).length, 30);
});

test("on this machine's own /sys: telemetry only from what can be read, the rest said not checked", async () => {
  const out = path.join(scratchDir(), 'run.json');
  const r = await runCli(['bench', '--model', 'tiny', '--warmup', '1', '--iterations', '5', '--threads', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  if (!run.telemetry) {
    // A VM without cpufreq, thermal zones or power monitors (CI's): nothing recorded as 0.
    assert.ok(run.validity!.notChecked!.some((n) => /no telemetry source readable on this device/.test(n)), JSON.stringify(run.validity));
    assert.doesNotMatch(r.stdout, /Telemetry:/);
  } else {
    for (const [name, values] of Object.entries(run.telemetry.series)) {
      if (Array.isArray(values)) assert.ok(values.every(Number.isFinite), name);
    }
    assert.equal(run.telemetry.series.totalPowerMw, undefined, 'no power monitor on a machine that is not a Jetson');
    assert.ok(run.validity!.notChecked!.some((n) => /power and energy \(no power monitor readable\)/.test(n)));
  }
});

test("jetbench/telemetryNow: one reading of the device's sensors without a run (the Devices view's live status)", async () => {
  const root = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  const home = mkdtempSync(path.join(os.tmpdir(), 'jb-now-'));
  const client = await daemonClient(home, 'telemetry now', { JETBENCH_DEVICE_ROOT: root });
  try {
    const now = await client.connection.sendRequest(TelemetryNowRequest, {});
    assert.deepEqual(now.sources, ['ina3221-hwmon', 'cpufreq', 'thermal', 'gpu-devfreq', 'soctherm-oc']);
    assert.equal(now.totalPowerRule, 'VDD_IN');
    assert.ok(Math.abs(now.totalPowerW! - 12.48) < 0.01, String(now.totalPowerW));
    assert.deepEqual(now.hottest, { zone: 'cpu-thermal', celsius: 53.968 });
    assert.equal(telemetryNowText(now), '12.5 W · cpu-thermal 54 °C · GPU 621 MHz 63% · CPU 730 MHz');
    await assert.rejects(client.connection.sendRequest(TelemetryNowRequest, { nvml: 'yes' } as never), /"nvml" must be true or false/);
    await assert.rejects(client.connection.sendRequest(TelemetryNowRequest, { rate: 1 } as never), /unknown param "rate"/);
  } finally {
    // The stopping daemon may close before its answer is out: wait for the close, not the answer.
    void client.connection.sendRequest(StopDaemonRequest).catch(() => undefined);
    await client.closed;
    await client.dispose();
    rmSync(home, { recursive: true, force: true });
  }
});

test('while a run goes its telemetry streams to its client from the idle baseline on, in order, equal to the run file\'s readings; a client attaching mid-run gets every reading so far', async () => {
  const root = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  const home = mkdtempSync(path.join(os.tmpdir(), 'jb-live-'));
  const env = { JETBENCH_DEVICE_ROOT: root, JETBENCH_TELEMETRY_IDLE_MS: '1500', JETBENCH_TELEMETRY_HZ: '20' };
  const client = await daemonClient(home, 'telemetry live', env);
  const late = await daemonClient(home, 'telemetry late', env);
  const spec: RunSpec = {
    device: 'local', model: 'tiny', backend: 'onnxruntime', precision: 'fp32', warmup: 3, warmupMs: 0,
    iterations: 20, durationS: 2, threads: 1, inputShape: null, opset: 13, label: 'live telemetry',
  };
  try {
    const batches: TelemetryLiveBatch[] = [];
    let measured = 0;
    let measuredAtFirstBatch = -1;
    const runId = 'live-telemetry-1';
    const lateBatches: TelemetryLiveBatch[] = [];
    let attached: Promise<unknown> | null = null;
    const pending = runOnAgent(client.rpc, spec, {
      runId,
      observer: {
        onSamples: (b) => {
          if (b.phase === 'measure') measured = b.offset + b.latencyMs.length;
        },
        onTelemetry: (b) => {
          if (batches.length === 0) measuredAtFirstBatch = measured;
          batches.push(b);
          // Once the run has sent some telemetry, a second client attaches to it.
          if (batches.length === 3 && !attached) {
            late.rpc.follow(TelemetryLiveNotification, (lb) => lb.runId === runId && lateBatches.push(lb));
            attached = late.connection.sendRequest(AttachRunRequest, { runId, warmupOffset: 0, measureOffset: 0 });
          }
        },
      },
    });
    const { run } = await pending;
    await attached;
    assert.equal(run.status, 'ok');
    // The first batch came during the idle baseline, before any measured sample; each batch
    // starts where the last one ended.
    assert.ok(batches.length >= 4, `${batches.length} batches`);
    assert.equal(measuredAtFirstBatch, 0);
    assert.deepEqual(batches[0]!.marks.map((m) => m.phase), ['idle']);
    batches.reduce((next, b) => {
      assert.equal(b.offset, next, 'contiguous batches');
      return next + b.readings.length;
    }, 0);
    const readings = batches.flatMap((b) => b.readings);
    const final = run.telemetry!;
    // The live readings are the run's own (the run file has the last ones too, taken after the
    // last batch): same times (on the file's clock, from its first reading, rounded to 0.1 ms), same power.
    assert.ok(readings.length <= final.series.tMs.length && readings.length >= final.series.tMs.length - 12, `${readings.length} live of ${final.series.tMs.length}`);
    const t0 = readings[0]!.tMs;
    readings.forEach((r, i) => {
      assert.ok(Math.abs(r.tMs - t0 - final.series.tMs[i]!) <= 0.051, `reading ${i} at ${r.tMs - t0} vs ${final.series.tMs[i]}`);
      assert.equal(r.totalPowerMw, final.series.totalPowerMw![i]);
    });
    // What the panel draws from them: the run's phases so far, the idle power the file says.
    const last = batches[batches.length - 1]!;
    const live = liveTelemetry(readings, last.marks, last.meta, measured)!;
    assert.deepEqual(live.phases.map((p) => p.phase), ['idle', 'warmup', 'measure']);
    assert.equal(live.phases[0]!.meanPowerW, final.phases[0]!.meanPowerW);
    assert.deepEqual(live.sources, final.sources);
    // The late client: first everything so far from offset 0, then the rest as it came.
    assert.ok(lateBatches.length >= 2, `${lateBatches.length} batches to the late client`);
    assert.equal(lateBatches[0]!.offset, 0);
    const lateReadings: TelemetryReading[] = [];
    for (const b of lateBatches) b.readings.forEach((r, i) => (lateReadings[b.offset + i] = r));
    assert.deepEqual(lateReadings, readings);
  } finally {
    void client.connection.sendRequest(StopDaemonRequest).catch(() => undefined);
    await client.closed;
    await client.dispose();
    await late.dispose();
    rmSync(home, { recursive: true, force: true });
  }
});

test('where sysfs has no power rails, tegrastats (here a stand-in printing a real Orin Nano line) gives them', async () => {
  const dir = scratchDir();
  const fake = path.join(dir, 'tegrastats');
  const line = readFileSync(path.join(__dirname, '..', 'fixtures', 'tegrastats', 'f8.txt'), 'utf8').trim();
  // tegrastats --interval MS: one line per interval until killed.
  writeFileSync(fake, `#!/bin/sh\nwhile true; do echo '${line}'; sleep $(awk "BEGIN{print $2/1000}"); done\n`, { mode: 0o755 });
  const out = path.join(dir, 'run.json');
  const r = await runCli(['bench', '--model', 'tiny', '--warmup', '2', '--iterations', '30', '--threads', '1', '--out', out], {
    env: { JETBENCH_DEVICE_ROOT: mkdtempSync(path.join(dir, 'empty-')), JETBENCH_TEGRASTATS: fake, JETBENCH_TELEMETRY_IDLE_MS: '400' },
  });
  assert.equal(r.code, 0, r.stderr);
  const t = readRun(out).telemetry!;
  assert.deepEqual(t.sources, ['tegrastats']);
  assert.equal(t.totalPowerRule, 'VDD_IN');
  assert.deepEqual(t.phases.map((p) => p.phase), ['idle', 'warmup', 'measure']);
  // F8: VDD_IN 12479mW, GR3D_FREQ 63%@[621], CPU 6 x 729 MHz, tj 53.968 C.
  assert.ok(Math.abs(t.phases[2]!.meanPowerW! - 12.479) < 0.001, String(t.phases[2]!.meanPowerW));
  assert.deepEqual(t.phases[2]!.gpuHz, { min: 621e6, max: 621e6 });
  assert.deepEqual(t.phases[2]!.cpuKHz, { min: 729000, max: 729000 });
  assert.equal(t.phases[2]!.maxTempC, 53.968);
  assert.ok(t.energyPerInferenceMj! > 0);
});
