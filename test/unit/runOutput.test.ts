// Where a run file goes (`--out`), decided and checked before anything is measured.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkOutputPath, fallbackRunDir, resolveRunOutput, saveRunFile } from '../../src/core/runStore';
import { fakeRun } from '../helpers/fakeRun';

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

test('a run file that cannot be written after measuring is saved in the fallback folder, and says why', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-out-'));
  const run = fakeRun({ id: 'saved-elsewhere', latencyMs: [1, 2, 3] });
  const ok = await saveRunFile(path.join(dir, 'a.json'), run);
  assert.deepEqual(ok, { file: path.join(dir, 'a.json'), fallbackReason: null });
  // The folder went away while the run measured.
  const gone = path.join(dir, 'removed', 'b.json');
  const saved = await saveRunFile(gone, run);
  assert.equal(saved.file, path.join(fallbackRunDir(), 'b.json'));
  assert.match(saved.fallbackReason!, /could not write .*removed\/b\.json \(ENOENT/);
  assert.equal((JSON.parse(readFileSync(saved.file, 'utf8')) as { id: string }).id, 'saved-elsewhere');
});
