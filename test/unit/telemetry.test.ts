// Telemetry (issue 14): the sensor readers on Jetson-shaped trees whose values are those of real
// tegrastats lines (test/helpers/jetsonTrees.ts cites each), and the summary and findings of
// contract/telemetry.ts on crafted readings.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildTelemetry, extent, overCurrentRises, powerSourcesNote, telemetryFindings, telemetryLines, telemetryNotChecked, telemetryNowOf, telemetryNowText, throttleSpans, throttleText } from '../../contract/telemetry';
import { formatMj } from '../../contract/format';
import type { Telemetry, TelemetryReading } from '../../contract/protocol';
import { Sensors, totalRule } from '../../device-agent/src/telemetry/sensors';
import { readTelemetryNow, TelemetryWatch } from '../../device-agent/src/telemetry/watch';
import { ROOT, scratchDir } from '../helpers/cli';
import { writeJetsonTree } from '../helpers/jetsonTrees';

test('Orin Nano, JetPack 6 (hwmon ina3221): VDD_IN is the total, channel 7 skipped, power matches tegrastats', async () => {
  const root = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  const s = await Sensors.find(root);
  assert.deepEqual(s.sources, ['ina3221-hwmon', 'cpufreq', 'thermal', 'gpu-devfreq', 'soctherm-oc']);
  assert.equal(s.power?.totalRule, 'VDD_IN');
  assert.deepEqual(s.power?.rails.map((r) => r.name), ['VDD_IN', 'VDD_CPU_GPU_CV', 'VDD_SOC']);
  const r = s.read(0);
  // tegrastats F8: VDD_IN 12479mW, VDD_CPU_GPU_CV 4667mW, VDD_SOC 2817mW.
  assert.ok(Math.abs(r.totalPowerMw! - 12479) / 12479 < 0.005, String(r.totalPowerMw));
  assert.ok(Math.abs(r.railsMw!['VDD_SOC']! - 2817) / 2817 < 0.005);
  assert.equal(r.cpuMinKHz, 729600);
  assert.equal(r.gpuHz, 621000000);
  assert.equal(r.gpuLoadPercent, 63);
  assert.deepEqual(r.tempC, { 'cpu-thermal': 53.968, 'soc2-thermal': 52.437, 'soc0-thermal': 50.75, 'gpu-thermal': 53.343, 'tj-thermal': 53.968, 'soc1-thermal': 51.656 });
  assert.deepEqual(s.passiveTripC, { 'cpu-thermal': 95, 'gpu-thermal': 95 });
  assert.deepEqual(await s.overCurrentCounts(), [{ counter: 'oc1', value: 0 }, { counter: 'oc2', value: 0 }, { counter: 'oc3', value: 12 }]);
});

test('AGX Orin, JetPack 5: no VDD_IN, so the total is the sum of the connected rails; NC rails and offline zones left out', async () => {
  const root = writeJetsonTree(scratchDir(), 'agx-orin-jp5');
  const s = await Sensors.find(root);
  assert.equal(s.power?.totalRule, 'sum of rails');
  assert.deepEqual(s.power?.rails.map((r) => r.name), ['VDD_GPU_SOC', 'VDD_CPU_CV', 'VIN_SYS_5V0', 'VDDQ_VDD2_1V8AO']);
  const r = s.read(0);
  // tegrastats F7: 2340 + 390 + 4025 + 301 = 7056 mW.
  assert.ok(Math.abs(r.totalPowerMw! - 7056) / 7056 < 0.005, String(r.totalPowerMw));
  assert.deepEqual(Object.keys(r.tempC!), ['CPU-therm', 'Tboard_tegra', 'tj-therm'], 'CV0 and GPU read -256 °C: offline');
  assert.equal(r.gpuHz, undefined, 'no GPU devfreq in this tree: absent, not 0');
});

