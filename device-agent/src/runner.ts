// One benchmark job from RunSpec to RunFile: validate, resolve and inspect the model, prepare the
// backend, measure, compute statistics. Streams samples and progress through the given sinks.
import { performance } from 'node:perf_hooks';
import { resolveModel } from '../../models/src/index';
import { variantFor } from '../../contract/modelNames';
import type { Backend, PreparedSession } from './backends/backend';
import { deviceInfo } from './deviceInfo';
import { readDeviceState } from './deviceState';
import { checkSpec } from './requestChecks';
import { BadInputError } from './errors';
import { measure, type MeasureHooks, type Phase } from './measure';
import { runTrialsInProcesses } from './trialProcess';
import { SampleBatcher } from './sampleBatcher';
import { inspectModel } from './modelInfo';
import { RUN_SCHEMA_VERSION, type BackendId, type BuildResult, type DeviceState, type ModelInfo, type RunFile, type RunSpec, type SamplesBatch, type Telemetry, type TvmAdoptParams } from '../../contract/protocol';
import { computeStats, trialSummaries } from '../../contract/stats';
import { runValidity } from '../../contract/validityRules';
import type { Finding } from '../../contract/validity';
import { ContentionWatch } from './contention';
import { deviceRoot } from './sysfs';
import { idleBaselineMs, telemetryHz, telemetryPython, TelemetryWatch } from './telemetry/watch';
import { runVersions } from './runVersions';
import { compareOutputs } from './verify';
import { adoptTvmModule } from './backends/tvm';
import { calibrationFrames } from './builtinFrames';
import { measureFidelity, planFidelity, type FidelityPlan } from './fidelityRun';

export interface RunSinks {
  /** Aborted when the client cancels the job. */
  signal: AbortSignal;
  samples(batch: SamplesBatch): void;
  /** Telemetry readings while the run goes (TelemetryWatch.feed); absent: not sent. */
  telemetry?(batch: TelemetryLiveBatch): void;
  /** Human-readable progress; percentage when known. */
  progress(message: string, percentage?: number): void;
  /** The run is about to measure: what a run file needs besides the samples (so a run can be
   * persisted from here on, and recovered if the agent dies). */
  prepared?(run: PreparedRun): void;
}

import type { PreparedRun, TelemetryLiveBatch } from '../../contract/protocol';

const PROGRESS_EVERY_MS = 250;

/** A built-in base name plus a precision picks that variant (yolov5s + fp16 -> yolov5s-fp16). */
export function modelForPrecision(model: string, precision: RunSpec['precision']): string {
  return variantFor(model, precision);
}


/** The model a spec names, resolved (built-ins generated on first use) and inspected. A backend
 * that converts precision itself starts from the fp32 model. */
export async function resolveAndInspect(spec: RunSpec, sinks: Pick<RunSinks, 'progress'>, convertsPrecision: boolean): Promise<ModelInfo> {
  sinks.progress(`resolving model ${spec.model}`);
  const name = convertsPrecision ? spec.model : modelForPrecision(spec.model, spec.precision);
  let resolved: { path: string; builtin: string | null };
  try {
    resolved = await resolveModel(name, { opset: spec.opset, progress: sinks.progress, calibrationFrames: () => calibrationFrames(sinks.progress) });
  } catch (e) {
    throw new BadInputError((e as Error).message);
  }
  return inspectModel(resolved.path, resolved.builtin);
}

/** The backend a spec names, checked to run here in the spec's precision. */
export async function availableBackend(spec: RunSpec, backends: ReadonlyMap<BackendId, Backend>): Promise<Backend> {
  const backend = backends.get(spec.backend);
  if (!backend) throw new BadInputError(`unknown backend '${spec.backend}'`);
  const status = await backend.status(spec);
  if (!status.available) throw new BadInputError(`backend ${spec.backend} is not available on this device: ${status.reason}`);
  if (!status.precisions.includes(spec.precision)) {
    throw new BadInputError(`backend ${spec.backend} cannot run ${spec.precision} here (it can: ${status.precisions.join(', ') || 'none'})`);
  }
  return backend;
}

