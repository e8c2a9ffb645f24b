// ONNX Runtime (onnxruntime-node, CPU execution provider): runs everywhere; the reference backend.
import type * as Ort from 'onnxruntime-node';
import { BackendUnavailableError, BadInputError } from '../errors';
import { concreteInputShape } from '../modelInfo';
import { float16ToNumber, makeInput } from '../inputs';
import type { BackendStatus } from '../../../contract/protocol';
import type { Backend, PreparedSession, PrepareRequest } from './backend';

type OrtModule = typeof Ort;

let loaded: { ort: OrtModule; version: string } | { error: string } | undefined;

/** Loads onnxruntime-node once; it is a native package, so it lives beside the agent, not in it. */
export function loadOnnxRuntime(): { ort: OrtModule; version: string } | { error: string } {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use; a missing package is an answer, not a crash
    const ort = require('onnxruntime-node') as OrtModule;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the version of the package that loaded
    const version = (require('onnxruntime-node/package.json') as { version: string }).version;
    keepFloat16AsBits(ort);
    loaded = { ort, version };
  } catch (e) {
    loaded = {
      error: `onnxruntime-node could not be loaded (${(e as Error).message.split('\n')[0]}); install it next to the agent: npm install onnxruntime-node`,
    };
  }
  return loaded;
}

/**
 * Where the engine has Float16Array (Node >= 24, recent Electron: the agent VS Code starts),
 * onnxruntime-common 1.30 turns float16 tensor data into a Float16Array, which onnxruntime-node's
 * own native binding then rejects ("must be a typed array (4 or Float16Array) ... got (0)").
 * onnxruntime-common picks its float16 array class once, at the first Tensor it makes: make that
 * first Tensor while Float16Array is out of sight, so float16 stays a Uint16Array of bits (what
 * the binding takes, and what every older engine uses), then put the global back.
 */
function keepFloat16AsBits(ort: OrtModule): void {
  const g = globalThis as { Float16Array?: unknown };
  if (g.Float16Array === undefined) return;
  const float16Array = g.Float16Array;
  delete g.Float16Array;
  try {
    new ort.Tensor('float32', new Float32Array(1), [1]);
  } finally {
    g.Float16Array = float16Array;
  }
}

export class OnnxRuntimeBackend implements Backend {
  readonly id = 'onnxruntime' as const;
  readonly convertsPrecision = false;

  async status(): Promise<BackendStatus> {
    const ort = loadOnnxRuntime();
    if ('error' in ort) {
      return { id: this.id, available: false, reason: ort.error, version: null, precisions: [] };
    }
    // ONNX Runtime runs a model in the precision it is stored in (fp16 weights, int8 QDQ, fp32).
    return { id: this.id, available: true, reason: null, version: ort.version, precisions: ['fp32', 'fp16', 'int8'] };
  }

  async prepare({ spec, model }: PrepareRequest): Promise<PreparedSession> {
    const loadedOrt = loadOnnxRuntime();
    if ('error' in loadedOrt) throw new BackendUnavailableError(loadedOrt.error);
    const { ort, version } = loadedOrt;
    if (spec.precision !== model.precision) {
      const hint = model.builtin ? ` (built-in variants: ${model.builtin.replace(/-(fp16|int8)$/, '')}, -fp16, -int8)` : '';
      throw new BadInputError(
        `model '${model.builtin ?? model.path}' is stored in ${model.precision} and onnxruntime runs a model in the precision it is stored in: use --precision ${model.precision}, or a ${spec.precision} model${hint}`,
      );
    }
    if (spec.threads !== null && (!Number.isInteger(spec.threads) || spec.threads < 1)) {
      throw new BadInputError(`--threads must be a whole number >= 1 (got ${spec.threads})`);
    }
    if (spec.inputShape !== null && model.inputs.length !== 1) {
      throw new BadInputError(`--input-shape applies to single-input models; '${model.path}' has ${model.inputs.length} inputs`);
    }
    const feeds: Record<string, Ort.Tensor> = {};
    model.inputs.forEach((input, i) => {
      const dims = concreteInputShape(input, i === 0 ? spec.inputShape : null);
      const data = makeInput(input.name, input.dtype, dims);
      feeds[input.name] = new ort.Tensor(data.dtype, data.data, data.dims);
    });
    const options: Ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      ...(spec.threads !== null ? { intraOpNumThreads: spec.threads } : {}),
    };
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.path, options);
    } catch (e) {
      throw new BadInputError(`onnxruntime cannot load '${model.path}': ${(e as Error).message}`);
    }
    // One run outside the measurement, so a shape or type error is a clear input error rather
    // than a failed run.
    try {
      await session.run(feeds);
    } catch (e) {
      await session.release();
      throw new BadInputError(`onnxruntime cannot run '${model.path}' on inputs ${describeFeeds(feeds)}: ${(e as Error).message}`);
    }
    return {
      infer: async () => {
        await session.run(feeds);
      },
      timing: {
        clock: 'host monotonic clock (performance.now) in the agent, per iteration',
        spans: 'InferenceSession.run: input binding, inference, and copying outputs back to JavaScript',
        span: 'ort-call',
        executionProvider: 'cpu',
        threads: spec.threads,
      },
      outputs: async () => {
        const results = await session.run(feeds);
        return session.outputNames.map((name) => toFloat32(results[name]!));
      },
      outputsFor: async (inputs) => {
        if (inputs.length !== model.inputs.length) throw new Error(`the model takes ${model.inputs.length} inputs, ${inputs.length} given`);
        const given: Record<string, Ort.Tensor> = {};
        model.inputs.forEach((input, i) => {
          const data = inputs[i]!;
          given[input.name] = new ort.Tensor(data.dtype, data.data, data.dims);
        });
        const results = await session.run(given);
        return session.outputNames.map((name) => toFloat32(results[name]!));
      },
      artifact: null,
      runtimeVersion: version,
      dispose: () => session.release(),
    };
  }
}

function toFloat32(t: Ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, float16ToNumber);
  return Float32Array.from(t.data as ArrayLike<number>, Number);
}

function describeFeeds(feeds: Record<string, Ort.Tensor>): string {
  return Object.entries(feeds)
    .map(([name, t]) => `${name}: ${t.type}[${t.dims.join(',')}]`)
    .join('; ');
}
