import assert from 'node:assert/strict';
import { test } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { BadInputError } from '../../device-agent/src/errors';
import { decodeImage, decodePpm } from '../../device-agent/src/pipelineFrames';
import { resolveFrameSource } from '../../device-agent/src/builtinFrames';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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

test('a video file: its first N frames decoded by the device\'s ffmpeg, byte for byte (an uncompressed AVI); a single image file; no ffmpeg, not a video, no video stream: the problem and the fix', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { syntheticScene } = await import('../../models/src/frames');
  const { decodeVideo, loadFrames } = await import('../../device-agent/src/pipelineFrames');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-video-'));
  const scenes = [1, 2, 3, 4, 5].map((seed) => syntheticScene(96, 64, seed, 3));
  const video = path.join(dir, 'clip.avi');
  // Uncompressed BGR in AVI: what ffmpeg decodes must be exactly these pixels.
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-s', '96x64', '-r', '10', '-i', '-', '-c:v', 'rawvideo', '-pix_fmt', 'bgr24', video], {
    input: Buffer.concat(scenes.map((s) => Buffer.from(s.data))),
  });
  const three = await loadFrames(video, 3, 0);
  assert.equal(three.frames.length, 3);
  assert.match(three.source, /^3 frame\(s\) of the video .*clip\.avi \(ffmpeg\)$/);
  three.frames.forEach((f, i) => {
    assert.deepEqual([f.width, f.height], [96, 64]);
    assert.ok(Buffer.from(f.data).equals(Buffer.from(scenes[i]!.data)), `frame ${i} differs`);
  });
  assert.equal((await loadFrames(video, 50, 0)).frames.length, 5, 'a short video gives the frames it has');
  const ppm = path.join(dir, 'one.ppm');
  writeFileSync(ppm, Buffer.concat([Buffer.from('P6\n2 1\n255\n'), Buffer.from([1, 2, 3, 4, 5, 6])]));
  assert.equal((await loadFrames(ppm, 10, 0)).frames.length, 1);
  await assert.rejects(decodeVideo(video, 3, { ffprobe: path.join(dir, 'no-ffprobe') }), /needs ffprobe on the device, and it is not there: install FFmpeg \(sudo apt-get install ffmpeg/);
  await assert.rejects(decodeVideo(video, 3, { ffmpeg: path.join(dir, 'no-ffmpeg') }), /needs ffmpeg on the device/);
  const fake = path.join(dir, 'fake.mp4');
  writeFileSync(fake, 'not a video at all');
  await assert.rejects(loadFrames(fake, 3, 0), (e: Error) => e instanceof BadInputError && /fake\.mp4 is not a video ffmpeg can read \(.+\): give a video file/.test(e.message));
  const notes = path.join(dir, 'notes.txt');
  writeFileSync(notes, 'x');
  await assert.rejects(loadFrames(notes, 3, 0), /is a file but neither a video \(\.avi, \.mp4, \.mkv, \.mov, \.\.\.\) nor an image/);
});

test('a video as a stream: frames come one at a time from one ffmpeg that reads ahead only a pipe\'s worth, stopping early stops ffmpeg, and the frames are the video\'s', async () => {
  const { execFileSync, spawnSync } = await import('node:child_process');
  const { mkdtempSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { syntheticScene } = await import('../../models/src/frames');
  const { openFrames } = await import('../../device-agent/src/pipelineFrames');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-video-'));
  // 300 frames of 320 x 240 (230 kB each, 69 MB decoded): more than a pipe holds.
  const scenes = Array.from({ length: 300 }, (_, i) => syntheticScene(320, 240, (i % 7) + 1, 3));
  const video = path.join(dir, 'long.avi');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-s', '320x240', '-r', '25', '-i', '-', '-c:v', 'rawvideo', '-pix_fmt', 'bgr24', video], {
    input: Buffer.concat(scenes.map((s) => Buffer.from(s.data))),
  });
  const ffmpegs = () => spawnSync('pgrep', ['-f', `ffmpeg .*${path.basename(dir)}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).length;
  const stream = await openFrames(video, 300, 0);
  let taken = 0;
  for await (const frame of stream.frames) {
    assert.ok(Buffer.from(frame.data).equals(Buffer.from(scenes[taken]!.data)), `frame ${taken} differs`);
    taken++;
    if (taken === 1) {
      // ffmpeg is still running: blocked on the pipe, not done with 69 MB of output.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(ffmpegs(), 1, 'one ffmpeg, waiting for the frames to be taken');
    }
    if (taken === 3) break;
  }
  assert.equal(taken, 3);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(ffmpegs(), 0, 'stopping early stopped ffmpeg');
  assert.equal(stream.describe(taken), `3 frame(s) of the video ${video} (ffmpeg)`);
  let all = 0;
  for await (const frame of (await openFrames(video, 1000, 0)).frames) all += frame.width === 320 ? 1 : 0;
  assert.equal(all, 300, 'the whole video when it has fewer frames than asked');
});

test('the frame set vtest: a cached copy is used as it is; without the package lists the message says apt-get update; a path passes through', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jb-frames-'));
  const say: string[] = [];
  assert.equal(await resolveFrameSource('/data/clip.mp4', (m) => say.push(m), dir), '/data/clip.mp4');
  writeFileSync(path.join(dir, 'vtest.avi'), 'cached');
  assert.equal(await resolveFrameSource('vtest', (m) => say.push(m), dir), path.join(dir, 'vtest.avi'));
  assert.deepEqual(say, [], 'nothing fetched');
  // No cached copy, and an apt-get that knows no opencv-doc (what an image without package lists answers).
  const empty = mkdtempSync(path.join(os.tmpdir(), 'jb-frames-'));
  const bin = mkdtempSync(path.join(os.tmpdir(), 'jb-bin-'));
  writeFileSync(path.join(bin, 'apt-get'), '#!/bin/sh\necho "E: Unable to locate package opencv-doc" >&2\nexit 100\n', { mode: 0o755 });
  const before = process.env.PATH;
  process.env.PATH = `${bin}:${before}`;
  try {
    const installed = ['/usr/share/doc/opencv-doc/examples/data/vtest.avi', '/usr/share/opencv4/samples/data/vtest.avi'].some((p) => existsSync(p));
    if (installed) {
      console.log('an installed opencv-doc answers vtest here: the fetch error path is not reached');
    } else {
      const fetching: string[] = [];
      await assert.rejects(resolveFrameSource('vtest', (m) => fetching.push(m), empty), (e: Error) =>
        e instanceof BadInputError && /could not be downloaded \(E: Unable to locate package opencv-doc\): the package lists may be missing or old: sudo apt-get update/.test(e.message) && /a video, an image or a directory of images \(--source \/ --fidelity-source\)/.test(e.message));
      assert.match(fetching[0]!, /fetching the frame set vtest .*once/);
      assert.deepEqual(readdirSync(empty), [], 'the failed fetch left nothing behind');
    }
  } finally {
    process.env.PATH = before;
  }
});
