// Adaptive precision (issue 16 item 5, the research's experiment 03): per frame, a policy picks the
// low precision (int8/fp16) or the high one from a signal of the previous frame, with hysteresis.
// Both precisions ran on every frame (jetbench/detectFrames), so every policy is evaluated on the
// same frames with the same per-frame latencies and detections: a paired comparison. A policy's
// accuracy is the fidelity of the detections it chose against the fp32 reference's
// (contract/fidelity.ts); its latency the sum of the chosen inferences'; its energy the chosen
// precisions' energy per inference where telemetry measured it. Pure code.
import { fidelity, type DetBox, type FidelityStats } from './fidelity';

/** One frame, as every configuration saw it. */
export interface AdaptiveFrame {
  reference: readonly DetBox[];
  high: { ms: number; boxes: readonly DetBox[] };
  low: { ms: number; boxes: readonly DetBox[] };
  /** The low precision with its sensitive layers kept high (nanodet-g-int8-mixed), where one ran. */
  sensitive?: { ms: number; boxes: readonly DetBox[] };
  /** Mean absolute difference from the previous frame (grey, 0..1); 0 for the first. */
  diff: number;
}

/** What a threshold policy reads from the previous frame (higher = harder: use the high precision). */
export type AdaptiveSignal = 'detections' | 'small-boxes' | 'uncertain-share' | 'frame-diff';
export const ADAPTIVE_SIGNALS: readonly AdaptiveSignal[] = ['detections', 'small-boxes', 'uncertain-share', 'frame-diff'];

export interface ThresholdPolicy {
  signal: AdaptiveSignal;
  /** Low -> high when the signal reaches this. */
  enter: number;
  /** High -> low when the signal falls to this or below (leave < enter: hysteresis). */
  leave: number;
  /** Frames a choice holds at least before it may change. */
  minDwell: number;
}

/** Scores in [UNCERTAIN_LOW, UNCERTAIN_HIGH) count as uncertain. */
export const UNCERTAIN = [0.35, 0.5] as const;
/** COCO's small boxes: under 32 x 32 pixels. */
const SMALL_AREA = 32 * 32;

export function signalOf(signal: AdaptiveSignal, boxes: readonly DetBox[], diff: number): number {
  switch (signal) {
    case 'detections':
      return boxes.length;
    case 'small-boxes':
      return boxes.filter((b) => (b.x2 - b.x1) * (b.y2 - b.y1) < SMALL_AREA).length;
    case 'uncertain-share':
      return boxes.length === 0 ? 0 : boxes.filter((b) => b.score >= UNCERTAIN[0] && b.score < UNCERTAIN[1]).length / boxes.length;
    case 'frame-diff':
      return diff;
  }
}

/** A threshold policy run frame by frame: before each frame, `choose` takes what the previous
 * frame's chosen precision detected and this frame's difference, and says whether this frame runs
 * low. The first frame runs high (nothing seen yet). The agent runs it live (jetbench/detectFrames
 * with `switching`); thresholdChoices replays it over recorded frames. */
export class ThresholdStepper {
  private low = false;
  private dwell = 0;
  private seen = 0;
  constructor(readonly policy: ThresholdPolicy) {}

  choose(previousBoxes: readonly DetBox[], diff: number): boolean {
    const p = this.policy;
    if (this.seen > 0 && this.dwell >= p.minDwell) {
      const s = signalOf(p.signal, previousBoxes, diff);
      const next: boolean = this.low ? s < p.enter : s <= p.leave;
      if (next !== this.low) {
        this.low = next;
        this.dwell = 0;
      }
    }
    this.seen++;
    this.dwell++;
    return this.low;
  }
}

/** Per frame, true = the low precision ran (ThresholdStepper over the recorded frames: a frame's
 * signal comes from the boxes of the precision the previous frame ran). */
