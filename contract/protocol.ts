// The device agent's JSON-RPC 2.0 API (LSP framing): every request, notification and type that
// crosses the wire between a client (the extension's LanguageClient, the CLI) and the agent.
// This file is the contract; it imports nothing but vscode-jsonrpc's message-type classes (and the contract's own types), so a
// consumer can import it without pulling agent code into its bundle. Its plain values (versions,
// backend and precision lists) live in protocolValues.ts, re-exported here: code that needs only
// them (the extension at activation) imports that file and stays free of vscode-jsonrpc.
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { Validity } from './validity';
import type { DetBox, FidelityResult } from './fidelity';
import type { ThresholdPolicy } from './adaptive';

export {
  PROTOCOL_VERSION,
  RUN_SCHEMA_VERSION,
  BACKEND_IDS,
  PRECISIONS,
  PIPELINE_MODES,
  MEMORY_MODES,
  type BackendId,
  type Precision,
  type PipelineMode,
  type MemoryMode,
} from './protocolValues';
import type { BackendId, MemoryMode, PipelineMode, Precision } from './protocolValues';

/** What to measure. Warm-up and measurement each end when ALL their minimums are met. */
export interface RunSpec {
  /** `local` or a configured device name. */
  device: string;
  /** A built-in model name (`yolov5s`, `tiny`, ...) or a path to an .onnx file on the device. */
  model: string;
  backend: BackendId;
  precision: Precision;
  /** Minimum number of warm-up iterations (not measured into the statistics). */
  warmup: number;
  /** Minimum warm-up wall time in milliseconds; 0 = no time minimum. */
  warmupMs: number;
  /** Minimum number of measured iterations (>= 1). */
  iterations: number;
  /** Minimum measured wall time in seconds; 0 = no time minimum. */
  durationS: number;
  /** Independent trials, each with its own warm-up (warmup/warmupMs) and measurement
   * (iterations/durationS), back to back in one session; absent = 1. Comparisons of runs with 2+
   * trials judge differences against the spread between trials (contract/stats.ts compareTrials).
   * @minimum 1
   * @maximum 1000 */
  trials?: number;
  /** Intra-op CPU threads; null = the backend's default. */
  threads: number | null;
  /** Concrete input shape for models with dynamic dimensions, e.g. [1, 3, 640, 640]. */
  inputShape: number[] | null;
  /** ONNX opset for generated built-in models (11 or 13). */
  opset: 11 | 13;
  /** Free text the user attaches to the run. */
  label: string | null;
  /** TVM build and run options (backend tvm); defaults apply when absent. */
  tvm?: TvmOptions;
  /** Options of the pytorch backend; absent = PYTORCH_DEFAULTS. */
  pytorch?: PytorchOptions;
  /** Options of the tensorrt backend; absent = TENSORRT_DEFAULTS (the native runner). */
  tensorrt?: TensorrtOptions;
  /** Also run ONNX Runtime on the same input and compare the outputs (run.verification). */
  verify?: boolean;
  /** Run the whole pipeline per frame instead of the inference alone (section "Pipeline"). */
  pipeline?: PipelineOptions;
  /** After measuring, run the model and its fp32 reference on real frames and compare their
   * detections (run.fidelity). */
  fidelity?: FidelityOptions;
}

/** What a run's fidelity check runs on. */
export interface FidelityOptions {
  /** How many frames of the source (at most). */
  frames: number;
  /** `vtest` (OpenCV's pedestrian video, fetched once), a video file, an image file or a
   * directory of images, on the device. */
  source: string;
}

/** How closely a run's detections reproduce its fp32 reference's on the same real frames. */
export interface RunFidelity {
  /** What ran as the reference: the fp32 model on ONNX Runtime. */
  reference: { model: string; backend: BackendId; precision: Precision };
  /** The run is the reference itself (fp32 on ONNX Runtime): its detections compared with
   * themselves, the row a table of precisions is read against. */
  itself?: boolean;
  /** The frames, in words (the video and how many of its frames). */
  source: string;
  frames: number;
  /** The detector's decode: boxes kept at or above this score, then class-wise NMS. */
  decoder: { family: 'nanodet' | 'yolov5'; scoreThreshold: number; iouThreshold: number };
  /** Detections per frame, reference and tested (the complexity the frames had). */
  perFrame: Array<{ reference: number; test: number }>;
  result: FidelityResult;
  /** Wall time of the check (both models on every frame). */
  ms: number;
}

/** How the tensorrt backend runs an engine. */
export interface TensorrtOptions {
  /** `native`: the native addon's runner (enqueueV3 timed by CUDA events); `trtexec`: the device's
   * trtexec runs the engine and its --exportTimes become the samples (any TensorRT version, no build). */
  runner: 'native' | 'trtexec';
  /** trtexec's path on the device; null = $JETBENCH_TRTEXEC, then PATH, then JetPack's
   * /usr/src/tensorrt/bin/trtexec. */
  trtexec: string | null;
  /** trtexec runner: what a sample spans. `gpu-compute` = the engine's GPU compute on
   * device-resident buffers (--noDataTransfers; the native runner's span); `latency` = host-to-device
   * copy + compute + device-to-host copy per query (trtexec's "Latency"). */
  span: 'gpu-compute' | 'latency';
  /** trtexec runner: replay the engine as a CUDA graph (--useCudaGraph; 11.x: the default). */
  cudaGraph: boolean;
}

