/**
 * The rules of the validity verdict that need only what every run file has (its samples, stats,
 * spec, device and device state). Each rule is a pure function returning a Finding or null;
 * thresholds live here, with where they come from. Rules that need more (contention sampled on
 * the device, telemetry) add their own Findings to the same `verdictOf`.
 */
import type { DeviceState, RunFile, Stats } from './protocol';
import { computeStats } from './stats';
import { verdictOf, type Finding, type Validity } from './validity';

export const THRESHOLDS = {
  /** Coefficient of variation (%) above which a run's spread is a caution. trtexec warns at 1%
   * (TensorRT <= 10.13.0) and 2.5% (from 10.13.2) for GPU compute time measured with CUDA events;
   * host-timed CPU inference on a general-purpose OS is noisier, so ours is 10% there. */
  covCautionPercent: { tensorrt: 2.5, default: 10 },
  /** A spread this many times the caution threshold makes the run unreliable. */
  covUnreliableFactor: 3,
  /** P99 / median above this: a heavy tail (a stall every hundred iterations or more). */
  tailRatio: 2,
  /** First vs last quarter medians differing by more than this fraction, beyond both intervals: drift. */
  driftFraction: 0.1,
  /** Fewest measured samples for the drift rule (each quarter needs a median interval). */
  driftMinSamples: 40,
  /** 95% interval of the median wider than this fraction of it: too few samples to pin the median. */
  ciWidthFraction: 0.1,
} as const;

type RunInput = Pick<RunFile, 'spec' | 'device' | 'samples'> & { stats: Stats; deviceState?: DeviceState };

const pct = (v: number) => Math.round(v * 10) / 10;

export function dispersionFinding(run: RunInput): Finding | null {
  const limit = run.spec.backend === 'tensorrt' ? THRESHOLDS.covCautionPercent.tensorrt : THRESHOLDS.covCautionPercent.default;
  const cov = run.stats.covPercent;
  if (!(cov > limit)) return null;
  const severe = cov > limit * THRESHOLDS.covUnreliableFactor;
  return {
    code: 'high-dispersion',
    severity: severe ? 'unreliable' : 'caution',
    summary: `latency varies a lot: coefficient of variation ${pct(cov)}% (threshold ${limit}%)`,
    evidence: { covPercent: pct(cov), thresholdPercent: limit, unreliableAbovePercent: limit * THRESHOLDS.covUnreliableFactor },
    why: 'a wide spread usually means something else used the CPU or GPU, or clocks moved, during the run: the median may not be what the model costs on a quiet device',
    fix: 'close other work on the device (other benchmarks, a build, the browser), lock clocks (sudo jetson_clocks on a Jetson), and run again',
  };
}

export function tailFinding(run: RunInput): Finding | null {
  const ratio = run.stats.p99Ms / run.stats.medianMs;
  if (!(ratio > THRESHOLDS.tailRatio)) return null;
  return {
    code: 'heavy-tail',
    severity: 'caution',
    summary: `P99 is ${ratio.toFixed(1)}x the median (threshold ${THRESHOLDS.tailRatio}x)`,
    evidence: { p99Ms: run.stats.p99Ms, medianMs: run.stats.medianMs, ratio: Math.round(ratio * 100) / 100 },
    why: 'one iteration in a hundred or more stalls: a real-time budget set from the median would be missed',
    fix: 'look at the latency-over-iterations chart for periodic stalls (other processes, thermal or power throttling, garbage collection); quote P99 beside the median',
  };
}

