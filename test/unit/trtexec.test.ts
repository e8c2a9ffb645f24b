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
  trtexecArgs,
  trtexecDefaultSpan,
  trtexecFindings,
  trtexecMissingMessage,
  TrtexecParseError,
  type TrtexecCommandInput,
} from '../../contract/trtexec.js';

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
