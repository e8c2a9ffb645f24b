// Trials of a run of 2+ trials each run in a fresh `agent.js trial` process. Ctrl-C during a
// trial saves the run as cancelled with the samples so far and leaves no trial process behind; a
// trial process that dies fails the run, naming the trial and how it died, and keeps what the
// earlier trials measured.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ctrlC, runCli, scratchDir } from '../helpers/cli';
import { readRun } from '../helpers/runFile';

/** Pids of live `agent.js trial` processes (Linux /proc). */
function trialProcesses(): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('agent.js')) && argv.includes('trial')) pids.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const long = ['bench', '--model', 'tiny', '--trials', '3', '--warmup', '1', '--threads', '1'];

test('Ctrl-C during trial 2: saved as cancelled with the samples so far, and no trial process left', { skip: process.platform !== 'linux' && 'SKIPPED: reads /proc' }, async () => {
  const out = path.join(scratchDir(), 'cancelled-trials.json');
  let sent = false;
  const r = await runCli([...long, '--iterations', '300', '--out', out], {
    onStderr: (text, child) => {
      if (!sent && /trial 2\/3, measuring: \d+/.test(text)) {
        sent = true;
        ctrlC(child);
      }
    },
  });
  assert.ok(sent, `never saw trial 2 measuring: ${r.stderr}`);
  assert.equal(r.code, 130, r.stderr);
  const run = readRun(out);
  assert.equal(run.status, 'cancelled');
  assert.equal(run.trials!.length, 2);
  assert.ok(run.trials![1]!.count > 0, 'trial 2 kept its samples');
  assert.equal(run.samples.latencyMs.length, run.trials![0]!.count + run.trials![1]!.count);
  assert.deepEqual(trialProcesses(), []);
});

test('a trial process killed mid-trial fails the run, naming the trial and the signal, keeping the samples', { skip: process.platform !== 'linux' && 'SKIPPED: reads /proc' }, async () => {
  const out = path.join(scratchDir(), 'killed-trial.json');
  let killed = 0;
  const r = await runCli([...long, '--iterations', '300', '--out', out], {
    onStderr: (text) => {
      if (!killed && /trial 2\/3, measuring: \d+/.test(text)) {
        const [pid] = trialProcesses();
        if (pid) {
          killed = pid;
          process.kill(pid, 'SIGKILL');
        }
      }
    },
  });
  assert.ok(killed, `never killed a trial process: ${r.stderr}`);
  assert.equal(r.code, 1, r.stderr);
  const run = readRun(out);
  assert.equal(run.status, 'failed');
  assert.match(run.error!, /trial 2 of 3: the trial process killed by SIGKILL before it finished/);
  assert.equal(run.trials!.length, 2);
  assert.ok(run.trials![0]!.count === 300 && run.samples.latencyMs.length > run.trials![0]!.count);
  assert.deepEqual(trialProcesses(), []);
});

test('--trials with --verify: the agent lets its own session go during the trials and loads the model again to verify', async () => {
  const out = path.join(scratchDir(), 'verified-trials.json');
  const r = await runCli(['bench', '--model', 'tiny', '--trials', '2', '--warmup', '1', '--iterations', '20', '--threads', '1', '--verify', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.trials!.length, 2);
  assert.equal(run.verification?.passed, true, JSON.stringify(run.verification));
  // The model is loaded twice by the agent itself: before the trials (then released) and to verify.
  const lines = r.stderr.split('\n');
  const trial2 = lines.findIndex((l) => /trial 2\/2/.test(l));
  const verifying = lines.findIndex((l) => /verifying outputs against onnxruntime/.test(l));
  assert.ok(trial2 >= 0 && verifying > trial2, r.stderr);
  assert.ok(lines.slice(trial2, verifying).some((l) => /loading .* in onnxruntime/.test(l)), `the model is loaded again after the trials:\n${r.stderr}`);
});
