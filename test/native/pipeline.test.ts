// `jetbench pipeline` as a user runs it: the real agent, the native worker, the addon's CPU
// stages and the real ONNX Runtime; run files checked against the schema, every stage's times
// aligned with the frames, statistics recomputed from the samples.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import { PNG } from 'pngjs';
import { computeStats } from '../../contract/stats';
import { syntheticScene } from '../../models/src/frames';
import { runCli, scratchDir, TEST_CACHE_DIR } from '../helpers/cli';
import { readRun } from '../helpers/runFile';
import { loadTestAddon } from './helpers';
import * as ort from 'onnxruntime-node';
import { resolveFrameSource } from '../../device-agent/src/builtinFrames';
import { inspectModel } from '../../device-agent/src/modelInfo';
import { decodeVideo } from '../../device-agent/src/pipelineFrames';
import { detectorFor } from '../../models/src/detector';
import { resolveModel } from '../../models/src/index';
import { NANODET_MEAN_BGR, NANODET_STD_BGR } from '../../models/src/nanodet';

let work: string;
let hasCuda = false;
before(async () => {
  work = scratchDir('jetbench-pipeline-');
  hasCuda = (await loadTestAddon()).addon.buildInfo().cudaStatus.devices > 0;
});

test('conventional pipeline on the CPU with ONNX Runtime: every stage timed per frame, the run says where', async () => {
  const out = path.join(work, 'conventional.json');
  const r = await runCli(['pipeline', '--model', 'tiny', '--mode', 'conventional', '--frames', '12', '--warmup', '2', '--frame-count', '3', '--objects', '20', '--threads', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.status, 'ok');
  const p = run.pipeline!;
  assert.deepEqual(p.stages.map((s) => `${s.name}@${s.where}/${s.clock}`), ['preprocess@cpu/host', 'inference@cpu/host', 'postprocess@cpu/host']);
  assert.deepEqual(p.inference.where, 'host');
  assert.match(p.inference.description, /^onnxruntime \d+\.\d+\.\d+ \(CPU execution provider\)/);
  // The ONNX Runtime the run records is the one the native worker loaded to run the frames.
  assert.equal(`onnxruntime ${run.versions.onnxruntime} `, p.inference.description.slice(0, `onnxruntime ${run.versions.onnxruntime} `.length));
  assert.equal(run.timing.span, 'pipeline-frame');
  assert.ok(run.deviceState, 'the run records the device state');
  assert.equal(run.samples.latencyMs.length, 12);
  assert.equal(run.samples.warmupLatencyMs.length, 2);
  const stages = run.samples.stagesMs!;
  assert.deepEqual(Object.keys(stages).sort(), ['inference', 'postprocess', 'preprocess']);
  run.samples.latencyMs.forEach((total, i) => {
    const parts = Object.values(stages).reduce((sum, v) => sum + v[i]!, 0);
    assert.ok(parts > 0 && parts <= total + 1e-6, `frame ${i}: stages ${parts} ms within the frame's ${total} ms`);
  });
  for (const [name, values] of Object.entries(stages)) {
    assert.equal(values.length, 12, name);
    assert.deepEqual(p.stageStats[name], computeStats(values), `stats of ${name} from its samples`);
  }
  assert.deepEqual(run.stats, computeStats(run.samples.latencyMs));
  assert.equal(p.detections.length, 12);
  assert.ok(p.detections.every((n) => Number.isInteger(n) && n >= 0 && n <= 300));
  assert.equal(p.frames.count, 3);
  // The decode line says the YOLOv5 decoder's own comparison (strictly above the threshold).
  assert.match(r.stdout, new RegExp(`Decode: YOLOv5 head, objectness and score > ${p.decoder!.scoreThreshold}, NMS IoU ${p.decoder!.iouThreshold}, at most ${p.decoder!.maxDetections} per frame`));
  assert.equal(p.frames.width, 1920);
  for (const line of ['preprocess', 'inference', 'postprocess', 'non-inference (pre + post + copies)', 'end to end']) assert.match(r.stdout, new RegExp(line.replace(/[()+]/g, '\\$&')));
});

test('frames from a directory of PNG and PPM images', async () => {
  const dir = path.join(work, 'frames');
  mkdirSync(dir);
  const scene = syntheticScene(320, 240, 5);
  const png = new PNG({ width: 320, height: 240 });
  for (let i = 0, j = 0; i < scene.data.length; i += 3, j += 4) png.data.set([scene.data[i + 2]!, scene.data[i + 1]!, scene.data[i]!, 255], j);
  writeFileSync(path.join(dir, 'a.png'), PNG.sync.write(png));
  const rgb = new Uint8Array(scene.data.length);
  for (let i = 0; i < rgb.length; i += 3) rgb.set([scene.data[i + 2]!, scene.data[i + 1]!, scene.data[i]!], i);
  writeFileSync(path.join(dir, 'b.ppm'), Buffer.concat([Buffer.from('P6\n# camera\n320 240\n255\n'), Buffer.from(rgb)]));
  writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
  const out = path.join(work, 'dir.json');
  const r = await runCli(['pipeline', '--model', 'tiny', '--source', dir, '--frames', '4', '--warmup', '0', '--quiet', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.equal(run.pipeline!.frames.count, 2);
  assert.equal(run.pipeline!.frames.width, 320);
  assert.match(run.pipeline!.frames.source, /2 image\(s\) from/);
});

test('frames from a video file, decoded by ffmpeg on the device: the run says which video and how many frames', async () => {
  const video = path.join(work, 'clip.avi');
  const scenes = [1, 2, 3].map((seed) => syntheticScene(320, 240, seed));
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-s', '320x240', '-r', '10', '-i', '-', '-c:v', 'mjpeg', '-q:v', '3', video], {
    input: Buffer.concat(scenes.map((s) => Buffer.from(s.data))),
  });
  const out = path.join(work, 'video.json');
  const r = await runCli(['pipeline', '--model', 'tiny', '--source', video, '--frame-count', '2', '--frames', '4', '--warmup', '0', '--quiet', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const run = readRun(out);
  assert.deepEqual([run.pipeline!.frames.count, run.pipeline!.frames.width, run.pipeline!.frames.height], [2, 320, 240]);
  assert.match(run.pipeline!.frames.source, /^2 frame\(s\) of the video .*clip\.avi \(ffmpeg\)$/);
  assert.equal(run.samples.latencyMs.length, 4);
});

test('bad input: zerocopy without a GPU, a missing source, a model that is not a detector; a message with the fix, exit 1, no run file', async () => {
  if (!hasCuda) {
    const r = await runCli(['pipeline', '--model', 'tiny', '--mode', 'zerocopy', '--frames', '2', '--quiet', '--out', path.join(work, 'zc.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /zerocopy pipeline needs a CUDA GPU.*run --mode conventional --memory pageable here/);
  }
  const missing = await runCli(['pipeline', '--model', 'tiny', '--source', path.join(work, 'nowhere'), '--frames', '2', '--quiet', '--out', path.join(work, 'm.json')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /is not a readable directory \(ENOENT\): give --source synthetic, a directory of images or a video file/);

  // A model whose output is 1 x 768 x 4: boxes without objectness or classes.
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'not-a-detector',
      node: [{ opType: 'Reshape', input: ['images', 'shape'], output: ['boxes'] }],
      initializer: [{ name: 'shape', dataType: onnx.TensorProto.DataType.INT64, dims: [3], int64Data: [1, 768, 4] }],
      input: [{ name: 'images', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 3 }, { dimValue: 32 }, { dimValue: 32 }] } } } }],
      output: [{ name: 'boxes', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 768 }, { dimValue: 4 }] } } } }],
    },
  });
  const file = path.join(work, 'boxes.onnx');
  writeFileSync(file, onnx.ModelProto.encode(model).finish());
  const bad = await runCli(['pipeline', '--model', file, '--frames', '2', '--quiet', '--out', path.join(work, 'b.json')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /outputs are \[1, 768, 4\]: the pipeline's postprocess decodes YOLOv5 \(one output 1 x N x \(5 \+ classes\).*and NanoDet \(six heads/);
  for (const f of ['zc.json', 'm.json', 'b.json']) assert.ok(!existsSync(path.join(work, f)), `no run file ${f}`);
  const usage = await runCli(['pipeline', '--mode', 'fast']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--mode must be one of conventional, zerocopy \(got 'fast'\)/);
});