export function driftFinding(run: RunInput): Finding | null {
  const s = run.samples.latencyMs;
  if (s.length < THRESHOLDS.driftMinSamples) return null;
  const q = Math.floor(s.length / 4);
  const a = computeStats(s.slice(0, q))!;
  const b = computeStats(s.slice(s.length - q))!;
  const [aLo, aHi] = a.medianCi95Ms;
  const [bLo, bHi] = b.medianCi95Ms;
  const change = b.medianMs / a.medianMs - 1;
  if (!(Math.abs(change) > THRESHOLDS.driftFraction) || !(bLo > aHi || bHi < aLo)) return null;
  return {
    code: 'drift',
    severity: 'caution',
    summary: `latency ${change > 0 ? 'rose' : 'fell'} ${pct(Math.abs(change) * 100)}% from the first to the last quarter of the measurement`,
    evidence: { firstQuarterMedianMs: a.medianMs, lastQuarterMedianMs: b.medianMs, changePercent: pct(change * 100), thresholdPercent: THRESHOLDS.driftFraction * 100 },
    why: change > 0
      ? 'a device that slows while measuring is heating up, being throttled or sharing its cores: the run mixes two states'
      : 'a device that speeds up while measuring was not warmed up: the first part measured caches, clocks or lazy initialisation',
    fix: change > 0 ? 'cool the device or lock clocks, stop other work, and run again' : 'raise the warm-up (--warmup N or --warmup-ms MS) and run again',
  };
}

export function ciWidthFinding(run: RunInput): Finding | null {
  const [lo, hi] = run.stats.medianCi95Ms;
  const width = (hi - lo) / run.stats.medianMs;
  if (!(width > THRESHOLDS.ciWidthFraction)) return null;
  return {
    code: 'wide-median-ci',
    severity: 'caution',
    summary: `the 95% interval of the median spans ${pct(width * 100)}% of it with ${run.stats.count} samples (threshold ${THRESHOLDS.ciWidthFraction * 100}%)`,
    evidence: { ciLoMs: lo, ciHiMs: hi, widthPercent: pct(width * 100), count: run.stats.count },
    why: 'the median is not pinned down: two runs of the same model could differ by this much by chance',
    fix: `measure more iterations (--iterations ${Math.max(100, run.stats.count * 4)}) or longer (--duration-s S)`,
  };
}

export function threadsFinding(run: RunInput): Finding | null {
  const threads = run.spec.threads;
  if (threads === null || !(threads > run.device.cpuCount)) return null;
  return {
    code: 'threads-above-cores',
    severity: 'caution',
    summary: `${threads} threads on a device with ${run.device.cpuCount} CPUs`,
    evidence: { threads, cpuCount: run.device.cpuCount },
    why: 'more threads than cores time-share the cores: latency then measures the scheduler as much as the model',
    fix: `use --threads ${run.device.cpuCount} or fewer`,
  };
}

export function governorFinding(run: RunInput): Finding | null {
  const cpus = run.deviceState?.cpus ?? [];
  const others = [...new Set(cpus.map((c) => c.governor).filter((g): g is string => g !== null && g !== 'performance'))];
  if (others.length === 0) return null;
  return {
    code: 'governor-not-performance',
    severity: 'caution',
    summary: `CPU frequency governor ${others.join(', ')}, not performance`,
    evidence: { governors: others.join(','), cpus: cpus.length },
    why: 'an on-demand governor changes clocks with load, so latency depends on what ran just before',
    fix: 'sudo jetson_clocks on a Jetson; elsewhere sudo cpupower frequency-set -g performance (or write performance to /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)',
  };
}

const RULES = [dispersionFinding, tailFinding, driftFinding, ciWidthFinding, threadsFinding, governorFinding];

/** The verdict of a measured run from what its run file holds, plus findings other sources made. */
export function runValidity(run: RunInput, extra: readonly Finding[] = []): Validity {
  const findings = RULES.map((rule) => rule(run)).filter((f): f is Finding => f !== null);
  const notChecked = ['contention from other processes (not sampled yet)', 'clocks, power and throttling (no telemetry yet)'];
  if ((run.deviceState?.cpus ?? []).length === 0) notChecked.push('CPU governor (no cpufreq on this device)');
  return verdictOf([...findings, ...extra], notChecked);
}