export function thresholdChoices(frames: readonly AdaptiveFrame[], p: ThresholdPolicy): boolean[] {
  const stepper = new ThresholdStepper(p);
  const choices: boolean[] = [];
  for (let i = 0; i < frames.length; i++) {
    const prev = frames[i - 1];
    const seen = !prev ? [] : choices[i - 1] ? prev.low.boxes : prev.high.boxes;
    choices.push(stepper.choose(seen, frames[i]!.diff));
  }
  return choices;
}

/** The best choice per frame, knowing the outcome (the upper bound no policy can beat): low wherever
 * its detections are as faithful to the reference as the high precision's. */
export function oracleChoices(frames: readonly AdaptiveFrame[]): boolean[] {
  return frames.map((f) => {
    const lowF1 = fidelity([{ reference: f.reference, test: f.low.boxes }]).overall.f1;
    const highF1 = fidelity([{ reference: f.reference, test: f.high.boxes }]).overall.f1;
    return lowF1 >= highF1;
  });
}

/** Low on a seeded random share of frames (mulberry32). */
export function randomChoices(count: number, lowShare: number, seed: number): boolean[] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => next() < lowShare);
}

export interface PolicyOutcome {
  name: string;
  /** Share of frames on the low precision. */
  lowShare: number;
  switches: number;
  /** Mean per frame of the chosen inferences' latencies. */
  meanMs: number;
  /** Mean energy per frame (mJ) from the precisions' energy per inference; null without telemetry. */
  energyMj: number | null;
  fidelity: FidelityStats;
}

export interface EnergyPerInference {
  highMj: number;
  lowMj: number;
  /** The sensitive-layers variant's, where it ran and telemetry measured it. */
  sensitiveMj?: number | null;
}

export function outcomeOf(name: string, frames: readonly AdaptiveFrame[], choices: readonly boolean[], energy: EnergyPerInference | null): PolicyOutcome {
  const n = frames.length;
  const lows = choices.filter(Boolean).length;
  let switches = 0;
  for (let i = 1; i < n; i++) if (choices[i] !== choices[i - 1]) switches++;
  const ms = frames.reduce((a, f, i) => a + (choices[i] ? f.low.ms : f.high.ms), 0);
  return {
    name,
    lowShare: n ? lows / n : 0,
    switches,
    meanMs: n ? ms / n : 0,
    energyMj: energy && n ? (lows * energy.lowMj + (n - lows) * energy.highMj) / n : null,
    fidelity: fidelity(frames.map((f, i) => ({ reference: f.reference, test: choices[i] ? f.low.boxes : f.high.boxes }))).overall,
  };
}

/** Random switching, averaged over seeds: the baseline a policy must beat at its own low share. */
export function randomOutcome(frames: readonly AdaptiveFrame[], lowShare: number, energy: EnergyPerInference | null, seeds = 20): PolicyOutcome {
  const runs = Array.from({ length: seeds }, (_, s) => outcomeOf('random', frames, randomChoices(frames.length, lowShare, 1000 + s), energy));
  const mean = (f: (o: PolicyOutcome) => number) => runs.reduce((a, o) => a + f(o), 0) / runs.length;
  const ap = runs.map((o) => o.fidelity.ap50).filter((v): v is number => v !== null);
  return {
    name: `random (${(100 * lowShare).toFixed(0)}% low, mean of ${seeds} seeds)`,
    lowShare: mean((o) => o.lowShare),
    switches: Math.round(mean((o) => o.switches)),
    meanMs: mean((o) => o.meanMs),
    energyMj: energy ? mean((o) => o.energyMj!) : null,
    fidelity: {
      ...runs[0]!.fidelity,
      precision: mean((o) => o.fidelity.precision),
      recall: mean((o) => o.fidelity.recall),
      f1: mean((o) => o.fidelity.f1),
      ap50: ap.length ? ap.reduce((a, b) => a + b, 0) / ap.length : null,
      matched: Math.round(mean((o) => o.fidelity.matched)),
      testBoxes: Math.round(mean((o) => o.fidelity.testBoxes)),
      meanMatchedIou: null,
    },
  };
}

