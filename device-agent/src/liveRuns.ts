// The runs one agent knows, shared by every client attached to it: live runs (queued, running)
// with the samples published so far and the clients following them, plus finished runs (persisted
// in the agent home's runs/ directory by a daemon, kept in memory by a stdio agent).
import { mkdirSync } from 'node:fs';
import { isSafeRunId } from '../../contract/runId';
import type { AttachRunParams, RunFile, RunSpec, RunSummary, SamplesBatch, TelemetryLiveBatch, TelemetryReading } from '../../contract/protocol';
import { BadInputError, NotFoundError } from './errors';
import { PersistedRunIndex, readPersistedRun, recoverInterruptedRuns, RunJournal, summarize } from './runJournal';
import type { PreparedRun } from '../../contract/protocol';
import { failedRun } from '../../contract/failedRun';
import { StreamedSamples } from '../../contract/streamedSamples';

/** What a client following a run receives: every sample batch once, in order, and progress. */
export interface RunFollower {
  samples(batch: SamplesBatch): void;
  /** Telemetry readings (a late follower first gets every reading so far, from offset 0). */
  telemetry?(batch: TelemetryLiveBatch): void;
  progress?(message: string, percentage?: number): void;
  /** The run's head, once it is about to measure (and at once to a follower that comes later). */
  prepared?(prepared: PreparedRun): void;
}

/** How many finished runs a stdio agent (no run directory) keeps for late attaches. */
const MEMORY_RUNS_KEPT = 20;

export class LiveRun {
  state: 'queued' | 'running' = 'queued';
  /** Everything published so far. */
  readonly samples = new StreamedSamples();
  lastProgress: { message: string; percentage?: number } | null = null;
  /** Telemetry readings sent so far, and the last batch's marks and meta (for late followers). */
  private readonly telemetryReadings: TelemetryReading[] = [];
  private lastTelemetry: TelemetryLiveBatch | null = null;
  journal: RunJournal | null = null;
  /** Set once the run is about to measure (what a run file needs besides the samples). */
  preparedRun: PreparedRun | null = null;
  private readonly followers = new Set<RunFollower>();
  private readonly cancellation = new AbortController();
  private settle!: { resolve(run: RunFile): void; reject(e: unknown): void };
  /** The finished run (any status); rejects when the run could not start (bad input...). */
  readonly done: Promise<RunFile>;

  constructor(
    readonly id: string,
    readonly spec: RunSpec,
    readonly createdAt: string,
  ) {
    this.done = new Promise<RunFile>((resolve, reject) => (this.settle = { resolve, reject }));
    // Followers that attach late still await `done`; an unobserved failure is not a crash.
    this.done.catch(() => undefined);
  }

  /** Aborted when a client cancels the run; the job stops at its next check. */
  get signal(): AbortSignal {
    return this.cancellation.signal;
  }

  cancel(): void {
    this.cancellation.abort();
  }

  /** The run is about to measure: every follower learns what its file needs besides samples. */
  announcePrepared(prepared: PreparedRun): void {
    this.preparedRun = prepared;
    for (const f of this.followers) f.prepared?.(prepared);
  }

  /** A batch measured: persisted first, then sent to every follower. */
  publish(batch: SamplesBatch): void {
    this.samples.add(batch);
    this.journal?.append(batch);
    for (const f of this.followers) f.samples(batch);
  }

  /** Telemetry readings taken: kept for followers that come later, sent to every follower. */
  publishTelemetry(batch: TelemetryLiveBatch): void {
    batch.readings.forEach((r, i) => (this.telemetryReadings[batch.offset + i] = r));
    this.lastTelemetry = batch;
    for (const f of this.followers) f.telemetry?.(batch);
  }

  progress(message: string, percentage?: number): void {
    this.lastProgress = percentage === undefined ? { message } : { message, percentage };
    for (const f of this.followers) f.progress?.(message, percentage);
  }

  /** Sends what the follower misses from the given offsets, then follows live batches; the two
   * happen in one turn of the event loop, so no batch falls between them. */
  follow(offsets: Pick<AttachRunParams, 'warmupOffset' | 'measureOffset'>, follower: RunFollower): () => void {
    for (const batch of this.samples.batchesFrom(this.id, offsets.warmupOffset, offsets.measureOffset)) follower.samples(batch);
    if (this.lastProgress) follower.progress?.(this.lastProgress.message, this.lastProgress.percentage);
    if (this.preparedRun) follower.prepared?.(this.preparedRun);
    if (this.lastTelemetry) follower.telemetry?.({ ...this.lastTelemetry, offset: 0, readings: this.telemetryReadings.slice() });
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }

