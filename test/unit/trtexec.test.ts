// trtexec parsers and command construction (issue 19), on real trtexec outputs (see
// test/fixtures/trtexec/README.md for each file's source) and one truncated log made from them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeBannerVersion,
  parseTrtexecLayerInfo,
  parseTrtexecLog,
  parseTrtexecProfile,
  parseTrtexecTimes,
  readTrtexecLog,
  trtexecArgs,
  trtexecBuildArgs,
  trtexecDefaultSpan,
  trtexecFindings,
  trtexecMissingMessage,
  TrtexecParseError,
  type TrtexecCommandInput,
} from '../../contract/trtexec.js';
import { trtexecPrecision, trtexecRun } from '../../contract/trtexecRun.js';
import type { ImportedFile } from '../../contract/protocol.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'trtexec');
const fixture = (name: string): string => readFileSync(join(dir, name), 'utf8');

test('TensorRT 10.16 log: version, device, span, summary and the CoV warning', () => {
  const log = parseTrtexecLog(fixture('trt10.16-onnx-default.log'), 'trt10.16-onnx-default.log');
  assert.equal(log.tensorrtVersion, '10.16.1');
  assert.equal(log.device, 'NVIDIA H100 PCIe');
  assert.equal(log.options['Precision'], 'FP32');
  assert.deepEqual({ d: log.dataTransfers, s: log.spinWait, g: log.cudaGraph }, { d: true, s: false, g: false });
  assert.equal(log.summary.throughputQps, 15374.3);
  assert.equal(log.summary.latency.medianMs, 0.0440674);
  assert.equal(log.summary.latency.percentilesMs[99], 0.0512695);
  assert.equal(log.summary.gpuCompute.meanMs, 0.0359588);
  assert.equal(log.summary.d2h?.maxMs, 0.0341797);
  assert.equal(log.summary.totalHostWalltimeS, 3.00013);
  assert.equal(log.passed, true);
  assert.equal(log.warnings.length, 1);
  // The continuation line (the advice) is joined to its warning.
  assert.match(log.warnings[0] ?? '', /coefficient of variance = 6\.58751%.*--useSpinWait/);
  const findings = trtexecFindings(log);
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.code, 'trtexec-unstable-gpu-compute');
  assert.equal(findings[0]?.evidence['covPercent'], 6.58751);
});

test('TensorRT 10.16 log run with --noDataTransfers --useSpinWait --useCudaGraph reports that span', () => {
  const log = parseTrtexecLog(fixture('trt10.16-spinwait-cudagraph-notransfers.log'), 'x.log');
  assert.deepEqual({ d: log.dataTransfers, s: log.spinWait, g: log.cudaGraph }, { d: false, s: true, g: true });
  assert.ok(log.summary.latency.medianMs > 0);
  assert.ok(log.commandLine?.includes('--useCudaGraph'));
});

test('TensorRT 10.14 log parses with its own banner version', () => {
  const log = parseTrtexecLog(fixture('trt10.14-onnx-default.log'), 'x.log');
  assert.match(log.tensorrtVersion, /^10\.14\./);
  assert.ok(log.summary.gpuCompute.medianMs > 0);
});

test('banner versions decode for 8.x and 10.x packing', () => {
  assert.equal(decodeBannerVersion('8601'), '8.6.1');
  assert.equal(decodeBannerVersion('8201'), '8.2.1');
  assert.equal(decodeBannerVersion('101601'), '10.16.1');
});

test('a truncated log (made: the real 10.16 log cut before its summary) is refused naming the file and the missing summary', () => {
  assert.throws(
    () => parseTrtexecLog(fixture('made-truncated-trt10.16.log'), 'made-truncated-trt10.16.log'),
    (e: unknown) => e instanceof TrtexecParseError && /made-truncated-trt10\.16\.log: .*Performance summary.*truncated/.test(e.message),
  );
  assert.throws(() => parseTrtexecLog('hello\nworld\n', 'notes.txt'), /notes\.txt: is not a trtexec log/);
});

test('--exportLayerInfo JSON (TensorRT 10.16, detailed) lists layers with their types', () => {
  const layers = parseTrtexecLayerInfo(fixture('trt10.16-exportLayerInfo.json'), 'layers.json');
  assert.ok(layers.length >= 3);
  assert.equal(layers[0]?.name, 'node_conv2d + node_relu');
  assert.equal(layers[0]?.layerType, 'CaskConvolution');
  assert.throws(() => parseTrtexecLayerInfo('{"Bindings": []}', 'l.json'), /l\.json: has no "Layers" array/);
});

