// Synthetic yolov5s-shaped outputs (25200 x 85) for NMS at evaluation-style candidate counts:
// exactly 4,500, 9,000 and 20,000 candidates above the default thresholds (conf 0.25), overlapping
// clusters of boxes over 8 classes (class 0 the most frequent), distinct scores (so torchvision's
// unstable sort cannot order a tie differently), the other rows below the objectness or the class
// threshold. Seeded: the same bytes on every machine. Needs nothing but Node, so a GPU machine
// without node_modules writes them itself instead of receiving 25 MB: bundle it with
//   npx esbuild bench/gpu/make-nms-inputs.ts --bundle --platform=node --outfile=make-nms-inputs.js
//   node make-nms-inputs.js OUTDIR      (writes nms4500.f32, nms9000.f32, nms20000.f32)
// (bench/gpu/all.sh runs it as $NMS_INPUTS_JS when set, else through tsx).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../models/src/prng';

export const NMS_CANDIDATES = [4500, 9000, 20000];
const ROWS = 25200;
const COLS = 85;
const CLASSES = 8;

/** A yolov5s-shaped output with exactly `candidates` rows whose score passes 0.25. */
export function clusteredPredictions(candidates: number, seed: number): Float32Array {
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

export function writeNmsInputs(out: string): void {
  mkdirSync(out, { recursive: true });
  for (const n of NMS_CANDIDATES) {
    const pred = clusteredPredictions(n, n);
    writeFileSync(path.join(out, `nms${n}.f32`), new Uint8Array(pred.buffer));
    process.stdout.write(`nms${n}.f32 ${ROWS}x${COLS}, ${n} candidates\n`);
  }
}

if (process.argv[1] && /make-nms-inputs\.(ts|js)$/.test(process.argv[1])) writeNmsInputs(process.argv[2] ?? 'test-output/gpu-inputs');
