// Writes the GPU benchmark's inputs: synthetic 1080p scenes (BGR HWC uint8, as a camera gives
// them) and the generated yolov5s's real output on each (ONNX Runtime, CPU, float32 25200 x 85),
// so decode + NMS is measured on realistic candidate counts; and the synthetic outputs at 4,500,
// 9,000 and 20,000 candidates (make-nms-inputs.ts).
// Usage: tsx bench/gpu/make-inputs.ts OUTDIR      (writes frame1/2.bgr, pred1/2.f32, nms<N>.f32)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { letterbox, syntheticScene } from '../../models/src/frames';
import { resolveModel } from '../../models/src/index';
import { writeNmsInputs } from './make-nms-inputs';

const SEEDS = [1, 2];
const WIDTH = 1920;
const HEIGHT = 1080;

async function main(out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  const model = await resolveModel('yolov5s');
  const session = await ort.InferenceSession.create(model.path);
  for (const seed of SEEDS) {
    const frame = syntheticScene(WIDTH, HEIGHT, seed, 20);
    writeFileSync(path.join(out, `frame${seed}.bgr`), frame.data);
    const input = new ort.Tensor('float32', letterbox(frame, 640), [1, 3, 640, 640]);
    const result = await session.run({ [session.inputNames[0]!]: input });
    const pred = result[session.outputNames[0]!]!.data as Float32Array;
    writeFileSync(path.join(out, `pred${seed}.f32`), new Uint8Array(pred.buffer, pred.byteOffset, pred.byteLength));
    process.stdout.write(`frame${seed}.bgr ${WIDTH}x${HEIGHT}, pred${seed}.f32 ${pred.length} values\n`);
  }
  await session.release();
  writeNmsInputs(out);
}

void main(process.argv[2] ?? 'test-output/gpu-inputs');
