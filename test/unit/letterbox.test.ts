import assert from 'node:assert/strict';
import { test } from 'node:test';
import { letterbox, letterboxGeometry, PAD_VALUE, syntheticScene, type Frame } from '../../models/src/frames';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} != ${b}`);

test('a 4x2 frame into 4x4: no resize, one padded row above and below, BGR -> RGB', () => {
  // Pixel (x, y) has B = 10 + x, G = 100 + y, R = 200 + x + y.
  const data = new Uint8Array(4 * 2 * 3);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) data.set([10 + x, 100 + y, 200 + x + y], (y * 4 + x) * 3);
  const out = letterbox({ width: 4, height: 2, data }, 4);
  assert.equal(out.length, 3 * 16);
  const at = (c: number, y: number, x: number) => out[c * 16 + y * 4 + x]!;
  for (const y of [0, 3]) for (let x = 0; x < 4; x++) for (let c = 0; c < 3; c++) close(at(c, y, x), PAD_VALUE / 255);
  close(at(0, 1, 0), 200 / 255); // R of pixel (0, 0)
  close(at(1, 1, 0), 100 / 255); // G
  close(at(2, 1, 0), 10 / 255); // B
  close(at(0, 2, 3), 204 / 255); // R of pixel (3, 1)
});

test('bilinear with half-pixel centres: a 2x1 ramp doubled to 4 pixels', () => {
  const frame: Frame = { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 255, 255, 255]) };
  const out = letterbox(frame, 4);
  // r = 2: 4x2 image, top pad round(1 - 0.1) = 1; samples at x = -0.25, 0.25, 0.75, 1.25 (clamped).
  const row = [0, 1, 2, 3].map((x) => out[1 * 4 + x]! * 255);
  [0, 63.75, 191.25, 255].forEach((v, i) => close(row[i]!, v));
  assert.deepEqual(letterboxGeometry(1920, 1080, 640), { r: 1 / 3, newW: 640, newH: 360, left: 0, top: 140 });
});

test('synthetic scenes are deterministic, differ by seed, and reject empty sizes', () => {
  const a = syntheticScene(64, 48, 1);
  assert.deepEqual(a.data, syntheticScene(64, 48, 1).data);
  assert.notDeepEqual(a.data, syntheticScene(64, 48, 2).data);
  assert.throws(() => syntheticScene(0, 10, 1), RangeError);
  assert.throws(() => letterbox({ width: 3, height: 3, data: new Uint8Array(5) }), RangeError);
});
