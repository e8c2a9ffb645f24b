// A failed run file from what was known before the failure: the run's head (PreparedRun) and the
// samples taken. Built by the agent (a run that broke, a journal recovered after a crash) and by a
// client whose agent died mid-run: the same file either way.
import { RUN_SCHEMA_VERSION, type PreparedRun, type RunFile } from './protocol';
import { computeStats } from './stats';
import type { StreamedSamples } from './streamedSamples';

export function failedRun(prepared: PreparedRun, samples: StreamedSamples, error: string, finishedAt = new Date().toISOString()): RunFile {
  return {
    schemaVersion: RUN_SCHEMA_VERSION,
    ...prepared,
    finishedAt,
    samples: samples.toSamples(),
    stats: computeStats(samples.latencyMs),
    status: 'failed',
    error,
  };
}