test('AGX Xavier, JetPack 4 (IIO ina3221x, mW): sum of the six rails', async () => {
  const root = writeJetsonTree(scratchDir(), 'agx-xavier-jp4');
  const s = await Sensors.find(root);
  assert.equal(s.power?.source, 'ina3221-iio');
  assert.deepEqual(s.power?.rails.map((r) => r.name), ['GPU', 'CPU', 'SOC', 'CV', 'VDDRQ', 'SYS5V']);
  const r = s.read(0);
  assert.equal(r.totalPowerMw, 1155 + 385 + 2502 + 0 + 192 + 2692);
  assert.equal(r.gpuHz, 1377000000);
  assert.equal(totalRule(['POM_5V_IN', 'POM_5V_GPU', 'POM_5V_CPU']), 'POM_5V_IN', 'Nano');
});

test('a machine with no readable sensor has no telemetry, and the verdict says what it could not check', async () => {
  const empty = scratchDir();
  assert.equal(await TelemetryWatch.open(empty), null);
  assert.match(telemetryNotChecked(undefined).join(), /no telemetry source readable on this device/);
});

/** Readings every 100 ms from 0 to `endMs` with power `mw(t)` and CPU clock `khz(t)`. */
function readings(endMs: number, mw: (t: number) => number, khz: (t: number) => number = () => 1_000_000): TelemetryReading[] {
  const out: TelemetryReading[] = [];
  for (let t = 0; t <= endMs; t += 100) out.push({ tMs: t, totalPowerMw: mw(t), cpuMinKHz: khz(t), cpuMaxKHz: khz(t), tempC: { 'cpu-thermal': 50 + t / 1000 } });
  return out;
}

test('energy by phase, energy per inference and above idle, from power samples', () => {
  // Idle 2 s at 5 W, warm-up 1 s at 8 W, measurement 4 s at 10 W with 400 inferences.
  const mw = (t: number) => (t < 2000 ? 5000 : t < 3000 ? 8000 : 10000);
  const tel = buildTelemetry(readings(7000, mw), [{ phase: 'idle', atMs: 0 }, { phase: 'warmup', atMs: 2000 }, { phase: 'measure', atMs: 3000 }], 7000, 400, { sources: ['ina3221-hwmon'], requestedHz: 10, totalPowerRule: 'VDD_IN' });
  const [idle, warm, measure] = tel.phases;
  // Sampled power cannot place the 5 -> 8 W step between two samples: half of one 100 ms step lands in idle.
  assert.ok(Math.abs(idle!.meanPowerW! - 5) < 0.1, String(idle!.meanPowerW));
  // The step at 2000/3000 ms is shared by a trapezoid between the two phases' edge samples.
  assert.ok(Math.abs(measure!.energyJ! - 40) < 0.01, String(measure!.energyJ));
  assert.ok(Math.abs(warm!.energyJ! - 8) < 0.2, String(warm!.energyJ));
  assert.ok(Math.abs(tel.energyPerInferenceMj! - 100) < 0.1, String(tel.energyPerInferenceMj));
  // (40 J - idle 5.075 W x 4 s) / 400: 49.25 mJ (50 with a perfectly placed step).
  assert.ok(Math.abs(tel.energyPerInferenceAboveIdleMj! - 50) < 1, String(tel.energyPerInferenceAboveIdleMj));
  assert.equal(tel.achievedHz, 10);
  assert.equal(measure!.samples, 41);
  assert.equal(measure!.maxTempC, 57);
  assert.equal(measure!.hottestZone, 'cpu-thermal');
  assert.deepEqual(telemetryFindings(tel), []);
  assert.deepEqual(telemetryNotChecked(tel), ['throttling (no soctherm_oc counters, Orin only, and no NVML clock event reasons)']);
});

