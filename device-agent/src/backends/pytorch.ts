// PyTorch through the device's own Python `torch` (device-agent/python/jetbench_torch.py, the same
// helper protocol as TVM's): an ONNX model converted by onnx2torch, or a TorchScript / torch.export
// file, run eagerly or as a CUDA graph on the GPU or the CPU, each sample timed inside the helper.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PYTORCH_DEFAULTS } from '../../../contract/runSpec';
import { cacheDir } from '../../../contract/cacheDir';
import type { ArtifactInfo, BackendStatus, ModelInfo, PytorchOptions, RunSpec } from '../../../contract/protocol';
import { BackendUnavailableError, BadInputError } from '../errors';
import type { Backend, PreparedSession, PrepareRequest } from './backend';
import { HelperError, type HelperEvent, HelperSession, helperOutputsFor, probeHelper, readHelperOutputs, runHelper, servedBy, TORCH_HELPER, translate, writeHelperInputs } from './pythonHelper';

export function pytorchOptions(spec: RunSpec): PytorchOptions {
  return { ...PYTORCH_DEFAULTS, ...(spec.pytorch ?? {}) };
}

function pythonOf(opts: PytorchOptions): string {
  return opts.python ?? process.env.JETBENCH_PYTHON ?? 'python3';
}

interface Probe {
  torch: string;
  cuda: boolean;
  gpu: string | null;
  cudaRuntime: string | null;
  onnx2torch: string | null;
  python: string;
  pythonVersion: string;
}

function probe(python: string): Promise<Probe | HelperError> {
  return probeHelper<Probe>(TORCH_HELPER, python);
}

export class PytorchBackend implements Backend {
  readonly id = 'pytorch' as const;
  // It runs the fp32 model in fp16 itself (module.half()), as TensorRT and TVM build their precision.
  readonly convertsPrecision = true;

  async status(spec?: RunSpec): Promise<BackendStatus> {
    const found = await probe(pythonOf(spec ? pytorchOptions(spec) : PYTORCH_DEFAULTS));
    if (found instanceof HelperError) return { id: this.id, available: false, reason: found.message, version: null, precisions: [] };
    const device = spec ? pytorchOptions(spec).device : null;
    const cuda = found.cuda && device !== 'cpu';
    return { id: this.id, available: true, reason: null, version: found.torch, precisions: cuda ? ['fp32', 'fp16', 'bf16'] : ['fp32', 'bf16'] };
  }

  async prepare({ spec, model, progress }: PrepareRequest): Promise<PreparedSession> {
    const opts = pytorchOptions(spec);
    const python = pythonOf(opts);
    const found = await probe(python);
    if (found instanceof HelperError) throw translate(found);
    if (opts.device === 'cuda' && !found.cuda) {
      throw new BackendUnavailableError(`--torch-device cuda: PyTorch ${found.torch} in ${found.python} sees no CUDA device (torch.cuda.is_available() is False): use --torch-device cpu, or a PyTorch built with CUDA on a machine with an NVIDIA GPU`);
    }
    if (spec.precision === 'int8') throw new BadInputError('the pytorch backend runs fp32, fp16 or bf16: use one of those (int8 runs with onnxruntime or tensorrt)');
    if (model.precision !== 'fp32') {
      throw new BadInputError(`the pytorch backend starts from an fp32 model (it converts to fp16 or bf16 itself with --precision); '${model.builtin ?? model.path}' is stored in ${model.precision}`);
    }
    const work = await mkdtemp(path.join(os.tmpdir(), 'jetbench-torch-'));
    let session: HelperSession;
    try {
      const inputs = await writeHelperInputs(model, spec, work);
      progress(`converting and loading the model in PyTorch ${found.torch}${opts.device ? ` (${opts.device})` : ''}${opts.mode === 'compile' ? ', then torch.compile (its first call compiles: tens of seconds)' : ''}`);
      session = await HelperSession.start(
        python,
        {
          model: model.path,
          inputs,
          device: opts.device,
          precision: spec.precision,
          mode: opts.mode,
          span: opts.span,
          tf32: opts.tf32,
          threads: spec.threads,
          ...(opts.mode === 'compile' ? { compileCache: compileCacheDir() } : {}),
        },
        TORCH_HELPER,
      );
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      throw translate(e);
    }
    const ready = session.ready;
    const device = ready.device === 'cuda' ? 'cuda' : 'cpu';
    const span = ready.span === 'host' || (ready.span !== 'device' && device === 'cpu') ? 'host' : 'device';
    const gpu = typeof ready.gpu === 'string' ? ready.gpu : found.gpu;
    const served = servedBy(ready, found.python, found.pythonVersion, 'torch', found.torch);
    const loader = typeof ready.loader === 'string' ? ready.loader : 'onnx2torch';
    const threads = typeof ready.threads === 'number' ? ready.threads : null;
    const modeName = opts.mode === 'compile' ? (typeof ready.compiler === 'string' ? ready.compiler : 'torch.compile') : opts.mode;
    return {
      infer: async () => {
        const line = await session.request('i');
        const ms = Number(line);
        if (!Number.isFinite(ms)) throw new Error(`the PyTorch helper answered '${line.slice(0, 200)}' instead of a latency`);
        return ms;
      },
      outputs: async () => readHelperOutputs(JSON.parse(await session.request(`o ${work}`)) as Array<{ file: string; dtype: string }>),
      outputsFor: (inputs) => helperOutputsFor(session, work, inputs),
      timing: {
        clock: span === 'device' && device === 'cuda' ? 'CUDA events (torch.cuda.Event) in the PyTorch helper, per iteration' : 'time.perf_counter in the PyTorch helper process, per iteration',
        spans:
          span === 'device'
            ? `one PyTorch forward pass (${modeName}) on inputs already on the ${device === 'cuda' ? 'GPU' : 'CPU'}${device === 'cuda' ? ', between two CUDA events' : ''}; outputs stay there`
            : `copying the inputs in${device === 'cuda' ? ' (pinned host memory to the GPU)' : ''}, one PyTorch forward pass (${modeName}) and copying the outputs back${device === 'cuda' ? ', then a device sync' : ''}`,
        span: span === 'device' ? 'torch-forward' : 'torch-host',
        executionProvider: device === 'cuda' ? `pytorch cuda${gpu ? ` (${gpu})` : ''}, ${modeName}, ${loader}${spec.precision === 'fp32' ? `, TF32 ${ready.tf32 === true ? 'on' : 'off'}` : ''}` : `pytorch cpu, ${loader}${opts.mode === 'compile' ? `, ${modeName}` : ''}`,
        threads: device === 'cpu' ? threads : null,
      },
      artifact: compiledArtifact(ready, spec, opts, found.torch),
      runtimeVersion: served.version,
      python: served.python,
      dispose: async () => {
        await session.close();
        await rm(work, { recursive: true, force: true });
      },
    };
  }
}

