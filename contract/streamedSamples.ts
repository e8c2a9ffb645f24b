// A run's samples assembled from the batches they stream in, and cut back into batches from an
// offset: the one definition used by the agent's live runs and journal, re-attach, and the
// client's copy. Pure code (no Node APIs).
import type { Samples, SamplesBatch } from './protocol';

export class StreamedSamples {
  readonly warmupMs: number[] = [];
  readonly latencyMs: number[] = [];
  /** Pipeline runs: per-stage times of the measured frames, each aligned with latencyMs (warm-up
   * frames' stages are not kept, as in the run file). */
  readonly stagesMs: Record<string, number[]> = {};
  /** Batches that started past the samples held and were dropped (a gap would misplace them). */
  gaps = 0;

  static of(samples: Samples): StreamedSamples {
    const s = new StreamedSamples();
    placeAt(s.warmupMs, 0, samples.warmupLatencyMs);
    placeAt(s.latencyMs, 0, samples.latencyMs);
    for (const [name, values] of Object.entries(samples.stagesMs ?? {})) s.stagesMs[name] = [...values];
    return s;
  }

  /** Places a batch at its offset (a repeat overwrites the same values); false when it starts
   * past the end, so what is held stays contiguous and its length is a valid re-attach offset. */
  add(batch: SamplesBatch): boolean {
    const target = batch.phase === 'warmup' ? this.warmupMs : this.latencyMs;
    if (batch.offset > target.length) {
      this.gaps++;
      return false;
    }
    placeAt(target, batch.offset, batch.latencyMs);
    if (batch.phase === 'measure' && batch.stagesMs) {
      for (const [name, values] of Object.entries(batch.stagesMs)) {
        placeAt((this.stagesMs[name] ??= []), batch.offset, values);
      }
    }
    return true;
  }

  /** Everything from these offsets on, as batches (none for a phase already complete there). */
  batchesFrom(runId: string, warmupOffset: number, measureOffset: number): SamplesBatch[] {
    const batches: SamplesBatch[] = [];
    if (this.warmupMs.length > warmupOffset) {
      batches.push({ runId, phase: 'warmup', offset: warmupOffset, latencyMs: this.warmupMs.slice(warmupOffset) });
    }
    if (this.latencyMs.length > measureOffset) {
      const batch: SamplesBatch = { runId, phase: 'measure', offset: measureOffset, latencyMs: this.latencyMs.slice(measureOffset) };
      const stages = Object.entries(this.stagesMs);
      if (stages.length > 0) batch.stagesMs = Object.fromEntries(stages.map(([name, values]) => [name, values.slice(measureOffset)]));
      batches.push(batch);
    }
    return batches;
  }

  /** As the run file's `samples`. */
  toSamples(): Samples {
    const samples: Samples = { latencyMs: [...this.latencyMs], warmupLatencyMs: [...this.warmupMs] };
    if (Object.keys(this.stagesMs).length > 0) samples.stagesMs = Object.fromEntries(Object.entries(this.stagesMs).map(([k, v]) => [k, [...v]]));
    return samples;
  }
}

/** Writes `values` into `target` from `offset` on (overwriting, then extending). A loop, not
 * `splice(..., ...values)`: spreading an array passes each element as a call argument, and beyond
 * ~125k samples that overflows the stack ("Maximum call stack size exceeded"). */
function placeAt(target: number[], offset: number, values: readonly number[]): void {
  for (let i = 0; i < values.length; i++) target[offset + i] = values[i]!;
}
