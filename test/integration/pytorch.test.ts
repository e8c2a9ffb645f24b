// The pytorch backend with the real PyTorch from pip (torch, onnx2torch in the tests' .venv): the
// generated models converted by onnx2torch and run on the CPU (on a machine with a GPU the same
// tests pin --torch-device cpu; the GPU path is measured by bench/gpu/torch.sh), outputs verified
// against ONNX Runtime, both sample spans, trials, and the bad inputs named with their fix.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import type { BackendStatus } from '../../contract/protocol';
import { computeStats } from '../../contract/stats';
import { runCli, scratchDir } from '../helpers/cli';
import { readRun } from '../helpers/runFile';

let work: string;
let cuda = false;
before(() => {
  work = scratchDir('jetbench-torch-');
  cuda = execFileSync('python3', ['-c', 'import torch; print(torch.cuda.is_available())'], { encoding: 'utf8' }).trim() === 'True';
});

const cpu = ['--backend', 'pytorch', '--torch-device', 'cpu', '--threads', '1'];

test('PyTorch is found and listed as a backend, with its version', async () => {
  const r = await runCli(['info', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { backends } = JSON.parse(r.stdout) as { backends: BackendStatus[] };
  const torch = backends.find((b) => b.id === 'pytorch');
  assert.ok(torch?.available, JSON.stringify(torch));
  assert.match(torch.version ?? '', /^2\.\d+/);
  assert.ok(torch.precisions.includes('fp32'));
});

test('bench tiny and yolov5n with pytorch on the CPU: per-iteration samples, outputs match ONNX Runtime, the run says what ran it and what a sample spans', async () => {
  for (const model of ['tiny', 'yolov5n']) {
    const out = path.join(work, `torch-${model}.json`);
    const r = await runCli(['bench', ...cpu, '--model', model, '--warmup', '2', '--iterations', '10', '--verify', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const run = readRun(out);
    assert.equal(run.status, 'ok');
    assert.equal(run.samples.latencyMs.length, 10);
    assert.ok(run.samples.latencyMs.every((v) => v > 0));
    assert.deepEqual(run.stats, computeStats(run.samples.latencyMs));
    assert.equal(run.verification?.passed, true, JSON.stringify(run.verification));
    // On the CPU a sample is the host-timed call, the span ONNX Runtime's samples have.
    assert.equal(run.timing.span, 'torch-host');
    assert.match(run.timing.executionProvider, /^pytorch cpu, onnx2torch 1\.5\.15$/);
    assert.equal(run.timing.threads, 1);
    assert.match(run.versions.pytorch ?? '', /^2\.\d+/);
    assert.match(run.versions.python?.path ?? '', /python/);
    assert.equal(run.artifact, null);
    if (model === 'yolov5n') assert.equal(run.verification?.elements, 25200 * 85);
  }
  // The table a user reads says which span the PyTorch run's samples have.
  const cmp = await runCli(['compare', path.join(work, 'torch-tiny.json'), path.join(work, 'torch-yolov5n.json')]);
  assert.equal(cmp.code, 0, cmp.stderr);
  assert.match(cmp.stdout, /PyTorch H2D\+forward\+D2H \(host clock\)/);
});

test('bf16 on the CPU: the module and inputs in bfloat16, verified against ONNX Runtime with bf16\'s tolerances', async () => {
  const out = path.join(work, 'torch-bf16.json');
  const r = await runCli(['bench', ...cpu, '--model', 'tiny', '--precision', 'bf16', '--warmup', '2', '--iterations', '5', '--verify', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.spec.precision, 'bf16');
  assert.equal(run.verification?.passed, true, JSON.stringify(run.verification));
  assert.deepEqual([run.verification!.atol, run.verification!.rtol], [0.1, 0.1]);
  assert.ok(run.verification!.maxAbsDiff > 0, 'bf16 outputs are not fp32 outputs');
});

test('--fidelity with pytorch: real frames copied into the module\'s inputs, its detections against ONNX Runtime\'s fp32 (bf16 on the CPU)', async () => {
  const out = path.join(work, 'torch-fidelity.json');
  const r = await runCli(['bench', ...cpu, '--model', 'nanodet-g', '--precision', 'bf16', '--warmup', '1', '--iterations', '3', '--fidelity', '4', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  const f = run.fidelity!;
  assert.ok(f, 'the run has its fidelity');
  assert.deepEqual(f.reference, { model: 'nanodet-g', backend: 'onnxruntime', precision: 'fp32' });
  assert.equal(f.itself, undefined, 'pytorch is not the reference');
  assert.equal(f.frames, 4);
  // Real frames reached the module: it finds vtest's people, close to what fp32 finds.
  assert.ok(f.result.overall.referenceBoxes >= 8 && f.result.overall.testBoxes >= 8, JSON.stringify(f.result.overall));
  assert.ok(f.result.overall.recall >= 0.7 && f.result.overall.precision >= 0.7, JSON.stringify(f.result.overall));
  console.log(`pytorch bf16 (CPU) vs onnxruntime fp32 on 4 vtest frames: AP50 ${(100 * f.result.overall.ap50!).toFixed(1)}%, F1 ${(100 * f.result.overall.f1).toFixed(1)}%, matched IoU ${f.result.overall.meanMatchedIou?.toFixed(3)}`);
});

test('--torch-span device times the forward pass alone; --trials load the model in a process per trial and verify after them', async () => {
  const out = path.join(work, 'torch-span-trials.json');
  const r = await runCli(['bench', ...cpu, '--model', 'tiny', '--torch-span', 'device', '--trials', '2', '--warmup', '2', '--iterations', '8', '--verify', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.timing.span, 'torch-forward');
  assert.match(run.timing.spans, /forward pass \(eager\) on inputs already on the CPU/);
  assert.deepEqual(run.trials!.map((t) => t.count), [8, 8]);
  assert.equal(run.verification?.passed, true);
});

test('bad input names the problem and the fix: no CUDA, fp16 on the CPU, int8, a Python without torch, an op onnx2torch cannot convert, options of another backend', async () => {
  if (cuda) {
    console.log('SKIPPED: the no-CUDA message (PyTorch sees a GPU on this machine)');
  } else {
    const noCuda = await runCli(['bench', '--backend', 'pytorch', '--torch-device', 'cuda', '--model', 'tiny', '--iterations', '1']);
    assert.equal(noCuda.code, 1);
    assert.match(noCuda.stderr, /sees no CUDA device.*--torch-device cpu/);
  }
  const fp16 = await runCli(['bench', ...cpu, '--model', 'tiny', '--precision', 'fp16', '--iterations', '1']);
  assert.equal(fp16.code, 1);
  assert.match(fp16.stderr, /pytorch cannot run fp16 here \(it can: fp32, bf16\)/);
  const int8 = await runCli(['bench', ...cpu, '--model', 'tiny', '--precision', 'int8', '--iterations', '1']);
  assert.equal(int8.code, 1);
  assert.match(int8.stderr, /pytorch cannot run int8 here/);
  const graphOnCpu = await runCli(['bench', ...cpu, '--model', 'tiny', '--torch-mode', 'cuda-graph', '--iterations', '1']);
  assert.equal(graphOnCpu.code, 2);
  assert.match(graphOnCpu.stderr, /--torch-mode cuda-graph needs device cuda/);
  const notTorch = await runCli(['bench', '--model', 'tiny', '--torch-mode', 'eager']);
  assert.equal(notTorch.code, 2);
  assert.match(notTorch.stderr, /--torch-mode applies to --backend pytorch only/);
  const noPython = await runCli(['bench', ...cpu, '--model', 'tiny', '--python', '/nonexistent/python3', '--iterations', '1']);
  assert.equal(noPython.code, 1);
  assert.match(noPython.stderr, /Python '\/nonexistent\/python3' was not found/);
  // A Python without torch: a fresh virtual environment.
  const bare = path.join(work, 'bare-venv');
  execFileSync('python3', ['-m', 'venv', '--without-pip', bare]);
  const noTorch = await runCli(['bench', ...cpu, '--model', 'tiny', '--python', path.join(bare, 'bin', 'python3'), '--iterations', '1']);
  assert.equal(noTorch.code, 1);
  assert.match(noTorch.stderr, /cannot import torch.*pip install torch/);

  // Shrink: a real ONNX op onnx2torch has no converter for; the message names it.
  const tiny = readRun(path.join(work, 'torch-tiny.json')).model.path;
  const model = onnx.ModelProto.decode(readFileSync(tiny));
  const graph = model.graph!;
  const last = graph.node![graph.node!.length - 1]!;
  graph.node!.push(onnx.NodeProto.create({ opType: 'Shrink', input: [last.output![0]!], output: ['shrunk'], name: 'shrink' }));
  graph.output![0]!.name = 'shrunk';
  const bad = path.join(work, 'shrink.onnx');
  writeFileSync(bad, onnx.ModelProto.encode(model).finish());
  const r = await runCli(['bench', ...cpu, '--model', bad, '--iterations', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /onnx2torch cannot convert ONNX op 'Shrink'.*--backend onnxruntime/);
});

test('the pipeline with PyTorch runs on the GPU (libtorch in the native addon): without CUDA it says so before building anything', async () => {
  const usage = await runCli(['pipeline', '--model', 'yolov5n', '--python', 'python3', '--frames', '1']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--python applies to --backend pytorch only/);
  const onCpu = await runCli(['pipeline', '--backend', 'pytorch', '--model', 'yolov5n', '--frames', '1', '--precision', 'bf16']);
  assert.equal(onCpu.code, 1);
  assert.match(onCpu.stderr, /the pipeline's buffers are float32 or float16: use --precision fp32 or fp16/);
  if (cuda) {
    console.log('SKIPPED: the pipeline\'s no-CUDA message (PyTorch sees a GPU on this machine; bench/gpu/agent.sh measures the pipeline with PyTorch there)');
    return;
  }
  const r = await runCli(['pipeline', '--backend', 'pytorch', '--model', 'yolov5n', '--frames', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /sees no CUDA device: the pipeline's PyTorch inference runs on the GPU/);
});

test('--torch-mode compile: torch.compile (Inductor, C++ on the CPU) after folding onnx2torch\'s Reshapes, its compile time the run\'s build, verified against ONNX Runtime; a second run reuses Inductor\'s cache', async () => {
  const first = path.join(work, 'torch-compile-1.json');
  const r = await runCli(['bench', ...cpu, '--model', 'tiny', '--torch-mode', 'compile', '--warmup', '2', '--iterations', '5', '--verify', '--out', first]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(first);
  assert.equal(run.spec.pytorch?.mode, 'compile');
  assert.equal(run.verification?.passed, true, JSON.stringify(run.verification));
  // tiny's 6 Reshapes and 9 Slices all read stored initializers: folded, so Dynamo traces the
  // whole model as one graph.
  assert.match(run.timing.executionProvider, /^pytorch cpu, onnx2torch 1\.5\.15, torch\.compile \(inductor, 6 reshapes, 9 slices folded\)$/);
  const a = run.artifact;
  assert.equal(a?.kind, 'torch-compiled');
  assert.ok(a.buildMs > 0, `build ${a.buildMs} ms`);
  assert.equal(a.flags.graphBreaks, 0);
  assert.match(a.path, /artifacts[/\\]torch-inductor$/);
  assert.ok(a.bytes > 0, 'Inductor wrote its cache');
  // What the user reads: the build time, not a "module size" of a shared cache.
  assert.match(r.stdout, new RegExp(`Build \\(torch\\.compile\\)\\s*\\|?\\s*${(a.buildMs / 1000).toFixed(1)} s`));
  assert.doesNotMatch(r.stdout, /Module size/);
  const second = path.join(work, 'torch-compile-2.json');
  const r2 = await runCli(['bench', ...cpu, '--model', 'tiny', '--torch-mode', 'compile', '--warmup', '2', '--iterations', '5', '--out', second]);
  assert.equal(r2.code, 0, r2.stderr);
  const b = readRun(second).artifact!;
  assert.ok(b.buildMs < a.buildMs, `the second compile (${b.buildMs.toFixed(0)} ms) reuses the first's cache (${a.buildMs.toFixed(0)} ms)`);
  // Not for the pipeline, which runs a traced TorchScript module: refused before anything runs.
  const p = await runCli(['pipeline', '--backend', 'pytorch', '--torch-mode', 'compile', '--model', 'tiny', '--frames', '2']);
  assert.equal(p.code, 2, p.stderr);
  assert.match(p.stderr, /unknown option '--torch-mode'/);
});

test('PyTorch on CUDA (where there is a GPU): eager, CUDA graph and torch.compile on tiny, each verified, CUDA events around the forward pass', async (t) => {
  if (!cuda) {
    console.log('SKIPPED: PyTorch on CUDA (PyTorch sees no GPU on this machine; bench/gpu/all.sh measures yolov5s on the GPU machine, README "Native tests and GPU benchmarks")');
    t.skip('no CUDA');
    return;
  }
  for (const mode of ['eager', 'cuda-graph', 'compile']) {
    const out = path.join(work, `torch-cuda-${mode}.json`);
    const r = await runCli(['bench', '--backend', 'pytorch', '--torch-device', 'cuda', '--torch-mode', mode, '--model', 'tiny', '--warmup', '5', '--iterations', '20', '--verify', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const run = readRun(out);
    assert.equal(run.verification?.passed, true, `${mode}: ${JSON.stringify(run.verification)}`);
    assert.equal(run.timing.span, 'torch-forward');
    assert.match(run.timing.clock, /CUDA events/);
    assert.match(run.timing.executionProvider, /^pytorch cuda/);
    if (mode === 'compile') assert.equal(run.artifact?.kind, 'torch-compiled');
  }
});