/** TorchInductor's cache (mode compile): kept between runs, so the same model compiles faster
 * the second time. */
function compileCacheDir(): string {
  return path.join(cacheDir(), 'artifacts', 'torch-inductor');
}

/** Mode compile: the first call's compile time is the run's build. */
function compiledArtifact(ready: HelperEvent, spec: RunSpec, opts: PytorchOptions, torch: string): ArtifactInfo | null {
  if (opts.mode !== 'compile' || typeof ready.compileMs !== 'number') return null;
  return {
    kind: 'torch-compiled',
    path: typeof ready.compileCache === 'string' ? ready.compileCache : compileCacheDir(),
    bytes: typeof ready.compileCacheBytes === 'number' ? ready.compileCacheBytes : 0,
    buildMs: ready.compileMs,
    flags: {
      compiler: 'torch.compile (inductor)',
      precision: spec.precision,
      torch,
      tf32: opts.tf32,
      ...(typeof ready.graphBreaks === 'number' ? { graphBreaks: ready.graphBreaks } : {}),
    },
  };
}

/** The model as a TorchScript file for the native pipeline's libtorch inference (issue 15 item 2):
 * converted (onnx2torch) and traced on CUDA in the run's precision by the device's Python, cached
 * by model, precision, TF32 and torch version. */
export async function exportTorchScript(
  spec: RunSpec,
  model: ModelInfo,
  progress: (m: string) => void,
  signal: AbortSignal,
): Promise<{ file: string; torch: string; artifact: ArtifactInfo; outputDtype: 'float32' | 'float16' }> {
  const opts = pytorchOptions(spec);
  if (opts.device === 'cpu') throw new BadInputError("the pipeline runs PyTorch on the GPU, in the device buffers its CUDA stages use: drop --torch-device cpu (or use --backend onnxruntime for a CPU inference)");
  if (opts.mode !== 'eager') throw new BadInputError(`the pipeline runs the traced TorchScript module on its own stream: --torch-mode ${opts.mode} does not apply (drop it)`);
  if (spec.precision !== 'fp32' && spec.precision !== 'fp16') {
    throw new BadInputError(`the pipeline's buffers are float32 or float16: use --precision fp32 or fp16 with PyTorch (got ${spec.precision})`);
  }
  if (model.precision !== 'fp32') throw new BadInputError(`PyTorch starts from the fp32 model (it converts to fp16 itself); '${model.builtin ?? model.path}' is stored in ${model.precision}`);
  const python = pythonOf(opts);
  const found = await probe(python);
  if (found instanceof HelperError) throw translate(found);
  if (!found.cuda) throw new BackendUnavailableError(`PyTorch ${found.torch} in ${found.python} sees no CUDA device: the pipeline's PyTorch inference runs on the GPU`);
  const shape = model.inputs[0]!.shape as number[];
  const key = createHash('sha256').update(JSON.stringify({ model: model.sha256, precision: spec.precision, tf32: opts.tf32, torch: found.torch, shape })).digest('hex').slice(0, 24);
  const dir = path.join(cacheDir(), 'artifacts', 'torchscript');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${key}.pt`);
  const cached = existsSync(file);
  const started = performance.now();
  let outputDtype: 'float32' | 'float16' = spec.precision === 'fp16' ? 'float16' : 'float32';
  let loader = 'cached';
  if (!cached) {
    progress(`converting and tracing the model with PyTorch ${found.torch} on CUDA (${spec.precision}) for the pipeline`);
    try {
      const done = await runHelper(python, 'build', { model: model.path, precision: spec.precision, shape, out: file, tf32: opts.tf32 }, { helper: TORCH_HELPER, signal, onEvent: (e) => e.message && progress(e.message) });
      if (done.outputDtype === 'float16' || done.outputDtype === 'float32') outputDtype = done.outputDtype;
      loader = String(done.loader ?? '');
    } catch (e) {
      throw translate(e);
    }
  }
  const bytes = (await stat(file)).size;
  return {
    file,
    torch: found.torch,
    outputDtype,
    artifact: {
      kind: 'torchscript-module',
      path: file,
      bytes,
      buildMs: cached ? 0 : performance.now() - started,
      flags: { precision: spec.precision, torch: found.torch, tf32: opts.tf32, cached, ...(loader !== 'cached' ? { loader } : {}) },
    },
  };
}