/** How the pytorch backend runs the model (device-agent/python/jetbench_torch.py). */
export interface PytorchOptions {
  /** `cuda` or `cpu`; null = CUDA where PyTorch sees a GPU, else the CPU (the run records which). */
  device: 'cuda' | 'cpu' | null;
  /** `eager` (module call per sample), `cuda-graph` (captured once, replayed per sample) or
   * `compile` (torch.compile with TorchInductor; its compile time is the run's build, in the artifact). */
  mode: 'eager' | 'cuda-graph' | 'compile';
  /** What a sample spans: `device` = CUDA events around the forward pass on inputs already on the
   * GPU (on the CPU: the host clock around it); `host` = the host clock around copying inputs in,
   * the forward pass and copying outputs back, as ONNX Runtime's samples are; null = device on
   * CUDA, host on the CPU. */
  span: 'device' | 'host' | null;
  /** Allow TF32 in cuDNN and cuBLAS for fp32 (PyTorch's default for convolutions on Ampere and
   * newer); false = fp32 is fp32. */
  tf32: boolean;
  /** Python with the device's `torch`; null = $JETBENCH_PYTHON or python3. */
  python: string | null;
}

export interface TvmOptions {
  /** `llvm` (CPU) or `cuda`. */
  target: 'llvm' | 'cuda';
  /** CUDA architecture, e.g. sm_87 (Jetson Orin), sm_72 (Xavier); null = TVM's default. */
  arch: string | null;
  /** MetaSchedule trial budget; 0 = untuned. */
  tuneTrials: number;
  /** Tuning log (MetaSchedule database directory) to resume from and add to; null = the cache's. */
  tuningLog: string | null;
  /** Python with the device's `tvm`; null = $JETBENCH_PYTHON or python3. */
  python: string | null;
  /** Record a per-operator profile of one inference in the run. */
  profile: boolean;
  /** Build only: measure through TVM's RPC (tuning candidates, and the built module's check run)
   * instead of on this machine; absent or null = here. */
  rpc?: TvmRpcTarget | null;
  /** Build only, with a tracker: the server the module is for, as the tracker hands it out
   * (`host:port`). The check run goes to it and not to whichever server under the key is free;
   * absent or null = any. */
  rpcDevice?: { host: string; port: number } | null;
  /** Build only: compile for another machine (the RPC device) instead of this one; absent or
   * null = for this machine. */
  cross?: TvmCrossTarget | null;
}

/** A TVM RPC endpoint: one server (`python3 -m tvm.exec.rpc_server`), or a tracker and the key
 * its servers registered under (MetaSchedule's runner measures on all of them). */
export type TvmRpcTarget =
  | { kind: 'server'; host: string; port: number }
  | { kind: 'tracker'; host: string; port: number; key: string };

/** The machine a cross-compiled module is for: LLVM's target triple (`aarch64-linux-gnu`) and its
 * CPU cores (MetaSchedule's thread count). */
export interface TvmCrossTarget {
  triple: string;
  cores: number;
}

/** Output agreement of a backend with ONNX Runtime on the same input. */
export interface Verification {
  reference: 'onnxruntime';
  /** max |a - b| over all output elements. */
  maxAbsDiff: number;
  /** Elements outside atol + rtol * |reference|, over all elements. */
  mismatches: number;
  elements: number;
  atol: number;
  rtol: number;
  /** Share of elements allowed outside the tolerance (0 for fp32). */
  maxMismatchFraction: number;
  /** mismatches <= maxMismatchFraction * elements. */
  passed: boolean;
}

/** Per-operator time of one inference, largest first. */
export interface OperatorTime {
  name: string;
  ms: number;
  calls: number;
}

/** Parameters of `initialize` that jetbench reads (`initializationOptions`). */
export interface JetbenchInitializationOptions {
  protocolVersion: number;
  client: string;
}

/** The `jetbench` part of the InitializeResult's `serverInfo`-adjacent data. */
export interface JetbenchInitializeResult {
  protocolVersion: number;
  agentVersion: string;
  pid: number;
  /** `stdio`: one client, the agent ends with it; `daemon`: shared by every attached client. */
  mode?: AgentMode;
  /** Directory the agent runs from (on a device: `<agent home>/agent/<bundle hash>`). */
  agentDir?: string;
}

export interface GpuInfo {
  name: string;
  /** `nvidia-smi` for discrete GPUs, `tegra` for a Jetson's integrated GPU, `trtexec` for the
   * device named in an imported trtexec log. */
  source: 'nvidia-smi' | 'tegra' | 'trtexec';
  driverVersion: string | null;
  memoryBytes: number | null;
  computeCapability: string | null;
}

export interface JetsonInfo {
  /** From /proc/device-tree/model, e.g. "NVIDIA Jetson AGX Xavier Developer Kit". */
  model: string | null;
  /** From /etc/nv_tegra_release, e.g. "R35 (release), REVISION: 4.1". */
  l4t: string | null;
  /** JetPack version derived from L4T where the mapping is known. */
  jetpack: string | null;
  /** `nvpmodel -q` output's mode name, e.g. "MODE_30W_ALL". */
  powerMode: string | null;
}

/** Versions of everything that can change a measurement; null = not found on the device. In a
 * run file, the entry of the runtime that ran the run (onnxruntime, tensorrt or tvm: the backend's,
 * or the pipeline's inference) is the version that session loaded; the others are what the device
 * has installed, probed once per agent process (`device.versions`). */
export interface Versions {
  agent: string;
  node: string;
  onnxruntime: string | null;
  cuda: string | null;
  tensorrt: string | null;
  tvm: string | null;
  /** PyTorch, where the pytorch backend ran the model (absent in other runs). */
  pytorch?: string | null;
  /** The Python that ran the model, for backends that run in one (tvm); absent otherwise. */
  python?: PythonInfo;
}

