// TVM through the device's own Python `tvm` (device-agent/python/jetbench_tvm.py): build (and
// tune) a module from the ONNX model, cache it, then serve timed inferences from a helper process.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TVM_DEFAULTS } from '../../../contract/runSpec';
import { cacheDir } from '../../../contract/cacheDir';
import { BackendUnavailableError, BadInputError, BuildCancelledError } from '../errors';
import { concreteInputShape } from '../modelInfo';
import type { ArtifactInfo, BackendStatus, ModelInfo, OperatorTime, RunSpec, TvmAdoptParams, TvmOptions } from '../../../contract/protocol';
import type { Backend, BackendBuild, PreparedSession, PrepareRequest } from './backend';
import { HelperError, HelperSession, probeHelper, helperOutputsFor, readHelperOutputs, runHelper, servedBy, translate, TVM_HELPER, writeHelperInputs, type HelperEvent } from './pythonHelper';



export function tvmOptions(spec: RunSpec): TvmOptions {
  return { ...TVM_DEFAULTS, ...(spec.tvm ?? {}) };
}

function pythonOf(opts: TvmOptions): string {
  return tvmPython(opts.python);
}

/** The Python that has `tvm`: the one asked for, else $JETBENCH_PYTHON, else python3. */
export function tvmPython(asked: string | null): string {
  return asked ?? process.env.JETBENCH_PYTHON ?? 'python3';
}

interface Probe {
  tvm: string;
  generation: 'relax' | 'relay';
  cuda: boolean;
  python: string;
  pythonVersion: string;
}

function probe(python: string): Promise<Probe | HelperError> {
  return probeHelper<Probe>(TVM_HELPER, python);
}

/** What TVM `python` has (cached per Python), or why it has none. */
export const tvmProbe = probe;

async function fileHash(p: string | null): Promise<string> {
  if (!p) return 'none';
  const st = await stat(p).catch(() => null);
  if (!st) return 'none';
  const h = createHash('sha256');
  const files = st.isDirectory() ? (await readdir(p)).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(p, f)) : [p];
  for (const f of files) h.update(await readFile(f));
  return h.digest('hex');
}

export type TvmBuildResult = BackendBuild;

/** The model's concrete inputs as the helper takes them. */
function helperInputs(spec: RunSpec, model: ModelInfo) {
  return model.inputs.map((input, i) => ({ name: input.name, dtype: input.dtype, shape: concreteInputShape(input, i === 0 ? spec.inputShape : null) }));
}

/** The cache folder of the modules of this model and options (built here, or adopted from a host
 * that compiled them for this device: same key). A cross-compiled build is keyed by its triple. */
function artifactDir(spec: RunSpec, model: ModelInfo, opts: TvmOptions, tvmVersion: string): string {
  const key = createHash('sha256')
    .update(JSON.stringify([model.sha256, opts.target, opts.arch, spec.precision, tvmVersion, helperInputs(spec, model), ...(opts.cross ? [opts.cross] : [])]))
    .digest('hex')
    .slice(0, 16);
  return path.join(cacheDir(), 'artifacts', 'tvm', key);
}

function moduleName(precision: string, logHash: string | null): string {
  return `module-${precision}-${logHash && logHash !== 'none' ? logHash.slice(0, 12) : 'untuned'}.so`;
}

