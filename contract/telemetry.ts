// Telemetry of a run from its background samples (issue 14): the series, per-phase energy, power,
// clocks and temperatures, energy per inference, and the verdict's telemetry findings. Pure: the
// agent samples (device-agent/src/telemetry/), this summarises; tests feed it crafted readings.
import type { OverCurrentCount, PhaseMark, Telemetry, TelemetryLiveMeta, TelemetryNow, TelemetryPhase, TelemetryReading, TelemetrySeries } from './protocol';
import { formatMj } from './format';
import type { Finding } from './validity';

export interface TelemetryMeta extends TelemetryLiveMeta {
  overCurrent?: OverCurrentCount[];
  /** When each measured sample began, on the readings' clock (performance.now of the agent). */
  sampleStartsMs?: readonly number[];
}

/** NVML clock event reasons that lower clocks under load (nvml.h; 0x1 idle, 0x2 application
 * clocks, 0x10 sync boost and 0x100 display clocks are not throttling). */
export const GPU_THROTTLE_REASONS: Readonly<Record<number, string>> = {
  0x4: 'software power cap',
  0x8: 'hardware slowdown',
  0x20: 'software thermal slowdown',
  0x40: 'hardware thermal slowdown',
  0x80: 'hardware power brake',
};
const HARD_THROTTLE = 0x8 | 0x40 | 0x80;

/** Limits of the telemetry findings. */
export const TELEMETRY_THRESHOLDS = {
  /** Clocks moving by more than this (max / min - 1) during measurement: the samples ran at different speeds. */
  clockSpreadFraction: 0.1,
  /** Within this many °C of a zone's passive trip point: the kernel throttles there. */
  nearTripC: 5,
};

/** `v` to `digits` decimals, halves away from zero (as toFixed, without its string: the series
 * rounds every reading's time). */
function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  const r = Math.round(Math.abs(v) * f) / f;
  return v < 0 ? -r : r;
}

/** Energy (J) between two times from power samples: the integral of the straight lines between
 * consecutive samples, interpolated at the window's edges and held flat beyond the first and last
 * sample, so a phase shorter than the sampling period still gets its share (null without samples).
 * One pass over the samples (an hour at 100 Hz is 360k of them). */
function energyJ(t: readonly number[], mw: readonly number[], start: number, end: number): number | null {
  const n = t.length;
  if (n === 0 || end <= start) return null;
  let mJ = 0;
  // Held flat before the first sample and after the last.
  if (start < t[0]!) mJ += mw[0]! * (Math.min(end, t[0]!) - start);
  if (end > t[n - 1]!) mJ += mw[n - 1]! * (end - Math.max(start, t[n - 1]!));
  for (let i = 0; i + 1 < n; i++) {
    const t0 = t[i]!;
    const t1 = t[i + 1]!;
    const a = Math.max(start, t0);
    const b = Math.min(end, t1);
    if (b <= a) continue;
    const slope = (mw[i + 1]! - mw[i]!) / (t1 - t0);
    mJ += ((mw[i]! + slope * (a - t0) + mw[i]! + slope * (b - t0)) / 2) * (b - a);
  }
  // mW x ms = µJ.
  return mJ / 1e6;
}

/** The smallest and largest of `values` (null when empty), by a loop: Math.min(...values) throws
 * RangeError past ~120k values (a call's arguments live on the stack), and an hour at 100 Hz is
 * 360k samples. */
