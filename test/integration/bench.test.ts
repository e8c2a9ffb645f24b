// The CLI as a user runs it: it starts the real agent as a child process and benchmarks the
// generated models with the real ONNX Runtime; run files are checked against the schema and the
// statistics recomputed from the samples.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import type { RunFile } from '../../contract/protocol';
import { computeStats, trialMedians, trialSummaries } from '../../contract/stats';
import { formatMs } from '../../contract/format';
import { CONTENTION_CODES, runValidity } from '../../contract/validityRules';
import { ctrlC, runCli, scratchDir } from '../helpers/cli';
import { readRun } from '../helpers/runFile';


/** Samples are real measurements and the stored statistics are exactly those of the samples. */
function assertTrustworthy(run: RunFile, minCount: number): void {
  assert.ok(run.samples.latencyMs.length >= minCount, `${run.samples.latencyMs.length} < ${minCount}`);
  assert.ok(run.samples.latencyMs.every((v) => v > 0 && Number.isFinite(v)));
  assert.deepEqual(run.stats, computeStats(run.samples.latencyMs));
  const s = run.stats!;
  assert.ok(s.minMs <= s.medianMs && s.medianMs <= s.p90Ms && s.p90Ms <= s.p95Ms && s.p95Ms <= s.p99Ms && s.p99Ms <= s.maxMs);
  assert.ok(s.medianCi95Ms[0] <= s.medianMs && s.medianMs <= s.medianCi95Ms[1]);
  assert.equal(createHash('sha256').update(readFileSync(run.model.path)).digest('hex'), run.model.sha256);
}

let work: string;
before(() => {
  work = scratchDir();
});