/** The threshold policies tried: per signal, enter at the 25th/50th/75th percentile of what the
 * high precision saw, leave at 80% of it, dwell 1 or 5 frames. */
export function thresholdSweep(frames: readonly AdaptiveFrame[]): ThresholdPolicy[] {
  const out: ThresholdPolicy[] = [];
  for (const signal of ADAPTIVE_SIGNALS) {
    const values = frames.map((f) => signalOf(signal, f.high.boxes, f.diff)).sort((a, b) => a - b);
    const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
    const enters = [...new Set([at(0.25), at(0.5), at(0.75)])].filter((v) => v > 0);
    for (const enter of enters) for (const minDwell of [1, 5]) out.push({ signal, enter, leave: enter * 0.8, minDwell });
  }
  return out;
}

export function policyName(p: ThresholdPolicy): string {
  const v = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));
  return `threshold ${p.signal} enter >= ${v(p.enter)}, leave <= ${v(p.leave)}, dwell ${p.minDwell}`;
}

export interface AdaptiveComparison {
  frames: number;
  /** What a policy's cost is: energy where both precisions' energy per inference was measured, else latency. */
  cost: 'energy' | 'latency';
  staticHigh: PolicyOutcome;
  staticLow: PolicyOutcome;
  /** Static low with the sensitive layers kept high, where that variant ran on every frame. */
  staticSensitive: PolicyOutcome | null;
  oracle: PolicyOutcome;
  thresholds: Array<{ policy: ThresholdPolicy; outcome: PolicyOutcome }>;
  /** The threshold policy chosen: the cheapest within `maxAp50Loss` of static high, else the most faithful. */
  best: { policy: ThresholdPolicy; outcome: PolicyOutcome } | null;
  /** Random switching at the best policy's low share. */
  random: PolicyOutcome | null;
  verdict: AdaptiveVerdict;
}

export interface AdaptiveVerdict {
  /** The policy saves at least `minSaving` of static high's cost, loses at most `maxAp50Loss` AP50,
   * beats random, and beats static low with its sensitive layers kept high (where that ran). */
  earnsItsPlace: boolean;
  /** Of static high's cost, what the best policy saves (0.12 = 12%). */
  saving: number | null;
  ap50Loss: number | null;
  beatsRandom: boolean | null;
  /** True when static-low-with-sensitive-layers misses the AP50 goal or costs more than the policy;
   * null when it did not run (or its cost is unknown). */
  beatsSensitive: boolean | null;
  /** The most switching can save: (share of low frames) x (low precision's saving per frame). */
  bound: number | null;
  reasons: string[];
}

export const ADAPTIVE_GOALS = { minSaving: 0.1, maxAp50Loss: 0.01 } as const;

const costOf = (o: PolicyOutcome, cost: 'energy' | 'latency') => (cost === 'energy' ? o.energyMj! : o.meanMs);