/** A Python interpreter as it reported itself. */
export interface PythonInfo {
  /** sys.executable, e.g. "/usr/bin/python3" or a virtual environment's python. */
  path: string;
  /** The first word of sys.version, e.g. "3.10.12". */
  version: string;
}

export interface DeviceInfo {
  hostname: string;
  platform: string;
  osRelease: string;
  /** PRETTY_NAME of /etc/os-release where present. */
  distro: string | null;
  /** The machine as `uname -m` prints it: aarch64 (every Jetson), x86_64. Runs made before
   * 2026-12 hold Node's name instead (arm64, x64). */
  arch: string;
  cpuModel: string;
  cpuCount: number;
  memoryBytes: number;
  gpus: GpuInfo[];
  jetson: JetsonInfo | null;
  /** CPU frequency governor of cpu0 where readable (performance vs ondemand changes numbers);
   * read when this record was made (see DeviceState). */
  cpuGovernor: string | null;
  versions: Versions;
}

/** What the device was set to when a run started: settings that change a measurement and can
 * change between two runs of one agent (nvpmodel, cpufreq governor, jetson_clocks). Read from
 * sysfs at the start of every run, never cached. */
export interface DeviceState {
  /** ISO time it was read. */
  readAt: string;
  /** Jetson power mode; null off a Jetson or where nvpmodel cannot be read. */
  powerMode: PowerModeState | null;
  /** Every CPU with cpufreq, in CPU order (an offline core has none); empty where there is no
   * cpufreq (many VMs and containers). Clocks are locked when min == max on every core. */
  cpus: CpuFreqState[];
  /** The Jetson integrated GPU's devfreq clocks; null elsewhere (NVML covers discrete GPUs). */
  gpuClock: GpuClockState | null;
}

export interface PowerModeState {
  /** nvpmodel mode id; ids are not ordered by speed (Orin Nano: 0 = 15W, 2 = MAXN_SUPER). */
  id: number | null;
  /** Mode name, e.g. "MAXN" or "MODE_30W_ALL". */
  name: string | null;
  /** `nvpmodel` (nvpmodel -q) or `status-file` (/var/lib/nvpmodel/status + /etc/nvpmodel.conf). */
  source: 'nvpmodel' | 'status-file';
}

/** One CPU's cpufreq policy (/sys/devices/system/cpu/cpuN/cpufreq), frequencies in kHz. */
export interface CpuFreqState {
  cpu: number;
  governor: string | null;
  curKHz: number | null;
  minKHz: number | null;
  maxKHz: number | null;
}

/** A devfreq device's clocks (/sys/class/devfreq/<device>), frequencies in Hz. */
export interface GpuClockState {
  device: string;
  curHz: number | null;
  minHz: number | null;
  maxHz: number | null;
  governor: string | null;
}

export interface BackendStatus {
  id: BackendId;
  available: boolean;
  /** Why it is unavailable and how to fix that; null when available. */
  reason: string | null;
  version: string | null;
  precisions: Precision[];
}

export interface ListBackendsResult {
  backends: BackendStatus[];
}

export interface TensorInfo {
  name: string;
  /** ONNX element type name: float32, float16, int8, ... */
  dtype: string;
  /** Dimensions; a string is a symbolic (dynamic) dimension. */
  shape: Array<number | string>;
}