export function extent(values: ArrayLike<number>): { min: number; max: number } | null {
  if (values.length === 0) return null;
  let min = values[0]!;
  let max = values[0]!;
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

function series(readings: readonly TelemetryReading[], t0: number): TelemetrySeries {
  const n = readings.length;
  const s: TelemetrySeries = { tMs: readings.map((r) => round(r.tMs - t0, 1)) };
  // Loops, not every/map/flatMap chains: the live panel summarises a long run's readings twice a
  // second (an hour at 100 Hz is 360k of them).
  const scalar = (key: 'totalPowerMw' | 'cpuMinKHz' | 'cpuMaxKHz' | 'gpuHz' | 'gpuLoadPercent' | 'energyMj' | 'gpuClockReasons') => {
    // A series only where every reading has the value: a sensor that fails mid-run is dropped
    // rather than padded with zeros that would read as real.
    if (n === 0) return;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const v = readings[i]![key];
      if (v === undefined) return;
      out[i] = v;
    }
    s[key] = out;
  };
  scalar('totalPowerMw');
  scalar('cpuMinKHz');
  scalar('cpuMaxKHz');
  scalar('gpuHz');
  scalar('gpuLoadPercent');
  scalar('energyMj');
  scalar('gpuClockReasons');
  if (s.energyMj) {
    const e0 = s.energyMj[0]!;
    for (let i = 0; i < n; i++) s.energyMj[i] = s.energyMj[i]! - e0;
  }
  const keyed = (key: 'railsMw' | 'tempC' | 'overCurrentEvents') => {
    // A name every reading has is in the first one: only its names can make a series.
    const first = readings[0]?.[key];
    if (!first) return;
    const out: Record<string, number[]> = {};
    for (const name of Object.keys(first).sort()) {
      const values = new Array<number>(n);
      let i = 0;
      for (; i < n; i++) {
        const v = readings[i]![key]?.[name];
        if (v === undefined) break;
        values[i] = v;
      }
      if (i === n) out[name] = values;
    }
    if (Object.keys(out).length > 0) s[key] = out;
  };
  keyed('railsMw');
  keyed('tempC');
  keyed('overCurrentEvents');
  return s;
}

