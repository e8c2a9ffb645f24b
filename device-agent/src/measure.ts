// The measurement loop: warm-up, then measured iterations, each phase ending when all of its
// minimums (count, time) are met. One sample = one infer() call timed with the host's monotonic
// clock, unless the backend measured the inference itself closer to the device (it then returns
// that latency, e.g. from a helper process, so the hop to it is not counted). Nothing but the clock
// reads and an array push sits between two timed calls; batching and progress are the caller's,
// driven by the cheap callbacks below.
import { performance } from 'node:perf_hooks';
import type { RunSpec } from '../../contract/protocol';

export type Phase = 'warmup' | 'measure';

export interface MeasureHooks {
  /** Aborted once the run should stop (cancellation); checked between iterations. */
  signal: AbortSignal;
  /** Called after every sample with the phase's samples so far (the same array, growing). */
  onSample(phase: Phase, samples: readonly number[]): void;
}

export interface MeasureResult {
  warmupMs: number[];
  latencyMs: number[];
  cancelled: boolean;
  /** The error that stopped the loop, if one did; samples taken before it are kept. */
  error: Error | null;
}

export type MeasureLimits = Pick<RunSpec, 'warmup' | 'warmupMs' | 'iterations' | 'durationS'>;

export async function measure(infer: () => Promise<number | void>, limits: MeasureLimits, hooks: MeasureHooks): Promise<MeasureResult> {
  const result: MeasureResult = { warmupMs: [], latencyMs: [], cancelled: false, error: null };
  const phases: Array<[Phase, number[], number, number]> = [
    ['warmup', result.warmupMs, limits.warmup, limits.warmupMs],
    ['measure', result.latencyMs, limits.iterations, limits.durationS * 1000],
  ];
  for (const [phase, samples, minCount, minMs] of phases) {
    const start = performance.now();
    let end = start;
    while (samples.length < minCount || end - start < minMs) {
      if (hooks.signal.aborted) {
        result.cancelled = true;
        return result;
      }
      const t0 = performance.now();
      let own: number | void;
      try {
        own = await infer();
      } catch (e) {
        result.error = e instanceof Error ? e : new Error(String(e));
        return result;
      }
      end = performance.now();
      samples.push(typeof own === 'number' ? own : end - t0);
      hooks.onSample(phase, samples);
    }
  }
  return result;
}
