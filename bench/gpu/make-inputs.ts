// Writes the GPU benchmark's inputs: synthetic 1080p scenes (BGR HWC uint8, as a camera gives
// them) and the generated yolov5s's real output on each (ONNX Runtime, CPU, float32 25200 x 85),
// so decode + NMS is measured on realistic candidate counts; and, for NMS at evaluation-style
// candidate counts, synthetic yolov5s-shaped outputs (25200 x 85) with exactly 4,500, 9,000 and
// 20,000 candidates above the default thresholds (conf 0.25): overlapping clusters of boxes over
// 8 classes (class 0 the most frequent), distinct scores (so torchvision's unstable sort cannot
// order a tie differently), and the other rows below the objectness or the class threshold.
// Usage: tsx bench/gpu/make-inputs.ts OUTDIR      (writes frame1/2.bgr, pred1/2.f32, nms<N>.f32)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { letterbox, syntheticScene } from '../../models/src/frames';
import { resolveModel } from '../../models/src/index';
import { mulberry32 } from '../../models/src/prng';

const SEEDS = [1, 2];
const WIDTH = 1920;
const HEIGHT = 1080;
const NMS_CANDIDATES = [4500, 9000, 20000];
const ROWS = 25200;
const COLS = 85;
const CLASSES = 8;

/** A yolov5s-shaped output with exactly `candidates` rows whose score passes 0.25. */
function clusteredPredictions(candidates: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const p = new Float32Array(ROWS * COLS);
  const clusters = Math.max(1, Math.round(candidates / 60));
  const objects = Array.from({ length: clusters }, () => {
    const r = rnd();
    return { x: rnd() * 640, y: rnd() * 640, w: 10 + rnd() * 200, h: 10 + rnd() * 200, cls: Math.floor(r * r * CLASSES) };
  });
  const order = Array.from({ length: ROWS }, (_, i) => i);
  for (let i = ROWS - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const scores = new Set<number>();
  for (let n = 0; n < ROWS; n++) {
    const row = order[n]! * COLS;
    const o = objects[Math.floor(rnd() * clusters)]!;
    for (let c = 5; c < COLS; c++) p[row + c] = 0.2 * rnd();
    if (n < candidates) {
      p[row] = o.x + (rnd() - 0.5) * 30;
      p[row + 1] = o.y + (rnd() - 0.5) * 30;
      p[row + 2] = o.w * (0.7 + 0.6 * rnd());
      p[row + 3] = o.h * (0.7 + 0.6 * rnd());
      for (;;) {
        const obj = Math.fround(0.5 + 0.5 * rnd());
        const cls = Math.fround(0.55 + 0.45 * rnd());
        const score = Math.fround(obj * cls);
        if (scores.has(score)) continue;
        scores.add(score);
        p[row + 4] = obj;
        p[row + 5 + o.cls] = cls;
        break;
      }
    } else {
      p[row] = rnd() * 640;
      p[row + 1] = rnd() * 640;
      p[row + 2] = 5 + rnd() * 100;
      p[row + 3] = 5 + rnd() * 100;
      p[row + 4] = n % 2 ? 0.24 * rnd() : 0.3 + 0.2 * rnd();
    }
  }
  return p;
}

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
  for (const n of NMS_CANDIDATES) {
    const pred = clusteredPredictions(n, n);
    writeFileSync(path.join(out, `nms${n}.f32`), new Uint8Array(pred.buffer));
    process.stdout.write(`nms${n}.f32 ${ROWS}x${COLS}, ${n} candidates\n`);
  }
}

void main(process.argv[2] ?? 'test-output/gpu-inputs');
