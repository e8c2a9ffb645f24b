// Run specs: the one place that says what a run defaults to and what a valid run is. Every face
// (CLI flags, spec files, the extension's pickers) completes a spec here, and the agent checks each
// request with the same rules before it registers anything, so a spec one face accepts is never
// refused (or silently changed) by another. Problems name the field, the bad value and the fix; each
// face renders the field in its own words (`--iterations`, `"iterations"`, `spec.iterations`).
import { BACKEND_IDS, MEMORY_MODES, PIPELINE_MODES, PRECISIONS, type BackendId, type Precision } from './protocolValues';
import type { FidelityOptions, PipelineOptions, PytorchOptions, RunSpec, TensorrtOptions, TvmOptions } from './protocol';
import { impliedPrecision } from './modelNames';

/** What a run takes when nobody says otherwise (the CLI's `bench` with no flags). */
export const SPEC_DEFAULTS = {
  device: 'local',
  model: 'yolov5s',
  backend: 'onnxruntime' as BackendId,
  warmup: 20,
  warmupMs: 0,
  iterations: 100,
  durationS: 0,
  threads: null as number | null,
  inputShape: null as number[] | null,
  opset: 13 as 11 | 13,
  label: null as string | null,
} as const;

/** A pipeline run's options when the user gives none. */
export const PIPELINE_DEFAULTS: PipelineOptions = {
  mode: 'conventional',
  memory: 'pageable',
  source: 'synthetic',
  frameCount: 8,
  objects: 12,
  confThreshold: null,
  iouThreshold: null,
  maxDetections: null,
};

/** Frame sets jetbench fetches itself (device-agent/src/builtinFrames.ts), named where a frame
 * source is asked for. */
export const BUILTIN_FRAME_SETS = ['vtest'] as const;

/** A fidelity check's frames when the user gives only --fidelity. */
export const FIDELITY_DEFAULTS: FidelityOptions = { frames: 50, source: 'vtest' };

export const TVM_DEFAULTS: TvmOptions = { target: 'llvm', arch: null, tuneTrials: 0, tuningLog: null, python: null, profile: false };

export const PYTORCH_DEFAULTS: PytorchOptions = { device: null, mode: 'eager', span: null, tf32: false, python: null };

export const TENSORRT_DEFAULTS: TensorrtOptions = { runner: 'native', trtexec: null, span: 'gpu-compute', cudaGraph: false };

/** Upper bounds: far beyond any sensible run, low enough that a typo (1e12 iterations, a 20000 px
 * input) is refused with a message instead of running for a week or exhausting the device. */
export const SPEC_LIMITS = {
  warmup: 1_000_000,
  /** One hour. */
  warmupMs: 3_600_000,
  iterations: 10_000_000,
  /** One day. */
  durationS: 86_400,
  trials: 1000,
  /** Threads beyond this multiple of the device's cores only add contention. */
  threadsPerCore: 4,
  /** Without the device's core count. */
  threads: 1024,
  tuneTrials: 100_000,
  inputDims: 8,
  inputDim: 65_536,
  /** A run holds the input several times over (the tensor, the backend's copies, the outputs):
   * the input alone may take at most this share of the device's memory. */
  inputMemoryShare: 1 / 8,
  /** Without the device's memory figure: 1 GiB of fp32. */
  inputElements: 2 ** 28,
  labelChars: 1000,
  pathChars: 4096,
  frameCount: 1000,
  objects: 500,
  maxDetections: 100_000,
  fidelityFrames: 10_000,
} as const;

/** What the agent knows about the device it checks a spec for. */
export interface DeviceFacts {
  cpuCores?: number;
  memoryBytes?: number;
}

export interface SpecProblem {
  /** The field's path in a RunSpec: `iterations`, `tvm.tuneTrials`, `pipeline.memory`. */
  field: string;
  /** What is wrong and what is allowed, without the field's name: `must be ... (got ...)`. */
  message: string;
}

