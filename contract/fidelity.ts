// Fidelity: how closely one configuration's detections (a precision, a backend, a build) reproduce a
// reference's on the same frames (issue 16 item 4). No labelled set exists here, so the reference
// (usually FP32) stands in for ground truth: precision, recall and F1 at a score threshold, the
// matched boxes' IoU, and AP50 computed the way COCO's evaluation (pycocotools' COCOeval) computes
// AP at IoU 0.5, overall, per scene-complexity bucket and per box size. Pure code: the CLI, the
// agent and the panels share it, and the tests check AP50 against pycocotools on the same boxes.

/** One detected box, corners in pixels. */
export interface DetBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
}

/** One frame: the reference's detections and the tested configuration's. */
export interface FrameDetections {
  reference: readonly DetBox[];
  test: readonly DetBox[];
}

export interface FidelityOptions {
  /** A match needs the same class and at least this IoU (default 0.5). */
  iouThreshold?: number;
  /** Reference boxes below this score are not "ground truth" (default 0: all of them). */
  referenceMinScore?: number;
  /** Test boxes at or above this score count for precision/recall/F1 (AP uses every box; default 0). */
  testMinScore?: number;
  /** Detections per frame AP considers, highest scores first, per class (COCO's maxDets; default 100). */
  maxDetections?: number;
}

/** Fidelity over a set of frames. */
export interface FidelityStats {
  frames: number;
  referenceBoxes: number;
  testBoxes: number;
  /** Test boxes matched to a reference box (same class, IoU >= threshold, greedy by score). */
  matched: number;
  /** matched / testBoxes (1 when there are none). */
  precision: number;
  /** matched / referenceBoxes (1 when there are none). */
  recall: number;
  f1: number;
  /** Mean IoU of the matched pairs (null when none matched). */
  meanMatchedIou: number | null;
  /** AP at the IoU threshold, COCO's 101-point interpolation, averaged over the classes the
   * reference has (null when it has none). */
  ap50: number | null;
}

export interface FidelityResult {
  iouThreshold: number;
  overall: FidelityStats;
  /** Frames grouped by how many reference boxes they hold (scene complexity). */
  byComplexity: Array<{ bucket: string; stats: FidelityStats }>;
  /** Reference boxes by COCO's size ranges (small < 32^2 px, medium < 96^2, large); precision
   * counts the test boxes of the same size range. */
  bySize: Array<{ bucket: 'small' | 'medium' | 'large'; stats: FidelityStats }>;
}

const area = (b: DetBox): number => Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);

/** Intersection over union of two boxes (COCO's: areas as width x height, no +1). */
export function boxIou(a: DetBox, b: DetBox): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Highest score first; ties keep their order (as COCOeval's stable sort does). */
function byScore<T extends { score: number }>(items: readonly T[]): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => b.item.score - a.item.score || a.i - b.i)
    .map((x) => x.item);
}

/** COCOeval.evaluateImg's matching for one frame and class: each test box in score order takes
 * the unmatched reference box of highest IoU at or above the threshold. Returns per test box its
 * IoU with its match, or null. */
function matchFrame(refs: readonly DetBox[], tests: readonly DetBox[], threshold: number): Array<number | null> {
  const taken = new Array<boolean>(refs.length).fill(false);
  return tests.map((t) => {
    let best = Math.min(threshold, 1 - 1e-10);
    let m = -1;
    refs.forEach((r, g) => {
      if (taken[g]) return;
      const iou = boxIou(t, r);
      if (iou < best) return;
      best = iou;
      m = g;
    });
    if (m < 0) return null;
    taken[m] = true;
    return best;
  });
}

function classesOf(frames: readonly FrameDetections[]): number[] {
  const s = new Set<number>();
  for (const f of frames) for (const b of [...f.reference, ...f.test]) s.add(b.classId);
  return [...s].sort((a, b) => a - b);
}

/** AP at `threshold` as COCOeval computes it (area "all", one maxDets): per class, the test boxes
 * of every frame in score order, the precision envelope, 101 recall points; the mean over classes
 * with reference boxes. */