test('a flat power line is 0 mJ above idle, not the rounding of the phases\' figures', () => {
  // 12.48 W throughout, sampled at 50 Hz from an odd start; the phases begin between samples and
  // 137 inferences are measured: the idle phase's mean power rounds to the mW and its energy to
  // 0.1 mJ, which, subtracted and divided, used to print "-0.001 mJ above idle".
  const flat: TelemetryReading[] = [];
  for (let t = 3.7; t <= 9000; t += 20) flat.push({ tMs: t, totalPowerMw: 12_480 });
  const marks = [{ phase: 'idle' as const, atMs: 11.3 }, { phase: 'warmup' as const, atMs: 2011.9 }, { phase: 'measure' as const, atMs: 2513.1 }];
  const tel = buildTelemetry(flat, marks, 8991.7, 137, { sources: ['ina3221-hwmon'], requestedHz: 50, totalPowerRule: 'VDD_IN' });
  assert.ok(Math.abs(tel.energyPerInferenceAboveIdleMj!) < 1e-9, String(tel.energyPerInferenceAboveIdleMj));
  assert.ok(Math.abs(tel.energyPerInferenceMj! - (12.48 * 6478.6) / 137) < 1e-3, String(tel.energyPerInferenceMj));
  const line = telemetryLines(tel).find((l) => l.startsWith('Power'))!;
  assert.match(line, /\(0\.000 mJ above idle\)/);
  // Whatever is left of noise that rounds to zero prints without a sign.
  assert.equal(formatMj(-0.0004), '0.000');
  assert.equal(formatMj(-0.0006), '-0.001');
  assert.equal(formatMj(-0), '0.000');
});

test('findings: clocks that moved during measurement, over-current events, a zone at its passive trip point', () => {
  const khz = (t: number) => (t < 3000 ? 1_500_000 : 1_100_000);
  const tel = buildTelemetry(readings(5000, () => 9000, khz).map((r) => ({ ...r, tempC: { 'cpu-thermal': 92 } })), [{ phase: 'warmup', atMs: 0 }, { phase: 'measure', atMs: 1000 }], 5000, 100, {
    sources: ['cpufreq'],
    requestedHz: 10,
    totalPowerRule: null,
    overCurrent: [{ counter: 'oc3', start: 12, end: 15 }, { counter: 'oc1', start: 0, end: 0 }],
    passiveTripC: { 'cpu-thermal': 95 },
  });
  const codes = telemetryFindings(tel).map((f) => [f.code, f.severity]);
  assert.deepEqual(codes, [['clocks-changed', 'caution'], ['over-current-throttled', 'unreliable'], ['temperature-near-limit', 'caution']]);
  assert.match(telemetryFindings(tel)[0]!.summary, /CPU 1100-1500 MHz/);
  assert.match(telemetryFindings(tel)[1]!.summary, /oc3 \+3/);
  assert.ok(Math.abs(tel.energyPerInferenceMj! - 360) < 0.5, String(tel.energyPerInferenceMj));
  assert.equal(tel.energyPerInferenceAboveIdleMj, null, 'no idle phase: nothing to subtract');
  // A sensor that failed in one reading has no series (not zeros).
  const gappy = buildTelemetry([{ tMs: 0, totalPowerMw: 5 }, { tMs: 100 }], [{ phase: 'measure', atMs: 0 }], 100, 10, { sources: ['ina3221-hwmon'], requestedHz: 10, totalPowerRule: 'VDD_IN' });
  assert.equal(gappy.series.totalPowerMw, undefined);
  assert.equal(gappy.energyPerInferenceMj, null);
  // Each measured sample's start on the series' clock (its origin the first reading); only when
  // there is one start per measured sample.
  const timed = buildTelemetry([{ tMs: 1000, totalPowerMw: 5 }, { tMs: 1100, totalPowerMw: 5 }], [{ phase: 'measure', atMs: 1010 }], 1100, 2, { sources: ['ina3221-hwmon'], requestedHz: 10, totalPowerRule: 'VDD_IN', sampleStartsMs: [1010.25, 1050.5] });
  assert.deepEqual(timed.sampleStartMs, [10.25, 50.5]);
  const short = buildTelemetry([{ tMs: 1000, totalPowerMw: 5 }], [{ phase: 'measure', atMs: 1010 }], 1100, 3, { sources: ['ina3221-hwmon'], requestedHz: 10, totalPowerRule: 'VDD_IN', sampleStartsMs: [1010] });
  assert.equal(short.sampleStartMs, undefined);
});

