// NanoDet in the native addon (issue 16 item 1): the CPU reference of the stretch preprocess equals
// the TypeScript one, the packed model's one output is exactly the six heads side by side, and the
// native decode + NMS of that output keeps the boxes contract/nanodetDecode.ts keeps, on real photos
// (test/fixtures/frames) and frames of vtest run through the real nanodet-g on ONNX Runtime. The GPU kernels are held to
// this CPU reference bit for bit by native/test/gpu_test.cpp on the GPU machine.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { NativeAddon } from '../../device-agent/src/native/binding';
import { resolveFrameSource } from '../../device-agent/src/builtinFrames';
import { decodeImage, decodeVideo } from '../../device-agent/src/pipelineFrames';
import { detectorFor } from '../../models/src/detector';
import { resolveModel } from '../../models/src/index';
import { NANODET_MEAN_BGR, NANODET_STD_BGR, PACKED_HEADS_OUTPUT, packNanodetHeads } from '../../models/src/nanodet';
import type { Frame } from '../../models/src/frames';
import { inspectModel } from '../../device-agent/src/modelInfo';
import { TEST_CACHE_DIR } from '../helpers/cli';
import { loadTestAddon } from './helpers';

const FRAMES = path.join(__dirname, '..', 'fixtures', 'frames');
const SIZE = 416;
const STRETCH = { kind: 'stretch', meanBgr: NANODET_MEAN_BGR, stdBgr: NANODET_STD_BGR } as const;

let addon: NativeAddon;
let modelPath: string;
let frames: Array<{ name: string; frame: Frame }>;
before(async () => {
  ({ addon } = await loadTestAddon());
  modelPath = (await resolveModel('nanodet-g', { cacheDir: TEST_CACHE_DIR })).path;
  frames = readdirSync(FRAMES)
    .filter((n) => /\.(png|jpe?g)$/i.test(n))
    .sort()
    .map((name) => ({ name, frame: decodeImage(readFileSync(path.join(FRAMES, name)), name) }));
  assert.ok(frames.length >= 2, `real photos in ${FRAMES}`);
  // And four frames of vtest (pedestrians, 2-11 a frame: many boxes of one class), 10 s apart.
  const video = await resolveFrameSource('vtest', () => undefined, path.join(TEST_CACHE_DIR, 'frames'));
  for (const startS of [0, 10, 20, 30]) {
    const [frame] = await decodeVideo(video, 1, { startS });
    frames.push({ name: `vtest at ${startS} s`, frame: frame! });
  }
});

// Tolerance: the native side computes the source coordinate in float (as the GPU kernel does), the
// TypeScript side in double: at x ~ 700 a float is 6e-5 px coarse, which across a 0 -> 255 edge is
// 0.016 in pixel value, 2.7e-4 after NanoDet's std of ~57.
test('the native stretch preprocess equals the TypeScript one (max |diff| <= 5e-4) on real photos and vtest frames', async () => {
  const model = await inspectModel(modelPath, 'nanodet-g');
  const detector = detectorFor(model)!;
  assert.equal(detector.family, 'nanodet');
  for (const { name, frame } of frames) {
    const ts = detector.preprocess(frame);
    const cpp = addon.preprocess(frame.data, frame.width, frame.height, 3 * frame.width, SIZE, 'float32', STRETCH) as Float32Array;
    assert.equal(cpp.length, ts.length);
    let max = 0;
    for (let i = 0; i < ts.length; i++) max = Math.max(max, Math.abs(ts[i]! - cpp[i]!));
    assert.ok(max <= 5e-4, `${name}: max |diff| ${max}`);
  }
  assert.throws(() => addon.preprocess(frames[0]!.frame.data, frames[0]!.frame.width, frames[0]!.frame.height, 3 * frames[0]!.frame.width, SIZE, 'float32', { kind: 'stretch', meanBgr: [0, 0, 0], stdBgr: [1, 0, 1] }), /std > 0/);
});

