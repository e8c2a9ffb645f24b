// The measurement loop: per trial, warm-up then measured iterations, each phase ending when all of
// its minimums (count, time) are met. One sample = one infer() call timed with the host's monotonic
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
  /** Called after every sample with the phase's samples so far (the same array, growing), and for
   * measured samples their start times (performance.now()), where the loop knows them. */
  onSample(phase: Phase, samples: readonly number[], startsMs?: readonly number[]): void;
  /** Called as trial `index` (0-based) of `count` begins. */
  onTrial?(index: number, count: number): void;
  /** Called as a phase begins by a session that runs its own loop (trtexec) and reports its
   * samples only at the end: the phase's start for telemetry and progress. */
  onPhase?(phase: Phase): void;
}

export interface MeasureResult {
  /** Every trial's warm-up samples, trial after trial. */
  warmupMs: number[];
  /** Every trial's measured samples, trial after trial. */
  latencyMs: number[];
  /** When each measured sample began, on performance.now()'s clock of the measuring agent (a
   * trial process's converted to it); absent where samples are not timed one by one. */
  startMs?: number[];
  /** How many of warmupMs / latencyMs each trial began took (one entry per trial begun). */
  trials: Array<{ warmupCount: number; count: number }>;
  cancelled: boolean;
  /** The error that stopped the loop, if one did; samples taken before it are kept. */
  error: Error | null;
}

export type MeasureLimits = Pick<RunSpec, 'warmup' | 'warmupMs' | 'iterations' | 'durationS' | 'trials'>;

/**
 * Runs spec.trials trials (1 when absent), each a warm-up then a measurement, every phase ending
 * when all of its minimums (count, time) are met. Samples of all trials go to the same two arrays,
 * so a caller streaming them sees one growing series per phase; `trials` says where each trial's are.
 */
export async function measure(infer: () => Promise<number | void>, limits: MeasureLimits, hooks: MeasureHooks): Promise<MeasureResult> {
  const result: MeasureResult = { warmupMs: [], latencyMs: [], startMs: [], trials: [], cancelled: false, error: null };
  const starts = result.startMs!;
  const trials = limits.trials ?? 1;
  for (let t = 0; t < trials; t++) {
    const trial = { warmupCount: 0, count: 0 };
    result.trials.push(trial);
    hooks.onTrial?.(t, trials);
    const phases: Array<[Phase, number[], number, number, 'warmupCount' | 'count']> = [
      ['warmup', result.warmupMs, limits.warmup, limits.warmupMs, 'warmupCount'],
      ['measure', result.latencyMs, limits.iterations, limits.durationS * 1000, 'count'],
    ];
    for (const [phase, samples, minCount, minMs, key] of phases) {
      const start = performance.now();
      let end = start;
      while (trial[key] < minCount || end - start < minMs) {
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
        if (phase === 'measure') starts.push(t0);
        trial[key]++;
        hooks.onSample(phase, samples, phase === 'measure' ? starts : undefined);
      }
    }
  }
  return result;
}
