// Spec files (`*.jetbench.json`, schemas/spec.schema.json): one or more runs, each completed from
// the file's `defaults`, then the extension's settings, then the CLI's defaults. Pure code (no VS
// Code API), unit-tested; the CodeLens provider places its lenses at the offsets found here.
// The ESM build: the package's UMD main loads its parts with a require() bundlers cannot follow.
import { parseTree, findNodeAtLocation, getNodeValue, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { BACKEND_IDS, PRECISIONS } from '../../device-agent/src/protocolValues';
import type { RunSpec } from '../../device-agent/src/protocol';
import { parseBuiltinName } from '../../models/src/names';

/** Values a run takes when neither it nor the file's defaults say (the CLI's `bench` defaults). */
export interface SpecBase {
  device: string;
  warmup: number;
  iterations: number;
  threads: number | null;
}

export interface SpecEntry {
  index: number;
  /** Offset and length of the run's object in the file. */
  offset: number;
  length: number;
  /** The complete spec; null when the entry has problems. */
  spec: RunSpec | null;
  problems: string[];
}

export interface ParsedSpecFile {
  runs: SpecEntry[];
  /** Problems of the file as a whole (syntax, no `runs` array). */
  problems: string[];
}

const KEYS = ['device', 'model', 'backend', 'precision', 'warmup', 'warmupMs', 'iterations', 'durationS', 'threads', 'inputShape', 'opset', 'label', 'tvm', 'verify'] as const;

type Raw = Record<string, unknown>;

function whole(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}

/** A complete RunSpec from one run entry over the file's defaults; problems name the field and the fix. */
export function completeSpec(entry: Raw, defaults: Raw, base: SpecBase): { spec: RunSpec | null; problems: string[] } {
  const problems: string[] = [];
  const unknown = Object.keys(entry).filter((k) => !(KEYS as readonly string[]).includes(k));
  for (const k of unknown) problems.push(`unknown field "${k}" (known: ${KEYS.join(', ')})`);
  const v = { ...defaults, ...entry };
  const model = v.model;
  if (typeof model !== 'string' || model === '') {
    problems.push('"model" is required: a built-in name (tiny, yolov5s, ...) or a path to an .onnx file on the device');
    return { spec: null, problems };
  }
  const backend = v.backend ?? 'onnxruntime';
  if (typeof backend !== 'string' || !(BACKEND_IDS as readonly string[]).includes(backend)) problems.push(`"backend" must be one of ${BACKEND_IDS.join(', ')}`);
  const implied = parseBuiltinName(model)?.precision ?? 'fp32';
  const precision = v.precision ?? implied;
  if (typeof precision !== 'string' || !(PRECISIONS as readonly string[]).includes(precision)) problems.push(`"precision" must be one of ${PRECISIONS.join(', ')}`);
  const num = (key: string, fallback: number, min: number, integer: boolean): number => {
    const x = v[key];
    if (x === undefined) return fallback;
    if (integer ? whole(x, min) : typeof x === 'number' && Number.isFinite(x) && x >= min) return x as number;
    problems.push(`"${key}" must be a ${integer ? 'whole ' : ''}number >= ${min}`);
    return fallback;
  };
  const warmup = num('warmup', base.warmup, 0, true);
  const warmupMs = num('warmupMs', 0, 0, false);
  const iterations = num('iterations', base.iterations, 1, true);
  const durationS = num('durationS', 0, 0, false);
  let threads = base.threads;
  if (v.threads !== undefined) {
    if (v.threads === null || whole(v.threads, 1)) threads = v.threads as number | null;
    else problems.push('"threads" must be null or a whole number >= 1');
  }
  let inputShape: number[] | null = null;
  if (v.inputShape !== undefined && v.inputShape !== null) {
    if (Array.isArray(v.inputShape) && v.inputShape.length > 0 && v.inputShape.every((d) => whole(d, 1))) inputShape = v.inputShape as number[];
    else problems.push('"inputShape" must be an array of whole numbers >= 1, e.g. [1, 3, 640, 640]');
  }
  const opset = v.opset ?? 13;
  if (opset !== 11 && opset !== 13) problems.push('"opset" must be 11 or 13');
  const device = v.device ?? base.device;
  if (typeof device !== 'string' || device === '') problems.push('"device" must be a device name ("local" or one of jetbench.devices)');
  const label = v.label ?? null;
  if (label !== null && typeof label !== 'string') problems.push('"label" must be text');
  if (v.verify !== undefined && typeof v.verify !== 'boolean') problems.push('"verify" must be true or false');
  if (v.tvm !== undefined && (typeof v.tvm !== 'object' || v.tvm === null || backend !== 'tvm')) problems.push('"tvm" options apply to backend "tvm" only, as an object');
  if (problems.length > 0) return { spec: null, problems };
  const spec: RunSpec = {
    device: device as string,
    model,
    backend: backend as RunSpec['backend'],
    precision: precision as RunSpec['precision'],
    warmup,
    warmupMs,
    iterations,
    durationS,
    threads,
    inputShape,
    opset: opset as 11 | 13,
    label: label as string | null,
  };
  if (v.verify === true) spec.verify = true;
  if (v.tvm !== undefined) {
    const t = v.tvm as Raw;
    spec.tvm = {
      target: t.target === 'cuda' ? 'cuda' : 'llvm',
      arch: typeof t.arch === 'string' ? t.arch : null,
      tuneTrials: whole(t.tuneTrials, 0) ? t.tuneTrials : 0,
      tuningLog: typeof t.tuningLog === 'string' ? t.tuningLog : null,
      python: typeof t.python === 'string' ? t.python : null,
      profile: t.profile === true,
    };
  }
  return { spec, problems };
}

function isObjectNode(node: Node | undefined): boolean {
  return node?.type === 'object';
}

export function parseSpecFile(text: string, base: SpecBase): ParsedSpecFile {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !root) {
    const e = errors[0];
    return { runs: [], problems: [e ? `${printParseErrorCode(e.error)} at offset ${e.offset}: fix the JSON` : 'empty file'] };
  }
  if (root.type !== 'object') return { runs: [], problems: ['a spec file is an object with a "runs" array'] };
  const defaultsNode = findNodeAtLocation(root, ['defaults']);
  const defaults = defaultsNode && isObjectNode(defaultsNode) ? (getNodeValue(defaultsNode) as Raw) : {};
  const problems: string[] = [];
  if (defaultsNode && !isObjectNode(defaultsNode)) problems.push('"defaults" must be an object of run fields');
  const runsNode = findNodeAtLocation(root, ['runs']);
  if (!runsNode || runsNode.type !== 'array') {
    problems.push('"runs" must be an array of runs, e.g. [{ "model": "tiny" }]');
    return { runs: [], problems };
  }
  const runs = (runsNode.children ?? []).map((node, index): SpecEntry => {
    if (!isObjectNode(node)) return { index, offset: node.offset, length: node.length, spec: null, problems: ['each run is an object, e.g. { "model": "tiny" }'] };
    const { spec, problems: p } = completeSpec(getNodeValue(node) as Raw, defaults, base);
    return { index, offset: node.offset, length: node.length, spec, problems: p };
  });
  return { runs, problems };
}