/** Builds (and tunes) the module for this model and options, or reuses the cached one. */
export async function buildTvmModule(
  spec: RunSpec,
  model: ModelInfo,
  progress: (message: string) => void,
  signal: AbortSignal,
): Promise<TvmBuildResult> {
  const opts = tvmOptions(spec);
  const python = pythonOf(opts);
  const found = await probe(python);
  if (found instanceof HelperError) throw translate(found);
  if (spec.precision === 'int8') throw new BadInputError('the tvm backend builds fp32 or fp16 modules: use --precision fp32 or fp16 (int8 runs with onnxruntime or tensorrt)');
  if (model.precision !== 'fp32') {
    throw new BadInputError(`the tvm backend builds from an fp32 model (it converts to fp16 itself with --precision fp16); '${model.builtin ?? model.path}' is stored in ${model.precision}`);
  }
  if (opts.target === 'cuda' && !found.cuda) {
    throw new BackendUnavailableError(`target cuda: TVM ${found.tvm} in ${found.python} sees no CUDA device (it needs a TVM built with CUDA and a GPU): use --target llvm`);
  }
  if (!Number.isInteger(opts.tuneTrials) || opts.tuneTrials < 0) throw new BadInputError(`--tune-trials must be a whole number >= 0 (got ${opts.tuneTrials})`);
  if (opts.rpc && opts.target !== 'llvm') throw new BadInputError('building through TVM RPC compiles for a CPU (--target llvm); cuda targets build on the device itself');
  const inputs = helperInputs(spec, model);
  const dir = artifactDir(spec, model, opts, found.tvm);
  // The tuning log is shared by every build of the same model and target, so tuning resumes.
  const tuningLog = opts.tuningLog ?? (opts.tuneTrials > 0 ? path.join(dir, 'tuning') : null);
  const logHash = await fileHash(tuningLog);
  const modulePath = path.join(dir, moduleName(spec.precision, logHash));
  const metaPath = `${modulePath}.json`;
  const flags = (buildMs: number): ArtifactInfo['flags'] => ({
    target: opts.target,
    ...(opts.arch ? { arch: opts.arch } : {}),
    precision: spec.precision,
    tuneTrials: opts.tuneTrials,
    tuned: opts.tuneTrials > 0 || logHash !== 'none',
    tvm: found.tvm,
    generation: found.generation,
    buildMs,
    ...(opts.cross ? { triple: opts.cross.triple, cores: opts.cross.cores } : {}),
  });
  // Through RPC the check run on the device is the point: the module is built (a second or two
  // untuned) and run there again.
  if (opts.tuneTrials === 0 && !opts.rpc) {
    const meta = await readFile(metaPath, 'utf8').catch(() => null);
    const st = await stat(modulePath).catch(() => null);
    if (meta && st) {
      const m = JSON.parse(meta) as { buildMs: number; flags: ArtifactInfo['flags'] };
      progress(`reusing cached TVM module ${path.basename(modulePath)}`);
      return { artifact: { kind: 'tvm-module', path: modulePath, bytes: st.size, buildMs: m.buildMs, flags: m.flags }, cached: true, tuningLog };
    }
  }
  await mkdir(dir, { recursive: true });
  const tmp = `${modulePath}.${process.pid}.tmp.so`;
  const t0 = performance.now();
  let done: HelperEvent;
  // The check run's inputs: the ones ONNX Runtime gets for --verify, as files.
  const checkDir = opts.rpc ? await mkdtemp(path.join(os.tmpdir(), 'jetbench-tvm-rpc-')) : null;
  try {
    const check = checkDir ? { inputs: await writeHelperInputs(model, spec, checkDir), dir: checkDir, repeats: 5 } : null;
    done = await runHelper(
      python,
      'build',
      {
        model: model.path,
        inputs,
        target: opts.target,
        arch: opts.arch,
        precision: spec.precision,
        trials: opts.tuneTrials,
        workDir: tuningLog,
        out: tmp,
        ...(opts.rpc ? { rpc: opts.rpc, rpcDevice: opts.rpcDevice ?? null, check } : {}),
        ...(opts.cross ? { cross: opts.cross } : {}),
      },
      { onEvent: (e) => e.message && progress(e.message), signal },
    );
  } catch (e) {
    await rm(tmp, { force: true });
    if (checkDir) await rm(checkDir, { recursive: true, force: true });
    if (e instanceof HelperError && e.kind === 'cancelled') {
      throw new BuildCancelledError(
        tuningLog
          ? `build cancelled; the tuning log keeps the trials measured so far: ${tuningLog} (build again with --tuning-log ${tuningLog} to continue from it)`
          : 'build cancelled',
      );
    }
    throw translate(e);
  }
  const buildMs = performance.now() - t0;
  // The module's name carries the tuning log it was built from: after tuning that log changed.
  const finalPath = opts.tuneTrials > 0 ? path.join(dir, `module-${spec.precision}-${(await fileHash(tuningLog)).slice(0, 12)}.so`) : modulePath;
  await rename(tmp, finalPath);
  const artifactFlags = { ...flags(buildMs), importMs: Number(done.importMs ?? 0), tuneMs: Number(done.tuneMs ?? 0), compileMs: Number(done.compileMs ?? 0), ...(opts.tuneTrials > 0 ? { candidatesMeasured: Number(done.candidatesMeasured ?? 0) } : {}) };
  await writeFile(`${finalPath}.json`, JSON.stringify({ buildMs, flags: artifactFlags }, null, 1));
  const bytes = (await stat(finalPath)).size;
  let rpcRun: BackendBuild['rpcRun'];
  if (checkDir) {
    try {
      const ran = done.rpc as { endpoint: string; server?: string; outputs: Array<{ file: string; dtype: string }>; medianMs: number; repeats: number };
      rpcRun = { endpoint: ran.endpoint, ...(ran.server ? { server: ran.server } : {}), outputs: await readHelperOutputs(ran.outputs), medianMs: ran.medianMs, repeats: ran.repeats };
    } finally {
      await rm(checkDir, { recursive: true, force: true });
    }
  }
  const rpcCandidates = candidatesPerServer(done.candidatesPerServer);
  return { artifact: { kind: 'tvm-module', path: finalPath, bytes, buildMs, flags: artifactFlags }, cached: false, tuningLog, ...(rpcRun ? { rpcRun } : {}), ...(rpcCandidates ? { rpcCandidates } : {}) };
}

/** The helper's {server: candidates}, checked (it crosses a process boundary). */
function candidatesPerServer(raw: unknown): Record<string, number> | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const out: Record<string, number> = {};
  for (const [server, n] of Object.entries(raw)) if (Number.isSafeInteger(n) && (n as number) > 0) out[server] = n as number;
  return Object.keys(out).length ? out : null;
}

/** Takes a module a host compiled for this device (through RPC) into this device's cache, under
 * the key this device's own build would use, with the tuning log it came from: `bench --backend
 * tvm` with the same options (and --tuning-log for a tuned one) then runs it without building. */