export interface ModelInfo {
  /** The built-in name when the model was generated, else null. */
  builtin: string | null;
  path: string;
  sha256: string;
  bytes: number;
  opset: number | null;
  /** Precision of the model as stored (fp16 weights/inputs, int8 QDQ, else fp32). */
  precision: Precision;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

/** A built artifact (TensorRT engine, TVM module); null for backends that run the model file. */
export interface ArtifactInfo {
  kind: 'tensorrt-engine' | 'tvm-module' | 'torchscript-module' | 'torch-compiled';
  path: string;
  bytes: number;
  buildMs: number;
  flags: Record<string, string | number | boolean>;
}

/** What one latency sample spans, as a kind two runs can be compared by: `ort-call` an ONNX
 * Runtime session.run timed on the agent's host clock; `trt-compute` one TensorRT enqueue timed by
 * CUDA events on device buffers (trtexec's "GPU Compute Time" too); `trt-latency` trtexec's
 * "Latency" of one query, H2D + compute + D2H; `tvm-call` one module call timed inside the Python helper;
 * `pipeline-frame` a whole frame, pre- and postprocessing included. Samples of different kinds
 * measure different work: a ratio between them is not a speed-up of the same thing. */
export type SampleSpan = 'ort-call' | 'trt-compute' | 'trt-latency' | 'tvm-call' | 'torch-forward' | 'torch-host' | 'pipeline-frame';

/** How the numbers were taken, so a reader knows what a latency includes. */
export interface TimingInfo {
  /** e.g. "host monotonic clock (performance.now)". */
  clock: string;
  /** What one latency sample spans, in words. */
  spans: string;
  /** What one latency sample spans, as a kind (absent in run files made before it existed). */
  span?: SampleSpan;
  /** Execution provider / target the backend ran on, e.g. "cpu". */
  executionProvider: string;
  /** Threads actually used (resolved default), null if unknown. */
  threads: number | null;
}

export interface Samples {
  /** Measured per-iteration latencies in ms, in the order they were taken. */
  latencyMs: number[];
  /** Warm-up latencies in ms (excluded from the statistics, kept to show warm-up effects). */
  warmupLatencyMs: number[];
  /** Per-stage latencies in ms, one array per stage, aligned with latencyMs. */
  stagesMs?: Record<string, number[]>;
}

export interface Stats {
  count: number;
  meanMs: number;
  stdMs: number;
  minMs: number;
  maxMs: number;
  medianMs: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** 1000 / meanMs. */
  fps: number;
  /** Distribution-free 95% confidence interval of the median (order statistics). */
  medianCi95Ms: [number, number];
  /** Coefficient of variation, std / mean, in percent. */
  covPercent: number;
}

export type RunStatus = 'ok' | 'failed' | 'cancelled';

/** One trial of a run: how many of the run's warm-up and measured samples are its own (they follow
 * the previous trial's), and the statistics of its measured samples (null when it measured none). */
export interface TrialSummary {
  warmupCount: number;
  count: number;
  stats: Stats | null;
  /** When the trial began (interleaved runs: the trial's own run; absent for trials of one job).
   * @format date-time */
  startedAt?: string;
}

/** The run file (`.jetbench/runs/<id>.json`). These types are the one source of its JSON Schema:
 * schemas/run.schema.json is generated from them (scripts/schemas.mjs, run by the build; a unit test
 * fails when the committed schema differs), and the JSDoc tags below become its constraints. */
export interface RunFile {
  /** @minimum 1 */
  schemaVersion: number;
  /** @pattern ^[A-Za-z0-9][A-Za-z0-9_.-]*$ */
  id: string;
  /** @format date-time */
  createdAt: string;
  /** @format date-time */
  finishedAt: string;
  spec: RunSpec;
  device: DeviceInfo;
  /** What ran this run (see Versions): the session's runtime, the device's other versions. */
  versions: Versions;
  /** Power mode, governors and clocks when this run started (absent in older run files). */
  deviceState?: DeviceState;
  model: ModelInfo;
  artifact: ArtifactInfo | null;
  timing: TimingInfo;
  samples: Samples;
  /** Null when no iteration was measured (e.g. cancelled during warm-up). */
  stats: Stats | null;
  /** Present when the spec asked for verification. */
  verification?: Verification;
  /** Present when the spec asked for a fidelity check (spec.fidelity) and the run measured. */
  fidelity?: RunFidelity;
  /** Per-operator profile, when the backend made one. */
  operators?: OperatorTime[];
  /** What a pipeline run ran where (section "Pipeline"); present when spec.pipeline was. */
  pipeline?: PipelineInfo;
  /** Whether the numbers can be trusted (contract/validityRules.ts); absent in older run files
   * and in runs with no measured iteration. */
  validity?: Validity;
  /** Each trial's share of samples.latencyMs / warmupLatencyMs (consecutive, in order) and its
   * statistics; present when spec.trials > 1. A cancelled or failed run lists the trials it began. */
  trials?: TrialSummary[];
  /** Power, clocks and temperatures the agent sampled in the background during the run (an idle
   * baseline where power is readable, warm-up, measurement); absent where the device has no
   * source it can read (no cpufreq, thermal zones or power monitors: many VMs) and in older files. */
  telemetry?: Telemetry;
  /** Present when this run's trials were measured interleaved with other configurations' (`jetbench
   * bench --vs`: A B A B ..., each trial a one-trial run of its own, joined by
   * contract/trialMerge.ts), so drift of the machine hit every configuration alike. */
  interleaved?: Interleaving;
  /** Present when the run was made from another tool's outputs (`jetbench import trtexec`) rather
   * than measured by jetbench: what was read, and the tool's own figures to check ours against. */
  imported?: ImportInfo;
  status: RunStatus;
  error?: string;
}

/** How a run's trials were interleaved with other configurations' (RunFile.interleaved). */
export interface Interleaving {
  /** The run ids of every configuration measured together, in the order of each round (this
   * run's among them). */
  runs: string[];
  /** This configuration's place in each round (0 = first). */
  position: number;
  /** Rounds measured: each configuration got one trial a round. */
  rounds: number;
}

/** Background samples of the device's sensors during a run (device-agent/src/telemetry/). */
export interface Telemetry {
  /** Sources read: `ina3221-hwmon` (JetPack 5+ power rails), `ina3221-iio` (JetPack 4), `cpufreq`,
   * `thermal`, `gpu-devfreq` (Jetson GPU clock and load), `soctherm-oc` (Orin over-current
   * counters), `nvml` (a discrete GPU: energy counter, instantaneous power, clocks, reasons), `rapl`
   * (x86 CPU packages' energy counters, where no power rails or GPU counter measure the run). */
  sources: string[];
  /** Sampling rate asked for and achieved over the run (Hz). */
  requestedHz: number;
  achievedHz: number;
  /** How total power was taken: a rail's name (`VDD_IN`, `POM_5V_IN`) or `sum of rails` (AGX
   * Xavier, AGX Orin); null without power rails. */
  totalPowerRule: string | null;
  series: TelemetrySeries;
  /** The run's phases as they happened (trials repeat warm-up and measure), on the series' clock. */
  phases: TelemetryPhase[];
  /** When each measured sample (samples.latencyMs, in order) began, ms on the series' clock: a
   * latency lines up with the power, clocks and temperatures of its moment. Absent where the
   * backend does not time samples one by one (trtexec, whose queries overlap). */
  sampleStartMs?: number[];
  /** Every measured phase together: what a reader quotes; null without power. */
  energyPerInferenceMj: number | null;
  /** The same less the idle baseline's power over the measured time: what the inferences cost
   * above the device doing nothing; null without power or without an idle baseline. */
  energyPerInferenceAboveIdleMj: number | null;
  /** Orin over-current counters (soctherm_oc `ocN_event_cnt`) at the start and end of the run. */
  overCurrent?: OverCurrentCount[];
  /** Trip points of thermal zones (`passive`, °C), to judge how near the limit the run got. */
  passiveTripC?: Record<string, number>;
  /** The discrete GPU NVML sampled (`nvml` source): its power limit and top SM clock. */
  gpu?: { name: string; driver: string; powerLimitW: number | null; maxSmClockMhz: number | null };
  /** How phase energy was taken: from a cumulative energy counter (NVML) or by integrating the
   * power samples (INA3221 rails: their readings are instantaneous). */
  energySource?: 'counter' | 'integrated-power';
  /** Sources the device should have that could not be read, and why (e.g. NVML on a GPU host). */
  unavailable?: string[];
}

/** Samples in time order, every series aligned with `tMs`; a series is absent when its source is,
 * never zero-filled. */
export interface TelemetrySeries {
  /** ms on the agent's monotonic clock, from the first sample. */
  tMs: number[];
  totalPowerMw?: number[];
  railsMw?: Record<string, number[]>;
  /** Lowest and highest current CPU frequency across the online cores (kHz). */
  cpuMinKHz?: number[];
  cpuMaxKHz?: number[];
  gpuHz?: number[];
  gpuLoadPercent?: number[];
  /** Thermal zones by type (°C); offline sensors (-256 °C) left out; NVML's GPU sensor as `gpu`. */
  tempC?: Record<string, number[]>;
  /** The GPU's cumulative energy counter (NVML, mJ), from 0 at the first sample. */
  energyMj?: number[];
  /** NVML clock event reasons bitmask (0x4 SW power cap, 0x8 HW slowdown, 0x20 SW thermal, 0x40 HW
   * thermal, 0x80 power brake; 0x1 idle). */
  gpuClockReasons?: number[];
  /** Orin over-current event counters by counter (`oc1`..), cumulative since boot: where one
   * rises, the board throttled for over-current (overCurrentRises). */
  overCurrentEvents?: Record<string, number[]>;
}

export interface TelemetryPhase {
  /** `load`: in a run of 2+ trials, a trial's process starting and loading the model (from the
   * idle baseline's end or the previous trial's last sample to the trial's first sample), kept out
   * of the measured phases' energy and clocks. */
  phase: 'idle' | 'warmup' | 'measure' | 'load';
  startMs: number;
  endMs: number;
  /** Telemetry samples inside the phase. */
  samples: number;
  energyJ: number | null;
  meanPowerW: number | null;
  maxPowerW: number | null;
  cpuKHz: { min: number; max: number } | null;
  gpuHz: { min: number; max: number } | null;
  maxTempC: number | null;
  hottestZone: string | null;
}

export interface OverCurrentCount {
  counter: string;
  start: number;
  end: number;
}

/** A file an imported run was made from. */
export interface ImportedFile {
  role: 'log' | 'times' | 'profile';
  /** As given on the command line, resolved to an absolute path. */
  path: string;
  /** @pattern ^[0-9a-f]{64}$ */
  sha256: string;
  bytes: number;
}

/** Where an imported run came from. Device, model and versions hold only what the tool's output
 * says (the rest reads "unknown"). */
export interface ImportInfo {
  tool: 'trtexec';
  /** The tool's version as its output says (TensorRT's, for trtexec). */
  toolVersion: string;
  /** @format date-time */
  importedAt: string;
  /** The tool's command line as its log recorded it; null where the log has none. */
  commandLine: string | null;
  files: ImportedFile[];
  /** Where the samples came from: per-query times (e.g. --exportTimes), one per query. */
  samplesFrom: 'times';
  /** The tool's own summary of the span the samples measure (ms), to check the statistics
   * recomputed from the samples against; null when the log printed none. */
  reported: { medianMs: number; meanMs: number; minMs: number; maxMs: number; percentilesMs: Record<string, number>; throughputQps: number } | null;
  /** Iterations behind the per-layer profile (`operators`, average ms per layer), when there is one. */
  profileIterations?: number;
}

export interface RunParams {
  spec: RunSpec;
  /** Client-chosen id for the run; the agent makes one when absent. */
  runId?: string;
  /** LSP work-done progress token: `$/progress` reports for this run carry it. */
  workDoneToken?: string | number;
}

/** A batch of samples, sent while a run goes (bounded rate). `offset` is the index of the first
 * value within its phase, so a client can place every batch and detect a gap or a repeat. */
export interface SamplesBatch {
  runId: string;
  phase: 'warmup' | 'measure';
  offset: number;
  latencyMs: number[];
  /** Pipeline runs: per-stage times of the same frames, each aligned with latencyMs. */
  stagesMs?: Record<string, number[]>;
}

/** One sample of every readable sensor; a field is absent when its source is. */
export interface TelemetryReading {
  /** ms on the agent's monotonic clock (performance.now()). */
  tMs: number;
  totalPowerMw?: number;
  railsMw?: Record<string, number>;
  cpuMinKHz?: number;
  cpuMaxKHz?: number;
  gpuHz?: number;
  gpuLoadPercent?: number;
  tempC?: Record<string, number>;
  /** Cumulative energy counter (mJ), e.g. NVML's. */
  energyMj?: number;
  gpuClockReasons?: number;
  /** Orin over-current event counters (soctherm_oc `ocN_event_cnt`) by counter. */
  overCurrentEvents?: Record<string, number>;
}

/** A phase began at `atMs` (same clock as the readings). */
export interface PhaseMark {
  phase: TelemetryPhase['phase'];
  atMs: number;
}

/** What a run's telemetry says of its sources, known from its start. */
export interface TelemetryLiveMeta {
  sources: string[];
  requestedHz: number;
  totalPowerRule: string | null;
  passiveTripC?: Record<string, number>;
  gpu?: Telemetry['gpu'];
  unavailable?: string[];
}

/** Agent -> client while a run goes (about twice a second, from the idle baseline on): the
 * telemetry readings taken since the last batch, placed by `offset` among the run's readings, and
 * every phase mark so far. The run file's `telemetry` is the final word; this is what the result
 * panel draws until it arrives. A client that attaches later gets every reading from offset 0. */
export interface TelemetryLiveBatch {
  runId: string;
  offset: number;
  readings: TelemetryReading[];
  marks: PhaseMark[];
  meta: TelemetryLiveMeta;
}

/** Error codes of ResponseErrors the agent sends (JSON-RPC application range). */
export const AgentErrorCode = {
  /** The request's input is wrong (missing model, bad shape, unsupported precision...). */
  BadInput: -32001,
  /** A backend cannot run on this device (not installed, no GPU...). */
  BackendUnavailable: -32002,
  /** The accelerator is busy with another measuring job and the request asked not to queue. */
  Busy: -32003,
  /** An unexpected failure inside the agent. */
  Internal: -32004,
  /** No run with that id on the device. */
  NotFound: -32006,
  /** The client cancelled a build; the message says what was kept. */
  Cancelled: -32005,
} as const;

/** Client -> agent: describe the device (OS, CPU, memory, GPU, Jetson, versions). */
export const DeviceInfoRequest = new RequestType0<DeviceInfo, void>('jetbench/deviceInfo');

/** What the device's sensors read right now (the Devices view's live status); each field null
 * where its sensor is absent or unreadable. */
export interface TelemetryNow {
  /** @format date-time */
  readAt: string;
  sources: string[];
  totalPowerW: number | null;
  /** `VDD_IN`, `POM_5V_IN`, `sum of rails`, or `NVML` (a discrete GPU's power). */
  totalPowerRule: string | null;
  hottest: { zone: string; celsius: number } | null;
  cpuMaxMHz: number | null;
  gpuMHz: number | null;
  gpuLoadPercent: number | null;
  /** True when a run in progress sampled it: its latest reading is given instead of reading the
   * sensors again (and starting the NVML helper), which would disturb the measurement. */
  fromRun?: boolean;
}

export interface TelemetryNowParams {
  /** Also sample a discrete GPU through NVML (starts the Python helper: ~0.3 s); default true. */
  nvml?: boolean;
}

/** Client -> agent: one reading of the device's sensors now (no run needed). */
export const TelemetryNowRequest = new RequestType<TelemetryNowParams, TelemetryNow, void>('jetbench/telemetryNow');

/** Client -> agent: which backends this device can run, and why not where it cannot. */
export const ListBackendsRequest = new RequestType0<ListBackendsResult, void>('jetbench/listBackends');

/** Client -> agent: run one benchmark; resolves to the complete run (any status). Cancel with
 * `$/cancelRequest`: the result then has status `cancelled` and the samples taken so far. */
export const RunRequest = new RequestType<RunParams, RunFile, void>('jetbench/run');

export interface BuildParams {
  spec: RunSpec;
  workDoneToken?: string | number;
}

export interface BuildResult {
  artifact: ArtifactInfo;
  model: ModelInfo;
  /** True when an artifact built earlier with the same inputs was reused. */
  cached: boolean;
  /** The tuning log the build read and extended, if any. */
  tuningLog: string | null;
  /** A build through TVM's RPC (`tvm.rpc`): the module run once on the remote device and checked
   * against ONNX Runtime here, and its latency there (TVM's time_evaluator, remote clock). */
  rpcCheck?: TvmRpcCheck;
  /** A tuning build through a tracker: the candidates each server measured, by the server's
   * `host:port` as the tracker handed it out (one RPC session per candidate). */
  rpcCandidates?: Record<string, number>;
}

export interface TvmRpcCheck {
  /** Where it ran: `tracker HOST:PORT key K`, or `server HOST:PORT`. */
  endpoint: string;
  /** The server that ran it (`host:port`; through a tracker, the one it handed out). */
  server?: string;
  verification: Verification;
  /** Median of `repeats` timed calls of main() on the remote device. */
  medianMs: number;
  repeats: number;
}

/** Client -> agent: start TVM's RPC server on this device (`python3 -m tvm.exec.rpc_server`, the
 * device's own TVM) on loopback only: the client reaches it through its SSH connection. With a
 * tracker it registers there (the tracker's port as the device sees it, e.g. a reverse-forwarded
 * one). The server stops with `tvmRpcServer/stop` or when this connection closes. */
export const TvmRpcServerStartRequest = new RequestType<TvmRpcServerStartParams, TvmRpcServerInfo, void>('jetbench/tvmRpcServer/start');

export interface TvmRpcServerStartParams {
  /** The tracker as reachable from the device (host is loopback when forwarded), and the key. */
  tracker: { host: string; port: number; key: string } | null;
  /** The address the tracker hands to clients for this server (default: the bind address). */
  reportAddress: string | null;
  /** Python with `tvm` (default $JETBENCH_PYTHON or python3). */
  python: string | null;
}

export interface TvmRpcServerInfo {
  id: string;
  /** Where it listens on the device (loopback). */
  host: string;
  port: number;
  tvm: string;
}

/** Client -> agent: start a TVM RPC tracker on this machine's loopback (`python -m
 * tvm.exec.rpc_tracker`, which needs tornado), for `build --rpc device`; stopped like a server. */
export const TvmRpcTrackerStartRequest = new RequestType<{ python: string | null }, TvmRpcServerInfo, void>('jetbench/tvmRpcTracker/start');

/** Client -> agent: stop a TVM RPC server or tracker this connection started. */
export const TvmRpcServerStopRequest = new RequestType<{ id: string }, TvmRpcServerStopped, void>('jetbench/tvmRpcServer/stop');

export interface TvmRpcServerStopped {
  /** RPC sessions the server served (one per measured candidate, one per check run); 0 for a tracker. */
  sessions: number;
}

/** Client -> agent: the spec's model as this device has it (a built-in generated here if it is
 * not yet), inspected: its path on the device and its sha256 (what a host compiling for this
 * device through RPC downloads and compiles). */
export const ResolveModelRequest = new RequestType<{ spec: RunSpec }, ModelInfo, void>('jetbench/resolveModel');

/** Client -> agent: take a TVM module compiled elsewhere for this device (through RPC, on a
 * host) into the device's artifact cache, where `bench --backend tvm` with the same options finds
 * it; the tuning log it was built from comes along (the module's name carries its hash). */
export const TvmAdoptRequest = new RequestType<TvmAdoptParams, BuildResult, void>('jetbench/tvmAdopt');

export interface TvmAdoptParams {
  spec: RunSpec;
  /** The module on the device (uploaded to a temporary place; moved into the cache). */
  module: string;
  /** The tuning log's files on the device (a directory), or null for an untuned module. */
  tuningLog: string | null;
  /** The host build's artifact flags (TVM version, target, times). */
  flags: Record<string, string | number | boolean>;
  buildMs: number;
  /** The model's sha256 on the host: the device's copy must be the same model. */
  modelSha256: string;
}

/** Client -> agent: build (and tune) the backend's artifact for a model without measuring;
 * `$/progress` reports steps (tuning trials). Cancel with `$/cancelRequest`. */
export const BuildRequest = new RequestType<BuildParams, BuildResult, void>('jetbench/build');

/** Run a model (in the spec's backend and precision) on real frames, one inference each, and
 * return each frame's detections and latency (the adaptive-precision comparison's raw data). */
export interface DetectFramesParams {
  spec: RunSpec;
  frames: FidelityOptions;
  /** A live adaptive run: `spec` (the high precision) and `low` both loaded, and per frame the
   * policy (contract/adaptive.ts ThresholdStepper) picks which one runs, from the detections of the
   * previous frame's choice. Absent: every frame runs `spec`. */
  switching?: { low: RunSpec; policy: ThresholdPolicy };
  workDoneToken?: string | number;
}

export interface DetectFramesResult {
  model: ModelInfo;
  /** The frames, in words. */
  source: string;
  decoder: RunFidelity['decoder'];
  /** What a frame's latency spans: one call of the backend on the frame's input (after two untimed
   * warm-up calls), the host clock around it; preprocessing and decoding not included. */
  spans: string;
  frames: Array<{
    ms: number;
    boxes: DetBox[];
    /** Mean absolute grey difference from the previous frame (0..1); 0 for the first. */
    diff: number;
    /** With `switching`: true where the low precision ran this frame. */
    low?: boolean;
  }>;
}

export const DetectFramesRequest = new RequestType<DetectFramesParams, DetectFramesResult, void>('jetbench/detectFrames');

/** What a run file needs besides its samples, known once the run is about to measure. */
export type PreparedRun = Pick<RunFile, 'id' | 'createdAt' | 'spec' | 'device' | 'versions' | 'deviceState' | 'model' | 'artifact' | 'timing'>;

/** Agent -> client: the run is about to measure; here is everything its file needs besides the
 * samples, so a client that loses the agent mid-run (killed, out of memory) can still keep a
 * failed run with the samples it received. Sent again to a client that attaches later. */
export const RunPreparedNotification = new NotificationType<{ runId: string; prepared: PreparedRun }>('jetbench/runPrepared');

/** Agent -> client: samples of a running benchmark, in batches. */
export const SamplesNotification = new NotificationType<SamplesBatch>('jetbench/samples');

/** Agent -> client: telemetry of a running benchmark, in batches (TelemetryLiveBatch). */
export const TelemetryLiveNotification = new NotificationType<TelemetryLiveBatch>('jetbench/telemetryLive');

/** Agent -> client: an unexpected error the agent could not return to a request. */
export const AgentErrorNotification = new NotificationType<{ message: string; stack?: string }>(
  'jetbench/agentError',
);

// ---------------------------------------------------------------------------------------------
// Pipeline (native addon): frames -> preprocess -> inference -> postprocess, timed stage by stage.
// A `jetbench/run` whose spec has `pipeline` measures whole frames: latencyMs[i] is frame i end to
// end (host clock), samples.stagesMs[stage][i] its stages (CUDA events for GPU stages and copies,
// host clock for CPU stages), and run.pipeline says which stage ran where.

/** `conventional`: CPU preprocess, copies around the inference, CPU NMS. `zerocopy`: GPU
 * preprocess, inference, GPU NMS; only detections come back. */


export interface PipelineOptions {
  mode: PipelineMode;
  memory: MemoryMode;
  /** `synthetic` (1080p scenes with `objects` objects of varying size), a directory of images
   * (.ppm/.pnm, .png, .jpg), an image file, or a video file (its first `frameCount` frames,
   * decoded by the device's ffmpeg) on the device. */
  source: 'synthetic' | string;
  /** Distinct frames loaded before measuring (cycled through; synthetic scenes vary per frame). */
  frameCount: number;
  /** Objects per synthetic scene (scene complexity). */
  objects: number;
  /** The decode's score threshold, NMS IoU and most detections kept; null: the model family's own
   * (YOLOv5 0.25 / 0.45 / 300, NanoDet 0.35 / 0.5 / 100), which run.pipeline.decoder records. */
  confThreshold: number | null;
  iouThreshold: number | null;
  maxDetections: number | null;
}

/** The post-processing a pipeline ran: the detector family its head was decoded as and the
 * thresholds in effect. */
export interface PipelineDecoder {
  family: 'nanodet' | 'yolov5';
  scoreThreshold: number;
  iouThreshold: number;
  maxDetections: number;
}

export type StagePlace = 'cpu' | 'gpu' | 'host-to-device' | 'device-to-host';

export interface PipelineStageInfo {
  /** preprocess, upload_frame, upload_input, download_input, inference, download_output,
   * upload_output, postprocess, download_detections. */
  name: string;
  where: StagePlace;
  /** `cuda-event`: CUDA events on the pipeline's stream; `host`: the host's monotonic clock. */
  clock: 'cuda-event' | 'host';
}

export interface PipelineInfo {
  mode: PipelineMode;
  memory: MemoryMode;
  /** The stages of one frame, in order. */
  stages: PipelineStageInfo[];
  /** The inference stage's runtime and where it read and wrote its tensors. */
  inference: { backend: BackendId; where: 'host' | 'device'; description: string };
  /** The GPU that ran GPU stages, or null. */
  gpu: string | null;
  /** Frames loaded: synthetic (with the object count) or the files of a directory. */
  frames: { source: string; count: number; width: number; height: number };
  /** Detections per measured frame, aligned with latencyMs. */
  detections: number[];
  /** How the model's output was decoded (absent in run files from before NanoDet's pipeline). */
  decoder?: PipelineDecoder;
  /** Statistics of each stage over the measured frames (the stats module's). */
  stageStats: Record<string, Stats>;
  /** Per measured frame, all stages but the inference (pre + post + copies): median etc. */
  nonInferenceStats: Stats | null;
}
// Daemon, persisted runs, attach (protocol 2).
// On a device the agent runs as a daemon that several clients attach to; it persists every run as
// it goes (`<agent home>/runs/`), so a client that lost its connection re-attaches and receives the
// rest. The same requests work on a stdio agent (its runs are kept in memory only).

export type AgentMode = 'stdio' | 'daemon';

/** Where a run stands: live (`queued`, `running`) or finished (its run file's status). */
export type RunState = 'queued' | 'running' | RunStatus;

/** One run the agent knows, live or persisted, without its samples. */
export interface RunSummary {
  id: string;
  state: RunState;
  createdAt: string;
  /** Null while the run is live. */
  finishedAt: string | null;
  model: string;
  backend: BackendId;
  precision: Precision;
  label: string | null;
  /** Samples taken (and persisted) so far, per phase. */
  warmupCount: number;
  measureCount: number;
  /** Median of the measured samples, when the run finished with statistics. */
  medianMs: number | null;
  error?: string;
}

export interface ListRunsResult {
  /** Newest first. */
  runs: RunSummary[];
}

/** Client -> agent: the runs on the device, live and persisted. */
export const ListRunsRequest = new RequestType0<ListRunsResult, void>('jetbench/listRuns');

export interface RunIdParams {
  runId: string;
}

/** Client -> agent: a finished run's complete run file. A live run is an error (BadInput) that
 * says to attach; an unknown id is NotFound. */
export const GetRunRequest = new RequestType<RunIdParams, RunFile, void>('jetbench/getRun');

export interface AttachRunParams {
  runId: string;
  /** Samples the client already holds, per phase: the agent sends `jetbench/samples` batches from
   * these offsets on (the rest so far, then live ones), so nothing is lost or repeated. */
  warmupOffset: number;
  measureOffset: number;
  workDoneToken?: string | number;
}

/** Client -> agent: follow a run (live or finished) from the given offsets; resolves to the complete
 * run when it ends (at once for a finished run). Cancelling this request only detaches. */
export const AttachRunRequest = new RequestType<AttachRunParams, RunFile, void>('jetbench/attachRun');

export interface CancelRunResult {
  /** False when the run had already finished. */
  cancelled: boolean;
}

/** Client -> agent: stop a run, whoever started it (a re-attached client cannot use
 * `$/cancelRequest` of the original request). The run ends `cancelled` with its samples. */
export const CancelRunRequest = new RequestType<RunIdParams, CancelRunResult, void>('jetbench/cancelRun');

/** A job on the accelerator, running or waiting its turn. */
export interface QueueJob {
  /** Unique per agent process. */
  jobId: number;
  kind: 'run' | 'build';
  state: 'running' | 'queued';
  /** The run's id for runs; null for builds. */
  runId: string | null;
  /** In words, e.g. "tiny onnxruntime fp32". */
  title: string;
  /** The `client` of the connection that submitted it (initializationOptions). */
  client: string;
  /** ISO time it was submitted. */
  submittedAt: string;
}

/** Running job first, then the waiting ones in order. A notification carries the first jobs only
 * (the agent's QUEUE_JOBS_SENT); `total` counts them all. */
export interface QueueState {
  jobs: QueueJob[];
  total: number;
}

/** Client -> agent: the accelerator's queue now. */
export const QueueStateRequest = new RequestType0<QueueState, void>('jetbench/queueState');

/** Agent -> every attached client: the queue changed (a job was submitted, started or ended).
 * Coalesced (at most one per ~100 ms) and bounded in size, whatever the queue's length. */
export const QueueChangedNotification = new NotificationType<QueueState>('jetbench/queueChanged');

export interface StopDaemonResult {
  /** True when the daemon exits now; false when jobs are live (it keeps them; `reason` says). */
  stopping: boolean;
  reason: string | null;
}

/** Client -> daemon: exit if no job is live (used to replace an agent from an older deploy).
 * A stdio agent answers `stopping: false`. */
export const StopDaemonRequest = new RequestType0<StopDaemonResult, void>('jetbench/stopDaemon');
