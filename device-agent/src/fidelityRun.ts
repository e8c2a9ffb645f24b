// A run's fidelity check (spec.fidelity, issue 16 item 4): after measuring, the session that was
// measured and the fp32 reference on ONNX Runtime both run on the same real frames; their
// detections, decoded by the model family's decoder (models/src/detector.ts), are compared by the
// contract's metric (contract/fidelity.ts) and land in run.fidelity.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fidelity, type FrameDetections } from '../../contract/fidelity';
import { fp32ModelFor } from '../../contract/modelNames';
import type { ModelInfo, RunFidelity, RunSpec } from '../../contract/protocol';
import { detectorFor, type Detector } from '../../models/src/detector';
import type { Backend, PreparedSession } from './backends/backend';
import { resolveFrameSource } from './builtinFrames';
import { BadInputError } from './errors';
import { toFloat16Bits, type InputData } from './inputs';
import { openFrames } from './pipelineFrames';
import { resolveAndInspect } from './runner';

const PROGRESS_EVERY_MS = 1000;

export interface FidelityPlan {
  detector: Detector;
  /** The frame source as a path on the device (vtest fetched). */
  source: string;
  frames: number;
}

/** Checked before anything is measured, so a run that cannot check its fidelity fails in seconds,
 * not after its measurement: the model is a detector jetbench can decode, the backend can feed
 * frames, and the frames exist (the built-in set fetched now). */
export async function planFidelity(spec: RunSpec, model: ModelInfo, session: PreparedSession, progress: (m: string) => void): Promise<FidelityPlan | null> {
  if (!spec.fidelity) return null;
  const detector = detectorFor(model);
  if (!detector) {
    throw new BadInputError(
      `--fidelity compares detections, and ${model.builtin ?? model.path} is not a detector jetbench can decode (NanoDet: 6 outputs of scores [.., 80] and boxes [.., 44]; YOLOv5: one [1, N, 5 + classes]; both with one square [1, 3, S, S] input): use nanodet-g or a YOLOv5 model, or drop --fidelity`,
    );
  }
  if (!session.outputsFor) {
    throw new BadInputError(`--fidelity runs the model on real frames, and the ${spec.backend} backend cannot feed its own inputs yet: use --backend onnxruntime, pytorch or tvm for the fidelity check`);
  }
  const source = await resolveFrameSource(spec.fidelity.source, progress);
  if (source !== 'synthetic' && !existsSync(source)) {
    throw new BadInputError(`frame source '${source}' is not a readable directory or file on the device: give --fidelity-source a video, an image or a directory of images there, or vtest (the built-in set)`);
  }
  return { detector, source, frames: spec.fidelity.frames };
}

export function asInput(model: ModelInfo, data: Float32Array, size: number): InputData {
  const dims = [1, 3, size, size];
  const dtype = model.inputs[0]!.dtype;
  if (dtype === 'float16') {
    const half = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) half[i] = toFloat16Bits(data[i]!);
    return { dtype, dims, data: half };
  }
  if (dtype !== 'float32') throw new BadInputError(`--fidelity feeds float frames; ${model.path}'s input is ${dtype}`);
  return { dtype, dims, data };
}

/** Runs the check: both models on every frame, then the metric. Null when the job is cancelled. */
export async function measureFidelity(
  spec: RunSpec,
  model: ModelInfo,
  session: PreparedSession,
  plan: FidelityPlan,
  reference: Backend,
  sinks: { progress(message: string, percentage?: number): void; signal: AbortSignal },
): Promise<RunFidelity | null> {
  const started = performance.now();
  const refName = model.builtin ? fp32ModelFor(model.builtin) : model.path;
  // Resolved as any run's model is (made on first use, a failure is the user's to fix).
  const refModel = model.builtin ? await resolveAndInspect({ ...spec, model: refName, precision: 'fp32' }, sinks, false) : model;
  // The reference itself (fp32 on ONNX Runtime): its detections are computed once and compared
  // with themselves, so a table of precisions (--vs) has its reference row.
  const itself = spec.backend === 'onnxruntime' && refModel.path === model.path;
  const refDetector = detectorFor(refModel);
  if (!refDetector || refDetector.family !== plan.detector.family || refDetector.inputSize !== plan.detector.inputSize) {
    throw new BadInputError(`the reference ${refName} does not take the same input or give the same outputs as ${model.builtin ?? model.path}`);
  }
  sinks.progress(`fidelity: decoding ${plan.frames} frame(s) of ${spec.fidelity!.source}`);
  // One frame in memory at a time (a video is decoded as the frames are taken).
  const stream = await openFrames(plan.source, plan.frames, 12);
  const refSession = itself
    ? null
    : await reference.prepare({
        spec: { ...spec, backend: 'onnxruntime', precision: refModel.precision, inputShape: null },
        model: refModel,
        progress: () => {},
        signal: sinks.signal,
      });
  const frames: FrameDetections[] = [];
  try {
    const size = plan.detector.inputSize;
    let said = -Infinity;
    let i = 0;
    for await (const frame of stream.frames) {
      if (sinks.signal.aborted) return null;
      if (performance.now() - said >= PROGRESS_EVERY_MS) {
        said = performance.now();
        sinks.progress(`fidelity: frame ${i + 1}/${plan.frames} against ${refName} (fp32, onnxruntime)`, Math.floor((100 * i) / plan.frames));
      }
      i++;
      const x = plan.detector.preprocess(frame);
      const test = plan.detector.decode(await session.outputsFor!([asInput(model, x, size)]), frame);
      const ref = refSession ? refDetector.decode(await refSession.outputsFor!([asInput(refModel, x, size)]), frame) : test;
      frames.push({ reference: ref, test });
    }
  } finally {
    await refSession?.dispose();
  }
  return {
    reference: { model: refName, backend: 'onnxruntime', precision: refModel.precision },
    ...(itself ? { itself: true } : {}),
    source: stream.describe(frames.length),
    frames: frames.length,
    decoder: { family: plan.detector.family, scoreThreshold: plan.detector.scoreThreshold, iouThreshold: plan.detector.iouThreshold },
    perFrame: frames.map((f) => ({ reference: f.reference.length, test: f.test.length })),
    result: fidelity(frames),
    ms: performance.now() - started,
  };
}