/** Every policy on the same frames, and whether the best threshold policy earns its place. */
export function compareAdaptive(frames: readonly AdaptiveFrame[], energy: EnergyPerInference | null): AdaptiveComparison {
  if (frames.length === 0) throw new RangeError('the adaptive comparison needs at least one frame');
  const cost = energy ? 'energy' : 'latency';
  const all = (low: boolean) => frames.map(() => low);
  const staticHigh = outcomeOf('static high', frames, all(false), energy);
  const staticLow = outcomeOf('static low', frames, all(true), energy);
  const oracle = outcomeOf('oracle (best per-frame choice, knowing the outcome)', frames, oracleChoices(frames), energy);
  const staticSensitive = frames.every((f) => f.sensitive)
    ? outcomeOf(
        'static low, sensitive layers high',
        frames.map((f) => ({ ...f, low: f.sensitive! })),
        all(true),
        energy && energy.sensitiveMj != null ? { highMj: energy.highMj, lowMj: energy.sensitiveMj } : null,
      )
    : null;
  const thresholds = thresholdSweep(frames).map((policy) => ({ policy, outcome: outcomeOf(policyName(policy), frames, thresholdChoices(frames, policy), energy) }));
  const highAp = staticHigh.fidelity.ap50 ?? 1;
  const loss = (o: PolicyOutcome) => highAp - (o.fidelity.ap50 ?? 1);
  const within = thresholds.filter((t) => loss(t.outcome) <= ADAPTIVE_GOALS.maxAp50Loss + 1e-12);
  const best = within.length
    ? within.reduce((a, b) => (costOf(b.outcome, cost) < costOf(a.outcome, cost) ? b : a))
    : thresholds.length
      ? thresholds.reduce((a, b) => ((b.outcome.fidelity.ap50 ?? 0) > (a.outcome.fidelity.ap50 ?? 0) ? b : a))
      : null;
  const random = best ? randomOutcome(frames, best.outcome.lowShare, energy) : null;
  const highCost = costOf(staticHigh, cost);
  const lowCost = costOf(staticLow, cost);
  const reasons: string[] = [];
  let saving: number | null = null;
  let ap50Loss: number | null = null;
  let beatsRandom: boolean | null = null;
  let beatsSensitive: boolean | null = null;
  let bound: number | null = null;
  if (best) {
    saving = highCost > 0 ? 1 - costOf(best.outcome, cost) / highCost : null;
    ap50Loss = loss(best.outcome);
    beatsRandom = random ? (best.outcome.fidelity.ap50 ?? 0) > (random.fidelity.ap50 ?? 0) : null;
    bound = highCost > 0 ? best.outcome.lowShare * (1 - lowCost / highCost) : null;
    if (saving === null || saving < ADAPTIVE_GOALS.minSaving) reasons.push(`it saves ${saving === null ? 'nothing measurable' : `${(100 * saving).toFixed(1)}%`} of static high's ${cost} (goal >= ${100 * ADAPTIVE_GOALS.minSaving}%)`);
    if (ap50Loss > ADAPTIVE_GOALS.maxAp50Loss) reasons.push(`it loses ${(100 * ap50Loss).toFixed(1)} points of AP50 (goal <= ${100 * ADAPTIVE_GOALS.maxAp50Loss})`);
    if (beatsRandom === false) reasons.push('random switching at the same low-precision share is as faithful');
    if (staticSensitive) {
      const sensitiveCost = cost === 'energy' ? staticSensitive.energyMj : staticSensitive.meanMs;
      if (loss(staticSensitive) > ADAPTIVE_GOALS.maxAp50Loss + 1e-12) beatsSensitive = true;
      else if (sensitiveCost !== null) beatsSensitive = costOf(best.outcome, cost) < sensitiveCost;
      if (beatsSensitive === false) {
        reasons.push(
          `static low with its sensitive layers kept high stays within the AP50 goal (${(100 * loss(staticSensitive)).toFixed(1)} points) at no more ${cost} (${sensitiveCost!.toFixed(2)} vs ${costOf(best.outcome, cost).toFixed(2)} per frame)`,
        );
      }
    }
    if (lowCost >= highCost) reasons.push(`the low precision is not cheaper here (${cost} per frame ${lowCost.toFixed(2)} vs ${highCost.toFixed(2)})`);
  } else {
    reasons.push('no threshold policy could be formed (no signal varied across the frames)');
  }
  return {
    frames: frames.length,
    cost,
    staticHigh,
    staticLow,
    staticSensitive,
    oracle,
    thresholds,
    best,
    random,
    verdict: { earnsItsPlace: best !== null && reasons.length === 0, saving, ap50Loss, beatsRandom, beatsSensitive, bound, reasons },
  };
}
