// jetbench/detectFrames: a model in the spec's backend and precision run on real frames, one
// inference a frame, each timed, its detections decoded: the raw data of the adaptive-precision
// comparison (contract/adaptive.ts), where every policy is judged on the same frames.
import { performance } from 'node:perf_hooks';
import type { DetectFramesParams, DetectFramesResult } from '../../contract/protocol';
import type { Frame } from '../../models/src/frames';
import type { Backend } from './backends/backend';
import type { BackendId } from '../../contract/protocol';
import { asInput, planFidelity } from './fidelityRun';
import { openFrames } from './pipelineFrames';
import { availableBackend, resolveAndInspect, type RunSinks } from './runner';
import { checkSpec } from './requestChecks';
import { JobCancelledError } from './errors';

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
  const backend = await availableBackend(spec, backends);
  const model = await resolveAndInspect(spec, sinks, backend.convertsPrecision);
  sinks.progress(`loading ${model.builtin ?? model.path} in ${spec.backend} (${spec.precision})`);
  const session = await backend.prepare({ spec, model, progress: (m) => sinks.progress(m), signal: sinks.signal });
  try {
    // The same checks as a run's fidelity check: a detector jetbench decodes, a backend that takes
    // frames, frames that exist (vtest fetched once).
    const plan = (await planFidelity(spec, model, session, (m) => sinks.progress(m)))!;
    sinks.progress(`decoding ${plan.frames} frame(s) of ${params.frames.source}`);
    // One frame in memory at a time (and the one before, for the frame difference): a video is
    // decoded as the frames are taken.
    const stream = await openFrames(plan.source, plan.frames, 12);
    const size = plan.detector.inputSize;
    const frames: DetectFramesResult['frames'] = [];
    let said = -Infinity;
    let previous: Frame | null = null;
    for await (const frame of stream.frames) {
      if (sinks.signal.aborted) throw new JobCancelledError('cancelled: no frames kept');
      const i = frames.length;
      if (performance.now() - said >= PROGRESS_EVERY_MS) {
        said = performance.now();
        sinks.progress(`${spec.precision}: frame ${i + 1}/${plan.frames}`);
      }
      const input = asInput(model, plan.detector.preprocess(frame), size);
      // Untimed calls on the first frame first (allocations, lazy initialisation).
      if (i === 0) for (let k = 0; k < WARMUP_CALLS; k++) await session.outputsFor!([input]);
      const t0 = performance.now();
      const outputs = await session.outputsFor!([input]);
      const ms = performance.now() - t0;
      frames.push({ ms, boxes: plan.detector.decode(outputs, frame), diff: previous ? frameDiff(previous, frame) : 0 });
      previous = frame;
    }
    return {
      model,
      source: stream.describe(frames.length),
      decoder: { family: plan.detector.family, scoreThreshold: plan.detector.scoreThreshold, iouThreshold: plan.detector.iouThreshold },
      spans: `one ${spec.backend} call on the frame's input (${session.timing.executionProvider}), host clock in the agent, after ${WARMUP_CALLS} untimed calls; preprocessing and decoding not included`,
      frames,
    };
  } finally {
    await session.dispose();
  }
}
