// `jetbench bench --vs`: configurations measured interleaved, A B A B ..., through the CLI as a user
// runs it. Each configuration gets one run file of its trials, the trials alternate in time, the
// runs are compared at the end (a real 2x difference, a conv chain of 20 vs 40 layers, is found with
// a ratio near 2), and Ctrl-C mid-series keeps every trial measured.
import assert from 'node:assert/strict';
import type { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { RunFile } from '../../contract/protocol';
import { type CliResult, ctrlC, runCli, scratchDir } from '../helpers/cli';
import { convChain } from '../helpers/convChain';
import { readRun } from '../helpers/runFile';

function runsIn(dir: string): RunFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => readRun(path.join(dir, f)))
    .sort((a, b) => a.interleaved!.position - b.interleaved!.position);
}

test('bench --vs: trials alternate A B A B, each configuration one run file of its trials, compared at the end (a 2x difference found)', async () => {
  const work = scratchDir();
  const out = path.join(work, 'runs');
  const a = convChain(20, path.join(work, 'chain-20.onnx'));
  const b = convChain(40, path.join(work, 'chain-40.onnx'));
  mkdirSync(out);
  const r = await runCli(['bench', '--model', a, '--vs', `--model ${b}`, '--trials', '4', '--warmup', '5', '--iterations', '10', '--threads', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /2 configurations, 4 rounds interleaved \(A B \.\.\.\): A = model chain-20\.onnx; B = model chain-40\.onnx/);
  const [ra, rb] = runsIn(out);
  assert.ok(ra && rb, 'two run files');
  for (const [run, position] of [[ra, 0], [rb, 1]] as const) {
    assert.equal(run.status, 'ok');
    assert.equal(run.spec.trials, 4);
    assert.equal(run.trials!.length, 4);
    assert.equal(run.samples.latencyMs.length, 40);
    assert.deepEqual(run.interleaved, { runs: [ra.id, rb.id], position, rounds: 4 });
  }
  assert.equal(ra.spec.label, 'model chain-20.onnx');
  // A B A B ...: every trial of B began after the same round's A and before the next round's.
  const starts = ra.trials!.flatMap((t, i) => [Date.parse(t.startedAt!), Date.parse(rb.trials![i]!.startedAt!)]);
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! > starts[i - 1]!, `trial starts in order A B A B: ${ra.trials!.map((t) => t.startedAt).join(' ')} / ${rb.trials!.map((t) => t.startedAt).join(' ')}`);
  // Both bench tables, then the comparison judged by the trials, with the interleaving noted.
  assert.equal(r.stdout.match(/^Interleaved: 4 rounds of A B/gm)?.length, 2);
  const row = r.stdout.split('\n').find((l) => l.startsWith('model chain-40.onnx'));
  assert.ok(row, r.stdout);
  const m = /(\d\.\d\d)x \((\d\.\d\d)-(\d\.\d\d)\)\s+slower/.exec(row);
  assert.ok(m, `40 layers reported slower with an interval: ${row}`);
  assert.ok(Number(m[1]) > 0.4 && Number(m[1]) < 0.6, `40 layers run at ${m[1]}x of 20 layers' speed`);
  assert.match(r.stdout, /Interleaved: 2 of these runs were measured together/);
});

test('bench --vs: Ctrl-C in round 2 saves both configurations with every trial measured (exit 130); bad --vs is a usage error before anything runs', async () => {
  const out = scratchDir();
  let sent = false;
  const r = await runCli(['bench', '--model', 'tiny', '--vs', '--threads 2', '--trials', '3', '--warmup', '1', '--iterations', '400', '--threads', '1', '--out', out], {
    onStderr: (text, child) => {
      if (!sent && /\[2\/3\] B [^\n]*: measuring: \d+/.test(text)) {
        sent = true;
        ctrlC(child);
      }
    },
  });
  assert.ok(sent, `never saw round 2 of B measuring: ${r.stderr}`);
  assert.equal(r.code, 130, r.stderr);
  const [ra, rb] = runsIn(out);
  assert.ok(ra && rb, `both configurations saved (in ${out}: ${readdirSync(out).join(', ') || 'nothing'}); stderr:\n${r.stderr}`);
  assert.equal(ra.status, 'ok');
  assert.equal(ra.trials!.length, 2);
  assert.equal(rb.status, 'cancelled');
  assert.equal(rb.trials!.length, 2);
  assert.equal(rb.trials![0]!.count, 400);
  assert.ok(rb.trials![1]!.count > 0 && rb.trials![1]!.count < 400, 'the interrupted trial keeps its samples');
  assert.deepEqual(ra.interleaved, { runs: [ra.id, rb.id], position: 0, rounds: 2 });

  const bad = await runCli(['bench', '--model', 'tiny', '--vs', '--out x']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--out applies to the whole command, not to one configuration/);
  const same = await runCli(['bench', '--model', 'tiny', '--vs', '--model tiny']);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /gives the same configuration as the command's own flags/);
  const file = await runCli(['bench', '--model', 'tiny', '--vs', '--threads 1', '--out', path.join(out, 'one.json')]);
  assert.equal(file.code, 2);
  assert.match(file.stderr, /every configuration gets its own run file: give a directory/);
});
test('bench --vs: Ctrl-C while a trial waits for the machine (another jetbench job measures) still saves every trial measured before it', async () => {
  const out = scratchDir();
  let other: Promise<CliResult> | undefined;
  let otherChild: ReturnType<typeof spawn> | undefined;
  let sent = false;
  const r = await runCli(['bench', '--model', 'tiny', '--vs', '--threads 2', '--trials', '2', '--warmup', '1', '--iterations', '200', '--threads', '1', '--out', out], {
    onStderr: (text, child) => {
      // While round 1's B measures, a second job asks for the machine: it takes it when B ends,
      // before round 2's agent has started, and holds it (100000 iterations).
      if (!other && /\[1\/2\] B [^\n]*: measuring: \d+/.test(text)) {
        other = runCli(['bench', '--model', 'tiny', '--warmup', '1', '--iterations', '100000', '--threads', '1', '--out', path.join(scratchDir(), 'other.json')], {
          onStderr: (_t, c) => (otherChild ??= c),
        });
      }
      if (!sent && /\[2\/2\] [AB] [^\n]*waiting for another jetbench job measuring/.test(text)) {
        sent = true;
        ctrlC(child);
      }
    },
  });
  if (otherChild) ctrlC(otherChild);
  await other;
  assert.ok(sent, `never saw round 2 wait for the machine: ${r.stderr}`);
  assert.equal(r.code, 130, r.stderr);
  // The waiting trial ends without a run (cancelled while it waited): the series stops, and the
  // trials measured before it are joined and saved as always.
  assert.match(r.stderr, /cancelled before it measured anything; the trials measured before it are saved/);
  const runs = runsIn(out);
  assert.equal(runs.length, 2, `both configurations saved (in ${out}: ${readdirSync(out).join(', ') || 'nothing'}); stderr:\n${r.stderr}`);
  for (const run of runs) assert.ok(run.trials!.every((t) => t.count === 200), JSON.stringify(run.trials));
  assert.equal(runs[0]!.trials!.length + runs[1]!.trials!.length >= 2, true);
});


