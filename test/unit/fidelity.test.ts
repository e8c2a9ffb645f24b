// The fidelity metric (contract/fidelity.ts, issue 16 item 4) against pycocotools' COCOeval on the
// same boxes (test/helpers/coco_ap50.py, run with the tests' Python): AP at IoU 0.5 and the matches
// on seeded random frames, and what a reader relies on in hand-made cases.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { boxIou, type DetBox, fidelity, type FrameDetections } from '../../contract/fidelity';
import { mulberry32 } from '../../models/src/prng';

const COCO_AP50 = path.join(__dirname, '..', 'helpers', 'coco_ap50.py');

function pycocotools(frames: FrameDetections[]): { ap50: number; matched: number; testBoxes: number; referenceBoxes: number } {
  return JSON.parse(execFileSync('python3', [COCO_AP50], { input: JSON.stringify({ frames }), encoding: 'utf8' })) as ReturnType<typeof pycocotools>;
}

/** Coordinates in eighths of a pixel: exact in binary, so x1 + (x2 - x1) is x2 in Python too. */
const q = (v: number): number => Math.round(v * 8) / 8;

/** A reference with 0-24 boxes a frame over 4 classes, and a test that jitters them, drops some,
 * flips a class now and then and adds false positives: what a lower precision does. */
function randomFrames(seed: number, n: number): FrameDetections[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const reference: DetBox[] = Array.from({ length: Math.floor(rnd() * 25) }, () => {
      const x1 = q(rnd() * 600);
      const y1 = q(rnd() * 600);
      const w = q(4 + rnd() * 150);
      const h = q(4 + rnd() * 150);
      return { x1, y1, x2: x1 + w, y2: y1 + h, score: q(0.3 + 0.7 * rnd()), classId: Math.floor(rnd() * 4) };
    });
    const test: DetBox[] = [];
    for (const r of reference) {
      if (rnd() < 0.1) continue;
      // Each edge moves by up to 20% of its side: the box stays the right way round.
      const jx = () => q((rnd() - 0.5) * 0.4 * (r.x2 - r.x1));
      const jy = () => q((rnd() - 0.5) * 0.4 * (r.y2 - r.y1));
      test.push({ x1: r.x1 + jx(), y1: r.y1 + jy(), x2: r.x2 + jx(), y2: r.y2 + jy(), score: q(Math.min(1, Math.max(0.01, r.score + (rnd() - 0.5) * 0.3))), classId: rnd() < 0.05 ? (r.classId + 1) % 4 : r.classId });
    }
    for (let k = Math.floor(rnd() * 4); k > 0; k--) {
      const x1 = q(rnd() * 600);
      const y1 = q(rnd() * 600);
      test.push({ x1, y1, x2: x1 + q(10 + rnd() * 80), y2: y1 + q(10 + rnd() * 80), score: q(0.05 + 0.5 * rnd()), classId: Math.floor(rnd() * 5) });
    }
    return { reference, test };
  });
}

test('AP50 and the matches equal pycocotools\' COCOeval on the same boxes (seeded random frames, 4 seeds)', () => {
  for (const seed of [1, 2, 3, 4]) {
    const frames = randomFrames(seed, 40);
    const ours = fidelity(frames).overall;
    const coco = pycocotools(frames);
    assert.equal(ours.referenceBoxes, coco.referenceBoxes);
    assert.equal(ours.testBoxes, coco.testBoxes);
    assert.equal(ours.matched, coco.matched, `seed ${seed}: matches`);
    assert.ok(Math.abs(ours.ap50! - coco.ap50) < 1e-9, `seed ${seed}: AP50 ${ours.ap50} vs pycocotools ${coco.ap50}`);
    assert.ok(ours.ap50! > 0.5 && ours.ap50! < 1, `seed ${seed}: a degraded test is neither perfect nor useless (${ours.ap50})`);
  }
});

test('a test identical to its reference: precision, recall, F1, AP50 and matched IoU all 1; nothing detected: recall 0 and AP50 0', () => {
  const frames = randomFrames(7, 20).map((f) => ({ reference: f.reference, test: f.reference }));
  const same = fidelity(frames).overall;
  assert.deepEqual([same.precision, same.recall, same.f1, same.ap50, same.meanMatchedIou], [1, 1, 1, 1, 1]);
  const none = fidelity(frames.map((f) => ({ reference: f.reference, test: [] }))).overall;
  assert.deepEqual([none.precision, none.recall, none.f1, none.ap50, none.meanMatchedIou], [1, 0, 0, 0, null]);
  assert.equal(pycocotools(frames).ap50, 1);
});

test('a match needs the same class and IoU >= 0.5; each reference box is matched once, by the highest-scoring test box', () => {
  const ref: DetBox = { x1: 0, y1: 0, x2: 100, y2: 100, score: 0.9, classId: 0 };
  const shifted = (dx: number, score: number, classId = 0): DetBox => ({ x1: dx, y1: 0, x2: 100 + dx, y2: 100, score, classId });
  assert.equal(boxIou(ref, shifted(50, 1)), 50 / 150);
  assert.equal(boxIou(ref, shifted(100, 1)), 0);
  // IoU 1/3: not a match; the other class: not a match; two on the same box: one matched.
  const r = fidelity([{ reference: [ref], test: [shifted(50, 0.9), shifted(0, 0.8, 1), shifted(10, 0.7), shifted(5, 0.6)] }]).overall;
  assert.equal(r.matched, 1);
  assert.equal(r.precision, 1 / 4);
  assert.equal(r.recall, 1);
  assert.equal(r.meanMatchedIou, 90 / 110);
});

test('per complexity bucket and per COCO box size, each with its own counts', () => {
  const big = (x: number, classId = 0): DetBox => ({ x1: x, y1: 0, x2: x + 120, y2: 120, score: 0.9, classId });
  const small = (x: number): DetBox => ({ x1: x, y1: 300, x2: x + 20, y2: 320, score: 0.8, classId: 1 });
  const frames: FrameDetections[] = [
    { reference: [big(0)], test: [big(0)] },
    { reference: Array.from({ length: 8 }, (_, i) => small(i * 30)), test: Array.from({ length: 4 }, (_, i) => small(i * 30)) },
    { reference: [], test: [big(200)] },
  ];
  const f = fidelity(frames);
  assert.deepEqual(f.byComplexity.map((b) => [b.bucket, b.stats.frames, b.stats.recall]), [['0 objects', 1, 1], ['1-5 objects', 1, 1], ['6-10 objects', 1, 0.5]]);
  assert.deepEqual(f.bySize.map((b) => [b.bucket, b.stats.referenceBoxes, b.stats.matched]), [['small', 8, 4], ['large', 1, 1]]);
  assert.equal(f.overall.precision, 5 / 6);
  assert.throws(() => fidelity(frames, { iouThreshold: 0 }), /iouThreshold 0 is outside/);
});
