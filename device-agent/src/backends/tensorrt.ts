// TensorRT through the native addon (native/src/tensorrt/runner.cpp), run in the native worker
// process: engine build from ONNX (FP32/FP16/INT8 with entropy calibration on preprocessed frames,
// workspace limit, timing cache, calibration cache), engines cached by hash of (model, flags,
// TensorRT version, GPU), inference with enqueueV3 timed by CUDA events (optionally a CUDA graph),
// per-layer times through IProfiler. Where the addon has no TensorRT, status() says so and how to
// get it. With `tensorrt.runner: 'trtexec'` the device's trtexec builds and runs the engine instead
// (trtexec.ts), into the same engine cache under the same key.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { letterbox, syntheticScene } from '../../../models/src/frames';
import { cacheDir } from '../../../contract/cacheDir';
import { BackendUnavailableError, BadInputError } from '../errors';
import type { NativeBuildInfo } from '../native/binding';
import { NativeWorker } from '../native/client';
import { TENSORRT_MISSING } from '../native/messages';
import type { ArtifactInfo, BackendStatus, BuildResult, ModelInfo, RunSpec } from '../../../contract/protocol';
import type { Backend, PreparedSession, PrepareRequest } from './backend';
import { deviceInfo } from '../deviceInfo';
import { locateTrtexec, tensorrtOptions, trtexecEngine, trtexecSession, trtexecVersion } from './trtexec';
import { trtexecMissingMessage } from '../../../contract/trtexec';

/** The trtexec runner's status: trtexec found and its TensorRT version read (when available, the
 * reason says which trtexec). */
async function trtexecStatus(spec: RunSpec | undefined): Promise<BackendStatus> {
  const found = await locateTrtexec(spec ? tensorrtOptions(spec).trtexec : null);
  if ('searched' in found) return { id: 'tensorrt', available: false, reason: trtexecMissingMessage(found.searched), version: null, precisions: [] };
  const version = await trtexecVersion(found.file);
  if (version instanceof Error) return { id: 'tensorrt', available: false, reason: version.message, version: null, precisions: [] };
  return { id: 'tensorrt', available: true, reason: spec ? null : found.file, version, precisions: ['fp32', 'fp16', 'int8'] };
}

/** TensorRT's builder workspace limit (MemoryPoolType::kWORKSPACE). */
const WORKSPACE_BYTES = 1 << 30;
/** INT8 calibration frames: synthetic 1080p scenes, letterboxed like real input. */
const CALIBRATION_FRAMES = 16;

export interface TensorRtEngineKey {
  modelSha256: string;
  precision: RunSpec['precision'];
  workspaceBytes: number;
  tensorrt: string;
  gpu: string;
}

/** The engine cache key: a serialized engine is valid for one model, flags, TensorRT and GPU. */
export function engineKey(k: TensorRtEngineKey): string {
  return createHash('sha256').update(JSON.stringify(k)).digest('hex').slice(0, 24);
}

export function engineDir(): string {
  return path.join(cacheDir(), 'artifacts', 'tensorrt');
}

export class TensorRtBackend implements Backend {
  readonly id = 'tensorrt' as const;
  readonly convertsPrecision = true;
  private info: Promise<NativeBuildInfo | { error: string }> | null = null;

  /** What the native addon was built with (asked once, in a short-lived worker). */
  nativeInfo(): Promise<NativeBuildInfo | { error: string }> {
    this.info ??= (async () => {
      const worker = NativeWorker.start();
      try {
        return await worker.info();
      } catch (e) {
        return { error: (e as Error).message };
      } finally {
        await worker.dispose();
      }
    })();
    return this.info;
  }

