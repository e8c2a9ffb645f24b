// The two ends of a detector around the network (models/src/detector.ts): NanoDet's or YOLOv5's
// preprocess of a camera frame and decode of the outputs back to the frame's pixels, recognised from
// the model's shapes; and the int8 quantizer's calibration (max-abs, percentile, layers kept in float).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import type { ModelInfo } from '../../contract/protocol';
import { detectorFor } from '../../models/src/detector';
import { letterboxGeometry, resizeNormalised, syntheticScene, type Frame } from '../../models/src/frames';
import { ELEM_TYPE } from '../../models/src/graph';
import { quantizeQdq, sensitiveConvs } from '../../models/src/quantize';
import { fp32ModelFor, impliedPrecision, isBuiltinModel, sensitiveVariantFor, variantFor } from '../../contract/modelNames';

const tensor = (name: string, shape: Array<number | string>) => ({ name, dtype: 'float32', shape });
const nanodetShapes: Pick<ModelInfo, 'inputs' | 'outputs'> = {
  inputs: [tensor('input', [1, 3, 416, 416])],
  // Deliberately out of order: the decoder picks heads by shape, not by position.
  outputs: [tensor('b8', [1, 2704, 44]), tensor('s32', [1, 169, 80]), tensor('s8', [1, 2704, 80]), tensor('b32', [1, 169, 44]), tensor('s16', [1, 676, 80]), tensor('b16', [1, 676, 44])],
};

test('detectorFor recognises NanoDet (six heads, any order) and YOLOv5 ([1, N, 5 + classes]) by shape, and nothing else', () => {
  assert.equal(detectorFor(nanodetShapes)?.family, 'nanodet');
  assert.equal(detectorFor(nanodetShapes)?.inputSize, 416);
  const yolo = detectorFor({ inputs: [tensor('images', [1, 3, 640, 640])], outputs: [tensor('output0', [1, 25200, 85])] });
  assert.equal(yolo?.family, 'yolov5');
  assert.equal(yolo?.inputSize, 640);
  assert.equal(detectorFor({ inputs: [tensor('x', [1, 3, 224, 224])], outputs: [tensor('logits', [1, 1000])] }), null, 'a classifier');
  assert.equal(detectorFor({ inputs: [tensor('images', [1, 3, 'h', 'w'])], outputs: [tensor('output0', [1, 25200, 85])] }), null, 'no fixed square input');
});

test("NanoDet decode: a cell's scores and side distributions become one box in the frame's pixels, whatever the order of the heads", () => {
  const d = detectorFor(nanodetShapes)!;
  const heads = nanodetShapes.outputs.map((o) => new Float32Array((o.shape as number[]).reduce((a, b) => a * b, 1)));
  // Stride 8 cell (row 10, column 20): class 2 at 0.9; each side's distribution peaked on bin 3 (3 x 8 = 24 px).
  const cell = 10 * 52 + 20;
  heads[2]![cell * 80 + 2] = 0.9;
  for (let side = 0; side < 4; side++) heads[0]![cell * 44 + side * 11 + 3] = 30;
  const boxes = d.decode(heads, { width: 832, height: 416 });
  assert.equal(boxes.length, 1);
  const b = boxes[0]!;
  assert.equal(b.classId, 2);
  assert.ok(Math.abs(b.score - 0.9) < 1e-6);
  // Centre (20.5, 10.5) x 8 = (164, 84) in input pixels, 24 px each side; x doubled for the 832-wide frame.
  for (const [got, want] of [[b.x1, (164 - 24) * 2], [b.x2, (164 + 24) * 2], [b.y1, 84 - 24], [b.y2, 84 + 24]] as const) assert.ok(Math.abs(got - want) < 1e-3, `${got} vs ${want}`);
});

test('YOLOv5 decode: objectness x class score, threshold, class-wise NMS, boxes mapped back through the letterbox', () => {
  const d = detectorFor({ inputs: [tensor('images', [1, 3, 640, 640])], outputs: [tensor('output0', [1, 4, 85])] })!;
  const out = new Float32Array(4 * 85);
  const put = (row: number, cx: number, cy: number, w: number, h: number, obj: number, cls: number, p: number) => {
    out.set([cx, cy, w, h, obj], row * 85);
    out[row * 85 + 5 + cls] = p;
  };
  put(0, 320, 320, 100, 50, 0.9, 7, 0.8); // kept: 0.72
  put(1, 322, 321, 100, 50, 0.8, 7, 0.8); // same class, overlaps: suppressed
  put(2, 322, 321, 100, 50, 0.8, 3, 0.8); // same place, another class: kept
  put(3, 100, 100, 20, 20, 0.9, 1, 0.2); // 0.18 < 0.25: dropped
  const frame = { width: 1920, height: 1080 };
  const boxes = d.decode([out], frame);
  assert.deepEqual(boxes.map((b) => b.classId), [7, 3]);
  const { r, left, top } = letterboxGeometry(1920, 1080, 640);
  const b = boxes[0]!;
  assert.ok(Math.abs(b.score - 0.72) < 1e-6);
  assert.ok(Math.abs(b.x1 - (270 - left) / r) < 1e-3 && Math.abs(b.y2 - (345 - top) / r) < 1e-3, JSON.stringify(b));
});

