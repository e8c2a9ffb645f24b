// The tvm backend with the real TVM from pip (apache-tvm, llvm target): build, cache, run,
// verify against ONNX Runtime, tune briefly, compare with ONNX Runtime, and the bad inputs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import { TvmRpcServerStartRequest, TvmRpcTrackerStartRequest, type BuildResult } from '../../contract/protocol';
import { startLocalAgent } from '../../src/core/agentConnection';
import { processRunning } from '../helpers/sshd';
import { computeStats } from '../../contract/stats';
import { ctrlC, runCli, scratchDir } from '../helpers/cli';
import { readRun } from '../helpers/runFile';

let work: string;
before(() => {
  work = scratchDir('jetbench-tvm-');
});


test('TVM is found and listed as a backend', async () => {
  const r = await runCli(['info', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { backends } = JSON.parse(r.stdout) as { backends: Array<{ id: string; available: boolean; version: string | null; reason: string | null }> };
  const tvm = backends.find((b) => b.id === 'tvm')!;
  assert.equal(tvm.available, true, tvm.reason ?? '');
  assert.match(tvm.version ?? '', /^0\.\d+/);
});

test('build tiny for llvm, then the same build is reused from the cache', async () => {
  const first = await runCli(['build', '--backend', 'tvm', '--model', 'tiny', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const a = JSON.parse(first.stdout) as BuildResult;
  assert.equal(a.artifact.kind, 'tvm-module');
  assert.ok(existsSync(a.artifact.path) && a.artifact.bytes > 1000);
  assert.equal(a.artifact.flags.target, 'llvm');
  assert.equal(a.artifact.flags.tuned, false);
  const second = await runCli(['build', '--backend', 'tvm', '--model', 'tiny', '--json']);
  const b = JSON.parse(second.stdout) as BuildResult;
  assert.equal(b.cached, true);
  assert.equal(b.artifact.path, a.artifact.path);
});

test('bench tiny and yolov5n with tvm: per-iteration samples, outputs match ONNX Runtime', async () => {
  for (const model of ['tiny', 'yolov5n']) {
    const out = path.join(work, `tvm-${model}.json`);
    const r = await runCli(['bench', '--backend', 'tvm', '--model', model, '--warmup', '2', '--iterations', '10', '--verify', '--profile', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const run = readRun(out);
    assert.equal(run.status, 'ok');
    assert.equal(run.artifact?.kind, 'tvm-module');
    assert.equal(run.samples.latencyMs.length, 10);
    assert.ok(run.samples.latencyMs.every((v) => v > 0));
    assert.deepEqual(run.stats, computeStats(run.samples.latencyMs));
    assert.match(run.timing.spans, /TVM/);
    assert.equal(run.verification?.passed, true, JSON.stringify(run.verification));
    assert.equal(run.verification?.elements, 25200 * 85);
    assert.ok(run.operators && run.operators.length > 3 && run.operators.every((o) => o.ms >= 0 && o.calls >= 1));
  }
});

test('--fidelity with tvm: frames set as the module\'s inputs, its detections equal ONNX Runtime\'s (fp32 both)', async () => {
  const out = path.join(work, 'tvm-fidelity.json');
  const r = await runCli(['bench', '--backend', 'tvm', '--model', 'tiny', '--warmup', '1', '--iterations', '3', '--fidelity', '3', '--fidelity-source', 'synthetic', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const f = readRun(out).fidelity!;
  assert.ok(f, 'the run has its fidelity');
  assert.equal(f.decoder.family, 'yolov5');
  assert.equal(f.frames, 3);
  assert.match(f.source, /^synthetic 1920x1080 scenes/);
  const o = f.result.overall;
  assert.ok(o.referenceBoxes > 0, 'tiny detects something on the synthetic scenes');
  // The same fp32 arithmetic up to summation order: the same boxes.
  assert.ok(o.recall >= 0.95 && o.precision >= 0.95 && o.meanMatchedIou! > 0.99, JSON.stringify(o));
});

test('--trials with tvm: each trial loads the module in its own process; the profile and verification come after the trials', async () => {
  const out = path.join(work, 'tvm-trials.json');
  const r = await runCli(['bench', '--backend', 'tvm', '--model', 'tiny', '--trials', '2', '--warmup', '2', '--iterations', '10', '--verify', '--profile', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.status, 'ok');
  assert.deepEqual(run.trials!.map((t) => t.count), [10, 10]);
  assert.ok(run.trials!.every((t) => t.stats && t.stats.medianMs > 0));
  assert.equal(run.verification?.passed, true, JSON.stringify(run.verification));
  assert.ok(run.operators && run.operators.length > 0);
  assert.match(r.stderr, /loading tiny in tvm again: the trials ran in their own processes/);
});

test('the run records the TVM and the Python that ran it, not those of $JETBENCH_PYTHON', async () => {
  // The Python with TVM (as the other tests use it), and a decoy: a virtual environment of the
  // same interpreter without TVM, set as the agent's default Python.
  const withTvm = process.env.JETBENCH_PYTHON || 'python3';
  const [exe, pythonVersion, tvmVersion] = execFileSync(withTvm, ['-c', 'import sys, tvm; print(sys.executable); print(sys.version.split()[0]); print(tvm.__version__)'], { encoding: 'utf8' }).trim().split('\n');
  const decoy = path.join(work, 'decoy-venv');
  execFileSync(exe!, ['-m', 'venv', '--without-pip', decoy]);
  const decoyPython = path.join(decoy, 'bin', 'python3');
  const out = path.join(work, 'tvm-python.json');
  const r = await runCli(['bench', '--backend', 'tvm', '--model', 'tiny', '--python', exe!, '--warmup', '1', '--iterations', '3', '--out', out], { env: { JETBENCH_PYTHON: decoyPython } });
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.versions.tvm, tvmVersion);
  assert.deepEqual(run.versions.python, { path: exe, version: pythonVersion });
  assert.notEqual(run.versions.python?.path, decoyPython);
  assert.equal(run.timing.span, 'tvm-call');
});

test('fp16 module agrees with fp32 ONNX Runtime within the fp16 tolerance', async () => {
  const out = path.join(work, 'tvm-fp16.json');
  const r = await runCli(['bench', '--backend', 'tvm', '--model', 'tiny', '--precision', 'fp16', '--warmup', '1', '--iterations', '3', '--verify', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.artifact?.flags.precision, 'fp16');
  const v = run.verification!;
  assert.equal(v.rtol, 5e-2);
  assert.equal(v.passed, true, JSON.stringify(v));
  assert.ok(v.mismatches <= v.elements * 1e-3);
});

test('tuning with a tiny budget streams progress, writes a log, and a run built from that log verifies', async () => {
  const log = path.join(work, 'tuning-log');
  const r = await runCli(['build', '--backend', 'tvm', '--model', 'tiny', '--tune-trials', '4', '--tuning-log', log, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /tuning: \d+\/4 trials/);
  const built = JSON.parse(r.stdout) as BuildResult;
  assert.equal(built.artifact.flags.tuned, true);
  assert.equal(built.tuningLog, log);
  const records = readFileSync(path.join(log, 'database_tuning_record.json'), 'utf8').trim().split('\n');
  assert.ok(records.length >= 1, 'tuning records were written');
  const out = path.join(work, 'tvm-tuned.json');
  const run = await runCli(['bench', '--backend', 'tvm', '--model', 'tiny', '--tuning-log', log, '--iterations', '5', '--warmup', '1', '--verify', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const tuned = readRun(out);
  assert.equal(tuned.artifact?.flags.tuned, true);
  assert.equal(tuned.verification?.passed, true);
});

test('Ctrl-C during tuning stops it, keeps the log and says how to continue', async () => {
  const log = path.join(work, 'cancelled-log');
  let sent = false;
  const r = await runCli(['build', '--backend', 'tvm', '--model', 'tiny', '--tune-trials', '60', '--tuning-log', log], {
    onStderr: (text, child) => {
      if (!sent && /tuning: [1-9]\d*\/60 candidates sent to the builder/.test(text)) {
        sent = true;
        ctrlC(child);
      }
    },
  });
  assert.ok(sent, `never saw tuning progress: ${r.stderr}`);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /build cancelled; the tuning log keeps the trials measured so far/);
  // The log stays: the workloads and whatever records were measured before the stop.
  assert.ok(existsSync(path.join(log, 'database_workload.json')));
  const records = readFileSync(path.join(log, 'database_tuning_record.json'), 'utf8').trim().split('\n').filter(Boolean);
  assert.ok(records.length < 60, `${records.length} records`);
});

test('compare of an ONNX Runtime run and a TVM run prints the research-shaped table', async () => {
  const ort = path.join(work, 'ort-tiny.json');
  const r = await runCli(['bench', '--model', 'tiny', '--iterations', '10', '--warmup', '2', '--out', ort]);
  assert.equal(r.code, 0, r.stderr);
  const cmp = await runCli(['compare', ort, path.join(work, 'tvm-tiny.json')]);
  assert.equal(cmp.code, 0, cmp.stderr);
  assert.match(cmp.stdout, /onnxruntime/);
  assert.match(cmp.stdout, /tvm/);
  assert.match(cmp.stdout, /Ratio vs baseline/);
});

test('bad input names the problem: no CUDA, no Python, an op TVM cannot import, int8', async () => {
  const cuda = await runCli(['bench', '--backend', 'tvm', '--model', 'tiny', '--target', 'cuda', '--iterations', '1']);
  assert.equal(cuda.code, 1);
  assert.match(cuda.stderr, /cuda.*--target llvm/);
  const noPython = await runCli(['bench', '--backend', 'tvm', '--model', 'tiny', '--python', '/nonexistent/python3', '--iterations', '1']);
  assert.equal(noPython.code, 1);
  assert.match(noPython.stderr, /Python '\/nonexistent\/python3' was not found/);
  const int8 = await runCli(['bench', '--backend', 'tvm', '--model', 'tiny', '--precision', 'int8', '--iterations', '1']);
  assert.equal(int8.code, 1);
  assert.match(int8.stderr, /tvm cannot run int8 here \(it can: fp32, fp16\)/);
  const notTvm = await runCli(['bench', '--model', 'tiny', '--tune-trials', '3']);
  assert.equal(notTvm.code, 2);
  assert.match(notTvm.stderr, /--tune-trials applies to --backend tvm only/);

  // A graph with an op no frontend knows: the message names it.
  const tiny = readRun(path.join(work, 'tvm-tiny.json')).model.path;
  const model = onnx.ModelProto.decode(readFileSync(tiny));
  const graph = model.graph!;
  const last = graph.node![graph.node!.length - 1]!;
  graph.node!.push(onnx.NodeProto.create({ opType: 'JetbenchMysteryOp', input: [last.output![0]!], output: ['mystery'], name: 'mystery' }));
  graph.output![0]!.name = 'mystery';
  const bad = path.join(work, 'mystery.onnx');
  writeFileSync(bad, onnx.ModelProto.encode(model).finish());
  const r = await runCli(['build', '--backend', 'tvm', '--model', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /JetbenchMysteryOp/);
  assert.ok(readdirSync(work).length > 0);
});

/** The processes of this machine whose parent is `ppid`, with their process group. */
function childrenOf(ppid: number): Array<{ pid: number; pgid: number; cmd: string }> {
  const out: Array<{ pid: number; pgid: number; cmd: string }> = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      // pid (comm) state ppid pgrp ...: split after the comm's closing parenthesis.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== ppid) continue;
      out.push({ pid: Number(name), pgid: Number(fields[2]), cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ') });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function groupAlive(pgid: number): number[] {
  const alive: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && processRunning(Number(name))) alive.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return alive;
}

test('TVM\'s RPC tracker and server started by a local agent end with its client, without a stop request (their whole process groups)', async () => {
  // TVM runs the tracker and server proper in PopenWorker children that outlive their parent: a
  // CLI that dies mid-build must not leave them listening.
  const local = await startLocalAgent({ client: 'tvm-rpc-leak-test' });
  const agentPid = local.agent.pid;
  const tracker = await local.connection.sendRequest(TvmRpcTrackerStartRequest, { python: null });
  await local.connection.sendRequest(TvmRpcServerStartRequest, { tracker: { host: tracker.host, port: tracker.port, key: 'leak' }, reportAddress: null, python: null });
  const started = childrenOf(agentPid).filter((c) => /tvm\.exec\.rpc_(tracker|server)/.test(c.cmd));
  assert.equal(started.length, 2, JSON.stringify(started));
  const groups = started.map((c) => c.pgid);
  assert.ok(groups.every((g) => groupAlive(g).length >= 1));
  await local.dispose();
  await local.exited;
  const deadline = Date.now() + 15_000;
  while (groups.some((g) => groupAlive(g).length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  for (const g of groups) assert.deepEqual(groupAlive(g), [], `process group ${g} still runs after the agent's client left`);
});