/** The first index whose time is >= `x` in ascending `t`. */
function lowerBound(t: readonly number[], x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A phase's figures from the readings taken in [start, end] (both ends included), in one loop
 * from the first of them (readings in time order, as the power integral takes them too). */
function phaseFigures(readings: readonly TelemetryReading[], t: readonly number[], start: number, end: number): Pick<TelemetryPhase, 'samples' | 'maxPowerW' | 'cpuKHz' | 'gpuHz' | 'maxTempC' | 'hottestZone'> {
  let samples = 0;
  let maxMw = -Infinity;
  let cpuMin = Infinity;
  let cpuMax = -Infinity;
  let gpuMin = Infinity;
  let gpuMax = -Infinity;
  let hottestC = -Infinity;
  let hottestZone: string | null = null;
  for (let i = lowerBound(t, start); i < readings.length && t[i]! <= end; i++) {
    const r = readings[i]!;
    samples++;
    if (r.totalPowerMw !== undefined && r.totalPowerMw > maxMw) maxMw = r.totalPowerMw;
    if (r.cpuMinKHz !== undefined) {
      cpuMin = Math.min(cpuMin, r.cpuMinKHz);
      cpuMax = Math.max(cpuMax, r.cpuMinKHz);
    }
    if (r.cpuMaxKHz !== undefined) {
      cpuMin = Math.min(cpuMin, r.cpuMaxKHz);
      cpuMax = Math.max(cpuMax, r.cpuMaxKHz);
    }
    if (r.gpuHz !== undefined) {
      if (r.gpuHz < gpuMin) gpuMin = r.gpuHz;
      if (r.gpuHz > gpuMax) gpuMax = r.gpuHz;
    }
    // The first zone to reach the highest temperature.
    const temps = r.tempC;
    if (temps) {
      for (const zone in temps) {
        const c = temps[zone]!;
        if (hottestZone === null || c > hottestC) {
          hottestC = c;
          hottestZone = zone;
        }
      }
    }
  }
  return {
    samples,
    maxPowerW: maxMw > -Infinity ? round(maxMw / 1000, 3) : null,
    cpuKHz: cpuMin <= cpuMax ? { min: cpuMin, max: cpuMax } : null,
    gpuHz: gpuMin <= gpuMax ? { min: gpuMin, max: gpuMax } : null,
    maxTempC: hottestZone === null ? null : hottestC,
    hottestZone,
  };
}

/** The run's telemetry from its readings, phase marks (in order), the end of the run and the
 * number of measured inferences. */
export function buildTelemetry(readings: readonly TelemetryReading[], marks: readonly PhaseMark[], endMs: number, measured: number, meta: TelemetryMeta): Telemetry {
  const t0 = Math.min(readings[0]?.tMs ?? endMs, marks[0]?.atMs ?? endMs);
  const s = series(readings, t0);
  const t = readings.map((r) => r.tMs);
  const power = s.totalPowerMw;
  const counter = s.energyMj;
  // Each phase's energy unrounded: the totals below are computed from these, not from the
  // phases' rounded figures (whose rounding, divided by the inferences, read as -0.001 mJ above
  // idle on a flat power line).
  const exact = marks.map((m, i) => {
    const start = m.atMs;
    const end = marks[i + 1]?.atMs ?? endMs;
    return { phase: m.phase, start, end, e: counter ? counterJ(t, counter, start, end) : power ? energyJ(t, power, start, end) : null };
  });
  const phases: TelemetryPhase[] = exact.map(({ phase, start, end, e }) => {
    const f = phaseFigures(readings, t, start, end);
    return {
      phase,
      startMs: round(start - t0, 1),
      endMs: round(end - t0, 1),
      samples: f.samples,
      energyJ: e === null ? null : round(e, 4),
      meanPowerW: e === null ? null : round(e / ((end - start) / 1000), 3),
      // Max power only where the power series exists (every reading has it), as before.
      maxPowerW: power ? f.maxPowerW : null,
      cpuKHz: f.cpuKHz,
      gpuHz: f.gpuHz,
      maxTempC: f.maxTempC,
      hottestZone: f.hottestZone,
    };
  });
  // Mean power of a counter-measured phase comes from the counter; max power from the samples.
  const measures = exact.filter((p) => p.phase === 'measure');
  const measureEnergy = measures.every((p) => p.e !== null) && measures.length > 0 ? measures.reduce((a, p) => a + p.e!, 0) : null;
  const measureSeconds = measures.reduce((a, p) => a + (p.end - p.start) / 1000, 0);
  const idle = exact.find((p) => p.phase === 'idle' && p.e !== null);
  const idleW = idle ? idle.e! / ((idle.end - idle.start) / 1000) : null;
  const perInference = measureEnergy !== null && measured > 0 ? (1000 * measureEnergy) / measured : null;
  const aboveIdle = perInference !== null && idleW !== null ? (1000 * (measureEnergy! - idleW * measureSeconds)) / measured : null;
  const spanS = readings.length > 1 ? (readings[readings.length - 1]!.tMs - readings[0]!.tMs) / 1000 : 0;
  return {
    sources: meta.sources,
    requestedHz: meta.requestedHz,
    achievedHz: spanS > 0 ? round((readings.length - 1) / spanS, 2) : 0,
    totalPowerRule: meta.totalPowerRule,
    series: s,
    phases,
    energyPerInferenceMj: perInference === null ? null : round(perInference, 4),
    energyPerInferenceAboveIdleMj: aboveIdle === null ? null : round(aboveIdle, 4),
    ...(meta.overCurrent ? { overCurrent: meta.overCurrent } : {}),
    ...(meta.passiveTripC && Object.keys(meta.passiveTripC).length > 0 ? { passiveTripC: meta.passiveTripC } : {}),
    ...(meta.gpu ? { gpu: meta.gpu } : {}),
    ...(meta.unavailable?.length ? { unavailable: meta.unavailable } : {}),
    ...(meta.sampleStartsMs && meta.sampleStartsMs.length === measured && measured > 0 ? { sampleStartMs: meta.sampleStartsMs.map((x) => round(x - t0, 3)) } : {}),
    ...(counter ? { energySource: 'counter' as const } : power ? { energySource: 'integrated-power' as const } : {}),
  };
}

/** Energy (J) between two times from a cumulative counter (mJ) sampled at `t`, linearly
 * interpolated at the window's edges (null when the window is outside the samples). */
function counterJ(t: readonly number[], mj: readonly number[], start: number, end: number): number | null {
  const at = (x: number): number | null => {
    if (t.length === 0 || x < t[0]! - 1e-9 || x > t[t.length - 1]! + 1e-9) return null;
    let i = 0;
    while (i < t.length - 1 && t[i + 1]! < x) i++;
    if (i === t.length - 1) return mj[i]!;
    const span = t[i + 1]! - t[i]!;
    return span > 0 ? mj[i]! + ((mj[i + 1]! - mj[i]!) * (x - t[i]!)) / span : mj[i]!;
  };
  const a = at(start);
  const b = at(end);
  return a === null || b === null || end <= start ? null : (b - a) / 1000;
}

/** What the verdict could not check for want of a telemetry source. */
export function telemetryNotChecked(t: Telemetry | undefined): string[] {
  if (!t) return ['clocks, power and throttling (no telemetry source readable on this device: no cpufreq, thermal zones or power monitors)'];
  const missing: string[] = [];
  if (!t.series.totalPowerMw && !t.series.energyMj) missing.push('power and energy (no power monitor readable)');
  if (!t.series.cpuMaxKHz && !t.series.gpuHz) missing.push('clock changes (no cpufreq, GPU devfreq or NVML readable)');
  if (!t.series.tempC) missing.push('temperatures (no thermal zone readable)');
  if (!t.overCurrent && !t.series.gpuClockReasons) missing.push('throttling (no soctherm_oc counters, Orin only, and no NVML clock event reasons)');
  return [...missing, ...(t.unavailable ?? [])];
}

function spread(r: { min: number; max: number } | null): number {
  return r && r.min > 0 ? r.max / r.min - 1 : 0;
}

/** Findings from the run's telemetry: clocks that moved during measurement, over-current
 * throttling, temperatures at the kernel's passive trip point. */
export function telemetryFindings(t: Telemetry | undefined): Finding[] {
  if (!t) return [];
  const findings: Finding[] = [];
  const measures = t.phases.filter((p) => p.phase === 'measure');
  const joined = (key: 'cpuKHz' | 'gpuHz') => {
    const r = measures.map((p) => p[key]).filter((x): x is { min: number; max: number } => x !== null);
    return r.length ? { min: Math.min(...r.map((x) => x.min)), max: Math.max(...r.map((x) => x.max)) } : null;
  };
  const cpu = joined('cpuKHz');
  const gpu = joined('gpuHz');
  const limit = TELEMETRY_THRESHOLDS.clockSpreadFraction;
  if (spread(cpu) > limit || spread(gpu) > limit) {
    const parts: string[] = [];
    if (spread(cpu) > limit) parts.push(`CPU ${Math.round(cpu!.min / 1000)}-${Math.round(cpu!.max / 1000)} MHz`);
    if (spread(gpu) > limit) parts.push(`GPU ${Math.round(gpu!.min / 1e6)}-${Math.round(gpu!.max / 1e6)} MHz`);
    findings.push({
      code: 'clocks-changed',
      severity: 'caution',
      summary: `clocks moved during measurement: ${parts.join(', ')}`,
      evidence: { ...(cpu ? { cpuMinKHz: cpu.min, cpuMaxKHz: cpu.max } : {}), ...(gpu ? { gpuMinHz: gpu.min, gpuMaxHz: gpu.max } : {}) },
      why: 'frequency scaling changed the speed of the device while samples were taken, so they mix several speeds: the median depends on when the governor moved',
      fix: 'lock clocks: sudo jetson_clocks on a Jetson (or the performance governor: sudo cpufreq-set -g performance), and run again',
    });
  }
  const oc = (t.overCurrent ?? []).filter((c) => c.end > c.start);
  if (oc.length > 0) {
    findings.push({
      code: 'over-current-throttled',
      severity: 'unreliable',
      summary: `the SoC throttled for over-current or under-voltage during the run: ${oc.map((c) => `${c.counter} +${c.end - c.start}`).join(', ')}`,
      evidence: Object.fromEntries(oc.map((c) => [c.counter, c.end - c.start])),
      why: "Orin's soctherm over-current events cut clocks to stay within the supply's limits: the numbers are those of a throttled device",
      fix: 'use a stronger power supply and short, thick cables, or a lower power mode (sudo nvpmodel -m N) whose budget the supply holds',
    });
  }
  const reasons = t.series.gpuClockReasons;
  if (reasons) {
    let seen = 0;
    t.series.tMs.forEach((ms, i) => {
      if (measures.some((p) => ms >= p.startMs && ms <= p.endMs)) seen |= reasons[i]!;
    });
    const names = Object.entries(GPU_THROTTLE_REASONS).filter(([bit]) => (seen & Number(bit)) !== 0).map(([, name]) => name);
    if (names.length > 0) {
      const hard = (seen & HARD_THROTTLE) !== 0;
      findings.push({
        code: 'gpu-throttled',
        severity: hard ? 'unreliable' : 'caution',
        summary: `the GPU lowered its clocks while measuring: ${names.join(', ')}${gpu ? ` (SM clock ${Math.round(gpu.min / 1e6)}-${Math.round(gpu.max / 1e6)} MHz${t.gpu?.maxSmClockMhz ? ` of ${t.gpu.maxSmClockMhz}` : ''})` : ''}`,
        evidence: { reasonsBitmask: seen, ...(t.gpu?.powerLimitW != null ? { powerLimitW: t.gpu.powerLimitW } : {}) },
        why: hard
          ? 'a hardware slowdown (heat, power brake or over-power) cut the clocks by half or more: the samples are those of a throttled GPU'
          : 'the GPU hit its power (or thermal) limit and ran below its top clock: latency depends on how long the load lasted and how warm the GPU was',
        fix: 'lock the clocks below the throttling point (sudo nvidia-smi -lgc MIN,MAX) so every sample runs at one clock, improve cooling, or report the run as power-limited',
      });
    }
  }
  const trips = t.passiveTripC ?? {};
  const hot = Object.entries(t.series.tempC ?? {})
    .map(([zone, values]) => ({ zone, max: extent(values)?.max ?? -Infinity, trip: trips[zone] }))
    .filter((z) => z.trip !== undefined && z.max >= z.trip - TELEMETRY_THRESHOLDS.nearTripC);
  if (hot.length > 0) {
    findings.push({
      code: 'temperature-near-limit',
      severity: 'caution',
      summary: `temperature reached the throttling point: ${hot.map((z) => `${z.zone} ${z.max.toFixed(1)} °C (passive trip ${z.trip} °C)`).join(', ')}`,
      evidence: Object.fromEntries(hot.map((z) => [z.zone, z.max])),
      why: 'at its passive trip point the kernel lowers clocks to cool the chip: later samples run slower than earlier ones',
      fix: 'cool the device (fan on: sudo jetson_clocks --fan; airflow, a heatsink), let it cool between runs, and run again',
    });
  }
  return findings;
}

/** The run's telemetry in a few lines, for the CLI and the report: sources and rate, power and
 * energy per inference, clocks and the hottest zone while measuring. */
export function telemetryLines(t: Telemetry): string[] {
  const lines = [`Telemetry: ${t.sources.join(', ')} (${t.series.tMs.length} samples, ${t.achievedHz} Hz of ${t.requestedHz} asked)`];
  const measures = t.phases.filter((p) => p.phase === 'measure');
  const idle = t.phases.find((p) => p.phase === 'idle');
  const measuringW = measuringPowerW(t);
  if (measuringW !== null && t.energyPerInferenceMj !== null) {
    const maxW = Math.max(...measures.map((p) => p.maxPowerW ?? 0));
    const idleText = idle?.meanPowerW != null ? `; idle ${idle.meanPowerW.toFixed(2)} W` : '';
    const above = t.energyPerInferenceAboveIdleMj !== null ? ` (${formatMj(t.energyPerInferenceAboveIdleMj)} mJ above idle)` : '';
    const label = t.totalPowerRule ?? (t.gpu ? `GPU ${t.gpu.name}, NVML energy counter` : 'total');
    lines.push(`Power (${label}): measuring mean ${measuringW.toFixed(2)} W, max ${maxW.toFixed(2)} W${idleText}; energy per inference ${formatMj(t.energyPerInferenceMj)} mJ${above}`);
  }
  const parts: string[] = [];
  const cpu = measures.map((p) => p.cpuKHz).filter((x): x is { min: number; max: number } => x !== null);
  if (cpu.length) parts.push(`CPU ${Math.round(Math.min(...cpu.map((c) => c.min)) / 1000)}-${Math.round(Math.max(...cpu.map((c) => c.max)) / 1000)} MHz`);
  const gpu = measures.map((p) => p.gpuHz).filter((x): x is { min: number; max: number } => x !== null);
  if (gpu.length) parts.push(`GPU ${Math.round(Math.min(...gpu.map((c) => c.min)) / 1e6)}-${Math.round(Math.max(...gpu.map((c) => c.max)) / 1e6)} MHz`);
  const hottest = measures.filter((p) => p.maxTempC !== null).sort((a, b) => b.maxTempC! - a.maxTempC!)[0];
  if (hottest) parts.push(`hottest ${hottest.hottestZone} ${hottest.maxTempC!.toFixed(1)} °C`);
  if (parts.length) lines.push(`While measuring: ${parts.join(', ')}`);
  const throttled = throttleText(throttleSpans(t.series), measures);
  if (throttled) lines.push(throttled);
  const oc = overCurrentText(overCurrentRises(t.series), t.phases);
  if (oc) lines.push(oc);
  return lines;
}

/** Said where a phase's max power reads below its mean: with an energy counter (NVML) the mean
 * comes from the counter and the max from the sampled power readings, two sensors that can
 * disagree by a few percent (at idle on an H200: max 125.42 W, mean 128.10 W). Null otherwise. */
export function powerSourcesNote(t: Telemetry): string | null {
  if (t.energySource !== 'counter') return null;
  const odd = t.phases.filter((p) => p.maxPowerW !== null && p.meanPowerW !== null && p.maxPowerW < p.meanPowerW);
  if (odd.length === 0) return null;
  const shown = odd.map((p) => `${p.phase}: max ${p.maxPowerW!.toFixed(2)} W, mean ${p.meanPowerW!.toFixed(2)} W`).join('; ');
  return `Mean power is the energy counter's (energy over time), max power the highest sampled power reading: two sensors, which can differ by a few percent (${shown}).`;
}

/** A stretch of samples whose NVML clock event reasons held the same throttling bits. */
export interface ThrottleSpan {
  startMs: number;
  /** The last sample of the stretch. */
  endMs: number;
  reasons: string[];
}

/** Where the GPU was throttled (NVML's clock event reasons; idle and the other bits are not
 * throttling, GPU_THROTTLE_REASONS), one span per change of the reasons: the panel marks where
 * each begins. */
export function throttleSpans(series: TelemetrySeries): ThrottleSpan[] {
  const bits = series.gpuClockReasons;
  if (!bits) return [];
  const mask = Object.keys(GPU_THROTTLE_REASONS).reduce((m, b) => m | Number(b), 0);
  const spans: Array<{ bits: number; startMs: number; endMs: number }> = [];
  let open: { bits: number; startMs: number; endMs: number } | null = null;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]! & mask;
    const ms = series.tMs[i]!;
    if (open && open.bits === b) {
      open.endMs = ms;
      continue;
    }
    if (open) spans.push(open);
    open = b !== 0 ? { bits: b, startMs: ms, endMs: ms } : null;
  }
  if (open) spans.push(open);
  return spans.map(({ bits: b, startMs, endMs }) => ({ startMs, endMs, reasons: Object.entries(GPU_THROTTLE_REASONS).filter(([bit]) => (b & Number(bit)) !== 0).map(([, name]) => name) }));
}

