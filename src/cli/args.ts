// Command-line options parsed into plain values before anything runs; an unknown option or a bad
// value is a UsageError (exit code 2) that names the fix.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { RunSpec } from '../../contract/protocol';
import { completeSpec, type SpecBase } from '../../contract/runSpec';
import { closest } from './suggest';

export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options, P extends boolean>(args: string[], options: O, allowPositionals: P) {
  const checked = checkArgs(args, options, allowPositionals);
  try {
    return parseArgs({ args: checked, options, allowPositionals, strict: true as const });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A negative number is a value, not an option (`--iterations -5`). */
const NEGATIVE_NUMBER = /^-\.?\d/;

/** Checks every token against the options before parseArgs sees them, so each mistake gets a
 * message in the user's words (parseArgs' own texts speak of "ambiguous" arguments), and joins a
 * string option to a negative number after it (`--iterations=-5`) so its range check can name it. */
function checkArgs(args: readonly string[], options: Options, allowPositionals: boolean): string[] {
  const names = Object.keys(options);
  const shorts = new Set(Object.values(options).map((o) => o.short).filter((c): c is string => !!c));
  const unknown = (token: string, name: string) => {
    const near = closest(name, names);
    return new UsageError(`unknown option '${token}'${near ? `: did you mean --${near}?` : ''}`);
  };
  const checked: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      checked.push(...args.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const option = Object.hasOwn(options, name) ? options[name] : undefined;
      if (!option) throw unknown(eq < 0 ? arg : arg.slice(0, eq), name);
      if (option.type === 'boolean') {
        if (eq >= 0) throw new UsageError(`--${name} is a switch and takes no value (got '${arg}'): write --${name} alone`);
        checked.push(arg);
      } else if (eq >= 0) {
        checked.push(arg);
      } else {
        const value = args[i + 1];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        // --vs takes flags as its value ("--precision fp16").
        if (value.startsWith('-') && !NEGATIVE_NUMBER.test(value) && name !== 'vs') {
          throw new UsageError(`--${name} needs a value, but '${value}' follows it (a value that starts with '-' is written --${name}=${value})`);
        }
        checked.push(`--${name}=${value}`);
        i++;
      }
    } else if (arg.startsWith('-') && arg.length > 1 && !NEGATIVE_NUMBER.test(arg)) {
      const bad = [...arg.slice(1)].find((c) => !shorts.has(c));
      if (bad !== undefined) throw unknown(arg, arg.replace(/^-+/, ''));
      checked.push(arg);
    } else if (!allowPositionals) {
      throw new UsageError(`unexpected argument '${arg}': this command takes options only (--name VALUE)`);
    } else {
      checked.push(arg);
    }
  }
  return checked;
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
  if (!(allowed as readonly string[]).includes(text)) {
    const near = closest(text, allowed);
    throw new UsageError(`--${name} '${text}' is not one of: ${allowed.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`);
  }
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
  trials: { type: 'string' },
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
  'torch-device': { type: 'string' },
  'torch-mode': { type: 'string' },
  'torch-span': { type: 'string' },
  tf32: { type: 'boolean', default: false },
  runner: { type: 'string' },
  trtexec: { type: 'string' },
  'trt-span': { type: 'string' },
  'cuda-graph': { type: 'boolean', default: false },
  verify: { type: 'boolean', default: false },
  fidelity: { type: 'string' },
  'fidelity-source': { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
  vs: { type: 'string', multiple: true },
  'accept-new-host-key': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

type BenchValues = ReturnType<typeof parse<typeof BENCH_OPTIONS, false>>['values'];

/** A number flag's text as a number (undefined when not given); only the syntax is checked here,
 * the bounds are the contract's (contract/runSpec.ts) so every face accepts the same runs. */
export function numberFlag(name: string, text: string | undefined, whole = true): number | undefined {
  if (text === undefined) return undefined;
  const ok = whole ? /^\s*-?\d+\s*$/.test(text) : text.trim() !== '' && Number.isFinite(Number(text));
  if (!ok) throw new UsageError(`--${name} must be a ${whole ? 'whole ' : ''}number (got '${text}')`);
  return Number(text);
}

/** The flag that sets each spec field, for messages in the CLI's words. */
const FLAG_OF: Record<string, string> = {
  warmupMs: 'warmup-ms',
  durationS: 'duration-s',
  inputShape: 'input-shape',
  'tvm.target': 'target',
  'tvm.arch': 'arch',
  'tvm.tuneTrials': 'tune-trials',
  'tvm.tuningLog': 'tuning-log',
  'tvm.python': 'python',
  'tvm.profile': 'profile',
  'pytorch.device': 'torch-device',
  'pytorch.mode': 'torch-mode',
  'pytorch.span': 'torch-span',
  'pytorch.tf32': 'tf32',
  'pytorch.python': 'python',
  'tensorrt.runner': 'runner',
  'tensorrt.trtexec': 'trtexec',
  'tensorrt.span': 'trt-span',
  'tensorrt.cudaGraph': 'cuda-graph',
  'pipeline.mode': 'mode',
  'pipeline.memory': 'memory',
  'pipeline.source': 'source',
  'pipeline.frameCount': 'frame-count',
  'pipeline.objects': 'objects',
  'pipeline.confThreshold': 'conf',
  'pipeline.iouThreshold': 'iou',
  'pipeline.maxDetections': 'max-det',
  'fidelity.frames': 'fidelity',
  'fidelity.source': 'fidelity-source',
};

/** The complete spec for flags' values, or a UsageError listing every problem as `--flag ...`. */
export function specFromFlags(fields: Record<string, unknown>, base: SpecBase = {}, flagOf: Record<string, string> = {}): RunSpec {
  const { spec, problems } = completeSpec(fields, base);
  if (spec) return spec;
  throw new UsageError(problems.map((p) => `--${flagOf[p.field] ?? FLAG_OF[p.field] ?? p.field} ${p.message}`).join('\n'));
}

/** The TVM options, only with --backend tvm (given to another backend they are an error). */
function tvmFields(v: BenchValues, backend: string | undefined): Record<string, unknown> {
  const given: string[] = (['target', 'arch', 'tune-trials', 'tuning-log'] as const).filter((k) => v[k] !== undefined);
  if (v.profile) given.push('profile');
  if (backend !== 'tvm') {
    if (given.length > 0) throw new UsageError(`--${given[0]} applies to --backend tvm only`);
    return {};
  }
  return {
    tvm: {
      target: v.target,
      arch: v.arch,
      tuneTrials: numberFlag('tune-trials', v['tune-trials']),
      tuningLog: v['tuning-log'],
      python: v.python,
      profile: v.profile,
    },
  };
}

function usage(message: string): never {
  throw new UsageError(message);
}

/** The PyTorch options, only with --backend pytorch (given to another backend they are an error). */
function pytorchFields(v: BenchValues, backend: string | undefined): Record<string, unknown> {
  const given: string[] = (['torch-device', 'torch-mode', 'torch-span'] as const).filter((k) => v[k] !== undefined);
  if (v.tf32) given.push('tf32');
  if (backend !== 'pytorch') {
    if (given.length > 0) throw new UsageError(`--${given[0]} applies to --backend pytorch only`);
    return {};
  }
  return { pytorch: { device: v['torch-device'], mode: v['torch-mode'], span: v['torch-span'], tf32: v.tf32, python: v.python } };
}

/** The TensorRT options, only with --backend tensorrt; absent flags leave the spec without them
 * (the native runner) unless a device default applies (applyDeviceDefaults). */
function tensorrtFields(v: BenchValues, backend: string | undefined): Record<string, unknown> {
  const given: string[] = (['runner', 'trtexec', 'trt-span'] as const).filter((k) => v[k] !== undefined);
  if (v['cuda-graph']) given.push('cuda-graph');
  if (backend !== 'tensorrt') {
    if (given.length > 0) throw new UsageError(`--${given[0]} applies to --backend tensorrt only`);
    return {};
  }
  if (given.length === 0) return {};
  // --trtexec or a trtexec-only option implies the trtexec runner.
  const runner = v.runner ?? (v.trtexec !== undefined || v['trt-span'] !== undefined || v['cuda-graph'] ? 'trtexec' : undefined);
  return { tensorrt: { runner, trtexec: v.trtexec, span: v['trt-span'], cudaGraph: v['cuda-graph'] || undefined } };
}

export interface BenchArgs {
  spec: RunSpec;
  out: string | null;
  json: boolean;
  quiet: boolean;
  /** Exit 1 when the run's verdict is `unreliable` (for CI). */
  strict: boolean;
  /** Trust (and record) an SSH device's host key not in known_hosts yet. */
  acceptNewHostKey: boolean;
  /** Each other configuration to measure interleaved with this one (`--vs FLAGS`), with its
   * complete spec: the base flags overridden by its own. */
  vs: Array<{ flags: string; spec: RunSpec }>;
  /** --trials was given, to the command or inside a --vs (else --vs measures its default trials). */
  trialsGiven: boolean;
}

/** Flags that belong to the whole command, not to one configuration of `--vs`. */
const COMMAND_FLAGS = ['out', 'json', 'quiet', 'strict', 'vs', 'help', 'accept-new-host-key'];

/** A `--vs` value's words: whitespace separates, single or double quotes group ("--label 'a b'"). */
export function splitFlags(text: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|([^\s"']+)/g;
  let current: string | null = null;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const part = m[1] ?? m[2] ?? m[3] ?? '';
    // Quotes inside a word join it (--label='a b'): no whitespace between the pieces.
    if (current !== null && m.index === last) current += part;
    else {
      if (current !== null) words.push(current);
      current = part;
    }
    last = re.lastIndex;
  }
  if (current !== null) words.push(current);
  if (/["']/.test(text.replace(/"[^"]*"|'[^']*'/g, ''))) throw new UsageError(`--vs '${text}' has an unclosed quote`);
  return words;
}

/** The command's arguments without its `--vs` values. */
function withoutVs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--vs') i++;
    else if (!args[i]!.startsWith('--vs=')) out.push(args[i]!);
  }
  return out;
}

export function parseBenchArgs(args: string[]): BenchArgs | 'help' {
  const { values: v } = parse(args, BENCH_OPTIONS, false);
  if (v.help) return 'help';
  if (v.python !== undefined && v.backend !== 'tvm' && v.backend !== 'pytorch') usage('--python applies to --backend tvm or pytorch only');
  const inputShape = v['input-shape'] === undefined ? undefined : v['input-shape'].split(/[,x]/).map((p) => numberFlag('input-shape', p));
  const spec = specFromFlags({
    device: v.device,
    model: v.model,
    backend: v.backend,
    precision: v.precision,
    warmup: numberFlag('warmup', v.warmup),
    warmupMs: numberFlag('warmup-ms', v['warmup-ms'], false),
    iterations: numberFlag('iterations', v.iterations),
    durationS: numberFlag('duration-s', v['duration-s'], false),
    trials: numberFlag('trials', v.trials),
    threads: numberFlag('threads', v.threads),
    inputShape,
    opset: numberFlag('opset', v.opset),
    label: v.label,
    ...tvmFields(v, v.backend),
    ...pytorchFields(v, v.backend),
    ...tensorrtFields(v, v.backend),
    ...(v.verify ? { verify: true } : {}),
    ...(v.fidelity !== undefined || v['fidelity-source'] !== undefined ? { fidelity: { frames: numberFlag('fidelity', v.fidelity), source: v['fidelity-source'] } } : {}),
  });
  const vs = (v.vs ?? []).map((flags) => {
    const words = splitFlags(flags);
    const own = words.find((w) => COMMAND_FLAGS.includes(w.replace(/^--/, '').replace(/=.*$/, '')) && w.startsWith('--'));
    if (own) throw new UsageError(`--vs '${flags}': ${own.replace(/=.*$/, '')} applies to the whole command, not to one configuration: give it outside --vs`);
    if (words.length === 0) throw new UsageError("--vs needs the flags that make the other configuration, e.g. --vs '--precision fp16'");
    const other = parseBenchArgs([...withoutVs(args), ...words]);
    if (other === 'help') throw new UsageError('--help is not a configuration');
    return { flags, spec: other.spec, trialsGiven: other.trialsGiven };
  });
  return {
    spec,
    vs: vs.map(({ flags, spec: other }) => ({ flags, spec: other })),
    trialsGiven: v.trials !== undefined || vs.some((o) => o.trialsGiven),
    out: v.out ?? null,
    json: v.json,
    quiet: v.quiet,
    strict: v.strict,
    acceptNewHostKey: v['accept-new-host-key'],
  };
}
