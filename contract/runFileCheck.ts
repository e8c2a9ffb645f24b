// Checks a run file against its JSON Schema (schemas/run.schema.json, generated from the RunFile
// type by scripts/schemas.mjs): the one description of a run file, used by every reader.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import schema from '../schemas/run.schema.json';
import type { RunFile } from './protocol';

let validate: ValidateFunction<RunFile> | null = null;

function validator(): ValidateFunction<RunFile> {
  // Compiled on first use; formats (date-time) are documentation here, not checked.
  validate ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, validateFormats: false }).compile<RunFile>(schema);
  return validate;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? 'the run' : e.instancePath.slice(1).replace(/\//g, '.');
  if (e.keyword === 'additionalProperties') return `${where} has an unknown field "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'required') return `${where} lacks "${String(e.params.missingProperty)}"`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

/** Every way `data` is not a run file of this version, in words (at most `max`); empty when it is one. */
export function runFileProblems(data: unknown, max = 5): string[] {
  const v = validator();
  if (v(data)) return [];
  // `if/then` repeats what its inner error says; drop the wrapper.
  const errors = (v.errors ?? []).filter((e) => e.keyword !== 'if');
  const lines = [...new Set(errors.map(describe))];
  return lines.length > max ? [...lines.slice(0, max), `and ${lines.length - max} more`] : lines;
}
