// The native addon's whole surface (native/src/node/addon.cpp), typed. Only loader.ts requires the
// .node file; only the native worker process (worker.ts) calls it, so a native crash ends that
// process and never the agent.
import type { MemoryMode, PipelineMode, StagePlace } from '../../../contract/protocol';
import type { FramePreprocess } from '../../../models/src/detector';

export type NativeTensorType = 'float32' | 'float16';

export interface NativeBuildInfo {
  version: string;
  /** Hash of the sources it was built from (sources.ts nativeSourceHash). */
  sourceHash: string;
  cuda: boolean;
  cudaArchitectures: string;
  /** TensorRT version compiled against, null when it was not found at build time. */
  tensorrt: string | null;
  /** libtorch (PyTorch) version linked for the pipeline's PyTorch inference, null when not built with it. */
  torch: string | null;
  compiler: string;
  cudaStatus: { compiled: boolean; devices: number; deviceName: string; runtimeVersion: number; reason: string };
}

export interface NativeStageRecord {
  name: string;
  where: StagePlace;
  clock: 'cuda-event' | 'host';
  ms: number;
}

export interface NativeNmsOptions {
  /** The model's head layout (native detect.h); yolov5 when absent. */
  head?: 'yolov5' | 'nanodet';
  /** NanoDet: the square input's side (fixes the cells per stride). */
  inputSize?: number;
  confThreshold?: number;
  iouThreshold?: number;
  maxDetections?: number;
  maxCandidates?: number;
}

/** The model's preprocess (native letterbox.h): YOLOv5's letterbox, or NanoDet's stretch with its
 * per-channel mean and std (B, G, R). */
export type NativePreprocess = FramePreprocess;

export interface NativePipelineOptions {
  mode: PipelineMode;
  memory: MemoryMode;
  inference: 'host' | 'device';
  inputSize: number;
  inputType: NativeTensorType;
  outputRows: number;
  outputCols: number;
  outputType: NativeTensorType;
  nms?: NativeNmsOptions;
  preprocess?: NativePreprocess;
}

/** Detections as rows of 6 floats: x1, y1, x2, y2, score, class. */
export interface NativeFrameResult {
  stages: NativeStageRecord[];
  detections: Float32Array;
}

export interface NativePipeline {
  /** Copies a BGR HWC uint8 frame into a frame slot in the pipeline's memory mode; returns the slot. */
  addFrame(data: Uint8Array, width: number, height: number, strideBytes: number): number;
  /** The model input / output as typed arrays over native memory (float16 as raw bits). */
  inputView(): Float32Array | Uint16Array;
  outputView(): Float32Array | Uint16Array;
  plan(): NativeStageRecord[];
  /** The benchmark stand-in inference on the device: replays a stored model output. */
  useReplayInference(output: Float32Array | Uint16Array): void;
  /** PyTorch as the device inference: libtorch runs the TorchScript file in the pipeline's buffers (needs torch in buildInfo). */
  useTorchInference(torchscriptFile: string): void;
  beforeInference(slot: number): Promise<{ stages: NativeStageRecord[] }>;
  afterInference(): Promise<NativeFrameResult>;
  runFrame(slot: number): Promise<NativeFrameResult>;
  close(): void;
}

export interface NativeTensorRtBuildOptions {
  onnxPath: string;
  enginePath: string;
  precision: 'fp32' | 'fp16' | 'int8';
  workspaceBytes: number;
  timingCachePath?: string;
  calibrationCachePath?: string;
  /** INT8: preprocessed model inputs (float32, 1 x 3 x S x S each). */
  calibrationInputs?: Float32Array[];
}

export interface NativeTensorRtEngine {
  tensors(): Array<{ name: string; input: boolean; dtype: string; shape: number[] }>;
  engineBytes(): number;
  /** One inference with enqueueV3 (or its CUDA graph), timed by CUDA events: ms. */
  inferTimed(): Promise<number>;
  profileLayers(): Promise<Array<{ name: string; ms: number }>>;
  close(): void;
}

/** Present only when the addon was built where TensorRT was found. */
export interface NativeTensorRt {
  headerVersion: string;
  libraryVersion: string;
  build(options: NativeTensorRtBuildOptions): Promise<{ engineBytes: number; buildMs: number; calibrated: boolean; log: string }>;
  Engine: new (enginePath: string, cudaGraph: boolean) => NativeTensorRtEngine;
}

export interface NativeAddon {
  tensorrt?: NativeTensorRt;
  buildInfo(): NativeBuildInfo;
  /** CPU reference letterbox: 3 x size x size, RGB, / 255 (float16 as raw bits). */
  letterbox(data: Uint8Array, width: number, height: number, strideBytes: number, size: number, type: NativeTensorType): Float32Array | Uint16Array;
  /** CPU reference preprocess of either kind: 3 x size x size (float16 as raw bits). */
  preprocess(
    data: Uint8Array,
    width: number,
    height: number,
    strideBytes: number,
    size: number,
    type: NativeTensorType,
    spec: NativePreprocess,
  ): Float32Array | Uint16Array;
  /** CPU reference decode + class-aware NMS; predictions rows x cols (float16 as raw bits). */
  decodeNms(predictions: Float32Array | Uint16Array, rows: number, cols: number, options?: NativeNmsOptions): Float32Array;
  Pipeline: new (options: NativePipelineOptions) => NativePipeline;
  /** Raises SIGSEGV when JETBENCH_NATIVE_TEST_CRASH is set, else throws: proves the agent survives. */
  crashForTest(): never;
}

/** An error thrown by the addon: code EINVAL for bad input, ENATIVE for runtime failures. */
export interface NativeError extends Error {
  code?: 'EINVAL' | 'ENATIVE';
}
