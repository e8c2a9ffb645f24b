// Real TensorRT 8.x trtexec logs (a Jetson Nano on JetPack 4.6.x, and an 8.6 summary) read by the
// trtexec parser. Each fixture's source, licence and command are in test/fixtures/trtexec/README.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeStats } from '../../contract/stats.js';
import { parseTrtexecLayerInfo, parseTrtexecLog, parseTrtexecProfile, parseTrtexecTimes, readTrtexecLog, trtexecFindings, trtexecPercentile } from '../../contract/trtexec.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'trtexec');
const fixture = (name: string): string => readFileSync(join(dir, name), 'utf8');

test('TensorRT 8.2.1 on a Jetson Nano (JetPack 4.6.x): version, device, options and span from the option echo', () => {
  const log = readTrtexecLog(fixture('trt8.2.1-jetson-nano-onnx-build.log'), 'trt8.2.1-jetson-nano-onnx-build.log');
  assert.equal(log.tensorrtVersion, '8.2.1');
  assert.equal(log.device, 'NVIDIA Tegra X1');
  assert.equal(log.commandLine, 'trtexec --workspace=2048 --onnx=weights/culane_18-INT32.onnx --saveEngine=weights/culane_18-INT32.engine');
  assert.equal(log.options['Format'], 'ONNX');
  assert.equal(log.options['Precision'], 'FP32');
  // 8.2 still echoes the old "Workspace" option (replaced by "Memory Pools" in 8.4) and a single percentile.
  assert.equal(log.options['Workspace'], '2048 MiB');
  assert.equal(log.options['Percentile'], '99');
  assert.equal(log.options['Duration'], '3s (+ 200ms warm up)');
  assert.deepEqual({ d: log.dataTransfers, s: log.spinWait, g: log.cudaGraph }, { d: true, s: false, g: false });
  assert.equal(log.passed, true);
  assert.equal(log.startedAt, '2023-07-14T11:52:09.000Z');
  assert.equal(log.endedAt, '2023-07-14T11:55:18.000Z');
});

test('TensorRT 8.2.1 on a Jetson Nano: performance summary, with End-to-End and only percentile(99%)', () => {
  const log = parseTrtexecLog(fixture('trt8.2.1-jetson-nano-onnx-build.log'), 'trt8.2.1-jetson-nano-onnx-build.log');
  const s = log.summary;
  assert.equal(s.throughputQps, 11.0613);
  assert.deepEqual(s.latency, { minMs: 89.312, maxMs: 91.492, meanMs: 90.3919, medianMs: 90.3035, percentilesMs: { 99: 91.492 } });
  assert.deepEqual(s.gpuCompute, { minMs: 89.0273, maxMs: 91.2045, meanMs: 90.1061, medianMs: 90.0183, percentilesMs: { 99: 91.2045 } });
  assert.equal(s.endToEnd?.medianMs, 90.3167);
  assert.equal(s.endToEnd?.percentilesMs[99], 91.5049);
  assert.equal(s.enqueue?.medianMs, 6.2948);
  assert.equal(s.h2d?.percentilesMs[99], 0.288208);
  assert.equal(s.d2h?.medianMs, 0.00830078);
  assert.equal(s.totalHostWalltimeS, 3.16419);
  assert.equal(s.totalGpuComputeS, 3.15371);
  assert.deepEqual(log.warmup, { queries: 2, ms: 200 });
  assert.deepEqual(log.trace, { queries: 35, seconds: 3.16419 });
  assert.equal(log.engineBuildS, 184.708);
});

test('TensorRT 8.2.1 on a Jetson Nano: a [W] [TRT] line before the summary is not a trtexec performance warning', () => {
  const log = readTrtexecLog(fixture('trt8.2.1-jetson-nano-onnx-build.log'), 'x.log');
  // The log has "[W] [TRT] onnx2trt_utils.cpp:366: Your ONNX model has been generated with INT64 weights ..."
  // during parsing, and no "[W] * ..." line in its performance summary.
  assert.deepEqual(log.warnings, []);
  assert.deepEqual(trtexecFindings(log), []);
});

test('TensorRT 8.6.1 summary excerpt: version from the PASSED banner, percentiles 90/95/99, no option echo', () => {
  const log = parseTrtexecLog(fixture('trt8.6.1-summary-excerpt.log'), 'trt8.6.1-summary-excerpt.log');
  assert.equal(log.tensorrtVersion, '8.6.1');
  assert.equal(log.passed, true);
  // Only the summary and the PASSED banner were published: no RUNNING banner, device or option echo.
  assert.equal(log.commandLine, undefined);
  assert.equal(log.device, undefined);
  assert.deepEqual(log.options, {});
  assert.deepEqual({ d: log.dataTransfers, s: log.spinWait, g: log.cudaGraph }, { d: undefined, s: undefined, g: undefined });
  assert.equal(log.warmup, undefined);
  assert.equal(log.trace, undefined);
  const s = log.summary;
  assert.equal(s.throughputQps, 40624.2);
  assert.deepEqual(s.latency, {
    minMs: 0.020874, maxMs: 0.354187, meanMs: 0.0249536, medianMs: 0.0246582,
    percentilesMs: { 90: 0.0258789, 95: 0.0263672, 99: 0.0344238 },
  });
  assert.deepEqual(s.gpuCompute, {
    minMs: 0.0151367, maxMs: 0.348145, meanMs: 0.0171428, medianMs: 0.0166016,
    percentilesMs: { 90: 0.0174561, 95: 0.0183105, 99: 0.0256348 },
  });
  // 8.6 no longer prints an End-to-End Host Latency line.
  assert.equal(s.endToEnd, undefined);
  assert.equal(s.enqueue?.percentilesMs[99], 0.0257568);
  assert.equal(s.d2h?.medianMs, 0.00402832);
  assert.equal(s.totalHostWalltimeS, 3.00006);
  assert.equal(s.totalGpuComputeS, 2.08927);
});

