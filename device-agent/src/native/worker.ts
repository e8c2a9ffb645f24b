// The native worker process (`node agent.js native-worker`, forked by client.ts): the only process
// that loads the native addon. It runs pipeline measurements (with ONNX Runtime as a host
// inference) and answers over IPC; a native crash ends it, and the agent reports that.
import { performance } from 'node:perf_hooks';
import type * as Ort from 'onnxruntime-node';
import { loadOnnxRuntime } from '../backends/onnxruntime';
import { BadInputError } from '../errors';
import { measure, type Phase } from '../measure';
import { loadFrames } from '../pipelineFrames';
import { SampleBatcher } from '../sampleBatcher';
import type { NativeAddon, NativePipeline, NativeStageRecord, NativeTensorRtEngine } from './binding';
import { loadNativeAddon } from './loader';
import type { PipelineJob, PipelineJobResult, TensorRtJob, TensorRtOpened, WorkerMessage, WorkerRequest } from './messages';
import { TENSORRT_MISSING } from './messages';
import { nativeSourceDir, nativeSourceHash } from '../../../contract/nativeSources';

class WorkerError extends Error {
  constructor(
    message: string,
    readonly code: 'EINVAL' | 'ENATIVE' | 'EUNAVAILABLE',
  ) {
    super(message);
  }
}

function send(m: WorkerMessage): void {
  process.send?.(m);
}

let addonPromise: Promise<NativeAddon> | null = null;
function addon(): Promise<NativeAddon> {
  addonPromise ??= (async () => {
    const src = nativeSourceDir();
    const loaded = loadNativeAddon(src ? await nativeSourceHash(src) : null);
    if ('error' in loaded) throw new WorkerError(loaded.error, 'EUNAVAILABLE');
    return loaded.addon;
  })();
  return addonPromise;
}

/** The cancellation of each pipeline job under way, by request id. */
const cancellations = new Map<number, AbortController>();

function tensorType(dtype: string, what: string): 'float32' | 'float16' {
  if (dtype === 'float32' || dtype === 'float16') return dtype;
  throw new WorkerError(`the model's ${what} is ${dtype}: the pipeline handles float32 and float16 models`, 'EINVAL');
}

async function runPipeline(id: number, job: PipelineJob, signal: AbortSignal): Promise<PipelineJobResult> {
  const native = await addon();
  const info = native.buildInfo();
  if (process.env.JETBENCH_NATIVE_TEST_CRASH === 'pipeline') native.crashForTest();
  const torch = job.torchscript ?? null;
  if (torch && !info.torch) {
    throw new WorkerError(
      'the pipeline runs PyTorch through libtorch in the native addon, which was built without it: rebuild the addon where a CUDA build of torch is importable (node agent.js build-native --force; JETBENCH_PYTHON picks the Python)',
      'EUNAVAILABLE',
    );
  }
  if (torch && info.cudaStatus.devices === 0) throw new WorkerError(`the pipeline's PyTorch inference runs on the GPU: ${info.cudaStatus.reason}`, 'EUNAVAILABLE');
  const ortLoaded = torch ? null : loadOnnxRuntime();
  if (ortLoaded && 'error' in ortLoaded) throw new WorkerError(ortLoaded.error, 'EUNAVAILABLE');
  const ort = ortLoaded && !('error' in ortLoaded) ? ortLoaded : null;

  const [, , inputSize] = job.input.shape as number[];
  const [, rows, cols] = job.output.shape as number[];
  const o = job.options;
  send({ id, event: 'progress', message: `loading ${o.frameCount} frame(s) from ${o.source}` });
  const loaded = await loadFrames(o.source, o.frameCount, o.objects);
  const pipeline: NativePipeline = new native.Pipeline({
    mode: o.mode,
    memory: o.memory,
    inference: torch ? 'device' : 'host',
    inputSize: inputSize!,
    inputType: tensorType(job.input.dtype, 'input'),
    outputRows: rows!,
    outputCols: cols!,
    outputType: tensorType(job.output.dtype, 'output'),
    nms: {
      head: job.decoder.family,
      inputSize: inputSize!,
      confThreshold: job.decoder.scoreThreshold,
      iouThreshold: job.decoder.iouThreshold,
      maxDetections: job.decoder.maxDetections,
    },
    preprocess: job.preprocess,
  });
  let session: Ort.InferenceSession | null = null;
  try {
    const slots = loaded.frames.map((f) => pipeline.addFrame(f.data, f.width, f.height, f.width * 3));
    let inferOnHost: (() => Promise<void>) | null = null;
    if (torch) {
      send({ id, event: 'progress', message: `loading ${torch} in libtorch ${info.torch} on ${info.cudaStatus.deviceName}` });
      pipeline.useTorchInference(torch);
    } else {
      session = await ort!.ort.InferenceSession.create(job.modelPath, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        interOpNumThreads: 1,
        logSeverityLevel: 3,
        ...(job.threads !== null ? { intraOpNumThreads: job.threads } : {}),
      });
      // The model reads the pipeline's input buffer in place: no copy between preprocess and inference.
      const input = new ort!.ort.Tensor(job.input.dtype as 'float32' | 'float16', pipeline.inputView(), job.input.shape as number[]);
      const output = pipeline.outputView();
      const feeds = { [job.input.name]: input };
      const outputName = job.output.name;
      const s = session;
      inferOnHost = async () => {
        const results = await s.run(feeds);
        output.set(results[outputName]!.data as Float32Array & Uint16Array);
      };
    }

    const stagesMs: Record<Phase, Record<string, number[]>> = { warmup: {}, measure: {} };
    const detections: number[] = [];
    let frame = 0;
    // infer() cannot know its phase (measure() decides after it returns): onSample files the
    // frame's records under the phase measure() reports.
    let pending: { stages: NativeStageRecord[]; detections: number } | null = null;
    const batcher = new SampleBatcher((p, from, samples) => {
      const stages: Record<string, number[]> = {};
      for (const [k, v] of Object.entries(stagesMs[p])) stages[k] = v.slice(from, samples.length);
      send({ id, event: 'batch', phase: p, offset: from, latencyMs: samples.slice(from), stagesMs: stages });
    });
    const infer = async (): Promise<number> => {
      const slot = slots[frame++ % slots.length]!;
      const t0 = performance.now();
      if (!inferOnHost) {
        // The whole frame on the pipeline's stream, libtorch's kernels between the GPU stages.
        const done = await pipeline.runFrame(slot);
        pending = { stages: done.stages, detections: done.detections.length / 6 };
        return performance.now() - t0;
      }
      const before = await pipeline.beforeInference(slot);
      const ti = performance.now();
      await inferOnHost();
      const inferenceMs = performance.now() - ti;
      const after = await pipeline.afterInference();
      const total = performance.now() - t0;
      pending = { stages: [...before.stages, { name: 'inference', where: 'cpu', clock: 'host', ms: inferenceMs }, ...after.stages], detections: after.detections.length / 6 };
      return total;
    };
    send({ id, event: 'ready', runtimeVersion: torch ? info.torch! : ort!.version });
    const result = await measure(infer, job, {
      signal,
      onSample: (p, samples) => {
        if (pending) {
          for (const s of pending.stages) (stagesMs[p][s.name] ??= []).push(s.ms);
          if (p === 'measure') detections.push(pending.detections);
          pending = null;
        }
        batcher.onSample(p, samples);
      },
    });
    batcher.finish(result);
    const plan = torch ? pipeline.plan() : pipeline.plan().map((s) => (s.name === 'inference' ? { ...s, where: 'cpu' as const, clock: 'host' as const } : s));
    return {
      warmupLatencyMs: result.warmupMs,
      latencyMs: result.latencyMs,
      stagesMs: stagesMs.measure,
      detections,
      plan,
      frames: { source: loaded.source, count: loaded.frames.length, width: loaded.frames[0]!.width, height: loaded.frames[0]!.height },
      gpu: info.cudaStatus.devices > 0 ? info.cudaStatus.deviceName : null,
      inferenceDescription: torch
        ? `PyTorch ${info.torch} (libtorch, TorchScript traced on CUDA) on ${info.cudaStatus.deviceName}, in the pipeline's device buffers on its CUDA stream (no host round trip)`
        : `onnxruntime ${ort!.version} (CPU execution provider) on host buffers`,
      cancelled: result.cancelled,
      error: result.error ? result.error.message : null,
    };
  } finally {
    await session?.release();
    pipeline.close();
  }
}

