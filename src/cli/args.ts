// Command-line options parsed into plain values before anything runs; an unknown option or a bad
// value is a UsageError (exit code 2) that names the fix.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BACKEND_IDS, PRECISIONS, type BackendId, type Precision, type RunSpec } from '../../device-agent/src/protocol';
import { parseBuiltinName } from '../../models/src/index';

export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options, P extends boolean>(args: string[], options: O, allowPositionals: P) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true as const });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function wholeNumber(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(v) || v < min) {
    throw new UsageError(`--${name} must be a whole number >= ${min} (got '${text}')`);
  }
  return v;
}

export function nonNegative(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`--${name} must be a number >= 0 (got '${text}')`);
  return v;
}

export function oneOf<T extends string>(name: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`--${name} '${text}' is not one of: ${allowed.join(', ')}`);
  return text as T;
}

export const BENCH_OPTIONS = {
  device: { type: 'string', default: 'local' },
  model: { type: 'string', default: 'yolov5s' },
  backend: { type: 'string' },
  precision: { type: 'string' },
  warmup: { type: 'string' },
  'warmup-ms': { type: 'string' },
  iterations: { type: 'string' },
  'duration-s': { type: 'string' },
  threads: { type: 'string' },
  'input-shape': { type: 'string' },
  opset: { type: 'string' },
  label: { type: 'string' },
  out: { type: 'string' },
  target: { type: 'string' },
  arch: { type: 'string' },
  'tune-trials': { type: 'string' },
  'tuning-log': { type: 'string' },
  python: { type: 'string' },
  profile: { type: 'boolean', default: false },
  verify: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  'accept-new-host-key': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

type BenchValues = ReturnType<typeof parse<typeof BENCH_OPTIONS, false>>['values'];

/** The TVM options, only with --backend tvm (given to another backend they are an error). */
function tvmSpec(v: BenchValues, backend: BackendId): Pick<RunSpec, 'tvm'> {
  const given = (['target', 'arch', 'tune-trials', 'tuning-log', 'python'] as const).filter((k) => v[k] !== undefined);
  if (v.profile) given.push('profile' as never);
  if (backend !== 'tvm') {
    if (given.length > 0) throw new UsageError(`--${given[0]} applies to --backend tvm only`);
    return {};
  }
  if (v.arch !== undefined && !/^sm_\d{2,3}[a-z]?$/.test(v.arch)) throw new UsageError(`--arch must look like sm_87 (got '${v.arch}')`);
  return {
    tvm: {
      target: oneOf('target', v.target, ['llvm', 'cuda'] as const, 'llvm'),
      arch: v.arch ?? null,
      tuneTrials: wholeNumber('tune-trials', v['tune-trials'], 0, 0),
      tuningLog: v['tuning-log'] ?? null,
      python: v.python ?? null,
      profile: v.profile,
    },
  };
}

export interface BenchArgs {
  spec: RunSpec;
  out: string | null;
  json: boolean;
  quiet: boolean;
  /** Trust (and record) an SSH device's host key not in known_hosts yet. */
  acceptNewHostKey: boolean;
}

export function parseBenchArgs(args: string[]): BenchArgs | 'help' {
  const { values: v } = parse(args, BENCH_OPTIONS, false);
  if (v.help) return 'help';
  const model = v.model;
  // A built-in name with a precision suffix (yolov5s-fp16) implies that precision.
  const implied = parseBuiltinName(model)?.precision ?? 'fp32';
  const precision = oneOf<Precision>('precision', v.precision, PRECISIONS, implied);
  const backend = oneOf<BackendId>('backend', v.backend, BACKEND_IDS, 'onnxruntime');
  let inputShape: number[] | null = null;
  if (v['input-shape'] !== undefined) {
    const parts = v['input-shape'].split(/[,x]/);
    inputShape = parts.map((p) => wholeNumber('input-shape', p, 0, 1));
  }
  const opset = wholeNumber('opset', v.opset, 13, 1);
  if (opset !== 11 && opset !== 13) throw new UsageError(`--opset must be 11 or 13 (got ${opset})`);
  return {
    spec: {
      device: v.device,
      model,
      backend,
      precision,
      warmup: wholeNumber('warmup', v.warmup, 20, 0),
      warmupMs: nonNegative('warmup-ms', v['warmup-ms'], 0),
      iterations: wholeNumber('iterations', v.iterations, 100, 1),
      durationS: nonNegative('duration-s', v['duration-s'], 0),
      threads: v.threads === undefined ? null : wholeNumber('threads', v.threads, 0, 1),
      inputShape,
      opset,
      label: v.label ?? null,
      ...tvmSpec(v, backend),
      ...(v.verify ? { verify: true } : {}),
    },
    out: v.out ?? null,
    json: v.json,
    quiet: v.quiet,
    acceptNewHostKey: v['accept-new-host-key'],
  };
}
