// NanoDet's detection head decoded (GFL: per cell, sigmoided class scores and, per box side, a
// distribution over 11 distance bins), with class-wise NMS: the one decoder the CLI, the agent and
// the panels use for nanodet-g (models/src/nanodet.ts). Pure code.
import { boxIou, type DetBox } from './fidelity';

export const NANODET_STRIDES = [8, 16, 32] as const;
/** Bins per box side (reg_max 10 + 1). */
export const NANODET_BINS = 11;
/** COCO class 61 ("toilet") is broken in the TF.js package (an int64 -> int32 overflow upstream):
 * dropped. */
export const NANODET_DROPPED_CLASSES: readonly number[] = [61];

export interface NanodetHeads {
  /** Per stride (8, 16, 32): [cells x classes] sigmoided scores. */
  scores: readonly Float32Array[];
  /** Per stride: [cells x 4 * 11] box side distributions (left, top, right, bottom). */
  boxes: readonly Float32Array[];
}

export interface NanodetDecodeOptions {
  inputSize?: number;
  classes?: number;
  scoreThreshold?: number;
  iouThreshold?: number;
  maxDetections?: number;
}

/** Boxes in the network input's pixels (0..inputSize), highest score first. */
export function decodeNanodet(heads: NanodetHeads, options: NanodetDecodeOptions = {}): DetBox[] {
  const o = { inputSize: 416, classes: 80, scoreThreshold: 0.35, iouThreshold: 0.5, maxDetections: 100, ...options };
  const candidates: DetBox[] = [];
  NANODET_STRIDES.forEach((stride, level) => {
    const scores = heads.scores[level];
    const boxes = heads.boxes[level];
    if (!scores || !boxes) throw new RangeError(`NanoDet output for stride ${stride} is missing`);
    const side = Math.ceil(o.inputSize / stride);
    const cells = scores.length / o.classes;
    if (cells !== side * side || boxes.length !== cells * 4 * NANODET_BINS) {
      throw new RangeError(`NanoDet output for stride ${stride} has ${cells} cells, not ${side} x ${side} (input ${o.inputSize})`);
    }
    for (let i = 0; i < cells; i++) {
      let best = -1;
      let classId = -1;
      for (let c = 0; c < o.classes; c++) {
        if (NANODET_DROPPED_CLASSES.includes(c)) continue;
        const s = scores[i * o.classes + c]!;
        if (s > best) {
          best = s;
          classId = c;
        }
      }
      if (!(best >= o.scoreThreshold)) continue;
      // The expected distance of each side: softmax over its bins, times the stride.
      const d = [0, 1, 2, 3].map((k) => {
        const base = i * 4 * NANODET_BINS + k * NANODET_BINS;
        let max = -Infinity;
        for (let b = 0; b < NANODET_BINS; b++) max = Math.max(max, boxes[base + b]!);
        let sum = 0;
        let expected = 0;
        for (let b = 0; b < NANODET_BINS; b++) {
          const e = Math.exp(boxes[base + b]! - max);
          sum += e;
          expected += e * b;
        }
        return (expected / sum) * stride;
      });
      const cx = ((i % side) + 0.5) * stride;
      const cy = (Math.floor(i / side) + 0.5) * stride;
      candidates.push({ x1: cx - d[0]!, y1: cy - d[1]!, x2: cx + d[2]!, y2: cy + d[3]!, score: best, classId });
    }
  });
  return nmsByClass(candidates, o.iouThreshold, o.maxDetections);
}

/** Class-wise greedy NMS: highest score first, a box is dropped when one already kept of its class
 * overlaps it by more than `iouThreshold`; at most `maxDetections` kept. */
export function nmsByClass(candidates: DetBox[], iouThreshold: number, maxDetections: number): DetBox[] {
  candidates.sort((a, b) => b.score - a.score);
  const kept: DetBox[] = [];
  for (const c of candidates) {
    if (kept.length >= maxDetections) break;
    if (kept.some((k) => k.classId === c.classId && boxIou(k, c) > iouThreshold)) continue;
    kept.push(c);
  }
  return kept;
}