const base: TrtexecCommandInput = {
  tensorrtVersion: '10.3.0',
  onnxPath: '/m/model.onnx',
  enginePath: '/cache/abc.engine',
  loadEngine: false,
  precision: 'fp16',
  workspaceMiB: 1024,
  timingCachePath: '/cache/timing.cache',
  warmupMs: 500,
  iterations: 200,
  span: { dataTransfers: true, cudaGraph: false, spinWait: false },
  outDir: '/runs/r1',
};

test('command, TensorRT 10.x (JetPack 6): transfers on by default, so only "on" flags appear', () => {
  const a = trtexecArgs(base);
  assert.ok(a.includes('--fp16'));
  assert.ok(a.includes('--memPoolSize=workspace:1024M'));
  assert.ok(!a.some((x) => /DataTransfers|CudaGraph|SpinWait/.test(x)), a.join(' '));
  assert.ok(a.includes('--separateProfileRun'));
  assert.ok(a.includes('--exportTimes=/runs/r1/trtexec-times.json'));
  const compute = trtexecArgs({ ...base, span: { dataTransfers: false, cudaGraph: true, spinWait: true } });
  for (const f of ['--noDataTransfers', '--useCudaGraph', '--useSpinWait']) assert.ok(compute.includes(f), f);
});

test('command, TensorRT 11.x: the defaults flipped, so the same span needs the "off" spellings', () => {
  const v11 = { ...base, tensorrtVersion: '11.0.0', precision: 'fp32' as const };
  const a = trtexecArgs(v11);
  for (const f of ['--includeDataTransfers', '--noCudaGraph', '--noSpinWait']) assert.ok(a.includes(f), f);
  assert.ok(!a.includes('--separateProfileRun'));
  const compute = trtexecArgs({ ...v11, span: trtexecDefaultSpan('11.0.0') });
  assert.ok(!compute.some((x) => /DataTransfers|CudaGraph|SpinWait/.test(x)), compute.join(' '));
  // 11.0 removed precision flags: say so rather than pass a flag trtexec rejects.
  assert.throws(() => trtexecArgs({ ...v11, precision: 'fp16' }), /11\.0 removed precision flags/);
});

test('command, TensorRT 8.x: --workspace before 8.4, single percentile before 8.6', () => {
  const a = trtexecArgs({ ...base, tensorrtVersion: '8.2.1' });
  assert.ok(a.includes('--workspace=1024'));
  assert.ok(a.includes('--percentile=99'));
  const b = trtexecArgs({ ...base, tensorrtVersion: '8.6.1' });
  assert.ok(b.includes('--memPoolSize=workspace:1024M'));
  assert.ok(b.includes('--percentile=50,90,95,99'));
});

test('the default span differs between 10.x and 11.x (why the span flags are explicit)', () => {
  assert.notDeepEqual(trtexecDefaultSpan('10.3.0'), trtexecDefaultSpan('11.0.0'));
});

test('missing trtexec message says where JetPack puts it', () => {
  assert.match(trtexecMissingMessage(['PATH']), /\/usr\/src\/tensorrt\/bin\/trtexec/);
});

// ---- import (issue 19 item 2) ----------------------------------------------------------------

test('a --dumpProfile log (TensorRT 10.16, no performance summary) gives its per-layer table and run facts', () => {
  const log = readTrtexecLog(fixture('trt10.16-dumpProfile.log'), 'p.log');
  assert.equal(log.summary, undefined, 'the profiler run prints no summary');
  assert.equal(log.profile?.iterations, 18362);
  assert.equal(log.profile?.layers.length, 15, 'the Total row is not a layer');
  assert.deepEqual(log.profile?.layers[1], { name: 'node_conv2d_myl0_1', totalMs: 193.5, averageMs: 0.0105, medianMs: 0.0098, percent: 12.7 });
  assert.ok(log.profile!.layers.some((l) => l.name.startsWith('Reformatting CopyNode for Input Tensor')), 'names with spaces are whole');
  assert.equal(log.startedAt, '2026-07-07T02:11:40.000Z');
  assert.equal(log.endedAt, '2026-07-07T02:11:43.000Z');
  // parseTrtexecLog still insists on a summary.
  assert.throws(() => parseTrtexecLog(fixture('trt10.16-dumpProfile.log'), 'p.log'), /p\.log: has no complete "=== Performance summary ==="/);
  const full = readTrtexecLog(fixture('trt10.16-onnx-default.log'), 'x.log');
  assert.deepEqual(full.warmup, { queries: 3057, ms: 200 });
  assert.deepEqual(full.trace, { queries: 46125, seconds: 3.00013 });
  assert.equal(full.engineBuildS, 8.09138);
});