  summary(): RunSummary {
    return {
      id: this.id,
      state: this.state,
      createdAt: this.createdAt,
      finishedAt: null,
      model: this.spec.model,
      backend: this.spec.backend,
      precision: this.spec.precision,
      label: this.spec.label,
      warmupCount: this.samples.warmupMs.length,
      measureCount: this.samples.latencyMs.length,
      medianMs: null,
    };
  }

  resolve(run: RunFile): void {
    this.settle.resolve(run);
  }

  reject(e: unknown): void {
    this.settle.reject(e);
  }
}

/** A run the agent knows: live, or finished with its run file. */
export type KnownRun = { live: LiveRun } | { finished: RunFile };

export class RunRegistry {
  private readonly live = new Map<string, LiveRun>();
  private readonly recent = new Map<string, RunFile>();
  private readonly index: PersistedRunIndex | null;

  /** `runsDir` null: runs are kept in memory only (a stdio agent ends with its client). */
  constructor(readonly runsDir: string | null) {
    this.index = runsDir ? new PersistedRunIndex(runsDir) : null;
    if (runsDir) mkdirSync(runsDir, { recursive: true, mode: 0o700 });
  }

  /** Turns runs interrupted by a dead agent into failed run files (samples kept). */
  recover(onProblem?: (id: string, message: string) => void): string[] {
    return this.runsDir ? recoverInterruptedRuns(this.runsDir, new Set(this.live.keys()), onProblem) : [];
  }

  begin(runId: string, spec: RunSpec): LiveRun {
    if (!isSafeRunId(runId)) throw new BadInputError(`run id '${runId}' is not usable as a file name: use letters, digits, '.', '_' and '-'`);
    if (this.live.has(runId) || this.find(runId)) throw new BadInputError(`a run with id '${runId}' already exists on this device: choose another id`);
    const run = new LiveRun(runId, spec, new Date().toISOString());
    this.live.set(runId, run);
    return run;
  }

  /** The run is about to measure: from here on it is persisted as it goes. */
  prepared(run: LiveRun, prepared: PreparedRun): void {
    run.state = 'running';
    if (this.runsDir) run.journal = RunJournal.create(this.runsDir, prepared);
    run.announcePrepared(prepared);
  }

  /** Ends a live run: persists its run file and tells everyone awaiting it. An error after the
   * run was prepared still yields a (failed) run with every sample taken; an error before it
   * (bad input, backend unavailable) leaves nothing to keep and rejects. */
  settle(live: LiveRun, outcome: { run: RunFile } | { error: unknown }): void {
    this.live.delete(live.id);
    const error = 'error' in outcome ? outcome.error : null;
    let run = 'run' in outcome ? outcome.run : null;
    if (!run && live.preparedRun) {
      const message = error instanceof Error ? error.message : String(error);
      run = failedRun(live.preparedRun, live.samples, `the run failed after it started: ${message}`);
    }
    let persisted = false;
    if (live.journal && this.runsDir) {
      try {
        live.journal.finish(this.runsDir, run);
        persisted = true;
      } catch (e) {
        // Settling never throws (its callers are the job's own error path): the run is answered
        // from memory, saying what could not be kept; its journal stays on the device.
        const why = `could not persist the run on the device: ${(e as Error).message}; its samples stay in the journal ${live.journal.file} until the disk has room and the agent restarts`;
        if (run) run = { ...run, error: run.error ? `${run.error}; ${why}` : why };
      }
    }
    if (run && !persisted) this.remember(run);
    if (run) live.resolve(run);
    else live.reject(error);
  }

  find(runId: string): KnownRun | null {
    const live = this.live.get(runId);
    if (live) return { live };
    const finished = this.recent.get(runId) ?? (this.runsDir ? readPersistedRun(this.runsDir, runId) : null);
    return finished ? { finished } : null;
  }

  /** Throws NotFoundError naming what to do when the id is unknown. */
  get(runId: string): KnownRun {
    const known = this.find(runId);
    if (!known) throw new NotFoundError(`run '${runId}' is not on this device (see the device's runs with jetbench runs --device ...)`);
    return known;
  }

  liveRuns(): LiveRun[] {
    return [...this.live.values()];
  }

  /** Live runs first, then finished ones, newest first. */
  list(): RunSummary[] {
    const finished = [...(this.index?.list() ?? []), ...[...this.recent.values()].map(summarize)].filter((s) => !this.live.has(s.id));
    const byNewest = (a: RunSummary, b: RunSummary) => b.createdAt.localeCompare(a.createdAt);
    return [...this.liveRuns().map((r) => r.summary()).sort(byNewest), ...finished.sort(byNewest)];
  }

  private remember(run: RunFile): void {
    this.recent.set(run.id, run);
    while (this.recent.size > MEMORY_RUNS_KEPT) this.recent.delete(this.recent.keys().next().value!);
  }
}
