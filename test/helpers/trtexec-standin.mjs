#!/usr/bin/env node
// A STAND-IN for NVIDIA's trtexec, for the tests of jetbench's trtexec runner on machines where
// TensorRT cannot be installed (no TensorRT here, nor on the GPU machine). It is not trtexec and
// measures nothing: it behaves as trtexec does towards its caller (the "[TensorRT vNNNN]" banner on
// --help, --skipInference builds that write --saveEngine, --loadEngine runs that print the option
// echo, "Starting inference", the warm-up/trace lines and a performance summary in trtexec's line
// formats, and write --exportTimes / --exportProfile / --exportLayerInfo in the layouts of TensorRT's
// samples/common/sampleReporting.cpp), so the runner's process handling, flags, progress,
// cancellation and file reading are tested for real. The parsers themselves are tested on real
// trtexec logs (test/fixtures/trtexec/).
//   TRTEXEC_STANDIN_VERSION  packed banner version (default 100300 = 10.3.0)
//   TRTEXEC_STANDIN_ARGV     file to append each invocation's argv to (one JSON line each)
//   TRTEXEC_STANDIN_MODE     ok | fail-build | fail-run | hang-run | warn (default ok)
//   TRTEXEC_STANDIN_MS       the made-up GPU compute time per query (default 2.0)
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const version = process.env.TRTEXEC_STANDIN_VERSION || '100300';
const mode = process.env.TRTEXEC_STANDIN_MODE || 'ok';
const computeMs = Number(process.env.TRTEXEC_STANDIN_MS || '2.0');
if (process.env.TRTEXEC_STANDIN_ARGV) appendFileSync(process.env.TRTEXEC_STANDIN_ARGV, `${JSON.stringify(argv)}\n`);

