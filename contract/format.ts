// One formatter for what every face prints: milliseconds, model names, a device and its backends
// (`jetbench info`, the Devices view's details).
import type { BackendStatus, DeviceInfo, Interleaving, RunFidelity, RunFile } from './protocol';
import type { FidelityStats } from './fidelity';
import { computeStats } from './stats';
import { trtexecPercentile } from './trtexec';

const GiB = 1024 ** 3;

export function formatDeviceInfo(d: DeviceInfo, backends: BackendStatus[]): string {
  const lines = [
    `Device:    ${d.hostname} (${d.distro ?? d.platform} ${d.osRelease}, ${d.arch})`,
    `CPU:       ${d.cpuModel} x ${d.cpuCount}${d.cpuGovernor ? `, governor ${d.cpuGovernor}` : ''}`,
    `Memory:    ${(d.memoryBytes / GiB).toFixed(1)} GiB`,
  ];
  if (d.jetson) {
    const j = d.jetson;
    lines.push(`Jetson:    ${j.model ?? 'unknown model'}, L4T ${j.l4t ?? '?'}${j.jetpack ? ` (JetPack ${j.jetpack})` : ''}${j.powerMode ? `, power mode ${j.powerMode}` : ''}`);
  }
  if (d.gpus.length === 0) lines.push('GPU:       none found');
  for (const g of d.gpus) {
    const mem = g.memoryBytes ? `, ${(g.memoryBytes / GiB).toFixed(0)} GiB` : '';
    lines.push(`GPU:       ${g.name}${mem}${g.computeCapability ? `, sm ${g.computeCapability}` : ''}${g.driverVersion ? `, driver ${g.driverVersion}` : ''}`);
  }
  const v = d.versions;
  const ver = (x: string | null) => x ?? 'not found';
  lines.push(`Versions:  agent ${v.agent}, node ${v.node}, onnxruntime ${ver(v.onnxruntime)}, CUDA ${ver(v.cuda)}, TensorRT ${ver(v.tensorrt)}, TVM ${ver(v.tvm)}`);
  lines.push('Backends:');
  for (const b of backends) {
    lines.push(b.available ? `  ${b.id.padEnd(12)} available (${b.version ?? '?'}; ${b.precisions.join(', ')})` : `  ${b.id.padEnd(12)} unavailable: ${b.reason}`);
  }
  return lines.join('\n');
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms.toFixed(Math.abs(ms) < 1 ? 3 : 2);
}

function baseName(p: string): string {
  const parts = p.split(/[/\\]/).filter((s) => s.length > 0);
  return parts[parts.length - 1] ?? p;
}

/** The model a run ran, in a word: the built-in name, else the file's base name. */
export function modelName(run: RunFile): string {
  return run.model.builtin ?? (run.model.path ? baseName(run.model.path) : run.spec.model);
}

/** A run's device as every face names it: the configured device name (`local`, `xavier`), with
 *  the machine's hostname beside it when it differs, so the summary and the panels agree. */
export function deviceLabel(run: Pick<RunFile, 'spec' | 'device'>): string {
  const { device } = run.spec;
  return run.device.hostname && run.device.hostname !== device ? `${device} (${run.device.hostname})` : device;
}

/** `3: 15.98, 15.54, 14.05 ms (spread CoV 6.6%)`: each trial's median and how much they differ. */
export function trialMediansText(medians: readonly number[]): string {
  const spread = medians.length > 1 ? computeStats(medians)?.covPercent : undefined;
  return `${medians.length}: ${medians.map(formatMs).join(', ')} ms${spread === undefined ? '' : ` (spread CoV ${spread.toFixed(1)}%)`}`;
}

