/**
 * The rules of the validity verdict that need only what every run file has (its samples, stats,
 * spec, device and device state). Each rule is a pure function returning a Finding or null;
 * thresholds live here, with where they come from. Contention needs two /proc snapshots taken on
 * the device (device-agent/src/contention.ts) and is judged here too (contentionFindings); rules
 * that need telemetry will add their own Findings to the same `verdictOf`.
 */
import type { DeviceState, RunFile, Stats, Telemetry } from './protocol';
import { telemetryFindings, telemetryNotChecked } from './telemetry';
import { computeStats, percentileSorted } from './stats';
import { formatMs } from './format';
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
  /** Share of all CPU time stolen by the hypervisor during measurement (/proc/stat steal) above
   * which the VM's CPUs were not the run's own. */
  stealFraction: 0.02,
  /** Average CPUs used by processes other than the agent and its children during measurement:
   * above the first a caution, above the second the run is unreliable. */
  busyCores: { caution: 0.25, unreliable: 1 },
  /** 1-minute load average above this many times the CPU count at the end of the run. */
  loadPerCore: 1,
  /** Tukey's "far out" fence: samples above Q3 + 3 IQR are outliers; more than this share of them
   * is a caution (a normal-ish series has about 0.0002% beyond it). */
  outlierIqrFactor: 3,
  outlierShare: 0.01,
  /** The last warm-up iterations (up to this many, at least 5) still this much slower than the
   * measured median: the warm-up ended before the device settled. */
  warmupTailCount: 10,
  warmupTailFraction: 0.2,
} as const;

/** CPU times of the machine and its processes at one moment (device-agent/src/contention.ts). */
export interface ProcSnapshot {
  /** Monotonic ms. */
  atMs: number;
  totalTicks: number;
  stealTicks: number;
  loadAverage1: number | null;
  processes: Array<{ pid: number; ppid: number; name: string; ticks: number }>;
  ticksPerSecond: number;
}

/** The codes contentionFindings can give. */
export const CONTENTION_CODES: ReadonlySet<string> = new Set(['cpu-steal', 'busy-processes', 'load-above-cores']);

/** Contention over a measured span from two snapshots: steal, other busy processes (naming the
 * busiest), load above the cores. The agent (selfPid) and its descendants (a TVM helper) are ours. */
export function contentionFindings(before: ProcSnapshot, after: ProcSnapshot, o: { cpuCount: number; selfPid: number }): Finding[] {
  const findings: Finding[] = [];
  const seconds = (after.atMs - before.atMs) / 1000;
  const total = after.totalTicks - before.totalTicks;
  const steal = after.stealTicks - before.stealTicks;
  if (total > 0 && steal / total > THRESHOLDS.stealFraction) {
    findings.push({
      code: 'cpu-steal',
      severity: 'caution',
      summary: `the hypervisor took ${pct((100 * steal) / total)}% of the CPU time during warm-up and measurement (threshold ${THRESHOLDS.stealFraction * 100}%)`,
      evidence: { stealPercent: pct((100 * steal) / total), thresholdPercent: THRESHOLDS.stealFraction * 100 },
      why: 'on a virtual machine whose CPUs are shared with other guests, latency includes waiting for the host',
      fix: 'measure on dedicated cores or bare metal, or at a quieter time on the host',
    });
  }
  if (seconds > 0) {
    const ours = new Set([o.selfPid]);
    // Descendants of the agent: repeat until no new child is found (process lists are not ordered by parent).
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of after.processes) {
        if (ours.has(p.pid) || !ours.has(p.ppid)) continue;
        ours.add(p.pid);
        grew = true;
      }
    }
    // Its ancestors too: the jetbench client that started it (the CLI, the extension host) relays
    // the samples; what it costs is part of measuring, and is not another workload.
    const parent = new Map(after.processes.map((p) => [p.pid, p.ppid]));
    for (let pid = parent.get(o.selfPid); pid !== undefined && pid > 1 && !ours.has(pid); pid = parent.get(pid)) ours.add(pid);
    const was = new Map(before.processes.map((p) => [p.pid, p.ticks]));
    // A process started during the run spent all its time in it; one whose time went down is a
    // reused pid, a new process too.
    const spent = (p: ProcSnapshot['processes'][number]) => {
      const t0 = was.get(p.pid);
      return t0 === undefined || p.ticks < t0 ? p.ticks : p.ticks - t0;
    };
    const busy = after.processes
      .filter((p) => !ours.has(p.pid))
      .map((p) => ({ pid: p.pid, name: p.name, cores: Math.min(spent(p) / after.ticksPerSecond / seconds, o.cpuCount) }))
      .filter((p) => p.cores > 0.02)
      .sort((a, b) => b.cores - a.cores);
    const cores = busy.reduce((a, p) => a + p.cores, 0);
    if (cores > THRESHOLDS.busyCores.caution) {
      const top = busy.slice(0, 3).map((p) => `${p.name} (pid ${p.pid}, ${p.cores.toFixed(2)} CPUs)`);
      findings.push({
        code: 'busy-processes',
        severity: cores > THRESHOLDS.busyCores.unreliable ? 'unreliable' : 'caution',
        summary: `other processes used ${cores.toFixed(2)} of ${o.cpuCount} CPUs during warm-up and measurement: ${top.join(', ')}`,
        evidence: { otherCpus: Math.round(cores * 100) / 100, cpuCount: o.cpuCount, top: top.join('; '), cautionAbove: THRESHOLDS.busyCores.caution, unreliableAbove: THRESHOLDS.busyCores.unreliable },
        why: 'the model shared the CPUs (and caches, memory bandwidth) with other work: its latency includes theirs',
        fix: 'stop the processes named (a build, another benchmark, a browser or VS Code window on the device) and run again',
      });
    }
  }
  if (after.loadAverage1 !== null && after.loadAverage1 > THRESHOLDS.loadPerCore * o.cpuCount) {
    findings.push({
      code: 'load-above-cores',
      severity: 'caution',
      summary: `load average ${after.loadAverage1} on ${o.cpuCount} CPUs at the end of the run`,
      evidence: { loadAverage1: after.loadAverage1, cpuCount: o.cpuCount },
      why: 'more runnable work than CPUs: the run waited for the scheduler',
      fix: 'stop other work on the device and run again',
    });
  }
  return findings;
}

