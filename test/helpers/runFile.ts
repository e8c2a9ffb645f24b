// Reads a run file and checks it against the shipped JSON Schema (schemas/run.schema.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { RunFile } from '../../contract/protocol';
import { ROOT } from './cli';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);
const validateRun = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schemas/run.schema.json'), 'utf8')));

export function readRun(file: string): RunFile {
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunFile;
  assert.ok(validateRun(run), `schema: ${ajv.errorsText(validateRun.errors)}`);
  return run;
}

/** Checks a run (as a client received it) against the shipped JSON Schema; returns it. */
export function validRun(run: RunFile): RunFile {
  assert.ok(validateRun(run), `schema: ${ajv.errorsText(validateRun.errors)}`);
  return run;
}
