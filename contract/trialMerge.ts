// Interleaved comparisons (issue 13): `jetbench bench --vs ...` measures each configuration's
// trials as one-trial runs in the order A B A B ..., so drift of the machine hits every
// configuration alike, then joins each configuration's parts into one run of K trials. Pure: the
// CLI measures, this joins; the unit tests feed it crafted runs.
import type { RunFile, Telemetry, TelemetryPhase, TelemetrySeries } from './protocol';
import { computeStats, trialSummaries } from './stats';
import { CONTENTION_CODES, runValidity } from './validityRules';
import { VERDICT_RANK, type Finding } from './validity';


const wall = (iso: string) => Date.parse(iso);

/** The spec without what may differ between the parts of one configuration. */
function sameConfiguration(a: RunFile, b: RunFile): boolean {
  // A fidelity check runs in one trial of a series (the last): the parts differ there only.
  const strip = (r: RunFile) => JSON.stringify({ ...r.spec, trials: undefined, label: undefined, fidelity: undefined });
  return strip(a) === strip(b);
}

/**
 * One run of K trials from K parts of one configuration measured apart (each part one trial, in
 * its own agent process on a local device). The samples are the parts' in order, the trials their
 * shares, the statistics and the verdict are computed again over all of them (contention findings
 * are the parts', the worst of each code kept), telemetry is joined (mergeTelemetry). A part that
 * failed or was cancelled makes the joined run failed or cancelled, keeping every sample measured.
 */
export function mergeTrialRuns(parts: readonly RunFile[], id: string, interleaved: NonNullable<RunFile['interleaved']>): RunFile {
  const first = parts[0];
  if (!first) throw new Error('mergeTrialRuns needs at least one part');
  for (const p of parts) {
    if (!sameConfiguration(first, p)) throw new Error(`run ${p.id} is not the same configuration as ${first.id}: only trials of one configuration can be joined`);
    if (p.trials && p.trials.length > 1) throw new Error(`run ${p.id} has ${p.trials.length} trials: join one-trial runs`);
  }
  const latencyMs = parts.flatMap((p) => p.samples.latencyMs);
  const warmupLatencyMs = parts.flatMap((p) => p.samples.warmupLatencyMs);
  const counts = parts.map((p) => ({ warmupCount: p.samples.warmupLatencyMs.length, count: p.samples.latencyMs.length }));
  const failed = parts.find((p) => p.status === 'failed');
  const cancelled = parts.some((p) => p.status === 'cancelled');
  const last = parts[parts.length - 1]!;
  const checked = parts.find((p) => p.spec.fidelity);
  const spec = { ...first.spec, ...(checked ? { fidelity: checked.spec.fidelity } : {}), trials: parts.length };
  const telemetry = mergeTelemetry(parts);
  const stats = computeStats(latencyMs);
  const verification = parts.find((p) => p.verification && !p.verification.passed)?.verification ?? first.verification;
  const run: RunFile = {
    schemaVersion: first.schemaVersion,
    id,
    createdAt: first.createdAt,
    finishedAt: last.finishedAt,
    spec,
    device: first.device,
    versions: first.versions,
    ...(first.deviceState ? { deviceState: first.deviceState } : {}),
    model: first.model,
    artifact: first.artifact,
    timing: first.timing,
    samples: { latencyMs, warmupLatencyMs },
    stats,
    ...(verification ? { verification } : {}),
    ...(first.operators ? { operators: first.operators } : {}),
    ...(checked?.fidelity ? { fidelity: checked.fidelity } : {}),
    trials: trialSummaries(latencyMs, counts).map((t, i) => ({ ...t, startedAt: parts[i]!.createdAt })),
    ...(telemetry ? { telemetry } : {}),
    interleaved,
    status: failed ? 'failed' : cancelled ? 'cancelled' : 'ok',
  };
  if (stats) {
    const contention = worstByCode(parts.flatMap((p) => (p.validity?.findings ?? []).filter((f) => CONTENTION_CODES.has(f.code))));
    // Contention was sampled when every part was: else the verdict says it was not checked.
    const sampled = parts.every((p) => p.validity && !p.validity.notChecked?.some((n) => n.startsWith('contention')));
    run.validity = runValidity({ spec, device: run.device, ...(run.deviceState ? { deviceState: run.deviceState } : {}), samples: run.samples, stats, ...(telemetry ? { telemetry } : {}) }, sampled ? contention : null);
  }
  if (failed?.error) run.error = `trial ${parts.indexOf(failed) + 1} of ${parts.length}: ${failed.error}`;
  return run;
}

/** Each contention finding's worst instance over the parts (the agent's, from what else ran on the
 * device: a joined run keeps them; the rest is judged again on the joined samples). */
function worstByCode(findings: readonly Finding[]): Finding[] {
  const worst = new Map<string, Finding>();
  for (const f of findings) {
    const held = worst.get(f.code);
    if (!held || VERDICT_RANK[f.severity] > VERDICT_RANK[held.severity]) worst.set(f.code, f);
  }
  return [...worst.values()];
}

