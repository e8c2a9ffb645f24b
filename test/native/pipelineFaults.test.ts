// `jetbench pipeline` whose native worker is killed mid-run (kill -9, the OOM killer): the run is
// saved `failed` with the frames measured, and the CLI shows the error, not "not a pipeline run".
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { RunFile } from '../../contract/protocol';
import { runCli, scratchDir } from '../helpers/cli';

/** Children of a process, from /proc/<pid>/stat (field 4 is the parent's pid). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

test('a pipeline whose native worker is killed mid-run is saved failed and its error is shown', async () => {
  const cwd = scratchDir();
  let killed = 0;
  const r = await runCli(['pipeline', '--device', 'local', '--model', 'tiny', '--frame-count', '2', '--warmup', '1', '--frames', '1000000', '--threads', '1', '--out', 'p.json'], {
    cwd,
    env: { XDG_RUNTIME_DIR: scratchDir('jetbench-runtime-') },
    onStderr: (text, child) => {
      if (killed || !/measuring: [1-9]/.test(text)) return;
      const workers = childrenOf(child.pid!).flatMap(childrenOf).filter((pid) => cmdline(pid).includes('native-worker'));
      for (const pid of workers) process.kill(pid, 'SIGKILL');
      killed = workers.length;
    },
  });
  assert.equal(killed, 1, `one native worker killed (stderr: ${r.stderr})`);
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stdout, /not a pipeline run/);
  assert.match(r.stdout, /FAILED: .*native worker crashed \(SIGKILL\)/);
  assert.match(r.stdout, /[1-9]\d* frame\(s\) measured before it ended/);
  const run = JSON.parse(readFileSync(path.join(cwd, 'p.json'), 'utf8')) as RunFile;
  assert.equal(run.status, 'failed');
  assert.ok(run.samples.latencyMs.length > 0, 'the frames measured before the kill are kept');
});