test('the watch samples a tree at its rate while the phases go, and counts over-current events across the run', async () => {
  const root = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  const watch = (await TelemetryWatch.open(root, 50))!;
  await watch.start();
  watch.mark('warmup');
  await new Promise((r) => setTimeout(r, 150));
  watch.mark('measure');
  writeFileSync(path.join(root, 'sys/class/hwmon/hwmon3/oc3_event_cnt'), '14');
  await new Promise((r) => setTimeout(r, 300));
  const tel = await watch.finish(30);
  assert.ok(tel.series.tMs.length >= 10, `${tel.series.tMs.length} samples at 50 Hz over 0.45 s`);
  assert.ok(tel.achievedHz > 20, String(tel.achievedHz));
  assert.deepEqual(tel.overCurrent?.find((c) => c.counter === 'oc3'), { counter: 'oc3', start: 12, end: 14 });
  assert.ok(Math.abs(tel.phases[1]!.meanPowerW! - 12.48) < 0.01, String(tel.phases[1]!.meanPowerW));
  assert.equal(telemetryFindings(tel)[0]?.code, 'over-current-throttled');
  // The counters are sampled with the rest: where oc3 rose is known, inside the measured phase.
  const oc3 = tel.series.overCurrentEvents!.oc3!;
  assert.equal(oc3[0], 12);
  assert.equal(oc3[oc3.length - 1], 14);
  const rises = overCurrentRises(tel.series);
  assert.equal(rises.length, 1, JSON.stringify(rises));
  assert.deepEqual(rises[0]!.counters, [{ counter: 'oc3', by: 2 }]);
  const measure = tel.phases[1]!;
  assert.ok(rises[0]!.atMs >= measure.startMs && rises[0]!.atMs <= measure.endMs, `rise at ${rises[0]!.atMs} ms, measure ${measure.startMs}-${measure.endMs}`);
  assert.match(telemetryLines(tel).join('\n'), /^Over-current events \(Orin soctherm\): oc3 \+2 at \d+\.\d\d s \(measure\)$/m);
});

test('the live feed sends every reading once, in order, and with sysfs alone sends the run\'s own readings (no second copy kept)', async () => {
  const root = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  const watch = (await TelemetryWatch.open(root, 50))!;
  const batches: Array<{ offset: number; readings: TelemetryReading[] }> = [];
  await watch.start();
  watch.feed((b) => batches.push(b), 60);
  watch.mark('measure');
  await new Promise((r) => setTimeout(r, 400));
  const own = (watch as unknown as { readings: TelemetryReading[] }).readings;
  const fed = batches.flatMap((b) => b.readings);
  const tel = await watch.finish(10);
  assert.ok(batches.length >= 3, `${batches.length} batches in 0.4 s, one each 60 ms`);
  batches.forEach((b, i) => assert.equal(b.offset, i === 0 ? 0 : batches[i - 1]!.offset + batches[i - 1]!.readings.length, `batch ${i} follows the one before`));
  assert.ok(fed.length >= 10 && fed.length <= tel.series.tMs.length, `${fed.length} fed of ${tel.series.tMs.length}`);
  fed.forEach((r, i) => assert.equal(r, own[i], `reading ${i} is the run's own object`));
});

test('the sampler thread keeps its files open while it samples and closes them when the run finishes or fails', async () => {
  const root = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  // The process's descriptors open on the tree's files.
  const open = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(root);
      } catch {
        return false;
      }
    }).length;
  const finished = (await TelemetryWatch.open(root, 100))!;
  await finished.start();
  await new Promise((r) => setTimeout(r, 100));
  const sampling = open();
  assert.ok(sampling >= 10, `${sampling} files open while sampling an Orin Nano's 23`);
  const tel = await finished.finish(1);
  // 100 Hz in batches of a tenth of a second: every reading arrives, the last one at the stop.
  assert.ok(tel.series.tMs.length >= 5, `${tel.series.tMs.length} readings`);
  const settled = async () => {
    for (let i = 0; i < 40 && open() > 0; i++) await new Promise((r) => setTimeout(r, 25));
  };
  await settled();
  assert.equal(open(), 0, 'closed when the run finished');
  const failed = (await TelemetryWatch.open(root, 100))!;
  await failed.start();
  await new Promise((r) => setTimeout(r, 50));
  failed.stop();
  await settled();
  assert.equal(open(), 0, 'closed when the run failed (stop without a summary)');
});