test('bench tiny: table, schema-valid run file, statistics recomputed from the samples', async () => {
  const out = path.join(work, 'tiny.json');
  const r = await runCli(['bench', '--model', 'tiny', '--warmup', '5', '--iterations', '40', '--threads', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  for (const metric of ['Mean', 'Median', 'P95', 'P99', 'Min', 'Max', 'Std', 'FPS']) assert.match(r.stdout, new RegExp(metric));
  const run = readRun(out);
  assert.equal(run.status, 'ok');
  assert.equal(run.spec.backend, 'onnxruntime');
  assert.equal(run.model.builtin, 'tiny');
  assert.deepEqual(run.model.inputs[0]!.shape, [1, 3, 640, 640]);
  assert.deepEqual(run.model.outputs[0]!.shape, [1, 25200, 85]);
  assert.equal(run.samples.latencyMs.length, 40);
  assert.equal(run.samples.warmupLatencyMs.length, 5);
  assert.equal(run.timing.threads, 1);
  assert.ok(run.versions.onnxruntime);
  assertTrustworthy(run, 40);
  // The printed P95 is the run file's.
  assert.ok(r.stdout.includes(formatMs(run.stats!.p95Ms)), `P95 ${formatMs(run.stats!.p95Ms)} not in:\n${r.stdout}`);
  // Every measured run carries its verdict, the one its own samples give, and the CLI prints it.
  assert.ok(run.validity, 'the run file has a validity verdict');
  const contention = run.validity.findings.filter((f) => CONTENTION_CODES.has(f.code));
  assert.deepEqual(run.validity, runValidity({ spec: run.spec, device: run.device, deviceState: run.deviceState, samples: run.samples, stats: run.stats! }, contention));
  assert.ok(!run.validity.notChecked?.some((n) => /contention/.test(n)), 'contention was sampled on Linux');
  assert.match(r.stdout, new RegExp(`^Verdict: ${run.validity.verdict}\\b`, 'm'));
  for (const f of run.validity.findings) assert.ok(r.stdout.includes(f.code), `${f.code} not printed`);
});

test('bench yolov5n writes to .jetbench/runs/<id>.json by default', async () => {
  const cwd = scratchDir();
  const r = await runCli(['bench', '--model', 'yolov5n', '--warmup', '2', '--iterations', '8', '--json'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { file: string; id: string; status: string; validity?: { verdict: string } };
  assert.equal(summary.status, 'ok');
  assert.match(summary.validity?.verdict ?? '', /^(ok|caution|unreliable)$/, '--json carries the verdict');
  assert.equal(summary.file, path.join(cwd, '.jetbench', 'runs', `${summary.id}.json`));
  const run = readRun(summary.file);
  assert.equal(run.model.builtin, 'yolov5n');
  assertTrustworthy(run, 8);
  assert.deepEqual(readdirSync(path.join(cwd, '.jetbench', 'runs')), [`${summary.id}.json`], 'no temp files left behind');
});

test('bench nanodet-g, the trained detector: fetched and converted on first use (cached by the unit suite), its 416 x 416 input and six heads in the run file', async () => {
  const out = path.join(scratchDir(), 'nanodet.json');
  const r = await runCli(['bench', '--model', 'nanodet-g', '--warmup', '2', '--iterations', '10', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.model.builtin, 'nanodet-g');
  assert.deepEqual(run.model.inputs.map((i) => i.shape), [[1, 3, 416, 416]]);
  assert.deepEqual(run.model.outputs.map((o) => `${o.name} ${o.shape.join('x')}`), ['Identity 1x2704x80', 'Identity_1 1x676x80', 'Identity_2 1x169x80', 'Identity_3 1x2704x44', 'Identity_4 1x676x44', 'Identity_5 1x169x44']);
  assert.equal(run.samples.latencyMs.length, 10);
  assert.match(r.stdout, /^Model nanodet-g, backend onnxruntime, precision fp32/m);
  // --precision fp16 picks its fp16 variant, as with the YOLOv5 built-ins.
  const half = path.join(scratchDir(), 'nanodet-fp16.json');
  const h = await runCli(['bench', '--model', 'nanodet-g', '--precision', 'fp16', '--warmup', '1', '--iterations', '3', '--out', half]);
  assert.equal(h.code, 0, h.stderr);
  const hr = readRun(half);
  assert.equal(hr.model.builtin, 'nanodet-g-fp16');
  assert.equal(hr.model.precision, 'fp16');
});

test('--fidelity: nanodet-g-fp16 and -int8 against fp32 on vtest frames (fetched once), in the run file, the table, the report and compare; refused early where it cannot run', async () => {
  const dir = scratchDir();
  const fp16 = path.join(dir, 'fp16.json');
  const h = await runCli(['bench', '--model', 'nanodet-g-fp16', '--warmup', '1', '--iterations', '5', '--fidelity', '20', '--out', fp16]);
  assert.equal(h.code, 0, h.stderr);
  const hr = readRun(fp16);
  const f = hr.fidelity!;
  assert.ok(f, 'the run file has its fidelity');
  assert.deepEqual(f.reference, { model: 'nanodet-g', backend: 'onnxruntime', precision: 'fp32' });
  assert.equal(f.frames, 20);
  assert.equal(f.perFrame.length, 20);
  assert.match(f.source, /^20 frame\(s\) of the video .*vtest\.avi \(ffmpeg\)$/);
  assert.equal(f.decoder.family, 'nanodet');
  // vtest's pedestrians: several people in every frame, and fp16 finds what fp32 finds.
  const refBoxes = f.perFrame.reduce((a, p) => a + p.reference, 0);
  assert.equal(f.result.overall.referenceBoxes, refBoxes);
  assert.ok(refBoxes >= 40, `${refBoxes} reference boxes in 20 frames`);
  assert.ok(f.result.overall.ap50! >= 0.95 && f.result.overall.recall >= 0.95, JSON.stringify(f.result.overall));
  assert.match(h.stdout, /^Fidelity against nanodet-g \(fp32, onnxruntime\) on 20 frame\(s\) of the video .*vtest\.avi \(ffmpeg\): AP50 \d+\.\d%, precision/m);
  assert.ok(h.stdout.includes(`AP50 ${(100 * f.result.overall.ap50!).toFixed(1)}%`), 'the printed AP50 is the run file\'s');

  const int8 = path.join(dir, 'int8.json');
  const q = await runCli(['bench', '--model', 'nanodet-g-int8', '--warmup', '1', '--iterations', '5', '--fidelity', '20', '--out', int8]);
  assert.equal(q.code, 0, q.stderr);
  const qr = readRun(int8);
  assert.equal(qr.model.precision, 'int8');
  assert.equal(qr.spec.precision, 'int8', 'the name implies the precision');
  const o = qr.fidelity!.result.overall;
  // int8 costs accuracy, measurably but not all of it (measured: AP50 ~0.8, recall ~0.9).
  assert.ok(o.ap50! > 0.4 && o.recall > 0.6 && o.precision > 0.6, JSON.stringify(o));
  console.log(`fidelity on vtest's first 20 frames against fp32: fp16 AP50 ${(100 * f.result.overall.ap50!).toFixed(1)}% F1 ${(100 * f.result.overall.f1).toFixed(1)}%; int8 AP50 ${(100 * o.ap50!).toFixed(1)}% F1 ${(100 * o.f1).toFixed(1)}% (${o.referenceBoxes} reference boxes)`);

  const report = await runCli(['report', fp16]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /^- Fidelity against nanodet-g \(fp32, onnxruntime\) on 20 frame\(s\)/m);
  const cmp = await runCli(['compare', fp16, int8]);
  assert.equal(cmp.code, 0, cmp.stderr);
  const header = cmp.stdout.split('\n').find((l) => l.startsWith('Run'))!;
  assert.match(header, /AP50 vs fp32 +F1 vs fp32/);
  const col = header.indexOf('AP50 vs fp32');
  const rowOf = (run: RunFile) => cmp.stdout.split('\n').find((l) => l.includes(`${(100 * run.fidelity!.result.overall.f1).toFixed(1)}%`) && l.includes(run.spec.precision));
  for (const run of [hr, qr]) {
    const row = rowOf(run);
    assert.ok(row, `a row for ${run.spec.precision} with its F1`);
    assert.ok(row.includes(`${(100 * run.fidelity!.result.overall.ap50!).toFixed(1)}%`), row);
    assert.ok(row.length > col, 'the row reaches the accuracy column');
  }
  const csv = await runCli(['report', '--format', 'csv', fp16]);
  const [head, line] = csv.stdout.trim().split('\n');
  const cells = Object.fromEntries(head!.split(',').map((k, i) => [k, line!.split(',')[i]]));
  assert.equal(cells.fidelityReference, 'nanodet-g');
  assert.equal(Number(cells.fidelityAp50), f.result.overall.ap50);

  // Refused before anything is measured, each naming the fix; nothing written.
  const refused = async (args: string[], message: RegExp) => {
    const out = path.join(dir, `refused-${args.join('_').replace(/\W/g, '')}.json`);
    const r = await runCli(['bench', '--warmup', '1', '--iterations', '3', ...args, '--out', out]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(out), 'no run file for a refused run');
  };
  const self = await runCli(['bench', '--model', 'nanodet-g', '--warmup', '1', '--iterations', '3', '--fidelity', '3', '--out', path.join(dir, 'self.json')]);
  assert.equal(self.code, 0, self.stderr);
  assert.equal(readRun(path.join(dir, 'self.json')).fidelity!.itself, true);
  await refused(['--model', 'tiny-fp16', '--fidelity', '3', '--fidelity-source', path.join(dir, 'no-such-frames')], /frame source '.*no-such-frames' is not a readable directory/);
  await refused(['--model', 'nanodet-g-fp16', '--fidelity', '0'], /--fidelity must be a whole number from 1 to 10000 \(got 0\)/);
});

test('one command, the precision table: nanodet-g fp32/fp16/int8 interleaved with --fidelity, a fidelity check in each configuration\'s last trial only, accuracy beside latency in the compare table', async () => {
  const dir = scratchDir();
  const r = await runCli(['bench', '--model', 'nanodet-g', '--vs', '--precision fp16', '--vs', '--precision int8', '--fidelity', '6', '--trials', '2', '--warmup', '1', '--iterations', '4', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  const runs = readdirSync(dir).map((f) => readRun(path.join(dir, f)));
  assert.deepEqual(runs.map((run) => run.spec.precision).sort(), ['fp16', 'fp32', 'int8']);
  for (const run of runs) {
    assert.equal(run.trials?.length, 2);
    assert.deepEqual(run.spec.fidelity, { frames: 6, source: 'vtest' });
    assert.equal(run.fidelity?.frames, 6, `${run.spec.precision} has its fidelity`);
  }
  const fp32 = runs.find((run) => run.spec.precision === 'fp32')!;
  assert.equal(fp32.fidelity!.itself, true, 'the fp32 run is the reference itself');
  assert.equal(fp32.fidelity!.result.overall.ap50, 1);
  assert.match(r.stdout, /this run is the reference itself/);
  // One fidelity check per configuration, not one per trial.
  assert.equal((r.stderr.match(/fidelity: decoding 6 frame\(s\)/g) ?? []).length, 3, r.stderr);
  const header = r.stdout.split('\n').find((l) => /^Run +Framework/.test(l))!;
  assert.match(header, /FPS +AP50 vs fp32 +F1 vs fp32 +Size \(MB\)/);
  const int8 = runs.find((run) => run.spec.precision === 'int8')!;
  const row = r.stdout.split('\n').find((l) => l.startsWith(int8.spec.label!));
  assert.ok(row?.includes(`${(100 * int8.fidelity!.result.overall.ap50!).toFixed(1)}%`), `${row}\n${r.stdout}`);
});

test('jetbench adaptive: fp32 <-> int8 nanodet-g on vtest, static int8 with its sensitive layers in float, every policy on the same frames, the table, the verdict and the result file', async () => {
  const dir = scratchDir();
  const out = path.join(dir, 'adaptive.json');
  const r = await runCli(['adaptive', '--model', 'nanodet-g', '--frames', '12', '--rounds', '2', '--iterations', '10', '--warmup', '1', '--out', out], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(readFileSync(out, 'utf8')) as {
    frames: Array<{ high: { ms: number }; low: { ms: number }; sensitive?: { ms: number } }>;
    comparison: {
      cost: string;
      staticHigh: { fidelity: { ap50: number } };
      staticLow: { lowShare: number; fidelity: { ap50: number } };
      staticSensitive: { name: string; lowShare: number; meanMs: number; fidelity: { ap50: number } } | null;
      oracle: { lowShare: number };
      thresholds: unknown[];
      best: { outcome: { name: string; lowShare: number } } | null;
      verdict: { earnsItsPlace: boolean; reasons: string[]; bound: number | null; beatsSensitive: boolean | null };
    };
    high: { run: string };
    low: { run: string };
    sensitive: { run: string };
    live: { policy: string; frames: number; sameChoices: number; meanMs: number; lowShare: number; perFrame: Array<{ low: boolean; ms: number }> } | null;
  };
  assert.equal(result.frames.length, 12);
  assert.ok(result.frames.every((f) => f.high.ms > 0 && f.low.ms > 0 && f.sensitive!.ms > 0), 'every frame timed in the three configurations');
  const c = result.comparison;
  assert.equal(c.cost, 'latency', 'no power telemetry here: judged by latency');
  assert.equal(c.staticHigh.fidelity.ap50, 1, 'fp32 on onnxruntime is the reference itself');
  assert.equal(c.staticLow.lowShare, 1);
  assert.ok(c.staticLow.fidelity.ap50 < 1, 'int8 loses something');
  assert.ok(c.thresholds.length >= 4, `${c.thresholds.length} threshold policies`);
  assert.ok(c.best, 'a best policy');
  // Static int8 with the stem and head convolutions in float: its own row, from its own frames.
  assert.ok(c.staticSensitive, 'the sensitive-layers variant ran');
  assert.equal(c.staticSensitive.lowShare, 1);
  const meanSensitive = result.frames.reduce((a, f) => a + f.sensitive!.ms, 0) / result.frames.length;
  assert.ok(Math.abs(c.staticSensitive.meanMs - meanSensitive) < 1e-9);
  assert.equal(typeof c.verdict.beatsSensitive, 'boolean');
  // The best policy live, both precisions loaded: the same detections give the same choices as the
  // replay (ONNX Runtime on the CPU is deterministic), each frame timed.
  assert.ok(result.live, 'the best policy ran live');
  assert.equal(result.live.policy, c.best.outcome.name.replace(/^\* /, ''));
  assert.equal(result.live.frames, 12);
  assert.equal(result.live.sameChoices, 12);
  assert.equal(result.live.lowShare, c.best.outcome.lowShare);
  assert.ok(result.live.perFrame.every((f) => f.ms > 0));
  assert.match(r.stdout, /^Live \(both precisions loaded, the policy switching per frame on what its choice saw\): [\d.]+ ms\/frame, AP50 [\d.]+%, \d+% int8, \d+ switch\(es\);$/m);
  assert.match(r.stdout, /the same choice on 12 of 12 frame\(s\)$/m);
  // The three configurations were measured as ordinary runs, interleaved in 2 rounds, joined and stored.
  for (const id of [result.high.run, result.low.run, result.sensitive.run]) {
    const run = readRun(path.join(dir, '.jetbench', 'runs', `${id}.json`));
    assert.equal(run.trials?.length, 2, id);
    assert.deepEqual(run.interleaved?.runs, [result.high.run, result.low.run, result.sensitive.run]);
  }
  assert.equal(readRun(path.join(dir, '.jetbench', 'runs', `${result.low.run}.json`)).model.builtin, 'nanodet-g-int8', 'onnxruntime runs the stored int8 variant');
  const mixed = readRun(path.join(dir, '.jetbench', 'runs', `${result.sensitive.run}.json`));
  assert.deepEqual([mixed.model.builtin, mixed.spec.precision], ['nanodet-g-int8-mixed', 'int8']);
  // What a person reads: the table's rows, the energy note, the verdict.
  assert.match(r.stdout, /^Policy +Low +Switches +ms\/frame +mJ\/frame +AP50 +F1 +Latency saved$/m);
  for (const row of [/^static high +0% /m, /^static low +100% /m, /^static low, sensitive layers high +100% /m, /^oracle /m, /^random \(\d+% low, mean of 20 seeds\)/m, /^\* threshold /m]) assert.match(r.stdout, row);
  assert.match(r.stdout, /Energy: not measured on this device/);
  assert.doesNotMatch(r.stdout, /Not evaluated: static low with sensitive layers/);
  assert.match(r.stdout, /^Verdict: the policy (earns its place|does not earn its place: .+)\.$/m);
  assert.equal(/earns its place \(/.test(r.stdout), c.verdict.earnsItsPlace);
  assert.match(r.stdout, /Bound on the saving: /);
  // Bad input: the same precision twice.
  const same = await runCli(['adaptive', '--high', 'int8', '--low', 'int8'], { cwd: dir });
  assert.equal(same.code, 2);
  assert.match(same.stderr, /--high and --low are both int8/);
});

test('jetbench fidelity: nanodet-g int8 against fp32 on vtest by default, a short measurement, the run file and the printed figures agree', async () => {
  const out = path.join(scratchDir(), 'fidelity.json');
  const r = await runCli(['fidelity', '--frames', '6', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.deepEqual([run.model.builtin, run.spec.precision, run.spec.iterations, run.samples.latencyMs.length], ['nanodet-g-int8', 'int8', 20, 20]);
  assert.equal(run.fidelity?.frames, 6);
  assert.match(r.stdout, new RegExp(`^Fidelity against nanodet-g \\(fp32, onnxruntime\\) on 6 frame\\(s\\) of the video .*AP50 ${(100 * run.fidelity!.result.overall.ap50!).toFixed(1)}%`, 'm'));
  const help = await runCli(['fidelity', '--help']);
  assert.match(help.stdout, /^Usage: jetbench fidelity/);
});

test('duration minimum extends the run beyond the iteration count', async () => {
  const out = path.join(work, 'timed.json');
  const r = await runCli(['bench', '--model', 'tiny', '--warmup', '0', '--warmup-ms', '200', '--iterations', '1', '--duration-s', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  const total = run.samples.latencyMs.reduce((a, b) => a + b, 0);
  assert.ok(run.samples.latencyMs.length > 1 && total >= 900, `${run.samples.latencyMs.length} samples, ${total} ms`);
  assert.ok(run.samples.warmupLatencyMs.length >= 1);
  assertTrustworthy(run, 2);
});

test('another process busy during the run: the verdict names it by pid, the agent and the CLI are not named; without it, no busy process', { skip: process.platform !== 'linux' && 'SKIPPED: contention is read from /proc (Linux only)' }, async () => {
  const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const out = path.join(work, 'contended.json');
    const r = await runCli(['bench', '--model', 'tiny', '--warmup', '2', '--iterations', '5', '--duration-s', '2', '--threads', '1', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const run = readRun(out);
    const busy = run.validity?.findings.find((f) => f.code === 'busy-processes');
    assert.ok(busy, `no busy-processes finding: ${JSON.stringify(run.validity)}`);
    assert.match(busy.summary, new RegExp(`\\(pid ${hog.pid}, \\d\\.\\d\\d CPUs\\)`));
    assert.ok(!busy.summary.includes(`pid ${process.pid},`), 'the test process (an ancestor of the agent) is not named');
    assert.ok((busy.evidence.otherCpus as number) > 0.25);
    assert.match(r.stdout, /busy-processes/);
  } finally {
    hog.kill('SIGKILL');
  }
  // The same run without the hog: no other process is busy (the agent, the CLI and this test are ours).
  const quiet = await runCli(['bench', '--model', 'tiny', '--warmup', '2', '--iterations', '5', '--duration-s', '2', '--threads', '1', '--out', path.join(work, 'quiet.json')]);
  assert.equal(quiet.code, 0, quiet.stderr);
  const calm = readRun(path.join(work, 'quiet.json')).validity!;
  assert.ok(!calm.findings.some((f) => f.code === 'busy-processes'), `a quiet run was flagged: ${JSON.stringify(calm.findings)}`);
});

test('bad input: a clear message, exit 1, no run file', async () => {
  const notOnnx = path.join(work, 'notes.onnx');
  writeFileSync(notOnnx, 'this is not a model\n'.repeat(10));
  const tinyOut = path.join(work, 'tiny.json');
  const tinyPath = readRun(tinyOut).model.path;
  const cases: Array<[string[], RegExp]> = [
    [['--model', path.join(work, 'missing.onnx')], /not found.*built-in model name/],
    [['--model', notOnnx], /is not an ONNX model/],
    [['--model', tinyPath, '--precision', 'fp16'], /stored in fp32.*--precision fp32/],
    [['--model', 'tiny', '--backend', 'tensorrt'], /tensorrt is not available on this device/],
    [['--model', 'tiny', '--input-shape', '1,3,320,320'], /does not match input 'images'/],
    [['--model', 'tiny', '--out', path.join(work, 'no-such-dir', 'x.json')], /does not exist: create it first/],
    [['--model', 'tiny', '--out', '/proc/jetbench.json'], /not writable/],
  ];
  for (const [args, message] of cases) {
    const out = args.includes('--out') ? null : path.join(work, 'should-not-exist.json');
    const r = await runCli(['bench', '--iterations', '2', '--warmup', '0', ...args, ...(out ? ['--out', out] : [])]);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    if (out) assert.equal(existsSync(out), false, `no run file for ${args.join(' ')}`);
  }
});

test('build: a backend with nothing to build says so; one that cannot run here says why', async () => {
  // Both decided by the backend (Backend.build, status), never by a switch on backend ids.
  const nothing = await runCli(['build', '--backend', 'onnxruntime', '--model', 'tiny']);
  assert.equal(nothing.code, 1, nothing.stderr);
  assert.match(nothing.stderr, /onnxruntime runs the \.onnx file directly: there is nothing to build/);
  const trt = await runCli(['build', '--backend', 'tensorrt', '--model', 'tiny']);
  assert.equal(trt.code, 1, trt.stderr);
  assert.match(trt.stderr, /tensorrt is not available on this device/);
});

test('a model with dynamic dimensions needs --input-shape, then runs', async () => {
  const tiny = readRun(path.join(work, 'tiny.json')).model.path;
  const model = onnx.ModelProto.decode(readFileSync(tiny));
  const dims = model.graph!.input![0]!.type!.tensorType!.shape!.dim!;
  dims[0] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' });
  const dynPath = path.join(work, 'dynamic batch $(x) ü.onnx');
  writeFileSync(dynPath, onnx.ModelProto.encode(model).finish());
  const noShape = await runCli(['bench', '--model', dynPath, '--iterations', '2', '--out', path.join(work, 'dyn.json')]);
  assert.equal(noShape.code, 1);
  assert.match(noShape.stderr, /dynamic dimensions \[batch, 3, 640, 640\].*--input-shape 1,3,640,640/);
  const ok = await runCli(['bench', '--model', dynPath, '--input-shape', '1,3,640,640', '--iterations', '3', '--warmup', '1', '--out', path.join(work, 'dyn.json')]);
  assert.equal(ok.code, 0, ok.stderr);
  const run = readRun(path.join(work, 'dyn.json'));
  assert.equal(run.model.builtin, null);
  assert.deepEqual(run.model.inputs[0]!.shape, ['batch', 3, 640, 640]);
});

test('Ctrl-C (to the whole process group, as a terminal sends it) stops the run and saves it as cancelled', async () => {
  const out = path.join(work, 'cancelled.json');
  let sent = false;
  const r = await runCli(['bench', '--model', 'tiny', '--warmup', '1', '--iterations', '1000000', '--out', out], {
    onStderr: (text, child) => {
      if (!sent && /measuring: \d+/.test(text)) {
        sent = true;
        ctrlC(child);
      }
    },
  });
  assert.ok(sent, `never saw measuring progress: ${r.stderr}`);
  assert.equal(r.code, 130, r.stderr);
  const run = readRun(out);
  assert.equal(run.status, 'cancelled');
  assert.ok(run.samples.latencyMs.length > 0 && run.samples.latencyMs.length < 1000000);
  assertTrustworthy(run, 1);
});

test('--trials: each trial warms up and measures; the run file says where each trial\'s samples are; compare uses the trials', async () => {
  const outs = ['trials-a.json', 'trials-b.json'].map((f) => path.join(work, f));
  for (const [i, out] of outs.entries()) {
    const r = await runCli(['bench', '--model', 'tiny', '--trials', '3', '--warmup', '2', '--iterations', '6', '--threads', String(i + 1), '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const run = readRun(out);
    assert.equal(run.spec.trials, 3);
    assert.deepEqual(run.trials!.map((t) => [t.warmupCount, t.count]), [[2, 6], [2, 6], [2, 6]]);
    assert.equal(run.samples.latencyMs.length, 18);
    assert.equal(run.samples.warmupLatencyMs.length, 6);
    assert.deepEqual(run.trials, trialSummaries(run.samples.latencyMs, run.trials!));
    assertTrustworthy(run, 18);
    assert.match(r.stdout, new RegExp(`^Trial medians\\s+3: ${trialMedians(run.trials).map((m) => formatMs(m).replace('.', '\\.')).join(', ')} ms \\(spread CoV`, 'm'));
    // Progress names the trial.
    assert.match(r.stderr, /trial [1-3]\/3, (warm-up|measuring)/);
  }
  const cmp = await runCli(['compare', ...outs]);
  assert.equal(cmp.code, 0, cmp.stderr);
  // Both runs have trials: the ratio comes with its interval, and no "(1 trial)".
  const row = cmp.stdout.split('\n')[3]!;
  assert.match(row, /\d\.\d\dx \(\d\.\d\d-\d\.\d\d\)\s+(no \(|faster|slower)/);
  assert.doesNotMatch(row, /1 trial/);
  const bad = await runCli(['bench', '--model', 'tiny', '--trials', '0', '--out', path.join(work, 'no.json')]);
  assert.equal(bad.code, 2, 'a usage error');
  assert.match(bad.stderr, /--trials must be a whole number from 1 to 1000 \(got 0\)/);
});

test('compare and report read the run files', async () => {
  const a = path.join(work, 'tiny.json');
  const b = path.join(work, 'timed.json');
  const cmp = await runCli(['compare', a, b, '--baseline', b]);
  assert.equal(cmp.code, 0, cmp.stderr);
  assert.match(cmp.stdout, /onnxruntime/);
  assert.match(cmp.stdout, /1\.00x/);
  const csv = await runCli(['report', a, b, '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^id,/);
  const md = await runCli(['report', a, '--format', 'md']);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /\|/);
  const json = await runCli(['report', a, '--format', 'json']);
  const parsed = JSON.parse(json.stdout) as Array<{ stats: { p95Ms: number } }>;
  assert.equal(parsed[0]!.stats.p95Ms, readRun(a).stats!.p95Ms);
  const missing = await runCli(['report', path.join(work, 'nope.json')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /run '.*nope\.json' not found/);
  mkdirSync(path.join(work, 'newer'), { recursive: true });
  const newer = { ...readRun(a), schemaVersion: 99 };
  writeFileSync(path.join(work, 'newer', 'run.json'), JSON.stringify(newer));
  const tooNew = await runCli(['report', path.join(work, 'newer', 'run.json')]);
  assert.equal(tooNew.code, 1);
  assert.match(tooNew.stderr, /newer than this jetbench understands/);
});

test('info describes the device and its backends', async () => {
  const r = await runCli(['info', '--device', 'local', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { device, backends } = JSON.parse(r.stdout) as { device: RunFile['device']; backends: Array<{ id: string; available: boolean; reason: string | null }> };
  assert.ok(device.cpuCount >= 1 && device.memoryBytes > 0);
  assert.equal(device.versions.node, process.versions.node);
  const ort = backends.find((b) => b.id === 'onnxruntime')!;
  assert.equal(ort.available, true);
  const trt = backends.find((b) => b.id === 'tensorrt')!;
  assert.equal(trt.available, false);
  assert.ok(trt.reason && trt.reason.length > 10);
  const text = await runCli(['info']);
  assert.match(text.stdout, /Backends:/);
});

test('models lists the built-ins and generates one', async () => {
  const out = path.join(work, 'gen.onnx');
  const r = await runCli(['models', 'generate', 'tiny', '--out', out, '--opset', '11']);
  assert.equal(r.code, 0, r.stderr);
  const model = onnx.ModelProto.decode(readFileSync(out));
  assert.equal(Number(model.opsetImport![0]!.version), 11);
  const list = await runCli(['models']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /yolov5s/);
});