test('--exportTimes: per-query times in trtexec 8+ form, a missing field named by entry, the 7.x form with its warm-up', () => {
  const t = parseTrtexecTimes(fixture('made-exportTimes.json'), 'times.json');
  assert.equal(t.latencyMs.length, 400);
  assert.equal(t.computeMs[0], 0.03);
  assert.equal(t.latencyMs[0], 0.0373);
  assert.equal(t.h2dMs[0], 0.0041);
  assert.throws(() => parseTrtexecTimes(fixture('made-exportTimes-missing-field.json'), 'm.json'), /m\.json: entry 7 has no "computeMs"/);
  assert.throws(() => parseTrtexecTimes(fixture('made-exportTimes.json').slice(0, 5000), 'cut.json'), /cut\.json: is not JSON .*cut short/);
  assert.throws(() => parseTrtexecTimes('[]', 'e.json'), /e\.json: holds no queries/);
  assert.throws(() => parseTrtexecTimes('[{"latencyMs": -1, "computeMs": 1, "h2dMs": 0, "d2hMs": 0}]', 'n.json'), /entry 0 has a bad "latencyMs" \(-1\)/);
  // TensorRT 7.x wrote every query, warm-up first, with inMs/outMs.
  const legacy = JSON.stringify([5, 1, 1, 1].map((c) => ({ startInMs: 0, endInMs: 0, inMs: 0.1, computeMs: c, outMs: 0.1, latencyMs: c + 0.2, endToEndMs: c + 0.3 })));
  const old = parseTrtexecTimes(legacy, 'old.json', { warmupQueries: 1 });
  assert.equal(old.warmupDropped, 1);
  assert.deepEqual(old.computeMs, [1, 1, 1]);
});

test('--exportProfile JSON: count and layers; a malformed one is named', () => {
  const p = parseTrtexecProfile(fixture('made-exportProfile.json'), 'prof.json');
  assert.equal(p.iterations, 18362);
  assert.equal(p.layers.length, 4);
  assert.equal(p.layers[0]?.name, 'node_conv2d_myl0_1');
  assert.throws(() => parseTrtexecProfile('[{"name": "x"}]', 'bad.json'), /bad\.json: does not start with \{ "count": N \}/);
  assert.throws(() => parseTrtexecProfile('[{"count": 3}, {"name": "x", "timeMs": 1}]', 'bad.json'), /layer 0 has no numeric "averageMs"/);
});

const files: ImportedFile[] = [{ role: 'log', path: '/x/run.log', sha256: '0'.repeat(64), bytes: 1 }];

test('the run from a log and its times: our statistics of trtexec samples, trtexec\'s own beside them, its warnings in the verdict', () => {
  const log = readTrtexecLog(fixture('trt10.16-spinwait-cudagraph-notransfers.log'), 'x.log');
  // Times consistent with this log's query count and GPU compute median (what trtexec writes for one run).
  const n = log.trace!.queries;
  const median = log.summary!.gpuCompute.medianMs;
  const compute = Array.from({ length: n }, (_, i) => median * (1 + ((i % 11) - 5) / 1000));
  const times = { latencyMs: compute, computeMs: compute, h2dMs: compute.map(() => 0), d2hMs: compute.map(() => 0), warmupDropped: 0 };
  const run = trtexecRun({ id: 'r1', log, times, files, span: 'gpu-compute', label: null, importedAt: new Date('2026-12-04T00:00:00Z') });
  assert.equal(run.status, 'ok');
  assert.equal(run.timing.span, 'trt-compute');
  assert.equal(run.stats!.count, n);
  assert.ok(Math.abs(run.stats!.medianMs - median) <= 1e-6 * median + 1e-9, `${run.stats!.medianMs} vs ${median}`);
  assert.equal(run.imported?.reported?.medianMs, median);
  assert.equal(run.versions.tensorrt, '10.16.1');
  assert.equal(run.device.gpus[0]?.name, 'NVIDIA H100 PCIe');
  assert.equal(run.device.gpus[0]?.source, 'trtexec');
  assert.equal(run.artifact?.flags['cudaGraph'], true);
  assert.equal(run.spec.warmup, log.warmup!.queries);
  assert.ok(!run.validity!.findings.some((f) => f.code === 'import-mismatch'), JSON.stringify(run.validity));
  // With --noDataTransfers trtexec's Latency is the compute span: imported as such.
  assert.equal(trtexecRun({ id: 'r2', log, times, files, span: 'latency', label: null, importedAt: new Date() }).timing.span, 'trt-compute');
});