test('over-current rises: each reading where a counter rose, every counter that rose there; none where they stayed', () => {
  const series = { tMs: [0, 100, 200, 300, 400], overCurrentEvents: { oc1: [5, 5, 6, 6, 6], oc2: [0, 0, 3, 3, 4] } };
  assert.deepEqual(overCurrentRises(series), [
    { atMs: 200, counters: [{ counter: 'oc1', by: 1 }, { counter: 'oc2', by: 3 }] },
    { atMs: 400, counters: [{ counter: 'oc2', by: 1 }] },
  ]);
  assert.deepEqual(overCurrentRises({ tMs: [0, 100], overCurrentEvents: { oc1: [5, 5] } }), []);
  assert.deepEqual(overCurrentRises({ tMs: [0, 100] }), []);
});

test('the Devices view\'s reading during a run comes from the run\'s sampler (no second reader beside the measurement); before and after, from the sensors', async () => {
  const root = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  const before = await readTelemetryNow(root, null);
  assert.equal(before.fromRun, undefined);
  assert.ok(Math.abs(before.totalPowerW! - 12.48) < 0.01, String(before.totalPowerW));
  const watch = (await TelemetryWatch.open(root, 50))!;
  await watch.start();
  watch.mark('measure');
  await new Promise((r) => setTimeout(r, 200));
  const during = await readTelemetryNow(root, null);
  assert.equal(during.fromRun, true);
  assert.equal(during.totalPowerW, before.totalPowerW);
  assert.deepEqual(during.sources, before.sources);
  // Another device root is not this run's.
  const other = writeJetsonTree(scratchDir(), 'orin-nano-jp6');
  assert.equal((await readTelemetryNow(other, null)).fromRun, undefined);
  await watch.finish(10);
  assert.equal((await readTelemetryNow(root, null)).fromRun, undefined);
  // A run that failed before measuring (stop, no summary) leaves it too.
  const failed = (await TelemetryWatch.open(root, 50))!;
  await failed.start();
  failed.stop();
  assert.equal((await readTelemetryNow(root, null)).fromRun, undefined);
});

test('NVML readings: energy from the counter (not the power samples), the GPU clock, and power-cap throttling while measuring', () => {
  // 10 Hz; counter rising 300 J/s while measuring (300 W), power samples reading 1 s averages that lag.
  const rs: TelemetryReading[] = [];
  for (let t = 0; t <= 4000; t += 100) {
    const measuring = t >= 1000;
    rs.push({
      tMs: t,
      energyMj: 1e9 + (measuring ? 100 * 1000 + 300 * (t - 1000) : 100 * t),
      totalPowerMw: measuring ? 250_000 : 100_000,
      gpuHz: (t >= 3000 ? 1470 : 1980) * 1e6,
      gpuClockReasons: t >= 3000 ? 0x4 : 0,
    });
  }
  const tel = buildTelemetry(rs, [{ phase: 'idle', atMs: 0 }, { phase: 'measure', atMs: 1000 }], 4000, 3000, {
    sources: ['nvml'], requestedHz: 10, totalPowerRule: null, gpu: { name: 'NVIDIA H200', driver: '580.159.04', powerLimitW: 700, maxSmClockMhz: 1980 },
  });
  assert.equal(tel.energySource, 'counter');
  assert.equal(tel.series.energyMj![0], 0, 'the counter series starts at 0');
  assert.ok(Math.abs(tel.phases[1]!.energyJ! - 900) < 1e-6, String(tel.phases[1]!.energyJ));
  assert.ok(Math.abs(tel.phases[1]!.meanPowerW! - 300) < 1e-6);
  assert.ok(Math.abs(tel.phases[0]!.meanPowerW! - 100) < 1e-6);
  assert.ok(Math.abs(tel.energyPerInferenceMj! - 300) < 1e-6);
  assert.ok(Math.abs(tel.energyPerInferenceAboveIdleMj! - 200) < 1e-6);
  const f = telemetryFindings(tel);
  assert.deepEqual(f.map((x) => [x.code, x.severity]), [['clocks-changed', 'caution'], ['gpu-throttled', 'caution']]);
  assert.match(f[1]!.summary, /software power cap \(SM clock 1470-1980 MHz of 1980\)/);
  // An idle GPU (0x1) is not throttled.
  const idle = buildTelemetry(rs.map((r) => ({ ...r, gpuClockReasons: 0x1, gpuHz: 1980e6 })), [{ phase: 'measure', atMs: 0 }], 4000, 10, { sources: ['nvml'], requestedHz: 10, totalPowerRule: null });
  assert.deepEqual(telemetryFindings(idle), []);
  assert.match(telemetryLines(tel).join('\n'), /Power \(GPU NVIDIA H200, NVML energy counter\): measuring mean 300\.00 W/);
});

