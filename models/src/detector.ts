// A detector's two ends around the network: a camera frame (BGR HWC uint8) to the model's input,
// and the model's outputs to boxes in the frame's pixels. One per family jetbench knows (NanoDet,
// YOLOv5), recognised from the model's input and output shapes, so a user's own export of either
// works too. The agent's fidelity check (device-agent/src/fidelityRun.ts) and the tests use these.
import type { DetBox } from '../../contract/fidelity';
import { decodeNanodet, NANODET_BINS, nmsByClass } from '../../contract/nanodetDecode';
import type { ModelInfo } from '../../contract/protocol';
import { letterbox, letterboxGeometry, resizeNormalised, type Frame } from './frames';
import { NANODET_MEAN_BGR, NANODET_STD_BGR } from './nanodet';

export type DetectorFamily = 'nanodet' | 'yolov5';

/** How a frame becomes the model's input, in the terms the native addon's preprocess takes
 * (device-agent/src/native/binding.ts): letterboxed RGB / 255, or stretched BGR normalised with a
 * mean and std. `preprocess` below does the same in TypeScript. */
export type FramePreprocess = { kind: 'letterbox' } | { kind: 'stretch'; meanBgr: readonly number[]; stdBgr: readonly number[] };

export interface Detector {
  family: DetectorFamily;
  /** The square input's side in pixels. */
  inputSize: number;
  /** Boxes at or above this score are kept (before NMS). */
  scoreThreshold: number;
  iouThreshold: number;
  /** Most boxes kept after NMS. */
  maxDetections: number;
  /** How `preprocess` turns a frame into the input (for the native pipeline's own preprocess). */
  input: FramePreprocess;
  /** One frame as the model's input: 1 x 3 x size x size float32. */
  preprocess(frame: Frame): Float32Array;
  /** The outputs of one inference (model output order, as float32) as boxes in the frame's pixels. */
  decode(outputs: readonly Float32Array[], frame: Pick<Frame, 'width' | 'height'>): DetBox[];
}

type Shape = ReadonlyArray<number | string>;

function squareInput(model: Pick<ModelInfo, 'inputs'>): number | null {
  if (model.inputs.length !== 1) return null;
  const s = model.inputs[0]!.shape;
  if (s.length !== 4 || s[1] !== 3 || typeof s[2] !== 'number' || s[2] !== s[3]) return null;
  return s[2];
}

const last = (s: Shape): number | string | undefined => s[s.length - 1];

/** The detector for a model, or null when its shapes are neither NanoDet's nor YOLOv5's. */
export function detectorFor(model: Pick<ModelInfo, 'inputs' | 'outputs'>): Detector | null {
  const size = squareInput(model);
  if (size === null) return null;
  const outs = model.outputs.map((o) => o.shape);
  if (outs.length === 6 && outs.filter((s) => last(s) === 80).length === 3 && outs.filter((s) => last(s) === 4 * NANODET_BINS).length === 3) {
    return nanodetDetector(size, outs);
  }
  if (outs.length === 1 && outs[0]!.length === 3 && typeof last(outs[0]!) === 'number' && (last(outs[0]!) as number) > 5) {
    return yolov5Detector(size, (last(outs[0]!) as number) - 5);
  }
  return null;
}

/** NanoDet: the frame stretched to the input (bilinear, as NanoDet's warp resize), BGR, normalised
 * with its training mean and std. */
function nanodetDetector(size: number, outs: Shape[]): Detector {
  const cells = (s: Shape): number => Number(s[s.length - 2]);
  // Scores (last dim 80) and box distributions (last dim 44), each ordered by level: most cells first.
  const order = (width: number) =>
    outs
      .map((s, i) => ({ i, s }))
      .filter(({ s }) => last(s) === width)
      .sort((a, b) => cells(b.s) - cells(a.s))
      .map(({ i }) => i);
  const scoreIdx = order(80);
  const boxIdx = order(4 * NANODET_BINS);
  const scoreThreshold = 0.35;
  const iouThreshold = 0.5;
  return {
    family: 'nanodet',
    inputSize: size,
    scoreThreshold,
    iouThreshold,
    maxDetections: 100,
    input: { kind: 'stretch', meanBgr: NANODET_MEAN_BGR, stdBgr: NANODET_STD_BGR },
    preprocess: (frame) => resizeNormalised(frame, size, NANODET_MEAN_BGR, NANODET_STD_BGR),
    decode(outputs, frame) {
      const boxes = decodeNanodet(
        { scores: scoreIdx.map((i) => outputs[i]!), boxes: boxIdx.map((i) => outputs[i]!) },
        { inputSize: size, scoreThreshold, iouThreshold, maxDetections: 100 },
      );
      const sx = frame.width / size;
      const sy = frame.height / size;
      return boxes.map((b) => ({ ...b, x1: b.x1 * sx, x2: b.x2 * sx, y1: b.y1 * sy, y2: b.y2 * sy }));
    },
  };
}

/** YOLOv5 as export.py writes it: letterboxed RGB / 255 in, [1, N, 5 + classes] out (centre x, y,
 * width, height in input pixels, objectness, class scores); YOLOv5's detect.py thresholds. */
function yolov5Detector(size: number, classes: number): Detector {
  const scoreThreshold = 0.25;
  const iouThreshold = 0.45;
  const maxDetections = 300;
  return {
    family: 'yolov5',
    inputSize: size,
    scoreThreshold,
    iouThreshold,
    maxDetections,
    input: { kind: 'letterbox' },
    preprocess: (frame) => letterbox(frame, size),
    decode(outputs, frame) {
      const out = outputs[0]!;
      const stride = 5 + classes;
      const { r, left, top } = letterboxGeometry(frame.width, frame.height, size);
      const candidates: DetBox[] = [];
      for (let i = 0; i + stride <= out.length; i += stride) {
        const objectness = out[i + 4]!;
        if (!(objectness >= scoreThreshold)) continue;
        let best = -1;
        let classId = -1;
        for (let c = 0; c < classes; c++) {
          if (out[i + 5 + c]! > best) {
            best = out[i + 5 + c]!;
            classId = c;
          }
        }
        const score = objectness * best;
        if (!(score >= scoreThreshold)) continue;
        const [cx, cy, w, h] = [out[i]!, out[i + 1]!, out[i + 2]!, out[i + 3]!];
        const clampX = (v: number) => Math.min(frame.width, Math.max(0, v));
        const clampY = (v: number) => Math.min(frame.height, Math.max(0, v));
        candidates.push({
          x1: clampX((cx - w / 2 - left) / r),
          y1: clampY((cy - h / 2 - top) / r),
          x2: clampX((cx + w / 2 - left) / r),
          y2: clampY((cy + h / 2 - top) / r),
          score,
          classId,
        });
      }
      return nmsByClass(candidates, iouThreshold, maxDetections);
    },
  };
}
