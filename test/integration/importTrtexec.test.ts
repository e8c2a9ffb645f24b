// `jetbench import trtexec` through the built CLI (issue 19 item 2): real trtexec logs (TensorRT
// 10.16, test/fixtures/trtexec/README.md cites each) with per-query times in trtexec's
// --exportTimes layout; the run file is schema-valid and reads like a measured one in report and
// compare; bad input names the file and the fix, exit codes say what happened.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, runCli, scratchDir } from '../helpers/cli';
import { readRun } from '../helpers/runFile';

const F = path.join(ROOT, 'test', 'fixtures', 'trtexec');

test('a log + its times become a schema-valid run: trtexec\'s summary beside our statistics, the span named, report and compare read it', async () => {
  const cwd = scratchDir();
  // Times of the log's own run: its query count, values around its GPU compute median (0.0296 ms here).
  const logFile = path.join(F, 'trt10.16-spinwait-cudagraph-notransfers.log');
  const log = await runCli(['import', 'trtexec', logFile], { cwd });
  assert.equal(log.code, 2, 'no --times: a usage error');
  assert.match(log.stderr, /needs --times FILE, the per-query times trtexec writes with --exportTimes=FILE/);
  assert.match(log.stderr, /its summary: GPU compute median [0-9.]+ ms/);
  const text = readFileSync(logFile, 'utf8');
  const median = Number(/GPU Compute Time: .*median = ([0-9.]+) ms/.exec(text)?.[1]);
  const queries = Number(/Timing trace has (\d+) queries/.exec(text)?.[1]);
  assert.ok(median > 0 && queries > 0);
  const times = Array.from({ length: queries }, (_, i) => {
    const c = median * (1 + ((i % 9) - 4) / 2000);
    return { startEnqMs: i, endEnqMs: i + 0.01, startH2dMs: i, endH2dMs: i, startComputeMs: i, endComputeMs: i + c, startD2hMs: i + c, endD2hMs: i + c, h2dMs: 0, computeMs: c, d2hMs: 0, latencyMs: c };
  });
  const timesFile = path.join(cwd, 'times.json');
  writeFileSync(timesFile, JSON.stringify(times));
  const r = await runCli(['import', 'trtexec', logFile, '--times', timesFile, '--label', 'trtexec h100'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /trtexec's own summary vs recomputed from the \d+ samples: median [0-9.]+ vs [0-9.]+ ms, P99 [0-9.]+ vs [0-9.]+ ms \(by trtexec's rank rule [0-9.]+ ms; ours interpolates\)/);
  const [name] = readdirSync(path.join(cwd, '.jetbench', 'runs'));
  const run = readRun(path.join(cwd, '.jetbench', 'runs', name!));
  assert.equal(run.status, 'ok');
  assert.equal(run.stats!.count, queries);
  assert.ok(Math.abs(run.stats!.medianMs - run.imported!.reported!.medianMs) < 0.001 * median, `${run.stats!.medianMs} vs ${run.imported!.reported!.medianMs}`);
  assert.equal(run.imported!.files.length, 2);
  assert.match(run.imported!.files[0]!.sha256, /^[0-9a-f]{64}$/);
  assert.equal(run.timing.span, 'trt-compute');
  assert.equal(run.versions.tensorrt, '10.16.1');
  assert.ok(!run.validity!.findings.some((f) => f.code === 'import-mismatch'));

  // A second import of the same log with the made times of another run: unreliable, and compare says so.
  const other = path.join(cwd, 'other.json');
  const r2 = await runCli(['import', 'trtexec', path.join(F, 'trt10.16-onnx-default.log'), '--times', path.join(F, 'made-exportTimes.json'), '--span', 'latency', '--out', other], { cwd });
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /import-mismatch: the log and the times file do not describe the same trtexec run/);
  const cmp = await runCli(['compare', path.join(cwd, '.jetbench', 'runs', name!), other], { cwd });
  assert.equal(cmp.code, 0, cmp.stderr);
  assert.match(cmp.stdout, /TRT H2D\+compute\+D2H \(trtexec\)/);
  assert.match(cmp.stdout, /†/, 'a ratio across spans is marked');
  assert.match(cmp.stdout, /unreliable run/);
  const md = await runCli(['report', other], { cwd });
  assert.match(md.stdout, /Imported from trtexec \(TensorRT 10\.16\.1\)/);
  assert.match(md.stdout, /Device: host, CPU and OS not in trtexec's output/);
  assert.match(md.stdout, /GPU: NVIDIA H100 PCIe, sm 9\.0/);
  // The sample count says what it is without claiming whether trtexec exported a warm-up.
  assert.match(md.stdout, /Samples \(n\) *\| *\d+ measured \(imported from trtexec 10\.16\.1; its warm-up queries not among them\)/);
});

test('the per-layer profile comes from --exportProfile or the log\'s --dumpProfile table', async () => {
  const cwd = scratchDir();
  const out = path.join(cwd, 'p.json');
  const r = await runCli(['import', 'trtexec', path.join(F, 'trt10.16-dumpProfile.log'), '--times', path.join(F, 'made-exportTimes.json'), '--out', out], { cwd });
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.operators?.length, 15);
  assert.equal(run.imported?.profileIterations, 18362);
  assert.equal(run.imported?.reported, null, 'a --dumpProfile run prints no summary');
  assert.equal(run.model.path, './model-trained.trt', 'from the command line of a run that loaded an engine');
  assert.ok(run.operators![0]!.ms >= run.operators![1]!.ms, 'slowest first');
  const md = await runCli(['report', out], { cwd });
  assert.match(md.stdout, /Layers \(trtexec's profile, average of 18362 iterations, 15 in all/);
  const withJson = await runCli(['import', 'trtexec', path.join(F, 'trt10.16-dumpProfile.log'), '--times', path.join(F, 'made-exportTimes.json'), '--profile', path.join(F, 'made-exportProfile.json'), '--out', out], { cwd });
  assert.equal(withJson.code, 0, withJson.stderr);
  assert.equal(readRun(out).operators?.length, 4);
});

test('bad input: each message names the file and the fix, nothing is written', async () => {
  const cwd = scratchDir();
  const cases: Array<[string[], number, RegExp]> = [
    [['import', 'nsys', 'x.log'], 2, /import reads trtexec's outputs: jetbench import trtexec LOG --times TIMES\.json \('nsys' is not a tool it reads\)/],
    [['import', 'trtexec', 'missing.log', '--times', 't.json'], 1, /cannot read the trtexec log missing\.log: no such file/],
    [['import', 'trtexec', path.join(F, 'made-truncated-trt10.16.log'), '--times', path.join(F, 'made-exportTimes-missing-field.json')], 1, /made-exportTimes-missing-field\.json: entry 7 has no "computeMs"\. Pass the file written by trtexec --exportTimes=FILE, whole\./],
    [['import', 'trtexec', path.join(F, 'README.md'), '--times', path.join(F, 'made-exportTimes.json')], 1, /README\.md: is not a trtexec log/],
    [['import', 'trtexec', path.join(F, 'trt10.16-onnx-default.log'), '--times', path.join(F, 'made-exportTimes.json'), '--span', 'e2e'], 2, /span/],
    [['import', 'trtexec', path.join(F, 'trt10.16-onnx-default.log'), '--times', F], 1, /cannot read the trtexec times .*: a directory, not a file/],
  ];
  for (const [args, code, message] of cases) {
    const r = await runCli(args, { cwd });
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(readdirSync(cwd), [], 'nothing written');
});