/** Millijoules to read: 147.3, 3.14, 0.052 (energy per inference). */
export function formatMj(v: number): string {
  const a = Math.abs(v);
  const s = a >= 10 ? v.toFixed(1) : a >= 0.1 ? v.toFixed(2) : v.toFixed(3);
  // -0.0004 prints as 0.000, not -0.000: no sign on a figure that rounds to zero.
  return /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/** Where an interleaved run's trials sat among the other configurations' (bench --vs), for the CLI's
 * table and the result panel: "4 rounds of A B, this configuration B, with 1 other (<run id>)". */
export function interleavedText(i: Interleaving): string {
  const others = i.runs.length - 1;
  const order = i.runs.map((_, k) => String.fromCharCode(65 + k)).join(' ');
  return `${i.rounds} round${i.rounds === 1 ? '' : 's'} of ${order}, this configuration ${String.fromCharCode(65 + i.position)}, with ${others} other${others === 1 ? '' : 's'} (${i.runs.filter((_, k) => k !== i.position).join(', ')})`;
}

/** How a run's per-operator times were taken, in words every face uses: trtexec's per-layer
 * profile (an imported run, or the trtexec runner's separate profiling run), or one inference timed
 * operator by operator. */
export function operatorsHeading(run: Pick<RunFile, 'imported' | 'artifact'>): { trtexec: boolean; title: string; note: string; column: 'Layer' | 'Operator' } {
  const fromFlags = run.artifact?.flags.profileIterations;
  const iterations = run.imported?.profileIterations ?? (typeof fromFlags === 'number' ? fromFlags : undefined);
  const trtexec = iterations !== undefined || run.artifact?.flags.runner === 'trtexec';
  if (!trtexec) return { trtexec, title: 'Operators (one inference, a sync around each)', note: 'Timed one at a time with a sync around each, so their sum exceeds the latency.', column: 'Operator' };
  return {
    trtexec,
    title: `Layers (trtexec's profile${iterations !== undefined ? `, average of ${iterations} iterations` : ''})`,
    note: 'Layers on parallel streams overlap, so their sum is not the latency.',
    column: 'Layer',
  };
}

/** An imported trtexec run: trtexec's own summary against the statistics recomputed from its
 * per-query times, with P99 also by trtexec's rank rule (ours interpolates), so a reader can see
 * that the samples are the queries trtexec summarised. Null when the log had no summary. */
export function trtexecSummaryCheck(run: Pick<RunFile, 'imported' | 'stats' | 'samples'>): string | null {
  const r = run.imported?.reported;
  if (!r || !run.stats) return null;
  const vs = (name: string, theirs: number | undefined, ours: number): string => `${name} ${theirs === undefined ? 'not reported' : formatMs(theirs)} vs ${formatMs(ours)} ms`;
  const p99 = r.percentilesMs['99'];
  const rankRule = run.samples.latencyMs.length > 0 ? ` (by trtexec's rank rule ${formatMs(trtexecPercentile(run.samples.latencyMs, 99))} ms; ours interpolates)` : '';
  return `trtexec's own summary vs recomputed from the ${run.stats.count} samples: ${vs('median', r.medianMs, run.stats.medianMs)}, ${vs('P99', p99, run.stats.p99Ms)}${rankRule}, ${vs('mean', r.meanMs, run.stats.meanMs)}`;
}

/** A fraction as a percentage with one decimal ("97.5%"); "n/a" for null. */
export function formatShare(x: number | null): string {
  return x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`;
}

/** A run's fidelity check in lines: overall, then per scene complexity and per box size (what the
 * CLI prints under the table, the report lists and the result panel shows). */
export function fidelityLines(f: RunFidelity): string[] {
  const r = f.result;
  const o = r.overall;
  const stats = (s: FidelityStats) =>
    `AP50 ${formatShare(s.ap50)}, precision ${formatShare(s.precision)}, recall ${formatShare(s.recall)}, F1 ${formatShare(s.f1)}, matched IoU ${s.meanMatchedIou === null ? 'n/a' : s.meanMatchedIou.toFixed(3)} (${s.referenceBoxes} reference / ${s.testBoxes} boxes)`;
  const lines = [
    `Fidelity against ${f.reference.model} (${f.reference.precision}, ${f.reference.backend}${f.itself ? ': this run is the reference itself' : ''}) on ${f.source.startsWith(`${f.frames} `) ? f.source : `${f.frames} frame(s) (${f.source})`}: ${stats(o)}`,
    `  match: same class, IoU >= ${r.iouThreshold}; ${f.decoder.family} decode at score >= ${f.decoder.scoreThreshold}, NMS IoU ${f.decoder.iouThreshold}; checked in ${(f.ms / 1000).toFixed(1)} s`,
  ];
  for (const b of r.byComplexity) lines.push(`  ${b.bucket} (${b.stats.frames} frame(s)): ${stats(b.stats)}`);
  for (const b of r.bySize) if (b.stats.referenceBoxes > 0 || b.stats.testBoxes > 0) lines.push(`  ${b.bucket} boxes: ${stats(b.stats)}`);
  return lines;
}

/** A run's fidelity as a table (the result panel's "Accuracy" section): overall, per scene
 * complexity and per box size. */
export function fidelityTable(f: RunFidelity): { headers: string[]; rows: string[][] } {
  const row = (what: string, s: FidelityStats): string[] => [
    what,
    String(s.frames),
    String(s.referenceBoxes),
    String(s.testBoxes),
    formatShare(s.ap50),
    formatShare(s.precision),
    formatShare(s.recall),
    formatShare(s.f1),
    s.meanMatchedIou === null ? 'n/a' : s.meanMatchedIou.toFixed(3),
  ];
  const r = f.result;
  return {
    headers: ['Frames / boxes', 'Frames', 'Reference boxes', 'Boxes', 'AP50', 'Precision', 'Recall', 'F1', 'Matched IoU'],
    rows: [
      row('all', r.overall),
      ...r.byComplexity.map((b) => row(b.bucket, b.stats)),
      ...r.bySize.filter((b) => b.stats.referenceBoxes > 0 || b.stats.testBoxes > 0).map((b) => row(`${b.bucket} boxes`, b.stats)),
    ],
  };
}
