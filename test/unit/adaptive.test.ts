// The adaptive-precision policies (contract/adaptive.ts) on frames whose outcome is known: a low
// precision that is exact on easy frames (few objects) and drops objects on crowded ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareAdaptive, oracleChoices, outcomeOf, randomChoices, signalOf, thresholdChoices, type AdaptiveFrame } from '../../contract/adaptive';
import type { DetBox } from '../../contract/fidelity';

const box = (i: number, score = 0.9, size = 60): DetBox => ({ x1: i * 100, y1: 10, x2: i * 100 + size, y2: 10 + size, score, classId: 0 });
const boxes = (n: number) => Array.from({ length: n }, (_, i) => box(i));

/** `objects` per frame: the reference and high see them all; low sees all on easy frames (<= 4
 * objects) and misses `lost(n)` on crowded ones. High takes 10 ms, low 5. */
function frames(objects: number[], lost: (n: number) => number = () => 1): AdaptiveFrame[] {
  return objects.map((n) => ({
    reference: boxes(n),
    high: { ms: 10, boxes: boxes(n) },
    low: { ms: 5, boxes: n <= 4 ? boxes(n) : boxes(n - lost(n)) },
    diff: 0,
  }));
}

test('signals: detections, small boxes, uncertain share, frame difference', () => {
  const seen = [box(0, 0.9), box(1, 0.4, 20), box(2, 0.36)];
  assert.equal(signalOf('detections', seen, 0), 3);
  assert.equal(signalOf('small-boxes', seen, 0), 1);
  assert.ok(Math.abs(signalOf('uncertain-share', seen, 0) - 2 / 3) < 1e-12);
  assert.equal(signalOf('frame-diff', seen, 0.25), 0.25);
  assert.equal(signalOf('uncertain-share', [], 0), 0);
});

test('a threshold policy switches on the previous frame\'s signal, with hysteresis and a minimum dwell', () => {
  const f = frames([2, 2, 8, 8, 5, 5, 3, 3]);
  // First frame high; low while the last frame showed < 6 objects; back to low only at <= 4.
  assert.deepEqual(thresholdChoices(f, { signal: 'detections', enter: 6, leave: 4, minDwell: 1 }), [false, true, true, false, false, false, false, true]);
  // With dwell 3 a choice holds three frames before it may change.
  assert.deepEqual(thresholdChoices(f, { signal: 'detections', enter: 6, leave: 4, minDwell: 3 }), [false, false, false, false, false, false, false, true]);
  // The policy sees what the chosen precision saw: a low precision that misses half of a crowd
  // hides the crowd from it (8 objects seen as 4), and it stays low.
  const blind = frames([2, 2, 8, 8, 5, 5, 3, 3], (n) => Math.ceil(n / 2));
  assert.deepEqual(thresholdChoices(blind, { signal: 'detections', enter: 6, leave: 4, minDwell: 1 }), [false, true, true, true, true, true, true, true]);
});

test('the oracle takes low exactly where low is as faithful as high; random hits its share', () => {
  const f = frames([2, 8, 3, 9]);
  assert.deepEqual(oracleChoices(f), [true, false, true, false]);
  const r = randomChoices(10_000, 0.3, 7);
  const share = r.filter(Boolean).length / r.length;
  assert.ok(Math.abs(share - 0.3) < 0.02, `${share}`);
  const o = outcomeOf('x', f, [true, false, true, false], { highMj: 100, lowMj: 40 });
  assert.equal(o.lowShare, 0.5);
  assert.equal(o.switches, 3);
  assert.equal(o.meanMs, 7.5);
  assert.equal(o.energyMj, 70);
  assert.equal(o.fidelity.recall, 1);
});

test('compareAdaptive: on scenes that alternate between quiet and crowded stretches, a detections policy earns its place and beats random', () => {
  const pattern = [...Array(10).fill(2), ...Array(10).fill(10), ...Array(10).fill(3), ...Array(10).fill(9)];
  const f = frames(pattern);
  const c = compareAdaptive(f, null);
  assert.equal(c.cost, 'latency');
  assert.equal(c.staticHigh.fidelity.ap50, 1);
  assert.ok(c.staticLow.fidelity.recall < 0.95, 'static low loses objects');
  assert.equal(c.oracle.lowShare, 0.5);
  assert.ok(c.best, 'a policy was chosen');
  assert.equal(c.best.policy.signal, 'detections');
  // The cheapest policy within 1 AP50 point of static high: low on the quiet stretch of 2 (enter at
  // 3); entering at 9 or 10 would be cheaper, but a crowd of 9 seen by the low precision looks like
  // 8 and keeps it low (the blinding above): more than a point lost.
  assert.deepEqual([c.best.policy.enter, c.best.outcome.lowShare], [3, 0.25]);
  assert.ok(c.verdict.ap50Loss! <= 0.01, `${c.verdict.ap50Loss}`);
  assert.ok(Math.abs(c.verdict.saving! - 0.125) < 1e-12, `${c.verdict.saving}`);
  assert.equal(c.verdict.earnsItsPlace, true, c.verdict.reasons.join('; '));
  assert.ok(c.random && c.random.fidelity.ap50! < c.best.outcome.fidelity.ap50!, 'random at the same share is worse');
  assert.equal(c.verdict.beatsRandom, true);
  // The bound: low share x the low precision's saving per frame (half).
  assert.ok(Math.abs(c.verdict.bound! - c.best.outcome.lowShare * 0.5) < 1e-12);
  // With energy, the cost is energy, and the saving follows the energy per inference.
  const e = compareAdaptive(f, { highMj: 100, lowMj: 80 });
  assert.equal(e.cost, 'energy');
  assert.ok(Math.abs(e.verdict.bound! - e.best!.outcome.lowShare * 0.2) < 1e-12);
});