  async status(spec?: RunSpec): Promise<BackendStatus> {
    if (spec && tensorrtOptions(spec).runner === 'trtexec') return trtexecStatus(spec);
    const native = await this.nativeStatus();
    if (native.available || spec) return native;
    // The device's summary (`jetbench info`): where the native runner cannot run, say whether trtexec can.
    const trtexec = await trtexecStatus(undefined);
    return {
      ...native,
      reason: `${(native.reason ?? '').replace(/\.?$/, '.')} ${trtexec.available ? `The trtexec runner works here: --runner trtexec (TensorRT ${trtexec.version}, ${trtexec.reason}).` : 'No trtexec either (the other runner, --runner trtexec): it ships with TensorRT, at /usr/src/tensorrt/bin/trtexec on a Jetson.'}`,
    };
  }

  private async nativeStatus(): Promise<BackendStatus> {
    const info = await this.nativeInfo();
    const unavailable = (reason: string): BackendStatus => ({ id: this.id, available: false, reason, version: null, precisions: [] });
    if ('error' in info) return unavailable(`TensorRT runs through the native addon, which is unavailable: ${info.error}`);
    if (!info.tensorrt) return unavailable(TENSORRT_MISSING);
    if (info.cudaStatus.devices === 0) return unavailable(`TensorRT needs a CUDA GPU: ${info.cudaStatus.reason}`);
    return { id: this.id, available: true, reason: null, version: info.tensorrt, precisions: ['fp32', 'fp16', 'int8'] };
  }

  /** Where the engine for this spec lives in the cache, keyed as the native runner keys it (the
   * GPU by CUDA's name where the native addon can tell it, else by the device's GPU name). */
  private async engineFor(spec: RunSpec, model: ModelInfo, tensorrt: string) {
    const info = await this.nativeInfo();
    const gpu = !('error' in info) && info.cudaStatus.devices > 0 ? info.cudaStatus.deviceName : ((await deviceInfo()).gpus[0]?.name ?? 'unknown GPU');
    const key = engineKey({ modelSha256: model.sha256, precision: spec.precision, workspaceBytes: WORKSPACE_BYTES, tensorrt, gpu });
    const dir = engineDir();
    return {
      enginePath: path.join(dir, `${key}.engine`),
      timingCachePath: path.join(dir, `timing-${tensorrt}-${gpu.replace(/[^A-Za-z0-9]+/g, '_')}.cache`),
      calibrationCachePath: path.join(dir, `${key}.calibration`),
      workspaceBytes: WORKSPACE_BYTES,
      gpu,
    };
  }

  async build(req: PrepareRequest): Promise<Omit<BuildResult, 'model'>> {
    if (tensorrtOptions(req.spec).runner === 'trtexec') {
      const engine = await trtexecEngine(req, (v) => this.engineFor(req.spec, req.model, v));
      return { artifact: engine.artifact, cached: engine.artifact.flags.cached === true, tuningLog: null };
    }
    const { spec, model, progress } = req;
    const status = await this.status();
    if (!status.available) throw new BackendUnavailableError(status.reason ?? 'TensorRT is unavailable');
    const built = await buildTensorRtEngine(spec, model, progress, () => this.nativeInfo());
    await built.worker.dispose();
    return { artifact: built.artifact, cached: built.cached, tuningLog: null };
  }

  async prepare(req: PrepareRequest): Promise<PreparedSession> {
    if (tensorrtOptions(req.spec).runner === 'trtexec') return trtexecSession(req, await trtexecEngine(req, (v) => this.engineFor(req.spec, req.model, v)));
    const { spec, model, progress } = req;
    const status = await this.status();
    if (!status.available) throw new BackendUnavailableError(status.reason ?? 'TensorRT is unavailable');
    const built = await buildTensorRtEngine(spec, model, progress, () => this.nativeInfo());
    const worker = built.worker;
    return {
      infer: () => worker.inferTensorRt(),
      timing: {
        clock: 'CUDA events on the inference stream (enqueueV3 ... stream synchronize)',
        spans: `one enqueueV3 of the engine${built.cudaGraph ? ' replayed as a CUDA graph' : ''} on device-resident buffers (no host copies)`,
        span: 'trt-compute',
        executionProvider: `tensorrt ${built.libraryVersion} on ${built.gpu}`,
        threads: null,
      },
      artifact: built.artifact,
      outputs: async () => {
        throw new BadInputError('--verify is not available for tensorrt yet: compare with a separate onnxruntime run');
      },
      profile: async () => (await worker.profileTensorRt()).map((l) => ({ name: l.name, ms: l.ms, calls: 1 })),
      runtimeVersion: built.libraryVersion,
      dispose: () => worker.dispose(),
    };
  }
}