test('packed nanodet-g: one output [1, 3549, 124] that is exactly the six heads side by side, and the native decode keeps the TypeScript decoder\'s boxes', async () => {
  const original = await ort.InferenceSession.create(modelPath);
  const packed = await ort.InferenceSession.create(Buffer.from(packNanodetHeads(readFileSync(modelPath))));
  assert.deepEqual(packed.outputNames, [PACKED_HEADS_OUTPUT]);
  const model = await inspectModel(modelPath, 'nanodet-g');
  const detector = detectorFor(model)!;
  // Heads in level order (most cells first), as the packing and the TypeScript detector order them.
  const level = (width: number) =>
    model.outputs
      .filter((o) => o.shape[2] === width)
      .sort((a, b) => Number(b.shape[1]) - Number(a.shape[1]))
      .map((o) => o.name);
  const [scoreNames, boxNames] = [level(80), level(44)];
  let total = 0;
  for (const { name, frame } of frames) {
    const input = new ort.Tensor('float32', detector.preprocess(frame), [1, 3, SIZE, SIZE]);
    const heads = await original.run({ [original.inputNames[0]!]: input });
    const one = (await packed.run({ [packed.inputNames[0]!]: input }))[PACKED_HEADS_OUTPUT]!;
    assert.deepEqual(one.dims, [1, 3549, 124]);
    const out = one.data as Float32Array;
    // Row r: the scores of cell r (level by level), then its 44 box bins.
    let row = 0;
    for (let l = 0; l < 3; l++) {
      const s = heads[scoreNames[l]!]!.data as Float32Array;
      const b = heads[boxNames[l]!]!.data as Float32Array;
      for (let c = 0; c < s.length / 80; c++, row++) {
        for (let k = 0; k < 80; k++) if (out[row * 124 + k] !== s[c * 80 + k]) assert.fail(`${name}: row ${row} score ${k} differs`);
        for (let k = 0; k < 44; k++) if (out[row * 124 + 80 + k] !== b[c * 44 + k]) assert.fail(`${name}: row ${row} bin ${k} differs`);
      }
    }
    const outputs = model.outputs.map((o) => heads[o.name]!.data as Float32Array);
    const ts = detector.decode(outputs, frame);
    const flat = addon.decodeNms(out, 3549, 124, { head: 'nanodet', inputSize: SIZE, confThreshold: 0.35, iouThreshold: 0.5, maxDetections: 100 });
    const sx = frame.width / SIZE;
    const sy = frame.height / SIZE;
    const native = Array.from({ length: flat.length / 6 }, (_, i) => ({
      x1: flat[6 * i]! * sx,
      y1: flat[6 * i + 1]! * sy,
      x2: flat[6 * i + 2]! * sx,
      y2: flat[6 * i + 3]! * sy,
      score: flat[6 * i + 4]!,
      classId: flat[6 * i + 5]!,
    }));
    assert.equal(native.length, ts.length, `${name}: ${native.length} native boxes, ${ts.length} TypeScript`);
    ts.forEach((b, i) => {
      const n = native[i]!;
      assert.equal(n.classId, b.classId, `${name} box ${i}: class`);
      assert.ok(Math.abs(n.score - b.score) <= 1e-6, `${name} box ${i}: score ${n.score} vs ${b.score}`);
      for (const k of ['x1', 'y1', 'x2', 'y2'] as const) assert.ok(Math.abs(n[k] - b[k]) <= 0.01, `${name} box ${i}: ${k} ${n[k]} vs ${b[k]}`);
    });
    total += ts.length;
  }
  assert.ok(total >= frames.length, `real photos give detections (${total})`);
  console.log(`native NanoDet decode = TypeScript decoder on ${frames.length} frames, ${total} boxes`);
  await original.release();
  await packed.release();
});

test('a NanoDet output of the wrong shape is refused with the shape it needs', () => {
  assert.throws(
    () => addon.decodeNms(new Float32Array(100 * 124), 100, 124, { head: 'nanodet', inputSize: SIZE }),
    (e: Error) => /NanoDet post-processing at input 416 needs 3549 cells x \(classes \+ 44\)/.test(e.message),
  );
  assert.throws(() => addon.decodeNms(new Float32Array(124), 1, 124, { head: 'ssd' as 'nanodet' }), /head layout 'ssd' is not yolov5 or nanodet/);
});
