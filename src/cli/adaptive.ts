// `jetbench adaptive`: the adaptive-precision experiment (issue 16 item 5). Measures the high and
// the low precision as ordinary runs (latency; energy per inference where telemetry has it), runs
// both and the fp32 reference on the same real frames (jetbench/detectFrames), then judges every
// policy on those frames (contract/adaptive.ts): static high, static low, the oracle, random
// switching at the best policy's low share, and threshold policies over a sweep. Prints the table
// and the verdict, and writes everything (per-frame data included) to one JSON file.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc';
import { WorkDoneProgress } from 'vscode-languageserver-protocol';
import { compareAdaptive, policyName, thresholdChoices, type AdaptiveComparison, type AdaptiveFrame, type EnergyPerInference, type PolicyOutcome, type ThresholdPolicy } from '../../contract/adaptive';
import { fidelity, type FidelityStats } from '../../contract/fidelity';
import { fp32ModelFor, sensitiveVariantFor } from '../../contract/modelNames';
import { AgentErrorCode, DetectFramesRequest, type DetectFramesResult, type RunFile, type RunSpec } from '../../contract/protocol';
import { FIDELITY_DEFAULTS } from '../../contract/runSpec';
import { formatShare } from '../../contract/format';
import { withDeviceDefaults } from '../core/devices';
import { numberFlag, parse, specFromFlags, UsageError } from './args';
import { HELP } from './help';
import type { CliIo } from './io';
import { EXIT_INTERRUPTED, measureOnDevice } from './measureOnDevice';
import { mergeTrialRuns } from '../../contract/trialMerge';
import { newRunId } from '../../contract/runId';
import { resolveRunOutput, saveRunFile } from '../core/runStore';
import { connectCliDevice } from './sshHooks';