export async function adoptTvmModule(params: TvmAdoptParams, model: ModelInfo): Promise<TvmBuildResult> {
  const { spec } = params;
  const opts = tvmOptions(spec);
  const found = await probe(pythonOf(opts));
  if (found instanceof HelperError) throw translate(found);
  if (model.sha256 !== params.modelSha256) {
    throw new BadInputError(`the model '${spec.model}' on the device (sha256 ${model.sha256.slice(0, 12)}) is not the one the host compiled (${params.modelSha256.slice(0, 12)}): put the same .onnx on both`);
  }
  const hostTvm = String(params.flags.tvm ?? '');
  if (hostTvm !== found.tvm) {
    throw new BadInputError(`the module was compiled by TVM ${hostTvm || '(unknown)'} and the device has TVM ${found.tvm}: a module runs with the TVM runtime it was compiled for; install the same version on both`);
  }
  const dir = artifactDir(spec, model, { ...opts, rpc: null, cross: null }, found.tvm);
  await mkdir(dir, { recursive: true });
  let tuningLog: string | null = null;
  if (params.tuningLog) {
    tuningLog = path.join(dir, 'tuning');
    await mkdir(tuningLog, { recursive: true });
    for (const f of (await readdir(params.tuningLog)).filter((n) => n.endsWith('.json'))) await copyFile(path.join(params.tuningLog, f), path.join(tuningLog, f));
  }
  const finalPath = path.join(dir, moduleName(spec.precision, await fileHash(tuningLog)));
  await copyFile(params.module, `${finalPath}.${process.pid}.tmp`);
  await rename(`${finalPath}.${process.pid}.tmp`, finalPath);
  const flags = { ...params.flags, compiledOn: 'rpc host' };
  await writeFile(`${finalPath}.json`, JSON.stringify({ buildMs: params.buildMs, flags }, null, 1));
  const bytes = (await stat(finalPath)).size;
  return { artifact: { kind: 'tvm-module', path: finalPath, bytes, buildMs: params.buildMs, flags }, cached: false, tuningLog };
}

export class TvmBackend implements Backend {
  readonly id = 'tvm' as const;
  readonly convertsPrecision = true;

  build({ spec, model, progress, signal }: PrepareRequest): Promise<TvmBuildResult> {
    return buildTvmModule(spec, model, progress, signal);
  }

  async status(spec?: RunSpec): Promise<BackendStatus> {
    const found = await probe(pythonOf(spec ? tvmOptions(spec) : TVM_DEFAULTS));
    if (found instanceof HelperError) {
      return { id: this.id, available: false, reason: found.message, version: null, precisions: [] };
    }
    return { id: this.id, available: true, reason: null, version: found.tvm, precisions: ['fp32', 'fp16'] };
  }

  async prepare({ spec, model, progress, signal }: PrepareRequest): Promise<PreparedSession> {
    const opts = tvmOptions(spec);
    if (opts.rpc || opts.rpcDevice || opts.cross) {
      throw new BadInputError('tvm.rpc, tvm.rpcDevice and tvm.cross are for jetbench build --rpc (compile here, measure on the device); a benchmark runs on its own device: leave them out');
    }
    const { artifact } = await buildTvmModule(spec, model, progress, signal);
    const work = await mkdtemp(path.join(os.tmpdir(), 'jetbench-tvm-'));
    const inputs = await writeHelperInputs(model, spec, work);
    progress('loading the TVM module');
    let session: HelperSession;
    try {
      session = await HelperSession.start(pythonOf(opts), { module: artifact.path, target: opts.target, inputs });
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      throw translate(e);
    }
    const found = (await probe(pythonOf(opts))) as Probe;
    const served = servedBy(session.ready, found.python, found.pythonVersion, 'tvm', found.tvm);
    return {
      infer: async () => {
        const line = await session.request('i');
        const ms = Number(line);
        if (!Number.isFinite(ms)) throw new Error(`the TVM helper answered '${line.slice(0, 200)}' instead of a latency`);
        return ms;
      },
      outputs: async () => {
        const files = JSON.parse(await session.request(`o ${work}`)) as Array<{ file: string; dtype: string; shape: number[] }>;
        return readHelperOutputs(files);
      },
      outputsFor: (inputs) => helperOutputsFor(session, work, inputs),
      profile: async () => JSON.parse(await session.request('p')) as OperatorTime[],
      timing: {
        clock: 'time.perf_counter in the TVM helper process, per iteration',
        spans: `TVM ${found.generation === 'relax' ? 'Relax VirtualMachine main()' : 'graph executor run()'} plus a device sync, timed inside the Python helper; inputs stay bound, outputs stay on the device`,
        span: 'tvm-call',
        executionProvider: opts.target === 'cuda' ? `tvm cuda${opts.arch ? ` -arch=${opts.arch}` : ''}` : 'tvm llvm (CPU)',
        threads: null,
      },
      artifact,
      runtimeVersion: served.version,
      python: served.python,
      dispose: async () => {
        await session.close();
        await rm(work, { recursive: true, force: true });
      },
    };
  }
}