export const SPEC_KEYS = ['device', 'model', 'backend', 'precision', 'warmup', 'warmupMs', 'iterations', 'durationS', 'trials', 'threads', 'inputShape', 'opset', 'label', 'tvm', 'pytorch', 'tensorrt', 'verify', 'pipeline', 'fidelity'] as const;
const FIDELITY_KEYS = ['frames', 'source'] as const;
const TVM_KEYS = ['target', 'arch', 'tuneTrials', 'tuningLog', 'python', 'profile', 'rpc', 'rpcDevice', 'cross'] as const;
const PIPELINE_KEYS = ['mode', 'memory', 'source', 'frameCount', 'objects', 'confThreshold', 'iouThreshold', 'maxDetections'] as const;
const TVM_TARGETS = ['llvm', 'cuda'] as const;
const PYTORCH_KEYS = ['device', 'mode', 'span', 'tf32', 'python'] as const;
const TENSORRT_KEYS = ['runner', 'trtexec', 'span', 'cudaGraph'] as const;

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shown(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 60)}...` : v}'`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}...` : s;
  } catch {
    return String(v);
  }
}

/** Collects problems for one object; each check returns whether the value passed. */
class Checker {
  readonly problems: SpecProblem[] = [];
  constructor(private readonly prefix = '') {}

  add(field: string, message: string): false {
    this.problems.push({ field: this.prefix + field, message });
    return false;
  }

  whole(field: string, v: unknown, min: number, max: number): v is number {
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return true;
    return this.add(field, `must be a whole number from ${min} to ${max} (got ${shown(v)})`);
  }

  number(field: string, v: unknown, min: number, max: number, minOpen = false, maxOpen = false): v is number {
    const ok = typeof v === 'number' && Number.isFinite(v) && (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max);
    if (ok) return true;
    return this.add(field, `must be a number in ${minOpen ? '(' : '['}${min}, ${max}${maxOpen ? ')' : ']'} (got ${shown(v)})`);
  }

  oneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): v is T {
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return true;
    return this.add(field, `must be one of ${allowed.join(', ')} (got ${shown(v)})`);
  }

  text(field: string, v: unknown, maxChars: number, nullable: boolean): boolean {
    if (nullable && v === null) return true;
    if (typeof v === 'string' && v.length > 0 && v.length <= maxChars) return true;
    return this.add(field, `must be ${nullable ? 'null or ' : ''}text of 1 to ${maxChars} characters (got ${shown(v)})`);
  }

  known(v: Raw, keys: readonly string[]): void {
    for (const k of Object.keys(v)) if (!keys.includes(k)) this.add(k, `is not a known field (known: ${keys.join(', ')})`);
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function checkInputShape(c: Checker, shape: unknown, facts: DeviceFacts): void {
  if (shape === null) return;
  const L = SPEC_LIMITS;
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > L.inputDims || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1 && d <= L.inputDim)) {
    c.add('inputShape', `must be null or 1 to ${L.inputDims} whole numbers from 1 to ${L.inputDim}, e.g. [1, 3, 640, 640] (got ${shown(shape)})`);
    return;
  }
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const bytes = elements * 4;
  const limit = facts.memoryBytes !== undefined ? Math.floor(facts.memoryBytes * L.inputMemoryShare) : L.inputElements * 4;
  if (bytes > limit) {
    const why =
      facts.memoryBytes !== undefined
        ? `this device has ${formatBytes(facts.memoryBytes)} of memory and a run holds its input several times over, so the input may take at most ${formatBytes(limit)}`
        : `the input may take at most ${formatBytes(limit)}`;
    c.add('inputShape', `${(shape as number[]).join('x')} is ${elements.toExponential(2)} values (${formatBytes(bytes)} as fp32): ${why}; use a smaller shape, e.g. [1, 3, 640, 640]`);
  }
}

function checkTvm(tvm: unknown, backend: unknown): SpecProblem[] {
  const c = new Checker('tvm.');
  if (!isObject(tvm)) return [{ field: 'tvm', message: `must be an object of TVM options (got ${shown(tvm)})` }];
  if (backend !== 'tvm') return [{ field: 'tvm', message: `applies to backend tvm only (backend is ${shown(backend)})` }];
  c.known(tvm, TVM_KEYS);
  c.oneOf('target', tvm.target, TVM_TARGETS);
  if (tvm.arch !== null && !(typeof tvm.arch === 'string' && /^sm_\d{2,3}[a-z]?$/.test(tvm.arch))) c.add('arch', `must be null or a CUDA architecture like sm_87 (got ${shown(tvm.arch)})`);
  c.whole('tuneTrials', tvm.tuneTrials, 0, SPEC_LIMITS.tuneTrials);
  c.text('tuningLog', tvm.tuningLog, SPEC_LIMITS.pathChars, true);
  c.text('python', tvm.python, SPEC_LIMITS.pathChars, true);
  if (typeof tvm.profile !== 'boolean') c.add('profile', `must be true or false (got ${shown(tvm.profile)})`);
  if (tvm.rpc !== undefined && tvm.rpc !== null) checkTvmRpc(c, 'rpc', tvm.rpc);
  if (tvm.rpcDevice !== undefined && tvm.rpcDevice !== null) {
    const d = tvm.rpcDevice;
    const ok = isObject(d) && typeof d.host === 'string' && d.host.length > 0 && Number.isSafeInteger(d.port) && (d.port as number) >= 1 && (d.port as number) <= 65535 && Object.keys(d).every((k) => k === 'host' || k === 'port');
    if (!ok) c.add('rpcDevice', `must be null or { host, port }: the server the tracker hands out for the device (got ${shown(d)})`);
    else if (!isObject(tvm.rpc) || tvm.rpc.kind !== 'tracker') c.add('rpcDevice', 'applies with a tracker in rpc only (it picks one of the tracker\'s servers)');
  }
  if (tvm.cross !== undefined && tvm.cross !== null) {
    const x = tvm.cross;
    if (!isObject(x) || typeof x.triple !== 'string' || !/^[a-z0-9_]+-[a-z0-9_-]+$/.test(x.triple) || !Number.isSafeInteger(x.cores) || (x.cores as number) < 1) {
      c.add('cross', `must be null or { triple: an LLVM target triple like aarch64-linux-gnu, cores: a whole number >= 1 } (got ${shown(x)})`);
    }
  }
  return c.problems;
}

function checkTvmRpc(c: Checker, field: 'rpc', rpc: unknown): void {
  const ok =
    isObject(rpc) &&
    (rpc.kind === 'server' || rpc.kind === 'tracker') &&
    typeof rpc.host === 'string' &&
    rpc.host.length > 0 &&
    Number.isSafeInteger(rpc.port) &&
    (rpc.port as number) >= 1 &&
    (rpc.port as number) <= 65535 &&
    (rpc.kind === 'server' || (typeof rpc.key === 'string' && rpc.key.length > 0));
  if (!ok) c.add(field, `must be null, { kind: 'server', host, port } or { kind: 'tracker', host, port, key } (got ${shown(rpc)})`);
}

function checkPytorch(o: unknown, backend: unknown): SpecProblem[] {
  const c = new Checker('pytorch.');
  if (!isObject(o)) return [{ field: 'pytorch', message: `must be an object of PyTorch options (got ${shown(o)})` }];
  if (backend !== 'pytorch') return [{ field: 'pytorch', message: `applies to backend pytorch only (backend is ${shown(backend)})` }];
  c.known(o, PYTORCH_KEYS);
  if (o.device !== null) c.oneOf('device', o.device, ['cuda', 'cpu'] as const);
  c.oneOf('mode', o.mode, ['eager', 'cuda-graph', 'compile'] as const);
  if (o.span !== null) c.oneOf('span', o.span, ['device', 'host'] as const);
  if (typeof o.tf32 !== 'boolean') c.add('tf32', `must be true or false (got ${shown(o.tf32)})`);
  c.text('python', o.python, SPEC_LIMITS.pathChars, true);
  if (o.mode === 'cuda-graph' && o.device === 'cpu') c.add('mode', "cuda-graph needs device cuda (a CUDA graph replays GPU work): use mode 'eager' on the CPU");
  return c.problems;
}

function checkTensorrt(o: unknown, backend: unknown): SpecProblem[] {
  const c = new Checker('tensorrt.');
  if (!isObject(o)) return [{ field: 'tensorrt', message: `must be an object of TensorRT options (got ${shown(o)})` }];
  if (backend !== 'tensorrt') return [{ field: 'tensorrt', message: `applies to backend tensorrt only (backend is ${shown(backend)})` }];
  c.known(o, TENSORRT_KEYS);
  c.oneOf('runner', o.runner, ['native', 'trtexec'] as const);
  c.text('trtexec', o.trtexec, SPEC_LIMITS.pathChars, true);
  c.oneOf('span', o.span, ['gpu-compute', 'latency'] as const);
  if (typeof o.cudaGraph !== 'boolean') c.add('cudaGraph', `must be true or false (got ${shown(o.cudaGraph)})`);
  // The native runner times device-resident buffers only; its CUDA graph is JETBENCH_TENSORRT_CUDA_GRAPH.
  if (o.runner === 'native' && o.span === 'latency') c.add('span', "'latency' (copies included) is measured by the trtexec runner: add runner 'trtexec', or use span 'gpu-compute'");
  if (o.runner === 'native' && o.trtexec !== null && o.trtexec !== undefined) c.add('trtexec', "a trtexec path applies to runner 'trtexec' only");
  return c.problems;
}

export function pipelineProblems(p: unknown): SpecProblem[] {
  if (!isObject(p)) return [{ field: 'pipeline', message: `must be an object of pipeline options (got ${shown(p)})` }];
  const c = new Checker('pipeline.');
  const L = SPEC_LIMITS;
  c.known(p, PIPELINE_KEYS);
  c.oneOf('mode', p.mode, PIPELINE_MODES);
  c.oneOf('memory', p.memory, MEMORY_MODES);
  c.text('source', p.source, L.pathChars, false);
  c.whole('frameCount', p.frameCount, 1, L.frameCount);
  c.whole('objects', p.objects, 0, L.objects);
  // null: the model family's own (the agent's pipeline picks them from the model's shapes).
  if (p.confThreshold !== null) c.number('confThreshold', p.confThreshold, 0, 1, false, true);
  if (p.iouThreshold !== null) c.number('iouThreshold', p.iouThreshold, 0, 1, true, false);
  if (p.maxDetections !== null) c.whole('maxDetections', p.maxDetections, 1, L.maxDetections);
  return c.problems;
}

export function fidelityProblems(f: unknown, spec: Raw): SpecProblem[] {
  if (!isObject(f)) return [{ field: 'fidelity', message: `must be an object of fidelity options (got ${shown(f)})` }];
  const c = new Checker('fidelity.');
  c.known(f, FIDELITY_KEYS);
  c.whole('frames', f.frames, 1, SPEC_LIMITS.fidelityFrames);
  c.text('source', f.source, SPEC_LIMITS.pathChars, false);
  if (spec.pipeline !== undefined) c.add('frames', 'applies to a benchmark run; a pipeline run compares its own frames: run the benchmark with fidelity separately');
  return c.problems;
}

/** Every problem of a complete spec (as the agent receives it), with bounds from the device's
 * facts where known. An empty list means the spec is a RunSpec a backend can be asked to run. */
export function specProblems(spec: unknown, facts: DeviceFacts = {}): SpecProblem[] {
  if (!isObject(spec)) return [{ field: 'spec', message: `must be an object with at least a "model" (got ${shown(spec)})` }];
  const c = new Checker();
  const L = SPEC_LIMITS;
  c.known(spec, SPEC_KEYS);
  c.text('device', spec.device, 200, false);
  c.text('model', spec.model, L.pathChars, false);
  c.oneOf('backend', spec.backend, BACKEND_IDS);
  c.oneOf('precision', spec.precision, PRECISIONS);
  c.whole('warmup', spec.warmup, 0, L.warmup);
  c.number('warmupMs', spec.warmupMs, 0, L.warmupMs);
  c.whole('iterations', spec.iterations, 1, L.iterations);
  c.number('durationS', spec.durationS, 0, L.durationS);
  if (spec.trials !== undefined) c.whole('trials', spec.trials, 1, L.trials);
  const maxThreads = facts.cpuCores !== undefined && facts.cpuCores > 0 ? facts.cpuCores * L.threadsPerCore : L.threads;
  if (spec.threads !== null && !(typeof spec.threads === 'number' && Number.isInteger(spec.threads) && spec.threads >= 1 && spec.threads <= maxThreads)) {
    const cores = facts.cpuCores !== undefined ? ` (${L.threadsPerCore} per core of this device's ${facts.cpuCores})` : '';
    c.add('threads', `must be null (the backend's default) or a whole number from 1 to ${maxThreads}${cores} (got ${shown(spec.threads)})`);
  }
  checkInputShape(c, spec.inputShape, facts);
  if (spec.opset !== 11 && spec.opset !== 13) c.add('opset', `must be 11 or 13 (got ${shown(spec.opset)})`);
  if (spec.label !== null && !(typeof spec.label === 'string' && spec.label.length <= L.labelChars)) c.add('label', `must be null or text of at most ${L.labelChars} characters (got ${shown(spec.label)})`);
  if (spec.verify !== undefined && typeof spec.verify !== 'boolean') c.add('verify', `must be true or false (got ${shown(spec.verify)})`);
  if (spec.tvm !== undefined) c.problems.push(...checkTvm(spec.tvm, spec.backend));
  if (spec.pytorch !== undefined) c.problems.push(...checkPytorch(spec.pytorch, spec.backend));
  if (spec.tensorrt !== undefined) c.problems.push(...checkTensorrt(spec.tensorrt, spec.backend));
  if (spec.pipeline !== undefined) c.problems.push(...pipelineProblems(spec.pipeline));
  if (spec.fidelity !== undefined) c.problems.push(...fidelityProblems(spec.fidelity, spec));
  if (spec.pipeline !== undefined && typeof spec.trials === 'number' && spec.trials > 1) c.add('trials', `must be 1 for a pipeline run: trials repeat a benchmark's warm-up and measurement; run the pipeline again for another trial (got ${spec.trials})`);
  return c.problems;
}

