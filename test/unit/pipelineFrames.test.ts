import assert from 'node:assert/strict';
import { test } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { BadInputError } from '../../device-agent/src/errors';
import { decodeImage, decodePpm } from '../../device-agent/src/pipelineFrames';

test('PPM (P6) pixels become BGR HWC, comments allowed', () => {
  const bytes = Buffer.concat([Buffer.from('P6\n# a comment\n2 1\n255\n'), Buffer.from([10, 20, 30, 40, 50, 60])]);
  const f = decodePpm(bytes, 'two.ppm');
  assert.deepEqual([f.width, f.height], [2, 1]);
  assert.deepEqual(Array.from(f.data), [30, 20, 10, 60, 50, 40]);
});

test('bad images name the file and the problem', () => {
  assert.throws(() => decodePpm(Buffer.from('P3\n1 1\n255\n0 0 0\n'), 'ascii.ppm'), (e: Error) => e instanceof BadInputError && /ascii\.ppm is not a binary PPM/.test(e.message));
  assert.throws(() => decodePpm(Buffer.from('P6\n1 1\n65535\n\0\0\0\0\0\0'), 'deep.ppm'), /only 8-bit PPM images \(maxval 255\)/);
  assert.throws(() => decodePpm(Buffer.from('P6\n4 4\n255\n\0\0\0'), 'short.ppm'), /a 4x4 PPM needs 48 bytes of pixels, the file has 3/);
  assert.throws(() => decodeImage(Buffer.from('not a png'), 'x.png'), (e: Error) => e instanceof BadInputError && /x\.png could not be decoded as png/.test(e.message));
});

test('PNG and JPEG decode to BGR', () => {
  const png = new PNG({ width: 2, height: 1 });
  png.data.set([255, 0, 0, 255, 0, 0, 255, 255]); // red, blue
  const p = decodeImage(PNG.sync.write(png), 'a.png');
  assert.deepEqual(Array.from(p.data), [0, 0, 255, 255, 0, 0]);
  const rgba = new Uint8Array(16 * 16 * 4);
  for (let i = 0; i < rgba.length; i += 4) rgba.set([200, 100, 50, 255], i);
  const j = decodeImage(jpeg.encode({ data: rgba, width: 16, height: 16 }, 95).data, 'b.jpg');
  assert.deepEqual([j.width, j.height], [16, 16]);
  // JPEG is lossy: within a few levels of B=50, G=100, R=200.
  [50, 100, 200].forEach((v, c) => assert.ok(Math.abs(j.data[c]! - v) <= 4, `channel ${c}: ${j.data[c]}`));
});