test('NVML unavailable on a GPU host is said, not silent', async () => {
  const tel = buildTelemetry([{ tMs: 0, cpuMaxKHz: 1, cpuMinKHz: 1 }], [{ phase: 'measure', atMs: 0 }], 10, 1, { sources: ['cpufreq'], requestedHz: 10, totalPowerRule: null, unavailable: ['GPU power, clocks and throttling (NVML: nvmlInit failed)'] });
  assert.ok(telemetryNotChecked(tel).includes('GPU power, clocks and throttling (NVML: nvmlInit failed)'));
  // The helper itself on a machine without a driver answers with an error line and exit 0.
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('python3', [path.join(__dirname, '../../device-agent/python/jetbench_nvml.py'), '--hz', '10'], { encoding: 'utf8', input: '' });
  const first = JSON.parse(r.stdout.split('\n')[0]!) as { error?: string; hello?: unknown };
  if (first.error) {
    assert.equal(r.status, 0);
    assert.match(first.error, /NVML is not on this device|nvmlInit failed|no NVIDIA GPU/);
  } else {
    assert.ok(first.hello, r.stdout);
  }
});

test('the Devices view line: what can be read, in a fixed order, nothing invented', () => {
  const base = { readAt: '2026-12-04T00:00:00.000Z', sources: [], totalPowerW: null, totalPowerRule: null, hottest: null, cpuMaxMHz: null, gpuMHz: null, gpuLoadPercent: null };
  assert.equal(telemetryNowText(base), null);
  assert.equal(telemetryNowText({ ...base, totalPowerW: 692.8, gpuMHz: 1470, gpuLoadPercent: 100, hottest: { zone: 'gpu', celsius: 56 } }), '692.8 W · gpu 56 °C · GPU 1470 MHz 100%');
  assert.deepEqual(telemetryNowOf({ tMs: 0, cpuMaxKHz: 2201600 }, ['cpufreq'], null, new Date(0)), { ...base, readAt: new Date(0).toISOString(), sources: ['cpufreq'], cpuMaxMHz: 2201.6 });
});

/** An x86 machine's powercap tree (paths and units as the kernel's sysfs-class-powercap ABI):
 * two packages, a core sub-zone inside package 0 (counted in the package, so left out) and a dram
 * zone (not a package, left out). */
function writeRaplTree(root: string, uj: [number, number], maxUj = 262_143_328_850): string {
  const zone = (dir: string, name: string, energy: number) => {
    mkdirSync(path.join(root, 'sys/class/powercap', dir), { recursive: true });
    writeFileSync(path.join(root, 'sys/class/powercap', dir, 'name'), `${name}\n`);
    writeFileSync(path.join(root, 'sys/class/powercap', dir, 'energy_uj'), `${energy}\n`);
    writeFileSync(path.join(root, 'sys/class/powercap', dir, 'max_energy_range_uj'), `${maxUj}\n`);
  };
  zone('intel-rapl:0', 'package-0', uj[0]);
  zone('intel-rapl:1', 'package-1', uj[1]);
  zone('intel-rapl:0:0', 'core', 5);
  zone('intel-rapl:2', 'dram', 7);
  return root;
}