/** Overrides of the defaults a face supplies (its settings); the rest come from SPEC_DEFAULTS. */
export type SpecBase = Partial<Pick<RunSpec, 'device' | 'warmup' | 'iterations' | 'threads' | 'trials'>>;

/** A complete RunSpec from what a user gave (`fields`, e.g. one run of a spec file over its
 * `defaults`, or CLI flags), the face's own base, then SPEC_DEFAULTS. Absent and undefined fields
 * take their default; everything given is checked as given, never coerced: a mistyped TVM target is
 * a problem, not `llvm`. `spec` is null when there is any problem. */
export function completeSpec(fields: Raw, base: SpecBase = {}, facts: DeviceFacts = {}): { spec: RunSpec | null; problems: SpecProblem[] } {
  const given = (k: string): unknown => fields[k];
  const pick = <T>(k: string, fallback: T): unknown => (given(k) === undefined ? fallback : given(k));
  const model = pick('model', SPEC_DEFAULTS.model);
  // A built-in name with a precision suffix (yolov5s-fp16) implies that precision.
  const implied: Precision = typeof model === 'string' ? impliedPrecision(model) : 'fp32';
  const backend = pick('backend', SPEC_DEFAULTS.backend);
  const candidate: Raw = {
    device: pick('device', base.device ?? SPEC_DEFAULTS.device),
    model,
    backend,
    precision: pick('precision', implied),
    warmup: pick('warmup', base.warmup ?? SPEC_DEFAULTS.warmup),
    warmupMs: pick('warmupMs', SPEC_DEFAULTS.warmupMs),
    iterations: pick('iterations', base.iterations ?? SPEC_DEFAULTS.iterations),
    durationS: pick('durationS', SPEC_DEFAULTS.durationS),
    threads: pick('threads', base.threads === undefined ? SPEC_DEFAULTS.threads : base.threads),
    inputShape: pick('inputShape', SPEC_DEFAULTS.inputShape),
    opset: pick('opset', SPEC_DEFAULTS.opset),
    label: pick('label', SPEC_DEFAULTS.label),
  };
  // Absent means one trial: a run file of one trial reads as it did before trials existed.
  const trials = pick('trials', base.trials);
  if (trials !== undefined && trials !== 1) candidate.trials = trials;
  for (const k of Object.keys(fields)) if (!(k in candidate) && fields[k] !== undefined && !['tvm', 'pytorch', 'tensorrt', 'verify', 'pipeline', 'trials', 'fidelity'].includes(k)) candidate[k] = fields[k];
  if (given('verify') === true) candidate.verify = true;
  else if (given('verify') !== undefined && given('verify') !== false) candidate.verify = given('verify');
  const tvm = given('tvm');
  if (tvm !== undefined) candidate.tvm = isObject(tvm) ? { ...TVM_DEFAULTS, ...withoutUndefined(tvm) } : tvm;
  const pytorch = given('pytorch');
  if (pytorch !== undefined) candidate.pytorch = isObject(pytorch) ? { ...PYTORCH_DEFAULTS, ...withoutUndefined(pytorch) } : pytorch;
  const tensorrt = given('tensorrt');
  if (tensorrt !== undefined) candidate.tensorrt = isObject(tensorrt) ? { ...TENSORRT_DEFAULTS, ...withoutUndefined(tensorrt) } : tensorrt;
  if (given('pipeline') !== undefined) candidate.pipeline = given('pipeline');
  const fidelity = given('fidelity');
  if (fidelity !== undefined) candidate.fidelity = isObject(fidelity) ? { ...FIDELITY_DEFAULTS, ...withoutUndefined(fidelity) } : fidelity;
  const problems = specProblems(candidate, facts);
  return { spec: problems.length === 0 ? (candidate as unknown as RunSpec) : null, problems };
}

function withoutUndefined(o: Raw): Raw {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** `"iterations" must be ...`: the form spec files and settings use. */
export function quotedProblem(p: SpecProblem): string {
  return `"${p.field}" ${p.message}`;
}
