// The one interface every backend implements. A backend prepares a session for a model, then
// the measurement loop (measure.ts) calls infer() and times it; backends never time themselves
// unless they report extra stages.
import type { Finding } from '../../../contract/validity';
import type { MeasureHooks, MeasureLimits, MeasureResult } from '../measure';
import type { InputData } from '../inputs';
import type { ArtifactInfo, BackendId, BackendStatus, BuildResult, ModelInfo, OperatorTime, PythonInfo, RunSpec, TimingInfo } from '../../../contract/protocol';

export interface PreparedSession {
  /** One inference: the span a latency sample measures (see timing.spans). Resolves to the
   * latency in ms when the backend timed it itself (closer to the device), else to nothing. */
  infer(): Promise<number | void>;
  /** Present where the backend runs its own timing loop (trtexec): every trial's warm-up and
   * measurement, in place of measure() timing infer(); trials are its own processes already. */
  measure?(limits: MeasureLimits, hooks: MeasureHooks): Promise<MeasureResult>;
  /** Findings of the backend's own about the measurement (trtexec's performance warnings), read
   * after measure(); they join the run's verdict. */
  findings?(): Finding[];
  /** Which clock took the samples and what one sample spans. */
  readonly timing: TimingInfo;
  readonly artifact: ArtifactInfo | null;
  /** The outputs of one inference as float32 arrays, in model output order (for verification). */
  outputs(): Promise<Float32Array[]>;
  /** The outputs of one inference on the given inputs (model input order), as float32 arrays in
   * model output order: real frames for the fidelity check. Absent where the backend cannot feed
   * its own inputs yet. */
  outputsFor?(inputs: readonly InputData[]): Promise<Float32Array[]>;
  /** Per-operator times of one inference, where the backend can measure them. */
  profile?(): Promise<OperatorTime[]>;
  /** Version of the runtime that ran the model, as the session loaded it (the run's versions). */
  readonly runtimeVersion: string | null;
  /** The Python that ran the model, for backends that run in one (tvm). */
  readonly python?: PythonInfo | null;
  dispose(): Promise<void>;
}

export interface PrepareRequest {
  spec: RunSpec;
  model: ModelInfo;
  /** Progress of long preparation (builds, tuning), in words. */
  progress(message: string): void;
  /** Aborted when the job is cancelled; long preparation (builds, tuning) stops early. */
  signal: AbortSignal;
}

export interface Backend {
  readonly id: BackendId;
  /** It builds the requested precision itself from the fp32 model (TensorRT, TVM), so a job
   * starts from that model rather than a stored fp16/int8 variant. */
  readonly convertsPrecision: boolean;
  /** Whether it can run here (for this spec's options, where they matter), and why not. Cheap
   * after the first call. */
  status(spec?: RunSpec): Promise<BackendStatus>;
  /** Loads/builds the model; throws BadInputError or BackendUnavailableError with the fix. */
  prepare(req: PrepareRequest): Promise<PreparedSession>;
  /** Builds (or finds in the cache) the artefact it runs, without measuring (`jetbench build`);
   * absent where the model file runs as it is. */
  build?(req: PrepareRequest): Promise<BackendBuild>;
}

/** What a backend's build gives: the artefact, and for a build through TVM's RPC the module's
 * outputs and latency on the remote device (the runner checks them against ONNX Runtime). */
export type BackendBuild = Omit<BuildResult, 'model' | 'rpcCheck'> & {
  rpcRun?: { endpoint: string; server?: string; outputs: Float32Array[]; medianMs: number; repeats: number };
};