test('compareAdaptive says why a policy does not earn its place: a low precision that is not cheaper', () => {
  const f = frames([2, 2, 10, 10, 2, 2]).map((x) => ({ ...x, low: { ...x.low, ms: 12 } }));
  const c = compareAdaptive(f, null);
  assert.equal(c.verdict.earnsItsPlace, false);
  assert.ok(c.verdict.reasons.some((r) => /the low precision is not cheaper here/.test(r)), c.verdict.reasons.join('; '));
});

test('static low with its sensitive layers kept high: a row of its own, and a policy must beat it when it stays within the AP50 goal', () => {
  const pattern = [...Array(10).fill(2), ...Array(10).fill(10), ...Array(10).fill(3), ...Array(10).fill(9)];
  // A faithful mixed variant (exact on every frame) that costs 8 ms: the policy (mean 8.75 ms here)
  // is not cheaper, so it does not earn its place, and the report says why.
  const faithful = frames(pattern).map((f) => ({ ...f, sensitive: { ms: 8, boxes: f.high.boxes } }));
  const c = compareAdaptive(faithful, null);
  assert.ok(c.staticSensitive, 'the sensitive variant has its row');
  assert.equal(c.staticSensitive.name, 'static low, sensitive layers high');
  assert.equal(c.staticSensitive.lowShare, 1);
  assert.equal(c.staticSensitive.meanMs, 8);
  assert.equal(c.staticSensitive.fidelity.ap50, 1);
  assert.equal(c.verdict.beatsSensitive, false);
  assert.equal(c.verdict.earnsItsPlace, false);
  assert.ok(c.verdict.reasons.some((r) => /static low with its sensitive layers kept high stays within the AP50 goal \(0\.0 points\) at no more latency \(8\.00 vs 8\.75 per frame\)/.test(r)), c.verdict.reasons.join('; '));
  // A cheaper-looking mixed variant that loses objects on crowds (as static low does) misses the
  // AP50 goal: the policy beats it and earns its place.
  const lossy = frames(pattern).map((f) => ({ ...f, sensitive: { ms: 6, boxes: f.low.boxes } }));
  const d = compareAdaptive(lossy, null);
  assert.equal(d.verdict.beatsSensitive, true);
  assert.equal(d.verdict.earnsItsPlace, true, d.verdict.reasons.join('; '));
  // Its energy comes from its own energy per inference.
  const e = compareAdaptive(lossy, { highMj: 100, lowMj: 50, sensitiveMj: 70 });
  assert.equal(e.staticSensitive!.energyMj, 70);
  // Without the variant: no row, no judgement.
  const none = compareAdaptive(frames(pattern), null);
  assert.equal(none.staticSensitive, null);
  assert.equal(none.verdict.beatsSensitive, null);
});

test('the live run against its replay: the same choices where the detections agree, its own latency and accuracy', async () => {
  const { liveOutcome, formatLive } = await import('../../src/cli/adaptive');
  const pattern = [...Array(10).fill(2), ...Array(10).fill(10), ...Array(10).fill(3), ...Array(10).fill(9)];
  const f = frames(pattern);
  const c = compareAdaptive(f, null);
  const policy = c.best!.policy;
  const replay = thresholdChoices(f, policy);
  // A live run that chose as the replay did, each frame 1 ms slower (the other session's cache).
  const run = { model: {} as never, source: 'test', decoder: { family: 'nanodet' as const, scoreThreshold: 0.35, iouThreshold: 0.5 }, spans: 'live', frames: f.map((x, i) => ({ ms: (replay[i] ? x.low.ms : x.high.ms) + 1, boxes: [...(replay[i] ? x.low.boxes : x.high.boxes)], diff: 0, low: replay[i]! })) };
  const l = liveOutcome(f, run, policy, c.best!.outcome);
  assert.equal(l.sameChoices, 40);
  assert.equal(l.lowShare, c.best!.outcome.lowShare);
  assert.ok(Math.abs(l.meanMs - (c.best!.outcome.meanMs + 1)) < 1e-9);
  assert.equal(l.fidelity.ap50, c.best!.outcome.fidelity.ap50);
  assert.match(formatLive(l, 'int8'), /the same choice on 40 of 40 frame\(s\)/);
  // A live run that went another way on two frames says so.
  const other = { ...run, frames: run.frames.map((x, i) => (i === 5 || i === 6 ? { ...x, low: !x.low } : x)) };
  assert.equal(liveOutcome(f, other, policy, c.best!.outcome).sameChoices, 38);
});
