// jetbench/detectFrames: a model in the spec's backend and precision run on real frames, one
// inference a frame, each timed, its detections decoded: the raw data of the adaptive-precision
// comparison (contract/adaptive.ts), where every policy is judged on the same frames. With
// `switching`, a live adaptive run: both precisions loaded, and per frame a threshold policy picks
// the one that runs from what the previous frame's choice detected.
import { performance } from 'node:perf_hooks';
import type { DetectFramesParams, DetectFramesResult, ModelInfo, RunSpec } from '../../contract/protocol';
import type { Frame } from '../../models/src/frames';
import type { Backend } from './backends/backend';
import type { BackendId } from '../../contract/protocol';
import { asInput, planFidelity, type FidelityPlan } from './fidelityRun';
import { openFrames } from './pipelineFrames';
import { availableBackend, resolveAndInspect, type RunSinks } from './runner';
import { checkSpec } from './requestChecks';
import { BadInputError, JobCancelledError } from './errors';
import { ThresholdStepper } from '../../contract/adaptive';
import type { InputData } from './inputs';
import type { PreparedSession } from './backends/backend';

const PROGRESS_EVERY_MS = 1000;
/** Untimed calls on the first frame before the timed ones (first-call allocations, autotuning). */
const WARMUP_CALLS = 2;

/** Mean absolute difference of two frames' grey levels (0..1), on every 4th pixel of every 4th row. */
export function frameDiff(a: Frame, b: Frame): number {
  if (a.width !== b.width || a.height !== b.height) return 1;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y += 4) {
    for (let x = 0; x < a.width; x += 4) {
      const i = (y * a.width + x) * 3;
      const ga = 0.114 * a.data[i]! + 0.587 * a.data[i + 1]! + 0.299 * a.data[i + 2]!;
      const gb = 0.114 * b.data[i]! + 0.587 * b.data[i + 1]! + 0.299 * b.data[i + 2]!;
      sum += Math.abs(ga - gb);
      n++;
    }
  }
  return n ? sum / n / 255 : 0;
}

export async function executeDetectFrames(params: DetectFramesParams, backends: ReadonlyMap<BackendId, Backend>, sinks: Pick<RunSinks, 'progress' | 'signal'>): Promise<DetectFramesResult> {
  const spec = checkSpec({ ...params.spec, fidelity: params.frames });
  const high = await openConfig(spec, backends, sinks);
  let low: Config | null = null;
  try {
    if (params.switching) {
      low = await openConfig(checkSpec({ ...params.switching.low, fidelity: params.frames }), backends, sinks);
      if (low.plan.detector.family !== high.plan.detector.family || low.plan.detector.inputSize !== high.plan.detector.inputSize) {
        throw new BadInputError(`switching needs two variants of one detector: ${low.spec.model} and ${high.spec.model} take different inputs or give different outputs`);
      }
    }
    const stepper = params.switching ? new ThresholdStepper(params.switching.policy) : null;
    sinks.progress(`decoding ${high.plan.frames} frame(s) of ${params.frames.source}`);
    // One frame in memory at a time (and the one before, for the frame difference): a video is
    // decoded as the frames are taken.
    const stream = await openFrames(high.plan.source, high.plan.frames, 12);
    const frames: DetectFramesResult['frames'] = [];
    let said = -Infinity;
    let previous: Frame | null = null;
    for await (const frame of stream.frames) {
      if (sinks.signal.aborted) throw new JobCancelledError('cancelled: no frames kept');
      const i = frames.length;
      if (performance.now() - said >= PROGRESS_EVERY_MS) {
        said = performance.now();
        sinks.progress(`${stepper ? 'switching' : spec.precision}: frame ${i + 1}/${high.plan.frames}`);
      }
      const diff = previous ? frameDiff(previous, frame) : 0;
      // Untimed calls on the first frame first (allocations, lazy initialisation), in every session.
      if (i === 0) for (const c of [high, ...(low ? [low] : [])]) for (let k = 0; k < WARMUP_CALLS; k++) await c.session.outputsFor!([c.input(frame)]);
      const useLow = stepper ? stepper.choose(i > 0 ? frames[i - 1]!.boxes : [], diff) : false;
      const c = useLow ? low! : high;
      const input = c.input(frame);
      const t0 = performance.now();
      const outputs = await c.session.outputsFor!([input]);
      const ms = performance.now() - t0;
      frames.push({ ms, boxes: c.plan.detector.decode(outputs, frame), diff, ...(stepper ? { low: useLow } : {}) });
      previous = frame;
    }
    return {
      model: high.model,
      source: stream.describe(frames.length),
      decoder: { family: high.plan.detector.family, scoreThreshold: high.plan.detector.scoreThreshold, iouThreshold: high.plan.detector.iouThreshold },
      spans: low
        ? `one call of the session the policy chose (${spec.precision} or ${low.spec.precision}, both loaded: ${high.session.timing.executionProvider}) on the frame's input, host clock in the agent, after ${WARMUP_CALLS} untimed calls of each; preprocessing, decoding and the policy's choice not included`
        : `one ${spec.backend} call on the frame's input (${high.session.timing.executionProvider}), host clock in the agent, after ${WARMUP_CALLS} untimed calls; preprocessing and decoding not included`,
      frames,
    };
  } finally {
    await low?.session.dispose();
    await high.session.dispose();
  }
}

interface Config {
  spec: RunSpec;
  model: ModelInfo;
  session: PreparedSession;
  plan: FidelityPlan;
  /** A frame as this model's input (its preprocess, its input type). */
  input(frame: Frame): InputData;
}

/** A configuration loaded and checked as a run's fidelity check checks it: a detector jetbench
 * decodes, a backend that takes frames, frames that exist (vtest fetched once). */
async function openConfig(spec: RunSpec, backends: ReadonlyMap<BackendId, Backend>, sinks: Pick<RunSinks, 'progress' | 'signal'>): Promise<Config> {
  const backend = await availableBackend(spec, backends);
  const model = await resolveAndInspect(spec, sinks, backend.convertsPrecision);
  sinks.progress(`loading ${model.builtin ?? model.path} in ${spec.backend} (${spec.precision})`);
  const session = await backend.prepare({ spec, model, progress: (m) => sinks.progress(m), signal: sinks.signal });
  try {
    const plan = (await planFidelity(spec, model, session, (m) => sinks.progress(m)))!;
    return { spec, model, session, plan, input: (frame) => asInput(model, plan.detector.preprocess(frame), plan.detector.inputSize) };
  } catch (e) {
    await session.dispose();
    throw e;
  }
}