/** Where an Orin over-current counter rose: the first reading after each rise, with every
 * counter that rose there and by how much (the panel marks them; the finding counts them). */
export interface OverCurrentRise {
  atMs: number;
  counters: Array<{ counter: string; by: number }>;
}

export function overCurrentRises(series: TelemetrySeries): OverCurrentRise[] {
  const counters = Object.entries(series.overCurrentEvents ?? {});
  const rises: OverCurrentRise[] = [];
  for (let i = 1; i < series.tMs.length; i++) {
    const rose = counters.filter(([, v]) => v[i]! > v[i - 1]!).map(([counter, v]) => ({ counter, by: v[i]! - v[i - 1]! }));
    if (rose.length > 0) rises.push({ atMs: series.tMs[i]!, counters: rose });
  }
  return rises;
}

/** Where the over-current counters rose, in which phase (the first six); null where none did. */
export function overCurrentText(rises: OverCurrentRise[], phases: readonly TelemetryPhase[]): string | null {
  if (rises.length === 0) return null;
  const phaseAt = (ms: number) => phases.find((p) => ms >= p.startMs && ms <= p.endMs)?.phase;
  const shown = rises.slice(0, 6).map((r) => {
    const phase = phaseAt(r.atMs);
    return `${r.counters.map((c) => `${c.counter} +${c.by}`).join(', ')} at ${(r.atMs / 1000).toFixed(2)} s${phase ? ` (${phase})` : ''}`;
  });
  return `Over-current events (Orin soctherm): ${shown.join('; ')}${rises.length > 6 ? `; ${rises.length - 6} more` : ''}`;
}