test('RAPL on an x86 machine without power rails: the packages\' counters are the run\'s energy, their wrap undone; core and dram zones left out', async () => {
  const root = writeRaplTree(scratchDir(), [1_000_000, 2_000_000], 10_000_000);
  const s = await Sensors.find(root);
  assert.deepEqual(s.sources, ['rapl']);
  assert.deepEqual(s.rapl.map((z) => z.name), ['package-0', 'package-1']);
  assert.equal(s.raplUnreadable, null);
  assert.equal(s.read(0).energyMj, 0, 'counted from the first reading');
  const write = (zone: string, v: number) => writeFileSync(path.join(root, 'sys/class/powercap', zone, 'energy_uj'), `${v}\n`);
  write('intel-rapl:0', 4_000_000);
  write('intel-rapl:1', 2_500_000);
  assert.equal(s.read(100).energyMj, 3500, '3 J + 0.5 J');
  // Package 0 wraps at 10 J: 4 J -> 1 J is 7 J more, not 3 J less.
  write('intel-rapl:0', 1_000_000);
  assert.equal(s.read(200).energyMj, 10_500);
  // The watch says where its energy comes from, and the summary uses it as a counter.
  const watch = (await TelemetryWatch.open(root, 50))!;
  await watch.start();
  watch.mark('measure');
  write('intel-rapl:0', 3_000_000);
  await new Promise((r) => setTimeout(r, 250));
  const tel = await watch.finish(10);
  assert.ok(tel.sources.includes('rapl'));
  assert.equal(tel.energySource, 'counter');
  assert.match(tel.totalPowerRule!, /^CPU packages \(RAPL energy counters; DRAM, GPU and the rest of the machine not included\)$/);
  assert.ok(tel.energyPerInferenceMj !== null && tel.energyPerInferenceMj > 0, String(tel.energyPerInferenceMj));
  assert.ok(!telemetryNotChecked(tel).some((m) => /power and energy/.test(m)), 'energy was measured');
});

test('RAPL that cannot be read (root-only since Linux 5.10) is said, with the fix; power rails take precedence over it', async () => {
  const root = writeRaplTree(scratchDir(), [1, 2]);
  // A counter that cannot be read: here a directory where the file should be (the suite runs as
  // root, which reads a 0400 file anyway).
  const file = path.join(root, 'sys/class/powercap/intel-rapl:1/energy_uj');
  rmSync(file);
  mkdirSync(file);
  const s = await Sensors.find(root);
  assert.deepEqual(s.rapl, []);
  assert.match(s.raplUnreadable!, /^CPU package energy \(RAPL: .*intel-rapl:1\/energy_uj cannot be read; root-only since Linux 5\.10: run the agent as root, or make it readable/);
  const watch = await TelemetryWatch.open(root, 50);
  assert.equal(watch, null, 'nothing else to read on this tree');
  const withRails = writeRaplTree(writeJetsonTree(scratchDir(), 'orin-nano-jp6'), [1, 2]);
  const j = await Sensors.find(withRails);
  assert.deepEqual(j.rapl, [], 'the module\'s rails measure the run');
  assert.ok(!j.sources.includes('rapl'));
});

const h200 = (kind: 'heavy' | 'light') => JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'nvml', `h200-${kind}.telemetry.json`), 'utf8')) as Telemetry;