type RunInput = Pick<RunFile, 'spec' | 'device' | 'samples'> & { stats: Stats; deviceState?: DeviceState; telemetry?: Telemetry };

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

export function outliersFinding(run: RunInput): Finding | null {
  const sorted = [...run.samples.latencyMs].sort((a, b) => a - b);
  if (sorted.length < 20) return null;
  const q1 = percentileSorted(sorted, 25);
  const q3 = percentileSorted(sorted, 75);
  const fence = q3 + THRESHOLDS.outlierIqrFactor * (q3 - q1);
  const far = sorted.filter((v) => v > fence);
  const share = far.length / sorted.length;
  if (!(share > THRESHOLDS.outlierShare)) return null;
  return {
    code: 'outliers',
    severity: 'caution',
    summary: `${far.length} of ${sorted.length} samples (${pct(share * 100)}%) are far above the rest (beyond ${formatMs(fence)} ms = Q3 + ${THRESHOLDS.outlierIqrFactor} IQR); the slowest took ${formatMs(sorted[sorted.length - 1]!)} ms`,
    evidence: { outliers: far.length, count: sorted.length, sharePercent: pct(share * 100), fenceMs: Math.round(fence * 1000) / 1000, maxMs: sorted[sorted.length - 1]!, thresholdPercent: THRESHOLDS.outlierShare * 100 },
    why: 'isolated iterations many times slower than the rest are interruptions (another process, a page fault storm, a clock change), not the model: they move the mean and the tail percentiles',
    fix: 'find them in the latency-over-iterations chart; stop other work or lock clocks and run again; quote the median, not the mean',
  };
}