/** Builds the engine (or reuses the cached one) and opens it in a native worker. */
export async function buildTensorRtEngine(
  spec: RunSpec,
  model: ModelInfo,
  progress: (m: string) => void,
  buildInfo: () => Promise<NativeBuildInfo | { error: string }>,
): Promise<{ worker: NativeWorker; artifact: ArtifactInfo; cached: boolean; cudaGraph: boolean; libraryVersion: string; gpu: string }> {
  const info = await buildInfo();
  if ('error' in info || !info.tensorrt) throw new BackendUnavailableError('error' in info ? info.error : TENSORRT_MISSING);
  if (spec.precision === 'bf16') throw new BadInputError('the tensorrt backend builds fp32, fp16 or int8 engines here: use --precision fp16 (bf16 runs with --backend pytorch)');
  if (model.precision !== 'fp32') {
    throw new BadInputError(`TensorRT builds ${spec.precision} engines from the fp32 model: use the fp32 model (e.g. --model ${model.builtin?.replace(/-(fp16|int8)$/, '') ?? 'model.onnx'}) with --precision ${spec.precision}`);
  }
  const gpu = info.cudaStatus.deviceName;
  const key = engineKey({ modelSha256: model.sha256, precision: spec.precision, workspaceBytes: WORKSPACE_BYTES, tensorrt: info.tensorrt, gpu });
  const dir = engineDir();
  await mkdir(dir, { recursive: true });
  const enginePath = path.join(dir, `${key}.engine`);
  const cached = existsSync(enginePath);
  const input = model.inputs[0];
  const size = typeof input?.shape[2] === 'number' ? input.shape[2] : 640;
  const calibrationInputs =
    !cached && spec.precision === 'int8' ? Array.from({ length: CALIBRATION_FRAMES }, (_, i) => letterbox(syntheticScene(1920, 1080, 1000 + i, 12), size)) : undefined;
  const cudaGraph = process.env.JETBENCH_TENSORRT_CUDA_GRAPH === '1';
  progress(cached ? `reusing TensorRT engine ${enginePath}` : `building a ${spec.precision} TensorRT engine (this takes minutes)`);
  const worker = NativeWorker.start();
  try {
    const opened = await worker.openTensorRt({
      build: cached
        ? null
        : {
            onnxPath: model.path,
            enginePath,
            precision: spec.precision,
            workspaceBytes: WORKSPACE_BYTES,
            timingCachePath: path.join(dir, `timing-${info.tensorrt}-${gpu.replace(/[^A-Za-z0-9]+/g, '_')}.cache`),
            calibrationCachePath: path.join(dir, `${key}.calibration`),
            ...(calibrationInputs ? { calibrationInputs } : {}),
          },
      enginePath,
      cudaGraph,
    });
    const bytes = (await stat(enginePath)).size;
    return {
      worker,
      cached,
      cudaGraph,
      gpu,
      libraryVersion: opened.libraryVersion,
      artifact: {
        kind: 'tensorrt-engine',
        path: enginePath,
        bytes,
        buildMs: opened.buildMs ?? 0,
        flags: { precision: spec.precision, workspaceBytes: WORKSPACE_BYTES, tensorrt: info.tensorrt, gpu, cudaGraph, calibrated: opened.calibrated, cached },
      },
    };
  } catch (e) {
    await worker.dispose();
    throw e;
  }
}