test('throttling from NVML\'s reasons on a real H200 (fixtures): the power-capped heavy load is one span inside the measured phase, the light load none', () => {
  const heavy = h200('heavy');
  const spans = throttleSpans(heavy.series);
  assert.equal(spans.length, 1, JSON.stringify(spans));
  const [span] = spans;
  const measure = heavy.phases.find((p) => p.phase === 'measure')!;
  assert.deepEqual(span!.reasons, ['software power cap']);
  // It began with the GEMMs (within a second of the measured phase's start) and lasted to the end.
  assert.ok(span!.startMs >= measure.startMs && span!.startMs - measure.startMs < 1000, `${span!.startMs} vs ${measure.startMs}`);
  assert.ok(span!.endMs <= measure.endMs && measure.endMs - span!.endMs < 1000, `the span ends with the load: ${span!.endMs} vs ${measure.endMs}`);
  const line = telemetryLines(heavy).find((l) => l.startsWith('GPU throttled'));
  assert.ok(line, telemetryLines(heavy).join('\n'));
  const [throttled, measured] = /GPU throttled \(NVML\) ([\d.]+) s of the ([\d.]+) s measured, in 1 span: software power cap$/.exec(line)!.slice(1).map(Number);
  assert.equal(measured, Number(((measure.endMs - measure.startMs) / 1000).toFixed(1)));
  assert.ok(throttled! > 0.9 * measured! && throttled! <= measured!, `${throttled} of ${measured} s`);
  // Its idle phase's max (sampled instantaneous power) is below its mean (the energy counter):
  // real, and said rather than left to look like a bug.
  const idle = heavy.phases.find((p) => p.phase === 'idle')!;
  assert.ok(idle.maxPowerW! < idle.meanPowerW!);
  assert.equal(powerSourcesNote(heavy), `Mean power is the energy counter's (energy over time), max power the highest sampled power reading: two sensors, which can differ by a few percent (idle: max ${idle.maxPowerW!.toFixed(2)} W, mean ${idle.meanPowerW!.toFixed(2)} W).`);
  // The light load: idle (0x1) before it and nothing after; no span, no line.
  const light = h200('light');
  assert.ok(light.series.gpuClockReasons!.includes(0x1));
  assert.deepEqual(throttleSpans(light.series), []);
  assert.equal(telemetryLines(light).some((l) => l.startsWith('GPU throttled')), false);
  assert.equal(powerSourcesNote({ ...light, energySource: 'integrated-power' }), null);
});

test('a change of reasons starts a new span; the reasons that are not throttling are ignored', () => {
  const series = { tMs: [0, 100, 200, 300, 400, 500, 600], gpuClockReasons: [0x1, 0x4, 0x4 | 0x1, 0x4 | 0x20, 0x0, 0x8, 0x8] };
  assert.deepEqual(throttleSpans(series), [
    { startMs: 100, endMs: 200, reasons: ['software power cap'] },
    { startMs: 300, endMs: 300, reasons: ['software power cap', 'software thermal slowdown'] },
    { startMs: 500, endMs: 600, reasons: ['hardware slowdown'] },
  ]);
  assert.equal(throttleText(throttleSpans(series), [{ startMs: 0, endMs: 600 }]), 'GPU throttled (NVML) 0.2 s of the 0.6 s measured, in 3 spans: software power cap, software thermal slowdown, hardware slowdown');
  // Spans outside the measured phases do not count.
  assert.equal(throttleText(throttleSpans(series), [{ startMs: 420, endMs: 480 }]), null);
});

test('a long run\'s telemetry is summarised in one pass, without spreading its samples into a call (RangeError past ~120k)', () => {
  const n = 400_000; // 100 Hz for 66 minutes
  const long: TelemetryReading[] = Array.from({ length: n }, (_, i) => ({ tMs: i * 10, totalPowerMw: 5000 + (i % 100), cpuMinKHz: 1_500_000, cpuMaxKHz: 1_500_000, tempC: { 'cpu-thermal': 40 + (i % 7) } }));
  const tel = buildTelemetry(long, [{ phase: 'measure', atMs: 0 }], n * 10, 1000, { sources: ['ina3221-hwmon'], requestedHz: 100, totalPowerRule: 'VDD_IN', passiveTripC: { 'cpu-thermal': 99 } });
  assert.equal(tel.phases[0]!.maxPowerW, 5.099);
  assert.deepEqual(tel.phases[0]!.cpuKHz, { min: 1_500_000, max: 1_500_000 });
  // The mean of a sawtooth 5000..5099 mW, integrated in one pass (quadratic before: 204 s here).
  assert.ok(Math.abs(tel.phases[0]!.meanPowerW! - 5.0495) < 0.001, String(tel.phases[0]!.meanPowerW));
  assert.equal(tel.phases[0]!.maxTempC, 46);
  assert.deepEqual(telemetryFindings(tel).map((f) => f.code), []);
  assert.deepEqual(extent(new Float64Array(n).map((_, i) => (i === 1234 ? -3 : i))), { min: -3, max: n - 1 });
});