test('resizeNormalised equals a direct bilinear resize (half-pixel centres) followed by (v - mean) / std', () => {
  const frame: Frame = syntheticScene(300, 200, 7);
  const size = 64;
  const mean = [10, 20, 30];
  const std = [2, 4, 8];
  const got = resizeNormalised(frame, size, mean, std);
  const px = (x: number, y: number, c: number) => frame.data[(y * frame.width + x) * 3 + c]!;
  let maxDiff = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * (300 / size) - 0.5, 0), 299);
      const fy = Math.min(Math.max((y + 0.5) * (200 / size) - 0.5, 0), 199);
      const [x0, y0] = [Math.floor(fx), Math.floor(fy)];
      const [x1, y1] = [Math.min(x0 + 1, 299), Math.min(y0 + 1, 199)];
      for (let c = 0; c < 3; c++) {
        const v = (1 - (fy - y0)) * ((1 - (fx - x0)) * px(x0, y0, c) + (fx - x0) * px(x1, y0, c)) + (fy - y0) * ((1 - (fx - x0)) * px(x0, y1, c) + (fx - x0) * px(x1, y1, c));
        maxDiff = Math.max(maxDiff, Math.abs(got[c * size * size + y * size + x]! - (v - mean[c]!) / std[c]!));
      }
    }
  }
  assert.ok(maxDiff < 1e-4, `max diff ${maxDiff}`);
});

/** One Conv (1 -> 1 channel, 1x1, weight 1) on an input of 1000 values. */
function oneConv(): onnx.ModelProto {
  const w = new Float32Array([1]);
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    docString: 'one conv',
    graph: {
      name: 'g',
      input: [{ name: 'x', type: { tensorType: { elemType: ELEM_TYPE.float32, shape: { dim: [1, 1, 10, 100].map((d) => ({ dimValue: d })) } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: ELEM_TYPE.float32 } } }],
      initializer: [{ name: 'w', dims: [1, 1, 1, 1], dataType: ELEM_TYPE.float32, rawData: new Uint8Array(w.buffer) }],
      node: [{ name: 'conv0', opType: 'Conv', input: ['x', 'w'], output: ['y'] }],
    },
  });
}

test('calibration: max-abs takes the largest |x|, a percentile clips the outliers, a Conv kept in float is left alone', async () => {
  // 999 values in [0, 1) and one outlier of 100.
  const x = Float32Array.from({ length: 1000 }, (_, i) => (i === 500 ? 100 : (i % 100) / 100));
  const scaleOf = (m: onnx.ModelProto) => new Float32Array(new Uint8Array(m.graph!.initializer!.find((t) => t.name === 'x_scale')!.rawData!).slice().buffer)[0]!;
  const base = { inputs: [x], dims: [1, 1, 10, 100], describe: 'test' };
  const max = await quantizeQdq(oneConv(), { ...base, method: 'max' });
  assert.ok(Math.abs(scaleOf(max) - 100 / 127) < 1e-6, `max-abs scale ${scaleOf(max)}`);
  assert.match(max.docString!, /activations calibrated test/);
  const p99 = await quantizeQdq(oneConv(), { ...base, method: 'percentile', percentile: 99 });
  // The 99th percentile of |x| is 0.98 or 0.99; the histogram's bins are 100 / 8192 wide.
  const clipped = scaleOf(p99) * 127;
  assert.ok(clipped >= 0.98 && clipped <= 0.99 + 100 / 8192 + 1e-6, `99th percentile range ${clipped}`);
  const kept = await quantizeQdq(oneConv(), { ...base, method: 'max', keepFloat: ['conv0'] });
  assert.deepEqual(kept.graph!.node!.map((n) => n.opType), ['Conv'], 'no Q/DQ around a Conv kept in float');
  await assert.rejects(quantizeQdq(oneConv(), { ...base, method: 'max', keepFloat: ['conv9'] }), /keepFloat names no Conv of this model: conv9/);
});

test('sensitive layers found from the graph: the Convs next to the input and next to the outputs, through any non-Conv nodes, none in the middle', () => {
  // input -> Mul -> stem -> mid1 -> mid2 -> (headA -> Sigmoid -> outA) and (headB -> Reshape -> outB)
  const conv = (name: string, input: string, output: string) => ({ name, opType: 'Conv', input: [input, 'w'], output: [output] });
  const model = onnx.ModelProto.create({
    graph: {
      node: [
        { name: 'norm', opType: 'Mul', input: ['input', 'k'], output: ['x0'] },
        conv('stem', 'x0', 'x1'),
        conv('mid1', 'x1', 'x2'),
        conv('mid2', 'x2', 'x3'),
        conv('headA', 'x3', 'a'),
        { name: 'sig', opType: 'Sigmoid', input: ['a'], output: ['outA'] },
        conv('headB', 'x3', 'b'),
        { name: 'reshape', opType: 'Reshape', input: ['b', 'shape'], output: ['outB'] },
      ],
      input: [{ name: 'input' }],
      output: [{ name: 'outA' }, { name: 'outB' }],
    },
  });
  assert.deepEqual(sensitiveConvs(model), ['stem', 'headA', 'headB']);
});

test('model names: nanodet-g-int8-mixed is int8 made from nanodet-g, and the sensitive variant of nanodet-g in int8 (none in fp16, none for YOLOv5)', () => {
  assert.ok(isBuiltinModel('nanodet-g-int8-mixed'));
  assert.equal(impliedPrecision('nanodet-g-int8-mixed'), 'int8');
  assert.equal(fp32ModelFor('nanodet-g-int8-mixed'), 'nanodet-g');
  assert.equal(variantFor('nanodet-g-int8-mixed', 'int8'), 'nanodet-g-int8-mixed');
  assert.equal(sensitiveVariantFor('nanodet-g', 'int8'), 'nanodet-g-int8-mixed');
  assert.equal(sensitiveVariantFor('nanodet-g-int8', 'int8'), 'nanodet-g-int8-mixed');
  assert.equal(sensitiveVariantFor('nanodet-g', 'fp16'), null);
  assert.equal(sensitiveVariantFor('yolov5s', 'int8'), null);
});