export function warmupFinding(run: RunInput): Finding | null {
  const w = run.samples.warmupLatencyMs;
  const k = Math.min(THRESHOLDS.warmupTailCount, w.length);
  if (k < 5) return null;
  const tail = computeStats(w.slice(w.length - k))!.medianMs;
  const excess = tail / run.stats.medianMs - 1;
  if (!(excess > THRESHOLDS.warmupTailFraction)) return null;
  return {
    code: 'warmup-not-converged',
    severity: 'caution',
    summary: `the last ${k} warm-up iterations took ${pct(excess * 100)}% longer than the measured median (median ${formatMs(tail)} vs ${formatMs(run.stats.medianMs)} ms)`,
    evidence: { lastWarmupMedianMs: tail, lastWarmupCount: k, medianMs: run.stats.medianMs, excessPercent: pct(excess * 100), thresholdPercent: THRESHOLDS.warmupTailFraction * 100 },
    why: 'the device was still getting faster when measurement began (caches, clocks, lazy initialisation, JIT): the first measured iterations may belong to the warm-up',
    fix: `raise the warm-up (--warmup ${Math.max(50, w.length * 3)} or --warmup-ms 2000) and run again`,
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

/** Clocks pinned the way jetson_clocks pins them (jtop's rule): every CPU with cpufreq has
 * min == max, and the Jetson GPU's devfreq min == max. EMC is root-only: not judged. */
export function clocksLocked(state: DeviceState | undefined): { cpu: boolean; gpu: boolean | null } {
  const cpus = state?.cpus ?? [];
  const cpu = cpus.length > 0 && cpus.every((c) => c.minKHz !== null && c.minKHz === c.maxKHz);
  const g = state?.gpuClock;
  return { cpu, gpu: g ? g.minHz !== null && g.minHz === g.maxHz : null };
}

const isJetson = (state: DeviceState | undefined) => !!(state?.gpuClock || state?.powerMode);

/** On a Jetson: clocks not pinned by jetson_clocks (the governor alone says little there:
 * jetson_clocks pins min = max and leaves the governor as it was). */
export function clocksNotLockedFinding(run: RunInput): Finding | null {
  if (!isJetson(run.deviceState)) return null;
  const locked = clocksLocked(run.deviceState);
  const loose = [locked.cpu ? null : 'CPU', locked.gpu === false ? 'GPU' : null].filter((x): x is string => x !== null);
  if (loose.length === 0) return null;
  return {
    code: 'clocks-not-locked',
    severity: 'caution',
    summary: `${loose.join(' and ')} clocks are not locked (min below max): DVFS may move them during the run`,
    evidence: { cpuLocked: locked.cpu, ...(locked.gpu !== null ? { gpuLocked: locked.gpu } : {}) },
    why: 'with clocks free to scale, latency depends on what the governor chose in each moment: runs differ by more than the model does',
    fix: 'sudo jetson_clocks (pins CPU, GPU and EMC at the current power mode\'s maximum; sudo jetson_clocks --restore undoes it), then run again',
  };
}

/** On a Jetson: a power mode that is not the board's maximum (MAXN) caps clocks and power. */
export function powerModeFinding(run: RunInput): Finding | null {
  const mode = run.deviceState?.powerMode;
  if (!mode?.name || /MAXN/i.test(mode.name)) return null;
  return {
    code: 'power-mode-not-max',
    severity: 'caution',
    summary: `power mode ${mode.name}${mode.id !== null ? ` (nvpmodel ${mode.id})` : ''}, not MAXN: the numbers are those of a power-capped board`,
    evidence: { powerMode: mode.name, ...(mode.id !== null ? { id: mode.id } : {}) },
    why: 'a lower nvpmodel mode caps CPU, GPU and memory clocks (and may turn cores off); published figures are usually at MAXN, so a comparison with them would mislead',
    fix: 'if the maximum is what you mean to measure: sudo nvpmodel -m <the MAXN id> (sudo nvpmodel -p --verbose lists the modes; ids are not ordered by speed), then sudo jetson_clocks; else state the mode with the figures',
  };
}

export function governorFinding(run: RunInput): Finding | null {
  // On a Jetson clocks-not-locked says it better; clocks pinned min = max make the governor moot.
  if (isJetson(run.deviceState) || clocksLocked(run.deviceState).cpu) return null;
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

const RULES = [dispersionFinding, tailFinding, outliersFinding, driftFinding, warmupFinding, ciWidthFinding, threadsFinding, governorFinding, clocksNotLockedFinding, powerModeFinding];

/** The verdict of a measured run from what its run file holds, plus the contention findings the
 * agent sampled (null: not sampled, e.g. not Linux) and findings other sources made. */
export function runValidity(run: RunInput, contention: readonly Finding[] | null = null, extra: readonly Finding[] = []): Validity {
  const findings = RULES.map((rule) => rule(run)).filter((f): f is Finding => f !== null);
  if (contention) findings.push(...contention);
  findings.push(...telemetryFindings(run.telemetry));
  const notChecked = telemetryNotChecked(run.telemetry);
  if (!contention) notChecked.unshift('contention from other processes (not sampled on this device)');
  if ((run.deviceState?.cpus ?? []).length === 0) notChecked.push('CPU governor (no cpufreq on this device)');
  return verdictOf([...findings, ...extra], notChecked);
}