test('an import whose log and times come from different trtexec runs is unreliable, saying why; precision and span from the log', () => {
  const log = readTrtexecLog(fixture('trt10.16-onnx-default.log'), 'x.log');
  const times = parseTrtexecTimes(fixture('made-exportTimes.json'), 't.json');
  const run = trtexecRun({ id: 'r3', log, times, files, span: 'latency', label: 'l', importedAt: new Date() });
  assert.equal(run.timing.span, 'trt-latency', 'data transfers on: H2D + compute + D2H');
  assert.equal(run.samples.latencyMs[0], 0.0373);
  assert.equal(run.spec.precision, 'fp32');
  const mismatch = run.validity!.findings.find((f) => f.code === 'import-mismatch');
  assert.equal(mismatch?.severity, 'unreliable');
  assert.match(mismatch!.summary, /timing trace has 46125 queries, the times file 400/);
  assert.equal(run.validity!.verdict, 'unreliable');
  assert.equal(trtexecPrecision('FP32+FP16'), 'fp16');
  assert.equal(trtexecPrecision('FP32+INT8'), 'int8');
  // A log that does not end in PASSED: the run is kept, marked failed.
  const failed = trtexecRun({ id: 'r4', log: { ...log, passed: false }, times, files, span: 'gpu-compute', label: null, importedAt: new Date() });
  assert.equal(failed.status, 'failed');
  assert.match(failed.error!, /does not end in "&&&& PASSED"/);
});

test('engine build command: --skipInference from 8.2 (--buildOnly before), INT8 with a calibration cache when there is one', () => {
  const input = { tensorrtVersion: '10.3.0', onnxPath: '/m/model.onnx', enginePath: '/c/e.engine', precision: 'int8' as const, workspaceMiB: 1024, timingCachePath: '/c/t.cache' };
  const a = trtexecBuildArgs({ ...input, calibrationCachePath: '/c/k.calibration' });
  assert.deepEqual(a, ['--onnx=/m/model.onnx', '--saveEngine=/c/e.engine', '--int8', '--memPoolSize=workspace:1024M', '--timingCacheFile=/c/t.cache', '--calib=/c/k.calibration', '--skipInference']);
  assert.ok(!trtexecBuildArgs(input).some((x) => x.startsWith('--calib')));
  assert.ok(trtexecBuildArgs({ ...input, tensorrtVersion: '8.2.1' }).includes('--skipInference'));
  assert.ok(trtexecBuildArgs({ ...input, tensorrtVersion: '8.0.1' }).includes('--buildOnly'));
  assert.throws(() => trtexecBuildArgs({ ...input, tensorrtVersion: '11.0.0' }), /11\.0 removed precision flags/);
  // A run over an engine: no build flags, the measured time as --duration.
  const run = trtexecArgs({ ...base, loadEngine: true, durationS: 5 });
  assert.ok(run.includes('--loadEngine=/cache/abc.engine') && run.includes('--duration=5'), run.join(' '));
  assert.ok(!run.some((x) => x.startsWith('--onnx') || x.startsWith('--fp16')), run.join(' '));
});

test('older and wrapped logs: 8.0\'s packed "TensorRT version: 8001", 8.2\'s "Engine loaded in", a banner after another logger\'s prefix', () => {
  // Lines written here in the formats those versions print (not copied from a log).
  const v80 = readTrtexecLog(['&&&& RUNNING TensorRT.trtexec [TensorRT v8001] # trtexec --loadEngine=a.engine', '[01/02/2026-03:04:05] [I] TensorRT version: 8001', '[01/02/2026-03:04:06] [I] Engine loaded in 1.5 sec.'].join('\n'), 'v80.log');
  assert.equal(v80.tensorrtVersion, '8.0.1');
  assert.equal(v80.engineLoadS, 1.5);
  // 8.4+ print both lines: the deserialization time is the one kept.
  const v86 = readTrtexecLog(['[01/02/2026-03:04:06] [I] TensorRT version: 8.6.1', '[01/02/2026-03:04:06] [I] Engine loaded in 0.01 sec.', '[01/02/2026-03:04:06] [I] Engine deserialized in 0.04 sec.'].join('\n'), 'v86.log');
  assert.equal(v86.tensorrtVersion, '8.6.1');
  assert.equal(v86.engineLoadS, 0.04);
  const wrapped = readTrtexecLog('2026-01-02 03:04:05 | INFO     | Exporter | &&&& RUNNING TensorRT.trtexec [TensorRT v8500] # trtexec --onnx=m.onnx --fp16', 'wrapped.log');
  assert.equal(wrapped.tensorrtVersion, '8.5.0');
  assert.equal(wrapped.commandLine, 'trtexec --onnx=m.onnx --fp16');
});
