// Messages between the agent and its native worker process (child_process IPC, advanced
// serialization so typed arrays cross intact). The worker owns the native addon; the agent owns
// the worker (client.ts).
import type { MeasureLimits } from '../measure';
import type { PipelineDecoder, PipelineOptions, TensorInfo } from '../../../contract/protocol';
import type { NativeBuildInfo, NativePreprocess, NativeStageRecord, NativeTensorRtBuildOptions } from './binding';

/** Why TensorRT cannot run here, and how to get it (the addon was built without it). */
export const TENSORRT_MISSING =
  "TensorRT was not found when the native addon was built on this device: TensorRT comes with JetPack on a Jetson (sudo apt install nvidia-tensorrt-dev), or NVIDIA's TensorRT packages on x86 (libnvinfer-dev, libnvonnxparsers-dev); install it, then rebuild the addon: node agent.js build-native --force";

/** One pipeline measurement, fully resolved by the agent; the limits are the spec's. */
export interface PipelineJob extends MeasureLimits {
  options: PipelineOptions;
  modelPath: string;
  input: TensorInfo;
  output: TensorInfo;
  /** Intra-op threads for ONNX Runtime; null = its default. */
  threads: number | null;
  /** PyTorch as the inference: a TorchScript file (traced on CUDA in the run's precision) that
   * libtorch runs in the pipeline's device buffers on its stream; absent = ONNX Runtime on the CPU. */
  torchscript?: string;
  /** How the model's output is decoded (the family's thresholds where the spec gives none). */
  decoder: PipelineDecoder;
  preprocess: NativePreprocess;
}

export interface PipelineJobResult {
  warmupLatencyMs: number[];
  latencyMs: number[];
  /** Per stage, aligned with latencyMs (measured frames only). */
  stagesMs: Record<string, number[]>;
  detections: number[];
  plan: NativeStageRecord[];
  frames: { source: string; count: number; width: number; height: number };
  gpu: string | null;
  inferenceDescription: string;
  cancelled: boolean;
  /** The error that stopped the loop, if one did; frames measured before it are kept. */
  error: string | null;
}

/** A TensorRT engine to build (when `build`) and open for measuring. */
export interface TensorRtJob {
  build: NativeTensorRtBuildOptions | null;
  enginePath: string;
  cudaGraph: boolean;
}

export interface TensorRtOpened {
  engineBytes: number;
  buildMs: number | null;
  calibrated: boolean;
  log: string;
  libraryVersion: string;
}

export type WorkerRequest =
  | { id: number; op: 'info' }
  | { id: number; op: 'tensorrt.open'; job: TensorRtJob }
  | { id: number; op: 'tensorrt.infer' }
  | { id: number; op: 'tensorrt.profile' }
  | { id: number; op: 'pipeline'; job: PipelineJob }
  | { id: number; op: 'cancel'; target: number }
  | { id: number; op: 'crash' };

export interface WorkerBatch {
  id: number;
  event: 'batch';
  phase: 'warmup' | 'measure';
  offset: number;
  latencyMs: number[];
  stagesMs: Record<string, number[]>;
}

export type WorkerMessage =
  | { id: number; event: 'result'; value: NativeBuildInfo | PipelineJobResult | TensorRtOpened | number | Array<{ name: string; ms: number }> | null }
  | { id: number; event: 'error'; message: string; code: 'EINVAL' | 'ENATIVE' | 'EUNAVAILABLE' }
  | { id: number; event: 'progress'; message: string; percentage?: number }
  /** The pipeline is set up (frames loaded, model loaded): measuring starts. Carries the version
   * of the runtime this worker loaded that runs the frames' inference (ONNX Runtime, or libtorch). */
  | { id: number; event: 'ready'; runtimeVersion: string }
  | WorkerBatch;