/** Builds the artifact a backend runs (TensorRT engine, TVM module), without measuring. */
export async function executeBuild(spec: RunSpec, backends: ReadonlyMap<BackendId, Backend>, sinks: Pick<RunSinks, 'progress' | 'signal'>): Promise<BuildResult> {
  checkSpec(spec);
  const backend = await availableBackend(spec, backends);
  if (!backend.build) throw new BadInputError(`${spec.backend} runs the .onnx file directly: there is nothing to build (use jetbench bench)`);
  const model = await resolveAndInspect(spec, sinks, backend.convertsPrecision);
  const { rpcRun, ...built } = await backend.build({ spec, model, progress: (m) => sinks.progress(m), signal: sinks.signal });
  const result: BuildResult = { ...built, model };
  if (rpcRun) {
    // The remote device's outputs on the inputs --verify uses, against ONNX Runtime here.
    sinks.progress('checking the outputs from the RPC device against onnxruntime');
    const reference = backends.get('onnxruntime');
    if (!reference) throw new BadInputError('checking a module built through RPC needs the onnxruntime backend');
    const refSession = await reference.prepare({ spec: { ...spec, backend: 'onnxruntime', precision: model.precision }, model, progress: () => {}, signal: sinks.signal });
    try {
      result.rpcCheck = { endpoint: rpcRun.endpoint, ...(rpcRun.server ? { server: rpcRun.server } : {}), verification: compareOutputs(await refSession.outputs(), rpcRun.outputs, spec.precision), medianMs: rpcRun.medianMs, repeats: rpcRun.repeats };
    } finally {
      await refSession.dispose();
    }
  }
  return result;
}

/** Takes a TVM module a host compiled for this device into the cache (`jetbench build --rpc`). */
export async function executeAdopt(params: TvmAdoptParams, sinks: Pick<RunSinks, 'progress'>): Promise<BuildResult> {
  const model = await resolveAndInspect(params.spec, sinks, true);
  const built = await adoptTvmModule(params, model);
  return { ...built, model };
}

/** Verification against ONNX Runtime and a per-operator profile, when the spec asks for them. */
async function afterMeasurement(
  spec: RunSpec,
  model: ModelInfo,
  session: PreparedSession,
  backends: ReadonlyMap<BackendId, Backend>,
  sinks: RunSinks,
  fidelityPlan: FidelityPlan | null,
): Promise<Extras> {
  const extras: Extras = {};
  if (spec.tvm?.profile && session.profile) {
    sinks.progress('profiling operators');
    extras.operators = await session.profile();
  } else if (session.measure && session.profile) {
    // trtexec profiled its layers in a separate run of its own (--separateProfileRun): free here.
    const layers = await session.profile();
    if (layers.length > 0) extras.operators = [...layers].sort((a, b) => b.ms - a.ms);
  }
  if (spec.verify) {
    sinks.progress('verifying outputs against onnxruntime');
    const reference = backends.get('onnxruntime');
    if (!reference) throw new BadInputError('verification needs the onnxruntime backend');
    const refSession = await reference.prepare({
      spec: { ...spec, backend: 'onnxruntime', precision: model.precision },
      model,
      progress: () => {},
      signal: sinks.signal,
    });
    try {
      // TF32 keeps fp16's 10-bit mantissa in convolutions and matmuls: judged with fp16's tolerances.
      const tolerance = spec.precision === 'fp32' && spec.backend === 'pytorch' && spec.pytorch?.tf32 ? 'fp16' : spec.precision;
      extras.verification = compareOutputs(await refSession.outputs(), await session.outputs(), tolerance);
    } finally {
      await refSession.dispose();
    }
  }
  if (fidelityPlan) {
    const reference = backends.get('onnxruntime');
    if (!reference) throw new BadInputError('the fidelity check needs the onnxruntime backend');
    try {
      const result = await measureFidelity(spec, model, session, fidelityPlan, reference, sinks);
      if (result) extras.fidelity = result;
    } catch (e) {
      // The measurement stands: the run is saved with its samples, and says what went wrong.
      extras.error = `the fidelity check failed after measuring (the latencies are kept): ${(e as Error).message}`;
    }
  }
  return extras;
}

type Extras = Pick<RunFile, 'verification' | 'operators' | 'fidelity' | 'error'>;

