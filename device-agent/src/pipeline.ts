// One pipeline job from RunSpec (with `pipeline`) to RunFile: validate, resolve the model, run
// the frames in the native worker (preprocess -> inference -> postprocess, each stage timed),
// stream per-frame records as samples, and compute statistics per stage with the stats module.
import { BadInputError } from './errors';
import { deviceInfo } from './deviceInfo';
import { readDeviceState } from './deviceState';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from '../../contract/cacheDir';
import { detectorFor } from '../../models/src/detector';
import { packNanodetHeads } from '../../models/src/nanodet';
import { resolveFrameSource } from './builtinFrames';
import { inspectModel } from './modelInfo';
import type { NativePreprocess } from './native/binding';
import { nativeBuildDir, nativeSourceDir, nativeSourceHash } from '../../contract/nativeSources';
import { buildNative } from './native/build';
import { NativeWorker } from './native/client';
import { nativeAddonCandidates } from './native/loader';
import type { PipelineJob } from './native/messages';
import { type ModelInfo, type PipelineDecoder, type PipelineInfo, type RunFile, type RunSpec, type TimingInfo } from '../../contract/protocol';
import { assembleRun, resolveAndInspect, type RunHead, type RunSinks } from './runner';
import { exportTorchScript } from './backends/pytorch';
import { checkSpec } from './requestChecks';
import { runVersions } from './runVersions';
import { computeStats } from '../../contract/stats';


export async function executePipeline(spec: RunSpec, runId: string, sinks: RunSinks, env: NodeJS.ProcessEnv = process.env): Promise<RunFile> {
  checkSpec(spec);
  const options = spec.pipeline!;
  if (spec.backend !== 'onnxruntime' && spec.backend !== 'pytorch') {
    throw new BadInputError(
      spec.backend === 'tensorrt'
        ? 'the pipeline runs TensorRT on device buffers through the native addon, which this device has not built with TensorRT: use --backend onnxruntime or pytorch, or install TensorRT and rebuild the addon (node agent.js build-native --force)'
        : `the pipeline's inference stage needs a backend that runs in the native worker (onnxruntime, pytorch on CUDA through libtorch, or tensorrt where built): ${spec.backend} cannot`,
    );
  }
  const torch = spec.backend === 'pytorch';
  const createdAt = new Date().toISOString();
  // ONNX Runtime runs the stored model of the spec's precision; PyTorch converts the fp32 model itself.
  const model = await resolveAndInspect(spec, sinks, torch);
  if (!torch && spec.precision !== model.precision) {
    throw new BadInputError(`model '${model.builtin ?? model.path}' is stored in ${model.precision}: use --precision ${model.precision}`);
  }
  const [input] = model.inputs;
  const inShape = input?.shape ?? [];
  if (model.inputs.length !== 1 || inShape.length !== 4 || inShape[0] !== 1 || inShape[1] !== 3 || typeof inShape[2] !== 'number' || inShape[2] !== inShape[3]) {
    throw new BadInputError(`the pipeline needs one square image input 1 x 3 x S x S; '${model.builtin ?? model.path}' has ${model.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join('; ')}`);
  }
  const detector = detectorFor(model);
  const yoloShape = model.outputs[0]?.shape ?? [];
  if (!detector || (detector.family === 'yolov5' && (yoloShape[0] !== 1 || typeof yoloShape[1] !== 'number'))) {
    throw new BadInputError(
      `the model's outputs are ${model.outputs.map((o) => `[${o.shape.join(', ')}]`).join(', ')}: the pipeline's postprocess decodes YOLOv5 (one output 1 x N x (5 + classes): boxes, objectness, class scores) and NanoDet (six heads: 1 x cells x 80 scores and 1 x cells x 44 box bins per stride 8, 16, 32)`,
    );
  }
  // NanoDet's six heads run packed into one tensor (three Concat nodes at the end of the graph), so
  // every inference writes the one output buffer the native decode reads.
  const runModel = detector.family === 'nanodet' ? await packedNanodet(model, sinks.progress) : model;
  const [output] = runModel.outputs;
  const decoder: PipelineDecoder = {
    family: detector.family,
    scoreThreshold: options.confThreshold ?? detector.scoreThreshold,
    iouThreshold: options.iouThreshold ?? detector.iouThreshold,
    maxDetections: options.maxDetections ?? detector.maxDetections,
  };
  // The detector's own input transform (models/src/detector.ts), done natively.
  const preprocess: NativePreprocess = detector.input;
  // PyTorch: the model traced to TorchScript on CUDA in the run's precision, run by libtorch in the
  // pipeline's device buffers (the native addon must be built with it).
  const exported = torch ? await exportTorchScript(spec, runModel, (m) => sinks.progress(m), sinks.signal) : null;
  const half = spec.precision === 'fp16';
  const job: PipelineJob = {
    options: { ...options, source: await resolveFrameSource(options.source, sinks.progress) },
    decoder,
    preprocess,
    modelPath: runModel.path,
    input: exported ? { ...input!, dtype: half ? 'float16' : 'float32' } : input!,
    output: exported ? { ...output!, dtype: exported.outputDtype } : output!,
    ...(exported ? { torchscript: exported.file } : {}),
    threads: spec.threads,
    warmup: spec.warmup,
    warmupMs: spec.warmupMs,
    iterations: spec.iterations,
    durationS: spec.durationS,
  };
  const deviceState = await readDeviceState();
  const device = await deviceInfo(deviceState);
  // Until the worker names the ONNX Runtime it loaded, the agent's own probe stands in.
  let head: RunHead = { runId, createdAt, spec, device, versions: device.versions, deviceState, model };
  const timing: TimingInfo = {
    clock: `per frame: host monotonic clock (performance.now) in the native worker; per stage: CUDA events on the pipeline stream (GPU stages, copies${torch ? ', inference' : ''}), host steady clock (CPU stages${torch ? '' : ', inference'})`,
    spans: 'one frame: every pipeline stage from the decoded frame in memory to the detections on the host (run.pipeline.stages), plus the calls between them',
    span: 'pipeline-frame',
    executionProvider: torch ? 'cuda (libtorch)' : 'cpu',
    threads: spec.threads,
  };
  // On an SSH device, deploy builds the addon (as the device's nativeBuild setting says); locally
  // nobody deploys, so the first pipeline builds it.
  if (spec.device === 'local') await ensureNativeAddon(sinks, env);
  sinks.progress(`starting the native worker (${options.mode}, ${options.memory} memory)`);
  const worker = NativeWorker.start(env);
  let result;
  try {
    let measured = 0;
    result = await worker.runPipeline(job, {
      // Set up without error: from here on the run is persisted as it goes (a daemon journals it),
      // and a failure keeps the frames measured.
      onReady: (ran) => {
        head = { ...head, versions: runVersions(device.versions, spec.backend, { runtimeVersion: ran.runtimeVersion }) };
        sinks.prepared?.({ id: runId, createdAt, spec, device, versions: head.versions, deviceState, model, artifact: exported?.artifact ?? null, timing });
      },
      onBatch: (b) => {
        sinks.samples({ runId, phase: b.phase, offset: b.offset, latencyMs: b.latencyMs, stagesMs: b.stagesMs });
        if (b.phase === 'measure') {
          measured = b.offset + b.latencyMs.length;
          sinks.progress(`measuring: ${measured}/${spec.iterations} frames`, Math.min(100, Math.floor((100 * measured) / spec.iterations)));
        }
      },
      onProgress: (m) => sinks.progress(m),
      signal: sinks.signal,
    });
  } finally {
    await worker.dispose();
  }
  const stageStats: PipelineInfo['stageStats'] = {};
  for (const [name, values] of Object.entries(result.stagesMs)) {
    const s = computeStats(values);
    if (s) stageStats[name] = s;
  }
  const nonInference = result.latencyMs.map((_, i) =>
    Object.entries(result.stagesMs)
      .filter(([name]) => name !== 'inference')
      .reduce((sum, [, v]) => sum + (v[i] ?? 0), 0),
  );
  return assembleRun({
    head,
    artifact: exported?.artifact ?? null,
    timing,
    samples: { latencyMs: result.latencyMs, warmupLatencyMs: result.warmupLatencyMs, stagesMs: result.stagesMs },
    cancelled: result.cancelled,
    error: result.error ? `the pipeline failed during the run: ${result.error}` : null,
    extras: {
      pipeline: {
        mode: options.mode,
        memory: options.memory,
        stages: result.plan.map(({ name, where, clock }) => ({ name, where, clock })),
        inference: { backend: spec.backend, where: torch ? 'device' : 'host', description: result.inferenceDescription },
        gpu: result.gpu,
        frames: result.frames,
        detections: result.detections,
        decoder,
        stageStats,
        nonInferenceStats: computeStats(nonInference),
      },
    },
  });
}