/** How long the GPU was throttled while measuring, and why; null when it was not. */
export function throttleText(spans: ThrottleSpan[], measures: Array<{ startMs: number; endMs: number }>): string | null {
  const within = (a: number, b: number) => measures.reduce((sum, p) => sum + Math.max(0, Math.min(b, p.endMs) - Math.max(a, p.startMs)), 0);
  const inMeasure = spans.filter((s) => within(s.startMs, s.endMs) > 0 || measures.some((p) => s.startMs >= p.startMs && s.startMs <= p.endMs));
  if (inMeasure.length === 0) return null;
  const throttledMs = inMeasure.reduce((sum, s) => sum + within(s.startMs, s.endMs), 0);
  const measuredMs = measures.reduce((sum, p) => sum + (p.endMs - p.startMs), 0);
  const reasons = [...new Set(inMeasure.flatMap((s) => s.reasons))];
  return `GPU throttled (NVML) ${(throttledMs / 1000).toFixed(1)} s of the ${(measuredMs / 1000).toFixed(1)} s measured, in ${inMeasure.length} span${inMeasure.length === 1 ? '' : 's'}: ${reasons.join(', ')}`;
}

/** Mean power over the measured phases (W): their energy over their time; null without power. */
export function measuringPowerW(t: Telemetry | undefined): number | null {
  const measures = (t?.phases ?? []).filter((p) => p.phase === 'measure');
  if (measures.length === 0 || measures.some((p) => p.energyJ === null)) return null;
  const seconds = measures.reduce((a, p) => a + (p.endMs - p.startMs) / 1000, 0);
  return seconds > 0 ? measures.reduce((a, p) => a + p.energyJ!, 0) / seconds : null;
}