const OPTIONS = {
  device: { type: 'string', default: 'local' },
  model: { type: 'string', default: 'nanodet-g' },
  backend: { type: 'string' },
  high: { type: 'string', default: 'fp32' },
  low: { type: 'string', default: 'int8' },
  sensitive: { type: 'string' },
  frames: { type: 'string' },
  source: { type: 'string' },
  iterations: { type: 'string' },
  warmup: { type: 'string' },
  rounds: { type: 'string' },
  threads: { type: 'string' },
  'torch-device': { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  'accept-new-host-key': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export interface AdaptiveArgs {
  high: RunSpec;
  low: RunSpec;
  /** The low precision with its sensitive layers kept high (a third configuration), or null. */
  sensitive: RunSpec | null;
  /** Why there is none, in words (for the report). */
  sensitiveMissing: string | null;
  reference: RunSpec;
  frames: { frames: number; source: string };
  /** Trials of each precision, interleaved (high low high low ...). */
  rounds: number;
  out: string | null;
  json: boolean;
  quiet: boolean;
  acceptNewHostKey: boolean;
}

export function parseAdaptiveArgs(args: string[]): AdaptiveArgs | 'help' {
  const { values: v } = parse(args, OPTIONS, false);
  if (v.help) return 'help';
  const base = fp32ModelFor(v.model);
  const spec = (precision: string, backend: string | undefined, model = base, label = `adaptive ${precision}`): RunSpec =>
    specFromFlags({
      device: v.device,
      // The base name: the agent picks the stored variant where the backend runs stored
      // precisions (nanodet-g-int8 for onnxruntime), the fp32 model where it converts (pytorch).
      model,
      backend,
      precision,
      iterations: numberFlag('iterations', v.iterations),
      warmup: numberFlag('warmup', v.warmup),
      threads: numberFlag('threads', v.threads),
      label,
      ...(backend === 'pytorch' ? { pytorch: { device: v['torch-device'] } } : {}),
    });
  if (v.high === v.low) throw new UsageError(`--high and --low are both ${v.high}: the experiment switches between two precisions`);
  if (v['torch-device'] !== undefined && v.backend !== 'pytorch') throw new UsageError('--torch-device applies to --backend pytorch only');
  const frames = { frames: numberFlag('frames', v.frames) ?? FIDELITY_DEFAULTS.frames, source: v.source ?? FIDELITY_DEFAULTS.source };
  const checked = specFromFlags({ model: base, fidelity: frames }, {}, { 'fidelity.frames': 'frames', 'fidelity.source': 'source' });
  const low = spec(v.low, v.backend);
  // Static low with the sensitive layers kept high: a stored variant, so only where the backend
  // runs stored models (ONNX Runtime, TensorRT), not where it converts the fp32 one (PyTorch, TVM).
  let sensitive: RunSpec | null = null;
  let sensitiveMissing: string | null = null;
  const variant = v.sensitive === 'none' ? null : (v.sensitive ?? sensitiveVariantFor(base, low.precision));
  if (v.sensitive === 'none') sensitiveMissing = 'left out (--sensitive none)';
  else if (!variant) sensitiveMissing = `no variant of ${base} in ${low.precision} with its sensitive layers kept high is built (nanodet-g-int8-mixed is, for int8); give one with --sensitive MODEL`;
  else if (low.backend === 'pytorch' || low.backend === 'tvm') sensitiveMissing = `${low.backend} converts the fp32 model to ${low.precision} itself, so a stored mixed-precision variant (${variant}) cannot run there`;
  else sensitive = spec(low.precision, v.backend, variant, `adaptive ${low.precision} (sensitive layers high)`);
  if (v.sensitive !== undefined && v.sensitive !== 'none' && !sensitive) throw new UsageError(`--sensitive ${v.sensitive}: ${sensitiveMissing}`);
  return {
    high: spec(v.high, v.backend),
    low,
    sensitive,
    sensitiveMissing,
    reference: spec('fp32', 'onnxruntime'),
    frames: checked.fidelity!,
    rounds: roundsOf(v.rounds),
    out: v.out ?? null,
    json: v.json,
    quiet: v.quiet,
    acceptNewHostKey: v['accept-new-host-key'],
  };
}

function roundsOf(text: string | undefined): number {
  const n = numberFlag('rounds', text) ?? 3;
  if (n < 1 || n > 100) throw new UsageError(`--rounds must be a whole number from 1 to 100 (got ${n})`);
  return n;
}

const sameRun = (a: RunSpec, b: RunSpec) => a.backend === b.backend && a.precision === b.precision && a.model === b.model && JSON.stringify(a.pytorch) === JSON.stringify(b.pytorch);

/** The table: one row per policy, its cost against static high's. */
export function formatAdaptiveTable(c: AdaptiveComparison): string {
  const highCost = c.cost === 'energy' ? c.staticHigh.energyMj! : c.staticHigh.meanMs;
  const row = (o: PolicyOutcome) => {
    const cost = c.cost === 'energy' ? o.energyMj! : o.meanMs;
    return [
      o.name,
      `${(100 * o.lowShare).toFixed(0)}%`,
      String(o.switches),
      o.meanMs.toFixed(2),
      o.energyMj === null ? 'n/a' : o.energyMj.toFixed(2),
      formatShare(o.fidelity.ap50),
      formatShare(o.fidelity.f1),
      highCost > 0 ? `${(100 * (1 - cost / highCost)).toFixed(1)}%` : 'n/a',
    ];
  };
  const bestName = c.best?.outcome.name;
  const rows = [c.staticHigh, c.staticLow, ...(c.staticSensitive ? [c.staticSensitive] : []), c.oracle, ...(c.random ? [c.random] : []), ...c.thresholds.map((t) => t.outcome)].map((o) => {
    const r = row(o);
    if (o.name === bestName) r[0] = `* ${r[0]}`;
    return r;
  });
  const headers = ['Policy', 'Low', 'Switches', 'ms/frame', 'mJ/frame', 'AP50', 'F1', `${c.cost === 'energy' ? 'Energy' : 'Latency'} saved`];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatAdaptiveVerdict(c: AdaptiveComparison, low: string, high: string, sensitiveMissing: string | null = null): string[] {
  const v = c.verdict;
  const lines: string[] = [];
  if (c.cost === 'latency') lines.push('Energy: not measured on this device (no power telemetry): policies are judged by latency per frame instead.');
  if (!c.staticSensitive) lines.push(`Not evaluated: static low with sensitive layers kept high (${sensitiveMissing ?? 'it did not run'}).`);
  if (c.best) {
    lines.push(`Best threshold policy (*): ${c.best.outcome.name}: ${(100 * c.best.outcome.lowShare).toFixed(0)}% of frames in ${low}, AP50 ${formatShare(c.best.outcome.fidelity.ap50)} (static ${high} ${formatShare(c.staticHigh.fidelity.ap50)}, oracle ${formatShare(c.oracle.fidelity.ap50)} at ${(100 * c.oracle.lowShare).toFixed(0)}% ${low}).`);
    const highCost = c.cost === 'energy' ? c.staticHigh.energyMj! : c.staticHigh.meanMs;
    const lowCost = c.cost === 'energy' ? c.staticLow.energyMj! : c.staticLow.meanMs;
    const perFrame = highCost > 0 ? 1 - lowCost / highCost : 0;
    if (perFrame <= 0) lines.push(`Bound on the saving: none: ${low} costs ${(100 * -perFrame).toFixed(1)}% more ${c.cost} per frame than ${high} here, so every frame switched to it costs (the research claims ~25% less power).`);
    else if (v.bound !== null) lines.push(`Bound on the saving: ${(100 * c.best.outcome.lowShare).toFixed(0)}% of frames in ${low} x ${(100 * perFrame).toFixed(1)}% less ${c.cost} per frame = ${(100 * v.bound).toFixed(1)}% at most (the research claims ~25% less power).`);
  }
  lines.push(
    v.earnsItsPlace
      ? `Verdict: the policy earns its place (saves ${(100 * v.saving!).toFixed(1)}%, loses ${(100 * v.ap50Loss!).toFixed(1)} AP50 points, beats random${v.beatsSensitive ? ' and static low with sensitive layers high' : ''}).`
      : `Verdict: the policy does not earn its place: ${v.reasons.join('; ')}.`,
  );
  return lines;
}

/** Each trial's energy per inference, and whether the two precisions' trials overlap: a saving
 * inside the trial-to-trial spread is not one. */
export function energySpreadLines(high: ReadonlyArray<number | null>, low: ReadonlyArray<number | null>, joined: EnergyPerInference, highName: string, lowName: string): string[] {
  const list = (xs: ReadonlyArray<number | null>) => xs.map((e) => (e === null ? '?' : e.toFixed(0))).join(', ');
  const lines = [`Energy per inference, per trial: ${highName} ${list(high)} mJ; ${lowName} ${list(low)} mJ (joined runs: ${joined.highMj.toFixed(0)} vs ${joined.lowMj.toFixed(0)})`];
  const h = high.filter((e): e is number => e !== null);
  const l = low.filter((e): e is number => e !== null);
  if (h.length > 0 && l.length > 0) {
    const [hMin, hMax, lMin, lMax] = [Math.min(...h), Math.max(...h), Math.min(...l), Math.max(...l)];
    if (hMin <= lMax && lMin <= hMax) {
      lines.push(`  the trials overlap (${highName} ${hMin.toFixed(0)}-${hMax.toFixed(0)}, ${lowName} ${lMin.toFixed(0)}-${lMax.toFixed(0)} mJ): the energy difference between the precisions is within this device's run-to-run noise; more --rounds or --iterations narrow it`);
    }
  }
  return lines;
}

interface PairedFrames {
  ref: DetectFramesResult;
  high: DetectFramesResult;
  low: DetectFramesResult;
  sensitive: DetectFramesResult | null;
  frames: AdaptiveFrame[];
}

/** The configurations' per-frame data side by side (they saw the same frames in the same order). */
function pairFrames(detected: ReadonlyMap<string, DetectFramesResult>): PairedFrames {
  const ref = detected.get('reference')!;
  const high = detected.get('high')!;
  const low = detected.get('low')!;
  const sensitive = detected.get('sensitive') ?? null;
  if ([high, low, ...(sensitive ? [sensitive] : [])].some((d) => d.frames.length !== ref.frames.length)) throw new Error('the configurations saw different numbers of frames');
  const frames: AdaptiveFrame[] = ref.frames.map((f, i) => ({
    reference: f.boxes,
    high: { ms: high.frames[i]!.ms, boxes: high.frames[i]!.boxes },
    low: { ms: low.frames[i]!.ms, boxes: low.frames[i]!.boxes },
    ...(sensitive ? { sensitive: { ms: sensitive.frames[i]!.ms, boxes: sensitive.frames[i]!.boxes } } : {}),
    diff: f.diff,
  }));
  return { ref, high, low, sensitive, frames };
}

/** The best policy run live against its replay over the recorded frames. */
export interface LiveOutcome {
  policy: string;
  frames: number;
  lowShare: number;
  switches: number;
  meanMs: number;
  fidelity: FidelityStats;
  /** Frames where the live run chose as the replay did (the same detections give the same signals). */
  sameChoices: number;
  replayed: { lowShare: number; meanMs: number; ap50: number | null };
  spans: string;
  /** Per frame: the choice and the time of the live run. */
  perFrame: Array<{ low: boolean; ms: number }>;
}

export function liveOutcome(frames: readonly AdaptiveFrame[], run: DetectFramesResult, policy: ThresholdPolicy, replayed: PolicyOutcome): LiveOutcome {
  if (run.frames.length !== frames.length) throw new Error(`the live run saw ${run.frames.length} frame(s), the comparison ${frames.length}`);
  const choices = run.frames.map((f) => f.low === true);
  const replay = thresholdChoices(frames, policy);
  let switches = 0;
  for (let i = 1; i < choices.length; i++) if (choices[i] !== choices[i - 1]) switches++;
  const n = frames.length;
  return {
    policy: policyName(policy),
    frames: n,
    lowShare: n ? choices.filter(Boolean).length / n : 0,
    switches,
    meanMs: n ? run.frames.reduce((a, f) => a + f.ms, 0) / n : 0,
    fidelity: fidelity(frames.map((f, i) => ({ reference: f.reference, test: run.frames[i]!.boxes }))).overall,
    sameChoices: choices.filter((c, i) => c === replay[i]).length,
    replayed: { lowShare: replayed.lowShare, meanMs: replayed.meanMs, ap50: replayed.fidelity.ap50 },
    spans: run.spans,
    perFrame: run.frames.map((f) => ({ low: f.low === true, ms: f.ms })),
  };
}

export function formatLive(l: LiveOutcome, low: string): string {
  return [
    `Live (both precisions loaded, the policy switching per frame on what its choice saw): ${l.meanMs.toFixed(2)} ms/frame, AP50 ${formatShare(l.fidelity.ap50)}, ${(100 * l.lowShare).toFixed(0)}% ${low}, ${l.switches} switch(es);`,
    `  replayed from each precision's own frames: ${l.replayed.meanMs.toFixed(2)} ms/frame, AP50 ${formatShare(l.replayed.ap50)}, ${(100 * l.replayed.lowShare).toFixed(0)}% ${low}; the same choice on ${l.sameChoices} of ${l.frames} frame(s)`,
  ].join('\n');
}

export async function adaptive(args: string[], io: CliIo): Promise<number> {
  const parsed = parseAdaptiveArgs(args);
  if (parsed === 'help') {
    io.out(HELP.adaptive);
    return 0;
  }
  const say = (m: string) => {
    if (!parsed.quiet) io.err(`${m}\n`);
  };
  // 1. The two precisions as ordinary runs, interleaved (high low high low ...: drift hits both
  //    alike): their latency, and energy per inference where telemetry has it.
  const specs = [parsed.high, parsed.low, ...(parsed.sensitive ? [parsed.sensitive] : [])];
  const ids = specs.map((spec) => newRunId(spec));
  const parts: RunFile[][] = specs.map(() => []);
  for (let round = 0; round < parsed.rounds; round++) {
    for (const [i, spec] of specs.entries()) {
      const title = `adaptive [${round + 1}/${parsed.rounds}] ${spec.model} ${spec.backend} ${spec.precision}`;
      const { run } = await measureOnDevice({ ...spec, label: `${spec.label} (trial ${round + 1})` }, io, { out: null, store: false, quiet: parsed.quiet, acceptNewHostKey: parsed.acceptNewHostKey, title });
      if (run.status === 'cancelled') return EXIT_INTERRUPTED;
      if (run.status !== 'ok') throw new UsageError(`the ${spec.model} ${spec.precision} run failed: ${run.error ?? 'no error given'}`);
      parts[i]!.push({ ...run, spec: { ...run.spec, label: spec.label } });
    }
  }
  const runs: RunFile[] = [];
  for (const [i, spec] of specs.entries()) {
    const joined = mergeTrialRuns(parts[i]!, ids[i]!, { runs: ids, position: i, rounds: parsed.rounds });
    const saved = await saveRunFile(await resolveRunOutput(io.cwd, null, ids[i]!), joined);
    say(`run file (${spec.label}, ${parsed.rounds} trial(s)): ${path.relative(io.cwd, saved.file) || saved.file}`);
    runs.push(joined);
  }
  const [highRun, lowRun, sensitiveRun] = runs as [RunFile, RunFile, RunFile | undefined];
  const energy: EnergyPerInference | null =
    highRun.telemetry?.energyPerInferenceMj != null && lowRun.telemetry?.energyPerInferenceMj != null
      ? { highMj: highRun.telemetry.energyPerInferenceMj, lowMj: lowRun.telemetry.energyPerInferenceMj, sensitiveMj: sensitiveRun?.telemetry?.energyPerInferenceMj ?? null }
      : null;
  // Each trial's energy per inference: the spread a saving must stand out of.
  const trialEnergy = parts.map((ps) => ps.map((p) => p.telemetry?.energyPerInferenceMj ?? null));

  // 2. Every configuration on the same frames.
  const agent = await connectCliDevice(parsed.high.device, io, { acceptNewHostKey: parsed.acceptNewHostKey, quiet: parsed.quiet });
  const cancel = new CancellationTokenSource();
  const onSigint = () => cancel.cancel();
  process.on('SIGINT', onSigint);
  const detected = new Map<string, DetectFramesResult>();
  let paired: PairedFrames | undefined;
  let comparison: AdaptiveComparison | null = null;
  let live: LiveOutcome | null = null;
  try {
    const configs: Array<readonly ['reference' | 'high' | 'low' | 'sensitive', RunSpec]> = [
      ['reference', parsed.reference],
      ['high', parsed.high],
      ['low', parsed.low],
      ...(parsed.sensitive ? [['sensitive', parsed.sensitive] as const] : []),
    ];
    for (const [what, spec] of configs) {
      if (what !== 'reference' && sameRun(spec, parsed.reference) && detected.has('reference')) {
        detected.set(what, detected.get('reference')!);
        if (what === 'high') continue;
      }
      if (detected.has(what)) continue;
      const token = `adaptive-${what}-${process.pid}`;
      const sub = agent.connection.onProgress(WorkDoneProgress.type, token, (p) => {
        if (p.kind !== 'end' && p.message) say(`adaptive: ${what} (${spec.model} ${spec.backend} ${spec.precision}): ${p.message}`);
      });
      try {
        detected.set(what, await agent.connection.sendRequest(DetectFramesRequest, { spec: withDeviceDefaults(spec, agent.device), frames: parsed.frames, workDoneToken: token }, cancel.token));
      } catch (e) {
        if (e instanceof ResponseError && e.code === AgentErrorCode.Cancelled) return EXIT_INTERRUPTED;
        throw e;
      } finally {
        sub.dispose();
      }
    }
    paired = pairFrames(detected);
    // 3. Every policy on those frames.
    comparison = compareAdaptive(paired.frames, energy);
    // 4. The best policy live: both precisions loaded, switching frame by frame on what the chosen
    //    one saw; its choices, latency and accuracy next to the replayed ones.
    if (comparison.best) {
      const token = `adaptive-live-${process.pid}`;
      const sub = agent.connection.onProgress(WorkDoneProgress.type, token, (p) => {
        if (p.kind !== 'end' && p.message) say(`adaptive: live ${policyName(comparison!.best!.policy)}: ${p.message}`);
      });
      try {
        const run = await agent.connection.sendRequest(
          DetectFramesRequest,
          { spec: withDeviceDefaults(parsed.high, agent.device), frames: parsed.frames, switching: { low: withDeviceDefaults(parsed.low, agent.device), policy: comparison.best.policy }, workDoneToken: token },
          cancel.token,
        );
        live = liveOutcome(paired.frames, run, comparison.best.policy, comparison.best.outcome);
      } catch (e) {
        if (e instanceof ResponseError && e.code === AgentErrorCode.Cancelled) return EXIT_INTERRUPTED;
        throw e;
      } finally {
        sub.dispose();
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    await agent.dispose();
  }
  if (!paired || !comparison) throw new Error('internal: the frames were not compared');
  const { ref, high, low, sensitive, frames } = paired;
  const result = {
    kind: 'jetbench-adaptive',
    createdAt: new Date().toISOString(),
    model: parsed.reference.model,
    high: { spec: parsed.high, run: highRun.id, energyPerInferenceMj: highRun.telemetry?.energyPerInferenceMj ?? null, trialEnergyMj: trialEnergy[0], spans: high.spans },
    low: { spec: parsed.low, run: lowRun.id, energyPerInferenceMj: lowRun.telemetry?.energyPerInferenceMj ?? null, trialEnergyMj: trialEnergy[1], spans: low.spans },
    sensitive:
      parsed.sensitive && sensitiveRun && sensitive
        ? { spec: parsed.sensitive, run: sensitiveRun.id, energyPerInferenceMj: sensitiveRun.telemetry?.energyPerInferenceMj ?? null, trialEnergyMj: trialEnergy[2], spans: sensitive.spans }
        : { missing: parsed.sensitiveMissing },
    reference: { spec: parsed.reference },
    source: ref.source,
    decoder: ref.decoder,
    comparison: { ...comparison, thresholds: comparison.thresholds.map((t) => ({ ...t, name: policyName(t.policy) })) },
    live,
    frames,
  };
  const out = parsed.out ?? path.join(io.cwd, '.jetbench', 'adaptive', `${result.createdAt.replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}-${parsed.reference.model}-${parsed.high.precision}-${parsed.low.precision}.json`);
  await mkdir(path.dirname(path.resolve(io.cwd, out)), { recursive: true });
  await writeFile(path.resolve(io.cwd, out), JSON.stringify(result, null, 1) + '\n');
  if (parsed.json) {
    io.out(JSON.stringify({ file: out, verdict: comparison.verdict, best: comparison.best?.outcome ?? null }, null, 2) + '\n');
  } else {
    io.out(`Adaptive precision: ${parsed.reference.model}, ${parsed.high.precision} <-> ${parsed.low.precision} on ${parsed.high.backend}, ${frames.length} frame(s) (${ref.source}); accuracy against ${parsed.reference.model} fp32 (onnxruntime)\n\n`);
    const spread = energy ? `${energySpreadLines(trialEnergy[0]!, trialEnergy[1]!, energy, parsed.high.precision, parsed.low.precision).join('\n')}\n` : '';
    const liveLines = live ? `${formatLive(live, parsed.low.precision)}\n` : '';
    io.out(`${formatAdaptiveTable(comparison)}\n\n${spread}${formatAdaptiveVerdict(comparison, parsed.low.precision, parsed.high.precision, parsed.sensitiveMissing).join('\n')}\n${liveLines}result: ${path.relative(io.cwd, path.resolve(io.cwd, out)) || out}\n`);
  }
  return 0;
}