/**
 * The parts' telemetry as one record: each part's series and phases follow the previous part's on
 * the wall clock (the part's start relative to the first's, never before the previous part's last
 * sample); the time between parts was not sampled. A cumulative energy counter continues from the
 * previous part's last value (energy between parts is not in it). Energy per inference is the
 * parts' weighted by their measured samples. Undefined unless every part has telemetry; a series
 * (or rail, or thermal zone) is kept only when every part has it.
 */
export function mergeTelemetry(parts: readonly RunFile[]): Telemetry | undefined {
  const ts = parts.map((p) => p.telemetry);
  if (ts.length === 0 || ts.some((t) => t === undefined)) return undefined;
  const all = ts as Telemetry[];
  const first = all[0]!;
  const t0 = wall(parts[0]!.createdAt);
  const offsets: number[] = [];
  let end = -Infinity;
  all.forEach((t, i) => {
    const span = t.series.tMs[t.series.tMs.length - 1] ?? 0;
    const offset = Math.max(wall(parts[i]!.createdAt) - t0, end === -Infinity ? 0 : end + 1);
    offsets.push(offset);
    end = offset + Math.max(span, ...t.phases.map((p) => p.endMs));
  });
  const shift = (v: readonly number[], by: number) => v.map((x) => x + by);
  const series: TelemetrySeries = { tMs: all.flatMap((t, i) => shift(t.series.tMs, offsets[i]!)) };
  const flat = ['totalPowerMw', 'cpuMinKHz', 'cpuMaxKHz', 'gpuHz', 'gpuLoadPercent', 'gpuClockReasons'] as const;
  for (const key of flat) {
    if (all.every((t) => t.series[key])) series[key] = all.flatMap((t) => t.series[key]!);
  }
  for (const key of ['railsMw', 'tempC'] as const) {
    const names = Object.keys(first.series[key] ?? {}).filter((n) => all.every((t) => t.series[key]?.[n]));
    if (names.length > 0) series[key] = Object.fromEntries(names.map((n) => [n, all.flatMap((t) => t.series[key]![n]!)]));
  }
  if (all.every((t) => t.series.energyMj)) {
    let carried = 0;
    series.energyMj = all.flatMap((t) => {
      const e = shift(t.series.energyMj!, carried);
      carried = e[e.length - 1] ?? carried;
      return e;
    });
  }
  const phases: TelemetryPhase[] = all.flatMap((t, i) => t.phases.map((p) => ({ ...p, startMs: p.startMs + offsets[i]!, endMs: p.endMs + offsets[i]! })));
  const measured = parts.map((p) => p.samples.latencyMs.length);
  const total = measured.reduce((a, b) => a + b, 0);
  const weighted = (pick: (t: Telemetry) => number | null): number | null => {
    if (total === 0 || all.some((t, i) => measured[i]! > 0 && pick(t) === null)) return null;
    return Math.round((10000 * all.reduce((a, t, i) => a + (measured[i]! > 0 ? pick(t)! * measured[i]! : 0), 0)) / total) / 10000;
  };
  const sampledSpan = all.reduce((a, t) => a + ((t.series.tMs[t.series.tMs.length - 1] ?? 0) - (t.series.tMs[0] ?? 0)), 0);
  const gaps = all.reduce((a, t) => a + Math.max(0, t.series.tMs.length - 1), 0);
  const counters = first.overCurrent?.map((c) => ({ counter: c.counter, start: c.start, end: all[all.length - 1]!.overCurrent?.find((l) => l.counter === c.counter)?.end ?? c.end }));
  const unavailable = [...new Set(all.flatMap((t) => t.unavailable ?? []))];
  const energyPerInferenceMj = weighted((t) => t.energyPerInferenceMj);
  const energyPerInferenceAboveIdleMj = weighted((t) => t.energyPerInferenceAboveIdleMj);
  return {
    sources: first.sources.filter((s) => all.every((t) => t.sources.includes(s))),
    requestedHz: first.requestedHz,
    achievedHz: sampledSpan > 0 ? Math.round((100 * gaps) / (sampledSpan / 1000)) / 100 : 0,
    totalPowerRule: first.totalPowerRule,
    series,
    phases,
    energyPerInferenceMj,
    energyPerInferenceAboveIdleMj,
    ...(counters ? { overCurrent: counters } : {}),
    ...(first.passiveTripC ? { passiveTripC: first.passiveTripC } : {}),
    ...(first.gpu ? { gpu: first.gpu } : {}),
    ...(all.every((t) => t.energySource === first.energySource) && first.energySource ? { energySource: first.energySource } : {}),
    ...(unavailable.length ? { unavailable } : {}),
    // Each part's sample starts moved with its series, in the joined samples' order.
    ...(all.every((t, i) => t.sampleStartMs?.length === measured[i]) ? { sampleStartMs: all.flatMap((t, i) => shift(t.sampleStartMs ?? [], offsets[i]!)) } : {}),
  };
}
