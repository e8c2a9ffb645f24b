// A new user's first `jetbench pipeline --device local` after the README's set-up: no addon is
// built for these sources in their cache yet, so the agent builds it on first use (with progress),
// keeps it by source hash, and the pipeline runs; the second run reuses it.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, scratchDir } from '../helpers/cli';

test('the native addon is built on first use of the pipeline, then reused', async () => {
  const work = scratchDir('jetbench-first-use-');
  const cache = path.join(work, 'cache');
  const args = (out: string) => ['pipeline', '--model', 'tiny', '--frames', '4', '--warmup', '1', '--frame-count', '2', '--threads', '1', '--out', path.join(work, out)];
  const first = await runCli(args('a.json'), { env: { JETBENCH_CACHE_DIR: cache } });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /building the native addon for this device \(first use/);
  assert.match(first.stderr, /native addon built: /);
  const builds = readdirSync(path.join(cache, 'native'));
  assert.equal(builds.length, 1, 'one build, named by the sources hash');
  assert.ok(existsSync(path.join(cache, 'native', builds[0]!, 'jetbench_native.node')));
  const second = await runCli(args('b.json'), { env: { JETBENCH_CACHE_DIR: cache } });
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /building the native addon/);
});