let engine: NativeTensorRtEngine | null = null;

async function openTensorRt(job: TensorRtJob): Promise<TensorRtOpened> {
  const native = await addon();
  const trt = native.tensorrt;
  if (!trt) throw new WorkerError(TENSORRT_MISSING, 'EUNAVAILABLE');
  let built: { buildMs: number; calibrated: boolean; log: string } | null = null;
  if (job.build) built = await trt.build(job.build);
  engine?.close();
  engine = new trt.Engine(job.enginePath, job.cudaGraph);
  return { engineBytes: engine.engineBytes(), buildMs: built?.buildMs ?? null, calibrated: built?.calibrated ?? false, log: built?.log ?? '', libraryVersion: trt.libraryVersion };
}

function openEngine(): NativeTensorRtEngine {
  if (!engine) throw new WorkerError('no TensorRT engine is open in the native worker', 'ENATIVE');
  return engine;
}

async function handle(req: WorkerRequest): Promise<void> {
  try {
    switch (req.op) {
      case 'tensorrt.open':
        send({ id: req.id, event: 'result', value: await openTensorRt(req.job) });
        return;
      case 'tensorrt.infer':
        send({ id: req.id, event: 'result', value: await openEngine().inferTimed() });
        return;
      case 'tensorrt.profile':
        send({ id: req.id, event: 'result', value: await openEngine().profileLayers() });
        return;
      case 'info':
        send({ id: req.id, event: 'result', value: (await addon()).buildInfo() });
        return;
      case 'pipeline': {
        const cancellation = new AbortController();
        cancellations.set(req.id, cancellation);
        try {
          send({ id: req.id, event: 'result', value: await runPipeline(req.id, req.job, cancellation.signal) });
        } finally {
          cancellations.delete(req.id);
        }
        return;
      }
      case 'cancel':
        cancellations.get(req.target)?.abort();
        return;
      case 'crash':
        (await addon()).crashForTest();
    }
  } catch (e) {
    const code = e instanceof WorkerError ? e.code : e instanceof BadInputError || (e as { code?: string }).code === 'EINVAL' ? 'EINVAL' : 'ENATIVE';
    send({ id: req.id, event: 'error', message: (e as Error).message, code });
  }
}

export function runNativeWorker(): void {
  if (!process.send) {
    process.stderr.write('native-worker: this command is started by the agent (it needs an IPC channel)\n');
    process.exit(2);
  }
  process.on('message', (m: WorkerRequest) => void handle(m));
  // The agent went away: nothing left to serve.
  process.on('disconnect', () => process.exit(0));
}
