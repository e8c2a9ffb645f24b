// The model generator: YOLOv5 architecture figures, determinism, the ONNX checker, ONNX Runtime,
// realistic candidate counts, and the registry's cache.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { float16ToNumber, toFloat16Bits } from '../../models/src/float16';
import { describeBuiltinModels, generateModel, letterbox, modelComplexity, parseBuiltinName, resolveModel, syntheticScene } from '../../models/src/index';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'jetbench-models-'));

/** Published figures (ultralytics/yolov5 v7.0 README; parameters after fusing BN). */
const PUBLISHED = { yolov5n: [1.9e6, 4.5], yolov5s: [7.2e6, 16.5], yolov5m: [21.2e6, 49.0] } as const;

test('yolov5 n/s/m match the published parameters and GFLOPs within 2%', async () => {
  const list = await describeBuiltinModels();
  for (const [name, [params, gflops]] of Object.entries(PUBLISHED)) {
    const m = list.find((d) => d.name === name)!;
    assert.ok(Math.abs(m.params / params - 1) <= 0.02, `${name} params ${m.params}`);
    assert.ok(Math.abs(m.gflops / gflops - 1) <= 0.02, `${name} GFLOPs ${m.gflops}`);
  }
  // yolov5s after fusing has exactly 7,225,885 parameters (model.info() of the v7.0 release).
  assert.equal(list.find((d) => d.name === 'yolov5s')!.params, 7225885);
});

test('generation is deterministic and names parse', async () => {
  const a = await generateModel('tiny');
  const b = await generateModel('tiny');
  assert.deepEqual(a, b);
  assert.deepEqual(parseBuiltinName('yolov5s-fp16'), { base: 'yolov5s', precision: 'fp16' });
  assert.deepEqual(parseBuiltinName('tiny'), { base: 'tiny', precision: 'fp32' });
  assert.equal(parseBuiltinName('yolov8s'), null);
  await assert.rejects(generateModel('yolov5n-int8', { opset: 11 }), /needs opset 13/);
});

function checker(file: string): void {
  try {
    execFileSync('python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? e);
    if (/No module named 'onnx'/.test(stderr)) assert.fail('the ONNX checker is missing: pip install -r requirements-test.txt');
    assert.fail(`ONNX checker rejected ${file}: ${stderr.slice(-500)}`);
  }
}

async function detectionsAbove(file: string, fp16: boolean, threshold = 0.25): Promise<{ dims: readonly number[]; candidates: number; finite: boolean }> {
  const session = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  const img = letterbox(syntheticScene(1920, 1080, 7), 640);
  const input = fp16 ? new ort.Tensor('float16', Uint16Array.from(img, toFloat16Bits), [1, 3, 640, 640]) : new ort.Tensor('float32', img, [1, 3, 640, 640]);
  const out = (await session.run({ images: input })).output0!;
  await session.release();
  const data = fp16 ? Float32Array.from(out.data as Uint16Array, float16ToNumber) : (out.data as Float32Array);
  let candidates = 0;
  for (let r = 0; r < 25200; r++) {
    let best = 0;
    for (let c = 5; c < 85; c++) best = Math.max(best, data[r * 85 + c]!);
    if (data[r * 85 + 4]! * best > threshold) candidates++;
  }
  return { dims: out.dims, candidates, finite: data.every(Number.isFinite) };
}

test('variants pass the ONNX checker, run in ONNX Runtime and give realistic candidate counts', async () => {
  const cases: Array<[string, 11 | 13]> = [
    ['tiny', 13], ['tiny', 11], ['tiny-fp16', 13], ['tiny-int8', 13],
    ['yolov5n', 13], ['yolov5n', 11], ['yolov5n-fp16', 13], ['yolov5n-int8', 13], ['yolov5s', 13],
  ];
  for (const [name, opset] of cases) {
    const file = path.join(tmp, `${name}-${opset}.onnx`);
    const bytes = await generateModel(name, { opset });
    writeFileSync(file, bytes);
    const model = onnx.ModelProto.decode(bytes);
    assert.equal(Number(model.opsetImport![0]!.version), opset);
    const input = model.graph!.input![0]!;
    assert.equal(input.name, 'images');
    assert.deepEqual(input.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue)), [1, 3, 640, 640]);
    checker(file);
    const { dims, candidates, finite } = await detectionsAbove(file, name.endsWith('-fp16'));
    assert.deepEqual(dims, [1, 25200, 85], name);
    assert.ok(finite, `${name}: non-finite outputs`);
    // A busy real frame gives tens to a few hundred candidates above 0.25, never half the grid.
    assert.ok(candidates >= 10 && candidates <= 1000, `${name} opset ${opset}: ${candidates} candidates`);
    if (name.endsWith('-int8')) assert.ok(model.graph!.node!.some((n) => n.opType === 'QuantizeLinear'));
  }
});

test('complexity is read from the graph, including int8 weights behind DequantizeLinear', async () => {
  const fp32 = modelComplexity(await generateModel('tiny'));
  const int8 = modelComplexity(await generateModel('tiny-int8'));
  assert.equal(int8.params, fp32.params);
  assert.ok(Math.abs(int8.gflops - fp32.gflops) < 1e-9);
});

test('resolveModel caches built-ins atomically and explains unknown names', async () => {
  const cacheDir = path.join(tmp, 'cache');
  const first = await resolveModel('tiny', { cacheDir });
  const again = await resolveModel('tiny', { cacheDir });
  assert.equal(first.path, again.path);
  assert.equal(first.builtin, 'tiny');
  assert.match(path.basename(first.path), /^tiny-opset13-g\d+\.onnx$/);
  assert.deepEqual(readFileSync(first.path), Buffer.from(await generateModel('tiny')));
  const own = path.join(tmp, 'tiny-13.onnx');
  assert.deepEqual(await resolveModel(own, { cacheDir }), { path: own, builtin: null });
  await assert.rejects(resolveModel('yolov9', { cacheDir }), /model 'yolov9' not found: give a path to an \.onnx file, or a built-in model name/);
});
