// Spec files (`*.jetbench.json`, schemas/spec.schema.json): one or more runs, each completed from
// the file's `defaults`, then the extension's settings, then the contract's defaults (contract/runSpec.ts). Pure code (no VS
// Code API), unit-tested; the CodeLens provider places its lenses at the offsets found here.
// The ESM build: the package's UMD main loads its parts with a require() bundlers cannot follow.
import { parseTree, findNodeAtLocation, getNodeValue, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import type { RunSpec } from '../../contract/protocol';
import { completeSpec, quotedProblem, type SpecBase } from '../../contract/runSpec';

type Raw = Record<string, unknown>;

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
    const fields = { ...defaults, ...(getNodeValue(node) as Raw) };
    // A spec file names its model: no silent default model for a run that forgot it.
    if (fields.model === undefined) {
      return { index, offset: node.offset, length: node.length, spec: null, problems: ['"model" is required: a built-in name (tiny, yolov5s, ...) or a path to an .onnx file on the device'] };
    }
    const { spec, problems: p } = completeSpec(fields, base);
    return { index, offset: node.offset, length: node.length, spec, problems: p.map(quotedProblem) };
  });
  return { runs, problems };
}

export interface SpecSelection {
  /** The entries to run: every valid one the lens asked for. */
  runnable: Array<SpecEntry & { spec: RunSpec }>;
  /** One line per entry left out, naming it (1-based, as a person counts) and its problems. */
  skipped: string[];
}

/** Which entries `Run all` (or one entry's lens) runs. An invalid entry must not stop the valid ones
 * beside it from running: it is left out and reported, so one typo does not cost the whole file. */
export function selectSpecRuns(parsed: ParsedSpecFile, which: number | 'all'): SpecSelection {
  const entries = which === 'all' ? parsed.runs : parsed.runs.filter((r) => r.index === which);
  const runnable: SpecSelection['runnable'] = [];
  const skipped: string[] = [];
  for (const e of entries) {
    if (e.spec) runnable.push({ ...e, spec: e.spec });
    else skipped.push(`run ${e.index + 1}: ${e.problems.join('; ')}`);
  }
  return { runnable, skipped };
}
