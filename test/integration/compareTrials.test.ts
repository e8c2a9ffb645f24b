// Issue 13's acceptance, as a user gets it: runs measured by the CLI with --trials 5 and compared
// by `jetbench compare`. Identical configurations are judged by their trials and mostly found not
// different; a real 2x difference (a conv chain of 20 vs 40 layers, interleaved A B A B by bench --vs) is reported
// as a difference every time, with a ratio near 2. The false-positive rate itself (the issue's "9 of
// 10 pairs on an idle machine") is a figure of bench:compare: a CI runner is not an idle machine
// (a 2-core VM whose speed moves by 10-20% over tens of seconds), so here the bound is looser, set
// to catch a comparison that ignores the trials (the single-trial rule called 3 of 4 identical
// pairs different) or calls everything different.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, scratchDir } from '../helpers/cli';
import { convChain } from '../helpers/convChain';
import { readRun } from '../helpers/runFile';

async function bench(model: string, out: string, iterations = 10): Promise<string> {
  const r = await runCli(['bench', '--model', model, '--trials', '5', '--warmup', '5', '--iterations', String(iterations), '--threads', '1', '--quiet', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

/** Rows of `jetbench compare --format md` after the baseline: [Ratio vs baseline, Different?]. */
async function compared(files: string[], baseline: string): Promise<Map<string, [string, string]>> {
  const r = await runCli(['compare', ...files, '--baseline', baseline, '--format', 'md']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('| '));
  const header = lines[0]!.split(' | ');
  const [ratio, different] = [header.findIndex((h) => h.includes('Ratio vs baseline')), header.findIndex((h) => h.includes('Different?'))];
  const rows = new Map<string, [string, string]>();
  lines.slice(2).forEach((l, i) => {
    const cells = l.split(' | ');
    rows.set(files[i]!, [cells[ratio]!, cells[different]!.replace(/\\(.)/g, '$1')]);
  });
  return rows;
}

test('identical configurations (yolov5n, --trials 5): every pair judged by its trials, most found not different', async () => {
  const work = scratchDir();
  const runs: string[] = [];
  for (let i = 0; i < 5; i++) runs.push(await bench('yolov5n', path.join(work, `same-${i}.json`), 20));
  const cells: string[] = [];
  for (let i = 0; i < 4; i++) {
    const rows = await compared(runs, runs[i]!);
    for (let j = i + 1; j < 5; j++) cells.push(`${i}-${j}: ${rows.get(runs[j]!)!.join(' ')}`);
  }
  assert.equal(cells.length, 10);
  // Every pair is judged by its trials: a ratio with its interval, never "(1 trial)".
  for (const c of cells) assert.match(c, /x \(\d\.\d\d-\d\.\d\d\) (no \(|faster|slower)/, c);
  const same = cells.filter((c) => / no \(/.test(c));
  console.log(`identical yolov5n pairs with no meaningful difference: ${same.length} of 10\n${cells.join('\n')}`);
  assert.ok(same.length >= 6, `only ${same.length} of 10 pairs had no meaningful difference:\n${cells.join('\n')}`);
});

test('a real 2x difference with --trials 5 is reported every time, with a ratio near 2', async () => {
  const work = scratchDir();
  const a = convChain(20, path.join(work, 'chain-20.onnx'));
  const b = convChain(40, path.join(work, 'chain-40.onnx'));
  for (let i = 0; i < 3; i++) {
    // Interleaved by the CLI (bench --vs): a trial of A, one of B, and so on.
    const dir = path.join(work, `pair-${i}`);
    mkdirSync(dir);
    const r = await runCli(['bench', '--model', a, '--vs', `--model ${b}`, '--trials', '5', '--warmup', '5', '--iterations', '10', '--threads', '1', '--quiet', '--out', dir]);
    assert.equal(r.code, 0, r.stderr);
    const [ra, rb] = readdirSync(dir).map((f) => path.join(dir, f)).sort((x, y) => readRun(x).interleaved!.position - readRun(y).interleaved!.position);
    const [ratio, different] = (await compared([ra!, rb!], ra!)).get(rb!)!;
    assert.equal(different.replace(/; unreliable run$/, ''), 'slower', `pair ${i}: ${ratio} ${different}`);
    const speedUp = Number(ratio.split('x')[0]);
    assert.ok(speedUp > 0.4 && speedUp < 0.6, `pair ${i}: 40 layers run at ${ratio} of 20 layers' speed`);
  }
});