function averagePrecision(frames: readonly FrameDetections[], threshold: number, maxDetections: number): number | null {
  const perClass: number[] = [];
  for (const c of classesOf(frames)) {
    const scored: Array<{ score: number; tp: boolean }> = [];
    let positives = 0;
    for (const f of frames) {
      const refs = f.reference.filter((b) => b.classId === c);
      const tests = byScore(f.test.filter((b) => b.classId === c)).slice(0, maxDetections);
      positives += refs.length;
      matchFrame(refs, tests, threshold).forEach((iou, i) => scored.push({ score: tests[i]!.score, tp: iou !== null }));
    }
    if (positives === 0) continue;
    const ordered = byScore(scored);
    const precision: number[] = [];
    const recall: number[] = [];
    let tp = 0;
    ordered.forEach((d, i) => {
      if (d.tp) tp++;
      precision.push(tp / (i + 1));
      recall.push(tp / positives);
    });
    for (let i = precision.length - 1; i > 0; i--) precision[i - 1] = Math.max(precision[i - 1]!, precision[i]!);
    let sum = 0;
    for (let k = 0; k <= 100; k++) {
      // numpy's linspace(0, 1, 101) as COCOeval builds its recall points: k * 0.01, the last 1.
      const r = k === 100 ? 1 : k * 0.01;
      // The first rank whose recall reaches r (numpy's searchsorted, side 'left'); 0 beyond the curve.
      let lo = 0;
      let hi = recall.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (recall[mid]! < r) lo = mid + 1;
        else hi = mid;
      }
      sum += lo < precision.length ? precision[lo]! : 0;
    }
    perClass.push(sum / 101);
  }
  return perClass.length ? perClass.reduce((a, b) => a + b, 0) / perClass.length : null;
}

function statsOf(frames: readonly FrameDetections[], o: Required<FidelityOptions>): FidelityStats {
  let referenceBoxes = 0;
  let testBoxes = 0;
  let matched = 0;
  let iouSum = 0;
  for (const f of frames) {
    const tests = f.test.filter((b) => b.score >= o.testMinScore);
    referenceBoxes += f.reference.length;
    testBoxes += tests.length;
    for (const c of new Set([...f.reference, ...tests].map((b) => b.classId))) {
      const ious = matchFrame(
        f.reference.filter((b) => b.classId === c),
        byScore(tests.filter((b) => b.classId === c)),
        o.iouThreshold,
      );
      for (const iou of ious) {
        if (iou === null) continue;
        matched++;
        iouSum += iou;
      }
    }
  }
  const precision = testBoxes ? matched / testBoxes : 1;
  const recall = referenceBoxes ? matched / referenceBoxes : 1;
  return {
    frames: frames.length,
    referenceBoxes,
    testBoxes,
    matched,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    meanMatchedIou: matched ? iouSum / matched : null,
    ap50: averagePrecision(frames, o.iouThreshold, o.maxDetections),
  };
}

/** Complexity buckets by reference boxes per frame: 0, 1-5, 6-10, 11-20, 21+. */
const COMPLEXITY: Array<{ bucket: string; min: number; max: number }> = [
  { bucket: '0 objects', min: 0, max: 0 },
  { bucket: '1-5 objects', min: 1, max: 5 },
  { bucket: '6-10 objects', min: 6, max: 10 },
  { bucket: '11-20 objects', min: 11, max: 20 },
  { bucket: '21+ objects', min: 21, max: Infinity },
];

/** COCO's size ranges by box area in pixels. */
export function sizeBucket(b: DetBox): 'small' | 'medium' | 'large' {
  const a = area(b);
  return a < 32 * 32 ? 'small' : a < 96 * 96 ? 'medium' : 'large';
}

export function fidelity(frames: readonly FrameDetections[], options: FidelityOptions = {}): FidelityResult {
  const o: Required<FidelityOptions> = { iouThreshold: 0.5, referenceMinScore: 0, testMinScore: 0, maxDetections: 100, ...options };
  if (!(o.iouThreshold > 0 && o.iouThreshold <= 1)) throw new RangeError(`iouThreshold ${o.iouThreshold} is outside (0, 1]`);
  const kept = frames.map((f) => ({ reference: f.reference.filter((b) => b.score >= o.referenceMinScore), test: f.test }));
  const byComplexity = COMPLEXITY.map(({ bucket, min, max }) => ({ bucket, frames: kept.filter((f) => f.reference.length >= min && f.reference.length <= max) }))
    .filter((g) => g.frames.length > 0)
    .map(({ bucket, frames: fs }) => ({ bucket, stats: statsOf(fs, o) }));
  const bySize = (['small', 'medium', 'large'] as const)
    .map((bucket) => ({
      bucket,
      frames: kept.map((f) => ({ reference: f.reference.filter((b) => sizeBucket(b) === bucket), test: f.test.filter((b) => sizeBucket(b) === bucket) })),
    }))
    .filter((g) => g.frames.some((f) => f.reference.length > 0))
    .map(({ bucket, frames: fs }) => ({ bucket, stats: statsOf(fs, o) }));
  return { iouThreshold: o.iouThreshold, overall: statsOf(kept, o), byComplexity, bySize };
}