const opt = (name) => {
  const a = argv.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.includes('=') ? a.slice(a.indexOf('=') + 1) : true;
};
const command = `trtexec ${argv.join(' ')}`;
const stamp = () => {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `[${p(d.getMonth() + 1)}/${p(d.getDate())}/${d.getFullYear()}-${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}]`;
};
const info = (t) => process.stdout.write(`${stamp()} [I] ${t}\n`);
const warn = (t) => process.stdout.write(`${stamp()} [W] ${t}\n`);
const error = (t) => process.stdout.write(`${stamp()} [E] ${t}\n`);
const banner = (what) => process.stdout.write(`&&&& ${what} TensorRT.trtexec [TensorRT v${version}] # ${command}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  banner('RUNNING');
  if (opt('help')) {
    process.stdout.write('=== Model Options ===\n  --onnx=<file>               ONNX model\n');
    banner('PASSED');
    return 0;
  }
  const onOff = (v) => (v ? 'Enabled' : 'Disabled');
  const v11 = Number(version) >= 110000;
  const transfers = v11 ? opt('includeDataTransfers') === true : opt('noDataTransfers') !== true;
  const graph = v11 ? opt('noCudaGraph') !== true : opt('useCudaGraph') === true;
  const spin = v11 ? opt('noSpinWait') !== true : opt('useSpinWait') === true;
  info('=== Inference Options ===');
  info(`Data transfers: ${onOff(transfers)}`);
  info(`Spin-wait: ${onOff(spin)}`);
  info(`CUDA Graph: ${onOff(graph)}`);
  info(`Skip inference: ${onOff(opt('skipInference') === true)}`);
  info('=== Device Information ===');
  info('Selected Device: Stand-in GPU');
  if (opt('onnx')) {
    const onnx = opt('onnx');
    if (!existsSync(onnx)) {
      error(`Cannot open ONNX file: ${onnx}`);
      banner('FAILED');
      return 1;
    }
    if (mode === 'fail-build') {
      error('[TRT] ModelImporter.cpp:949: While parsing node number 3 [StandInOp -> "x"]: No importer registered for op: StandInOp');
      banner('FAILED');
      return 1;
    }
    await sleep(100);
    writeFileSync(opt('saveEngine'), `stand-in engine for ${onnx}: ${readFileSync(onnx).length} bytes of ONNX\n`);
    info('Engine built in 0.25 sec.');
    if (opt('skipInference') || opt('buildOnly')) {
      banner('PASSED');
      return 0;
    }
  } else {
    const engine = opt('loadEngine');
    if (!existsSync(engine)) {
      error(`Failed to load engine from ${engine}`);
      banner('FAILED');
      return 1;
    }
    info('Engine deserialized in 0.01 sec.');
  }
  info('Starting inference');
  const warmupMs = Number(opt('warmUp') ?? 200);
  if (mode === 'hang-run') await sleep(3_600_000);
  await sleep(warmupMs);
  if (mode === 'fail-run') {
    error('Error[1]: [executionContext.cpp::enqueueV3] Error Code 1: Cuda Runtime (an illegal memory access was encountered)');
    banner('FAILED');
    return 1;
  }
  const n = Number(opt('iterations') ?? 10);
  const times = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    // Made-up values (deterministic): compute around TRTEXEC_STANDIN_MS, every 7th query 10% slower.
    const compute = computeMs * (1 + 0.01 * ((i * 37) % 11) / 11 + (i % 7 === 0 ? 0.1 : 0));
    const h2d = transfers ? 0.2 : 0;
    const d2h = transfers ? 0.1 : 0;
    const start = t;
    t += h2d + compute + d2h + 0.01;
    times.push({ startEnqMs: start, endEnqMs: start + 0.05, startH2dMs: start, endH2dMs: start + h2d, startComputeMs: start + h2d, endComputeMs: start + h2d + compute, startD2hMs: start + h2d + compute, endD2hMs: t - 0.01, h2dMs: h2d, computeMs: compute, d2hMs: d2h, latencyMs: h2d + compute + d2h });
  }
  await sleep(Math.min(2000, t));
  if (opt('exportTimes')) writeFileSync(opt('exportTimes'), JSON.stringify(times, null, 2));
  const layers = [['conv1', 0.6], ['relu1', 0.2], ['conv2', 0.9], ['head', 0.3]];
  const total = layers.reduce((s, [, ms]) => s + ms, 0);
  if (opt('exportProfile')) {
    writeFileSync(opt('exportProfile'), JSON.stringify([{ count: n }, ...layers.map(([name, ms]) => ({ name, timeMs: ms * n, averageMs: ms, medianMs: ms, percentage: (100 * ms) / total }))], null, 2));
  }
  if (opt('exportLayerInfo')) writeFileSync(opt('exportLayerInfo'), JSON.stringify({ Layers: layers.map(([name]) => ({ Name: name })), Bindings: ['images', 'output0'] }, null, 2));
  info(`Warmup completed ${Math.max(1, Math.round(warmupMs / computeMs))} queries over ${warmupMs} ms`);
  info(`Timing trace has ${n} queries over ${(t / 1000).toFixed(5)} s`);
  info('');
  info('=== Performance summary ===');
  const stat = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const pct = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    return `min = ${s[0]} ms, max = ${s[s.length - 1]} ms, mean = ${mean} ms, median = ${median} ms, percentile(90%) = ${pct(90)} ms, percentile(95%) = ${pct(95)} ms, percentile(99%) = ${pct(99)} ms`;
  };
  info(`Throughput: ${(1000 * n) / t} qps`);
  info(`Latency: ${stat(times.map((q) => q.latencyMs))}`);
  info(`Enqueue Time: ${stat(times.map(() => 0.05))}`);
  info(`H2D Latency: ${stat(times.map((q) => q.h2dMs))}`);
  info(`GPU Compute Time: ${stat(times.map((q) => q.computeMs))}`);
  info(`D2H Latency: ${stat(times.map((q) => q.d2hMs))}`);
  info(`Total Host Walltime: ${t / 1000} s`);
  info(`Total GPU Compute Time: ${times.reduce((a, q) => a + q.computeMs, 0) / 1000} s`);
  if (mode === 'warn') {
    warn('* GPU compute time is unstable, with coefficient of variance = 12.34%.');
    warn('  If not already in use, locking GPU clock frequency or adding --useSpinWait may improve the stability.');
  }
  info('Explanations of the performance metrics are printed in the verbose logs.');
  banner('PASSED');
  return 0;
}

process.exitCode = await main();
