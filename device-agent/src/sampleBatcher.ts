// The one batcher between the measurement loop and the wire: samples go out at most every
// SAMPLE_FLUSH_MS, when a phase ends and when the job ends, each batch starting where the last one
// of its phase stopped (so a follower's offsets stay contiguous). Used by the agent's runs and by
// the native worker's pipeline runs; the loop itself only calls onSample (measure.ts).
import { performance } from 'node:perf_hooks';
import type { Phase } from './measure';

/** Samples are flushed at most this often (and at the end of each phase). */
export const SAMPLE_FLUSH_MS = 100;

/** Sends `samples.slice(from)` of `phase` (the phase's whole array so far is passed, so a caller
 * can slice records aligned with it, e.g. per-stage times). */
export type EmitBatch = (phase: Phase, from: number, samples: readonly number[]) => void;

export class SampleBatcher {
  private readonly sent: Record<Phase, number> = { warmup: 0, measure: 0 };
  private lastFlushMs: number;
  private current: { phase: Phase; samples: readonly number[] } | null = null;

  constructor(
    private readonly emit: EmitBatch,
    nowMs: number = performance.now(),
  ) {
    this.lastFlushMs = nowMs;
  }

  /** After every sample, with the phase's samples so far (the same growing array). */
  onSample(phase: Phase, samples: readonly number[], nowMs: number = performance.now()): void {
    if (this.current && this.current.phase !== phase) this.flush(this.current.phase, this.current.samples);
    this.current = { phase, samples };
    if (nowMs - this.lastFlushMs >= SAMPLE_FLUSH_MS) {
      this.flush(phase, samples);
      this.lastFlushMs = nowMs;
    }
  }

  /** The job ended: whatever of either phase was not sent yet. */
  finish(result: { warmupMs: readonly number[]; latencyMs: readonly number[] }): void {
    this.flush('warmup', result.warmupMs);
    this.flush('measure', result.latencyMs);
  }

  private flush(phase: Phase, samples: readonly number[]): void {
    const from = this.sent[phase];
    if (samples.length <= from) return;
    this.emit(phase, from, samples);
    this.sent[phase] = samples.length;
  }
}