test('TensorRT 8.6.1 summary excerpt: the CoV warning is joined with its advice and becomes a finding', () => {
  const log = readTrtexecLog(fixture('trt8.6.1-summary-excerpt.log'), 'x.log');
  assert.deepEqual(log.warnings, [
    'GPU compute time is unstable, with coefficient of variance = 29.0605%. If not already in use, locking GPU clock frequency or adding --useSpinWait may improve the stability.',
  ]);
  const findings = trtexecFindings(log);
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.code, 'trtexec-unstable-gpu-compute');
  assert.equal(findings[0]?.evidence['covPercent'], 29.0605);
  assert.equal(findings[0]?.evidence['tensorrtVersion'], '8.6.1');
});

// A real --exportTimes / --exportProfile / --exportLayerInfo set of one TensorRT 8.x run (resnet50
// fp32 on an RTX 3090, CUDA graph, no data transfers), from NVIDIA's trt-engine-explorer examples;
// its log was not published, only trex's parse of the log's performance summary
// (trt8-rtx3090-trex-profile-metadata.json: [min, max, mean, median, p99] per metric).
const trexSummary = (): { Latency: number[]; 'GPU Compute Time': number[]; Throughput: number; 'Total Host Walltime': number } =>
  (JSON.parse(fixture('trt8-rtx3090-trex-profile-metadata.json')) as { performance_summary: ReturnType<typeof trexSummary> }).performance_summary;

test('a real TensorRT 8.x --exportTimes holds the warm-up too: with the log\'s counts it is dropped, and the statistics are trtexec\'s own summary', () => {
  const text = fixture('trt8-rtx3090-exportTimes.json');
  const s = trexSummary();
  // The summary covers throughput x walltime = 81.9895 x 3.02478 = 248 queries; the file has 263,
  // the first 15 of them inside the 200 ms warm-up (they start at 16.7 ms, the 16th at 196 ms).
  assert.equal(Math.round(s.Throughput * s['Total Host Walltime']), 248);
  const all = parseTrtexecTimes(text, 't.json');
  assert.equal(all.latencyMs.length, 263);
  assert.equal(all.warmupDropped, 0);
  // Kept whole, the first (slowest, 13.0181 ms) warm-up query would be the max: not trtexec's 12.7928.
  assert.equal(computeStats(all.latencyMs)!.maxMs, 13.0181);
  const t = parseTrtexecTimes(text, 't.json', { warmupQueries: 15, measuredQueries: 248 });
  assert.equal(t.warmupDropped, 15);
  assert.equal(t.latencyMs.length, 248);
  // No data transfers: latency is compute alone.
  assert.deepEqual(t.latencyMs, t.computeMs);
  assert.ok(t.h2dMs.every((v) => v === 0) && t.d2hMs.every((v) => v === 0));
  const ours = computeStats(t.latencyMs)!;
  const [min, max, mean, median, p99] = s.Latency as [number, number, number, number, number];
  assert.equal(ours.minMs, min);
  assert.equal(ours.maxMs, max);
  assert.equal(ours.medianMs, median);
  // P99 by trtexec's rank rule is its printed figure; ours interpolates between ranks 246 and 247.
  assert.equal(trtexecPercentile(t.latencyMs, 99), p99);
  assert.ok(ours.p99Ms < p99 && ours.p99Ms > 12.69, `interpolated P99 ${ours.p99Ms}`);
  assert.ok(Math.abs(ours.meanMs - mean) < 5e-5, `mean ${ours.meanMs} vs trtexec's ${mean}`);
  assert.deepEqual(s['GPU Compute Time'], s.Latency);
  // A file of the measured count only (later versions) is kept whole by the same counts.
  const measuredOnly = JSON.stringify((JSON.parse(text) as unknown[]).slice(15));
  assert.equal(parseTrtexecTimes(measuredOnly, 'm.json', { warmupQueries: 15, measuredQueries: 248 }).warmupDropped, 0);
});

test('a real TensorRT 8.x --exportProfile (with medianMs) and --exportLayerInfo of the same engine: 103 layers, the same names', () => {
  const profile = parseTrtexecProfile(fixture('trt8-rtx3090-exportProfile.json'), 'p.json');
  assert.equal(profile.iterations, 1);
  assert.equal(profile.layers.length, 103);
  assert.deepEqual(profile.layers[0], { name: 'resnet50/conv1_conv/Conv2D__6', totalMs: 0.08704, averageMs: 0.08704, medianMs: 0.08704, percent: 0.70195 });
  const share = profile.layers.reduce((a, l) => a + l.percent, 0);
  assert.ok(Math.abs(share - 100) < 0.01, `shares sum to ${share}%`);
  const layers = parseTrtexecLayerInfo(fixture('trt8-rtx3090-exportLayerInfo.json'), 'l.json');
  assert.equal(layers.length, 103);
  assert.deepEqual(layers[0], { name: 'resnet50/conv1_conv/Conv2D__6', layerType: 'Shuffle' });
  assert.deepEqual(layers.map((l) => l.name), profile.layers.map((l) => l.name));
});
