// The run file is described once: its TypeScript types. The JSON Schema is generated from them
// (scripts/schemas.mjs) and every reader checks run files against that schema.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RUN_SCHEMA_FILE, runSchemaText } from '../../scripts/schemas.mjs';
import { runFileProblems } from '../../contract/runFileCheck';
import { checkRunData } from '../../src/core/runStore';
import { fakeRun } from '../helpers/fakeRun';

test('the committed run schema is the one generated from the RunFile type (run `node scripts/schemas.mjs`)', () => {
  assert.equal(readFileSync(RUN_SCHEMA_FILE, 'utf8'), runSchemaText());
});

test('a run file is checked against the generated schema, with problems in words', async () => {
  const run = fakeRun({ latencyMs: [4.1, 4.3, 4.2, 4.6] });
  assert.deepEqual(runFileProblems(run), []);
  const damaged = JSON.parse(JSON.stringify(run)) as Record<string, unknown> & { samples: { latencyMs: unknown[] } };
  damaged.samples.latencyMs[1] = 'x';
  damaged.surprise = true;
  delete damaged.timing;
  assert.deepEqual(runFileProblems(damaged).sort(), ['samples.latencyMs.1 must be number', 'the run has an unknown field "surprise"', 'the run lacks "timing"'].sort());
  await assert.rejects(checkRunData(damaged, 'r.json'), /'r\.json' is a damaged run file \(.*samples\.latencyMs\.1 must be number.*\): restore it from version control or delete it/);
  const failed = { ...JSON.parse(JSON.stringify(run)), status: 'failed' };
  delete failed.error;
  assert.deepEqual(runFileProblems(failed), ['the run lacks "error"']);
});