/** The model with NanoDet's heads packed (models/src/nanodet.ts packNanodetHeads), made once per
 * model file and kept next to the model cache by the file's hash. */
async function packedNanodet(model: ModelInfo, progress: (message: string) => void): Promise<ModelInfo> {
  // Keyed by the hash inspectModel already took: the 15 MB model is read again only to pack it.
  const file = path.join(cacheDir(), 'models', 'packed', `${path.basename(model.path, '.onnx')}-${model.sha256.slice(0, 16)}.onnx`);
  if (!existsSync(file)) {
    progress(`packing ${model.builtin ?? path.basename(model.path)}'s six heads into one output for the pipeline`);
    let packed: Uint8Array;
    try {
      packed = packNanodetHeads(await readFile(model.path));
    } catch (e) {
      throw new BadInputError(`'${model.builtin ?? model.path}' looks like NanoDet but its heads cannot be packed: ${(e as Error).message}`);
    }
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, packed);
    await rename(tmp, file);
  }
  return inspectModel(file, model.builtin);
}

/** The pipeline runs in the native worker: on first use on the local machine (a fresh set-up, a
 * new version of the sources), the addon is built here, with progress, and kept by source hash, as
 * deploy does on an SSH device. A failed build says what to install. */
async function ensureNativeAddon(sinks: Pick<RunSinks, 'progress'>, env: NodeJS.ProcessEnv): Promise<void> {
  if (env.JETBENCH_NATIVE_ADDON) return;
  const src = nativeSourceDir();
  if (!src) return; // the worker's loader says what is missing
  const hash = await nativeSourceHash(src);
  if (nativeAddonCandidates(hash).some((p) => existsSync(p))) return;
  sinks.progress('building the native addon for this device (first use, once per version; about a minute)');
  let last = 0;
  try {
    const built = await buildNative({
      sourceDir: src,
      log: (line) => {
        const now = Date.now();
        if (now - last < 2000) return;
        last = now;
        sinks.progress(`building the native addon: ${line.slice(0, 120)}`);
      },
    });
    sinks.progress(`native addon built: ${built.addonPath}`);
  } catch (e) {
    throw new BadInputError(
      `the pipeline needs the native addon, and building it on this device failed: ${(e as Error).message}. Install CMake (>= 3.18) and a C++17 compiler (e.g. sudo apt install cmake g++) and run again; the build log is in ${nativeBuildDir(hash)}/build.log`,
    );
  }
}