export async function executeRun(
  spec: RunSpec,
  runId: string,
  backends: ReadonlyMap<BackendId, Backend>,
  sinks: RunSinks,
): Promise<RunFile> {
  checkSpec(spec);
  const createdAt = new Date().toISOString();
  const backend = await availableBackend(spec, backends);
  const model = await resolveAndInspect(spec, sinks, backend.convertsPrecision);
  const prepare = (why = '') => {
    sinks.progress(`loading ${model.builtin ?? model.path} in ${spec.backend}${why}`);
    return backend.prepare({ spec, model, progress: (m) => sinks.progress(m), signal: sinks.signal });
  };
  const session = await prepare();
  let fidelityPlan: FidelityPlan | null;
  try {
    fidelityPlan = await planFidelity(spec, model, session, (m) => sinks.progress(m));
  } catch (e) {
    await session.dispose();
    throw e;
  }
  // The session that verification and profiling use after measuring; with 2+ trials each trial
  // loads its own in a fresh process, so this one is let go before them (two copies of a model, a
  // TensorRT engine on a Jetson, would otherwise share the device's memory during the trials) and
  // loaded again afterwards only when the spec asks for verification or a profile.
  let live: PreparedSession | null = session;
  // Read now, after any build or tuning and right before measuring: the settings these samples ran under.
  const deviceState = await readDeviceState();
  const device = await deviceInfo(deviceState);
  const versions = runVersions(device.versions, spec.backend, session);
  const head: RunHead = { runId, createdAt, spec, device, versions, deviceState, model };
  sinks.prepared?.({ id: runId, createdAt, spec, device, versions, deviceState, model, artifact: session.artifact, timing: session.timing });

  const batcher = new SampleBatcher((phase, from, samples) => sinks.samples({ runId, phase, offset: from, latencyMs: samples.slice(from) }));
  let lastProgress = 0;
  // Where the current trial's current phase began: its first sample's start, and the samples before it.
  let trial = { index: 0, count: spec.trials ?? 1 };
  let current: { phase: Phase; startMs: number; before: number } | null = null;
  // When the last sample ended: a trial's end, once the next one begins.
  let lastSampleAt: number | null = null;
  // How many samples of each phase the hooks had seen (batches from trial processes bring many).
  const seen: Record<Phase, number> = { warmup: 0, measure: 0 };
  let result;
  let extras: Extras = {};
  // Snapshots of /proc around warm-up and measurement (outside the timed loop): what else ran.
  const contention = new ContentionWatch(device.cpuCount);
  let contentionFindings: Finding[] | null;
  // Power, clocks and temperatures in the background (null: no sensor readable here).
  const telemetry = await TelemetryWatch.open(deviceRoot(), telemetryHz(), device.gpus.some((g) => g.source === 'nvidia-smi') ? telemetryPython(spec) : null);
  let telemetryResult: Telemetry | undefined;
  try {
    if (telemetry) {
      await telemetry.start();
      const send = sinks.telemetry;
      if (send) telemetry.feed((batch) => send({ runId, ...batch }));
      if (telemetry.hasPower) {
        const idleMs = idleBaselineMs();
        if (idleMs > 0) sinks.progress(`idle baseline: ${(idleMs / 1000).toFixed(1)} s of power with the model loaded`);
        await telemetry.idle(idleMs, sinks.signal);
      }
    }
    // A session with its own loop (trtexec) measures every trial itself, each in its own process.
    const inProcesses = (spec.trials ?? 1) > 1 && !session.measure;
    if (inProcesses) {
      // From here to the first trial's first sample: its process starting and loading the model
      // (and this session going), not the idle baseline.
      telemetry?.mark('load');
      await session.dispose();
      live = null;
    }
    await contention.start();
    // One trial measures in this session; several each run in a fresh process (trialProcess.ts).
    const run = session.measure
      ? (hooks: MeasureHooks) => session.measure!(spec, hooks)
      : inProcesses
        ? (hooks: MeasureHooks) => runTrialsInProcesses(spec, model, hooks)
        : (hooks: MeasureHooks) => measure(session.infer, spec, hooks);
    result = await run({
      signal: sinks.signal,
      onTrial: (index, count) => {
        trial = { index, count };
        current = null;
        // The trial's process starts and loads the model: neither the idle baseline nor the previous
        // trial's measurement (which ended with its last sample).
        if (index > 0 && lastSampleAt !== null) telemetry?.mark('load', lastSampleAt);
      },
      onPhase: (phase) => {
        const now = performance.now();
        current = { phase, startMs: now, before: 0 };
        telemetry?.mark(phase, now);
      },
      onSample: (phase, samples, startsMs) => {
        const now = performance.now();
        const last = samples.length - 1;
        // The last sample's end: its start plus its latency where the loop gave starts (a trial
        // process's batches arrive up to 100 ms after their samples), else now.
        lastSampleAt = startsMs?.[last] !== undefined ? startsMs[last]! + samples[last]! : now;
        if (current?.phase !== phase) {
          const before = seen[phase];
          const first = startsMs?.[before];
          current = { phase, startMs: first ?? now - (samples[last] ?? 0), before };
          telemetry?.mark(phase, current.startMs);
        }
        seen[phase] = samples.length;
        batcher.onSample(phase, samples, now);
        if (now - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = now;
          sinks.progress(...phaseProgress(phase, samples.length - current.before, now - current.startMs, spec, trial));
        }
      },
    });
    contentionFindings = await contention.findings();
    telemetryResult = await telemetry?.finish(result.latencyMs.length, result.startMs);
    if (!result.error && !result.cancelled && (spec.verify || spec.tvm?.profile || session.measure || fidelityPlan)) {
      live ??= await prepare(' again: the trials ran in their own processes');
      extras = await afterMeasurement(spec, model, live, backends, sinks, fidelityPlan);
    }
  } finally {
    telemetry?.stop();
    await live?.dispose().catch(() => undefined);
  }
  batcher.finish(result);

  return assembleRun({
    head,
    artifact: session.artifact,
    timing: session.timing,
    samples: { latencyMs: result.latencyMs, warmupLatencyMs: result.warmupMs },
    cancelled: result.cancelled,
    error: result.error ? `${spec.backend} failed during the run: ${result.error.message}` : (extras.error ?? null),
    extras,
    contention: contentionFindings,
    backendFindings: session.findings?.() ?? [],
    trials: result.trials,
    ...(telemetryResult ? { telemetry: telemetryResult } : {}),
  });
}