test('nanodet-g on vtest: heads packed into one output, stretched and normalised, NanoDet decode; each frame keeps the boxes the TypeScript detector finds', async () => {
  const out = path.join(work, 'nanodet.json');
  const r = await runCli(['pipeline', '--model', 'nanodet-g', '--source', 'vtest', '--frame-count', '1', '--frames', '4', '--warmup', '1', '--threads', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Decode: NanoDet head, score >= 0\.35, NMS IoU 0\.5, at most 100 per frame/);
  const run = readRun(out);
  assert.equal(run.status, 'ok');
  const p = run.pipeline!;
  assert.deepEqual(p.decoder, { family: 'nanodet', scoreThreshold: 0.35, iouThreshold: 0.5, maxDetections: 100 });
  assert.match(p.frames.source, /1 frame\(s\) of the video .*vtest\.avi/);
  assert.deepEqual([p.frames.width, p.frames.height], [768, 576]);
  assert.equal(run.spec.pipeline!.confThreshold, null, 'the spec keeps "the detector\'s own"');
  // The same frame through the unpacked model and the TypeScript decoder (the native preprocess, so
  // both see the same input bits).
  const { addon } = await loadTestAddon();
  const [frame] = await decodeVideo(await resolveFrameSource('vtest', () => undefined, path.join(TEST_CACHE_DIR, 'frames')), 1);
  const model = await inspectModel((await resolveModel('nanodet-g', { cacheDir: TEST_CACHE_DIR })).path, 'nanodet-g');
  const detector = detectorFor(model)!;
  const session = await ort.InferenceSession.create(model.path, { intraOpNumThreads: 1 });
  const input = addon.preprocess(frame!.data, frame!.width, frame!.height, 3 * frame!.width, 416, 'float32', { kind: 'stretch', meanBgr: NANODET_MEAN_BGR, stdBgr: NANODET_STD_BGR });
  const heads = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input as Float32Array, [1, 3, 416, 416]) });
  const expected = detector.decode(model.outputs.map((o) => heads[o.name]!.data as Float32Array), frame!).length;
  await session.release();
  assert.ok(expected >= 2, `vtest's first frame has people (${expected})`);
  assert.deepEqual(p.detections, [expected, expected, expected, expected]);
});
