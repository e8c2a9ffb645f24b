// The native addon itself, loaded through the agent's loader: it builds and loads, its CPU
// references agree with the TypeScript letterbox and with hand-computed NMS cases, and bad input
// becomes a JavaScript error carrying the native message.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { NativeAddon, NativeError } from '../../device-agent/src/native/binding';
import { toFloat16Bits } from '../../models/src/float16';
import { letterbox, syntheticScene } from '../../models/src/frames';
import { loadTestAddon } from './helpers';

let addon: NativeAddon;
let hash: string;
before(async () => {
  ({ addon, hash } = await loadTestAddon());
});

test('the addon loads and says what its build found', () => {
  const info = addon.buildInfo();
  assert.equal(info.sourceHash, hash, 'built from the current sources');
  assert.match(info.compiler, /\w+ \d+/);
  if (!info.cuda) {
    assert.equal(info.cudaStatus.compiled, false);
    assert.match(info.cudaStatus.reason, /built without CUDA/);
  }
  assert.ok(info.tensorrt === null || /^\d+\.\d+\.\d+$/.test(info.tensorrt));
});

test('CPU letterbox agrees with the TypeScript reference (max |diff| <= 1e-4) on 1080p, 720p and odd sizes', () => {
  for (const [w, h] of [[1920, 1080], [1280, 720], [641, 479], [37, 23], [3000, 200], [200, 3000]] as const) {
    const frame = syntheticScene(w, h, 7);
    const ts = letterbox(frame, 640);
    const cpp = addon.letterbox(frame.data, w, h, 3 * w, 640, 'float32') as Float32Array;
    assert.equal(cpp.length, 3 * 640 * 640);
    let max = 0;
    for (let i = 0; i < ts.length; i++) max = Math.max(max, Math.abs(ts[i]! - cpp[i]!));
    assert.ok(max <= 1e-4, `${w}x${h}: max |diff| ${max}`);
  }
});

test('float16 output is the float32 output rounded to nearest even (same bits as the TypeScript conversion)', () => {
  const frame = syntheticScene(320, 200, 3);
  const f32 = addon.letterbox(frame.data, 320, 200, 960, 64, 'float32') as Float32Array;
  const f16 = addon.letterbox(frame.data, 320, 200, 960, 64, 'float16') as Uint16Array;
  assert.ok(f16 instanceof Uint16Array);
  for (let i = 0; i < f32.length; i++) assert.equal(f16[i], toFloat16Bits(f32[i]!), `element ${i}`);
});

test('a frame with padded rows (odd stride) gives the packed frame\'s tensor', () => {
  const [w, h, stride] = [101, 57, 101 * 3 + 7];
  const frame = syntheticScene(w, h, 11);
  const padded = new Uint8Array(stride * h).fill(0xab);
  for (let y = 0; y < h; y++) padded.set(frame.data.subarray(y * w * 3, (y + 1) * w * 3), y * stride);
  assert.deepEqual(addon.letterbox(padded, w, h, stride, 128, 'float32'), addon.letterbox(frame.data, w, h, 3 * w, 128, 'float32'));
});

test('decode + NMS: hand-computed boxes, class-aware, thresholds', () => {
  // Rows: cx, cy, w, h, objectness, 2 class scores.
  const rows = [
    [50, 50, 10, 10, 0.9, 0.8, 0.1], // class 0, score 0.72
    [51, 50, 10, 10, 0.95, 0.9, 0.1], // class 0, score 0.855: suppresses row 0 (IoU 0.818)
    [50, 50, 10, 10, 0.9, 0.1, 0.7], // class 1, score 0.63: another class, kept
    [200, 200, 4, 4, 0.2, 0.99, 0], // objectness below 0.25: dropped
  ];
  const d = addon.decodeNms(Float32Array.from(rows.flat()), rows.length, 7, { confThreshold: 0.25, iouThreshold: 0.45 });
  assert.equal(d.length, 2 * 6);
  assert.deepEqual(Array.from(d.subarray(0, 4)), [46, 45, 56, 55]);
  assert.ok(Math.abs(d[4]! - 0.95 * 0.9) < 1e-6);
  assert.equal(d[5], 0);
  assert.equal(d[11], 1);
  assert.ok(Math.abs(d[10]! - 0.63) < 1e-6);
});

test('bad input: a clear native message as a JavaScript error (EINVAL), nothing crashes', () => {
  const expectInvalid = (fn: () => unknown, message: RegExp) =>
    assert.throws(fn, (e: NativeError) => e.code === 'EINVAL' && message.test(e.message));
  const frame = new Uint8Array(30);
  expectInvalid(() => addon.letterbox(frame, 0, 10, 0, 640, 'float32'), /0x10: a frame needs a width and height of at least 1 pixel/);
  expectInvalid(() => addon.letterbox(frame, 5, 2, 14, 640, 'float32'), /stride 14 bytes is smaller than one BGR row \(15 bytes/);
  expectInvalid(() => addon.letterbox(frame, 5, 3, 15, 640, 'float32'), /needs 45 bytes, the buffer has 30/);
  expectInvalid(() => addon.letterbox(frame, 5, 2, 15, 640, 'float64' as 'float32'), /float64/);
  expectInvalid(() => addon.decodeNms(new Float32Array(25200 * 4), 25200, 4), /N x \(5 \+ classes\)/);
  expectInvalid(() => addon.decodeNms(new Float32Array(12), 2, 7), /12 values, not rows x cols = 14/);
  expectInvalid(() => addon.decodeNms(new Float32Array(14), 2, 7, { iouThreshold: 0 }), /IoU threshold/);
  assert.throws(() => addon.crashForTest(), /disabled: it needs JETBENCH_NATIVE_TEST_CRASH set/);
});