/** A device's sensors now in one short line (the Devices view): power, hottest zone, GPU, CPU;
 * null when nothing could be read. */
export function telemetryNowText(n: TelemetryNow): string | null {
  const parts: string[] = [];
  if (n.totalPowerW !== null) parts.push(`${n.totalPowerW.toFixed(1)} W`);
  if (n.hottest) parts.push(`${n.hottest.zone} ${n.hottest.celsius.toFixed(0)} °C`);
  if (n.gpuMHz !== null) parts.push(`GPU ${Math.round(n.gpuMHz)} MHz${n.gpuLoadPercent !== null ? ` ${Math.round(n.gpuLoadPercent)}%` : ''}`);
  if (n.cpuMaxMHz !== null) parts.push(`CPU ${Math.round(n.cpuMaxMHz)} MHz`);
  return parts.length ? parts.join(' · ') : null;
}

/** TelemetryNow from one reading. */
export function telemetryNowOf(r: TelemetryReading, sources: string[], totalPowerRule: string | null, readAt: Date): TelemetryNow {
  const temps = Object.entries(r.tempC ?? {});
  const hot = temps.reduce<[string, number] | null>((best, [z, c]) => (best === null || c > best[1] ? [z, c] : best), null);
  return {
    readAt: readAt.toISOString(),
    sources,
    totalPowerW: r.totalPowerMw === undefined ? null : r.totalPowerMw / 1000,
    totalPowerRule: r.totalPowerMw === undefined ? null : totalPowerRule,
    hottest: hot ? { zone: hot[0], celsius: hot[1] } : null,
    cpuMaxMHz: r.cpuMaxKHz === undefined ? null : r.cpuMaxKHz / 1000,
    gpuMHz: r.gpuHz === undefined ? null : r.gpuHz / 1e6,
    gpuLoadPercent: r.gpuLoadPercent ?? null,
  };
}

/** A running benchmark's telemetry so far, from its live batches (TelemetryLiveBatch) gathered
 * in order, summarised as the run file's will be: the last reading stands for the end and
 * `measured` is the measured samples received. Null before the first reading. The run file's
 * telemetry replaces it when the run ends (its readings complete with NVML's nearest samples). */
export function liveTelemetry(readings: ReadonlyArray<TelemetryReading | null | undefined>, marks: readonly PhaseMark[], meta: TelemetryLiveMeta, measured: number): Telemetry | null {
  // A lost batch leaves holes (null once posted as JSON): they are not readings.
  const held = readings.filter((r): r is TelemetryReading => r != null);
  const last = held[held.length - 1];
  if (!last) return null;
  return buildTelemetry(held, marks.filter((m) => m.atMs <= last.tMs), last.tMs, measured, meta);
}
