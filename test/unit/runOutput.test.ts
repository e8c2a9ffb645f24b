// Where a run file goes (`--out`), decided and checked before anything is measured.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkOutputPath, resolveRunOutput } from '../../src/core/runStore';

const RUN_ID = '20261203-173000-tiny-onnxruntime-fp32-abcd';

test('--out: none, a directory, a directory to be, or a file', async () => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'jetbench-out-'));
  assert.equal(await resolveRunOutput(cwd, null, RUN_ID), path.join(cwd, '.jetbench', 'runs', `${RUN_ID}.json`));
  mkdirSync(path.join(cwd, 'runs'));
  // An existing directory, with or without the trailing slash, holds <id>.json.
  assert.equal(await resolveRunOutput(cwd, 'runs', RUN_ID), path.join(cwd, 'runs', `${RUN_ID}.json`));
  assert.equal(await resolveRunOutput(cwd, 'runs/', RUN_ID), path.join(cwd, 'runs', `${RUN_ID}.json`));
  assert.equal(await resolveRunOutput(cwd, cwd, RUN_ID), path.join(cwd, `${RUN_ID}.json`));
  assert.equal(await resolveRunOutput(cwd, 'runs/mine.json', RUN_ID), path.join(cwd, 'runs', 'mine.json'));
  // A directory named with a slash that is not there: the fix is to create it.
  await assert.rejects(resolveRunOutput(cwd, 'later/', RUN_ID), /output directory '.*later' does not exist: create it first \(mkdir -p/);
  await assert.rejects(resolveRunOutput(cwd, 'nowhere/x.json', RUN_ID), /does not exist: create it first/);
  await assert.rejects(resolveRunOutput(cwd, '/proc/x.json', RUN_ID), /not writable.*choose another --out/);
  // The checks leave nothing behind (the write probe is removed).
  assert.deepEqual(readdirSync(path.join(cwd, 'runs')), []);
});

test('a directory where a file is to be written is refused up front, not at the final rename', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-out-'));
  await assert.rejects(checkOutputPath(dir, false), /is a directory: give the path of a file/);
});