/** What every run file starts from: the job, where it ran, with what and under which settings. */
export interface RunHead {
  runId: string;
  createdAt: string;
  spec: RunSpec;
  device: RunFile['device'];
  versions: RunFile['versions'];
  deviceState: DeviceState;
  model: RunFile['model'];
}

/** The run file of a finished job (measured, cancelled or failed): one layout for every kind of
 * job (a backend's run, a pipeline run). */
export function assembleRun(o: {
  head: RunHead;
  artifact: RunFile['artifact'];
  timing: RunFile['timing'];
  samples: RunFile['samples'];
  cancelled: boolean;
  /** The failure in words, null when the job did not fail. */
  error: string | null;
  extras?: Partial<RunFile>;
  /** What else used the CPUs during the run (ContentionWatch); null or absent when not sampled. */
  contention?: Finding[] | null;
  /** The backend's own findings about the measurement (trtexec's warnings). */
  backendFindings?: Finding[];
  /** Each trial's sample counts (measure()); kept in the run file when the spec asked for 2+ trials. */
  trials?: ReadonlyArray<{ warmupCount: number; count: number }>;
  /** What the sensors saw during the run (TelemetryWatch); absent where none could be read. */
  telemetry?: Telemetry;
}): RunFile {
  const { runId, createdAt, spec, device, versions, deviceState, model } = o.head;
  const run: RunFile = {
    schemaVersion: RUN_SCHEMA_VERSION,
    id: runId,
    createdAt,
    finishedAt: new Date().toISOString(),
    spec,
    device,
    versions,
    deviceState,
    model,
    artifact: o.artifact,
    timing: o.timing,
    samples: o.samples,
    stats: computeStats(o.samples.latencyMs),
    status: o.error ? 'failed' : o.cancelled ? 'cancelled' : 'ok',
    ...o.extras,
  };
  if ((spec.trials ?? 1) > 1 && o.trials) run.trials = trialSummaries(o.samples.latencyMs, o.trials);
  if (o.telemetry) run.telemetry = o.telemetry;
  if (run.stats) run.validity = runValidity({ spec, device, deviceState, samples: o.samples, stats: run.stats, ...(o.telemetry ? { telemetry: o.telemetry } : {}) }, o.contention ?? null, o.backendFindings ?? []);
  if (o.error) run.error = o.error;
  return run;
}

/** A phase's progress line and the job's overall percentage (monotonic across phases: warm-up
 * fills the first 10% of a trial, measuring the rest; trials share the job equally). A phase ends
 * when it has both its iterations and its time, so the fraction done is the smaller of the two. */
export function phaseProgress(
  phase: Phase,
  done: number,
  elapsedMs: number,
  spec: Pick<RunSpec, 'warmup' | 'warmupMs' | 'iterations' | 'durationS'>,
  trial: { index: number; count: number } = { index: 0, count: 1 },
): [string, number] {
  const [count, ms] = phase === 'warmup' ? [spec.warmup, spec.warmupMs] : [spec.iterations, spec.durationS * 1000];
  const fraction = Math.min(1, count > 0 ? done / count : 1, ms > 0 ? elapsedMs / ms : 1);
  const label = `${trial.count > 1 ? `trial ${trial.index + 1}/${trial.count}, ` : ''}${phase === 'warmup' ? 'warm-up' : 'measuring'}`;
  // Past its count, a timed phase is waiting for its time: say so rather than "45/1 iterations".
  const what = ms > 0 && done >= count ? `${done} iterations, ${(elapsedMs / 1000).toFixed(1)} of ${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${done}/${count} iterations`;
  const inTrial = phase === 'warmup' ? 0.1 * fraction : 0.1 + 0.9 * fraction;
  const overall = Math.floor((100 * (trial.index + inTrial)) / trial.count + 1e-9);
  return [`${label}: ${what}`, overall];
}
