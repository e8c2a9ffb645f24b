// Runs persisted on the device as they are measured, so nothing is lost when a client's
// connection drops or the agent dies. Layout under the agent home's `runs/` directory:
//   <id>.jsonl   the journal of a live run: one JSON record per line, appended synchronously as
//                samples are published (a `prepared` header, then `samples` batches)
//   <id>.json    the finished run file (written atomically), after which the journal is removed
// A journal without a run file whose agent is gone is an interrupted run: recovery turns it into a
// `failed` run file that keeps every sample the journal holds.
import { appendFileSync, closeSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RUN_SCHEMA_VERSION, type RunFile, type RunSummary, type SamplesBatch } from '../../contract/protocol';
import type { PreparedRun } from './runner';
import { computeStats } from '../../contract/stats';
import { StreamedSamples } from '../../contract/streamedSamples';

type JournalRecord = { t: 'prepared'; pid: number; run: PreparedRun } | ({ t: 'samples' } & Omit<SamplesBatch, 'runId'>);

const JOURNAL_EXT = '.jsonl';
const RUN_EXT = '.json';

/** Run ids become file names: only what newRunId produces (and client-chosen ids like it). */
export function isSafeRunId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/.test(id) && !id.includes('..');
}

export class RunJournal {
  private fd: number;

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  static create(runsDir: string, prepared: PreparedRun): RunJournal {
    const file = path.join(runsDir, `${prepared.id}${JOURNAL_EXT}`);
    const fd = openSync(file, 'wx', 0o600);
    const journal = new RunJournal(file, fd);
    journal.write({ t: 'prepared', pid: process.pid, run: prepared });
    return journal;
  }

  append(batch: SamplesBatch): void {
    const { runId: _runId, ...rest } = batch;
    this.write({ t: 'samples', ...rest });
  }

  /** Writes the run file atomically (`run` null: nothing to keep), then drops the journal. When
   * the run file cannot be written (a full disk) the journal stays, so the next agent recovers
   * the samples from it, and the error is thrown. */
  finish(runsDir: string, run: RunFile | null): void {
    this.close();
    if (run) writeRunFileAtomic(runsDir, run);
    unlinkSync(this.file);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private write(record: JournalRecord): void {
    // One synchronous write per record: a crash leaves at most a torn last line, which
    // readJournal skips; what was published to clients is on disk first.
    appendFileSync(this.fd, JSON.stringify(record) + '\n');
  }
}

function writeRunFileAtomic(runsDir: string, run: RunFile): void {
  const file = path.join(runsDir, `${run.id}${RUN_EXT}`);
  const tmp = path.join(runsDir, `.${run.id}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, JSON.stringify(run) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  } catch (e) {
    // A full disk leaves a truncated temp file behind: never one per attempt.
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw e;
  }
}

/** A run that ended with an error after it was prepared: everything measured is kept. */
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

/** Reads a journal back: samples placed by offset; a torn last line is ignored. */
export function readJournal(file: string): { pid: number; prepared: PreparedRun; samples: StreamedSamples } | null {
  let prepared: { pid: number; run: PreparedRun } | null = null;
  const samples = new StreamedSamples();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      continue;
    }
    if (record.t === 'prepared') prepared = { pid: record.pid, run: record.run };
    // Only contiguous data counts: a batch past a gap would leave holes in the samples.
    else if (record.t === 'samples') samples.add({ runId: prepared?.run.id ?? '', ...record });
  }
  return prepared ? { pid: prepared.pid, prepared: prepared.run, samples } : null;
}

/** Turns journals of runs whose agent is gone into failed run files (samples kept). `liveIds` are
 * this agent's own runs; every other journal belongs to a dead agent, because only the holder of
 * the agent home's lock (one daemon) journals there. Returns the ids recovered. */
export function recoverInterruptedRuns(
  runsDir: string,
  liveIds: ReadonlySet<string>,
  /** A journal that could not be recovered now (a full disk): it stays for the next agent. */
  onProblem: (id: string, message: string) => void = () => undefined,
): string[] {
  const recovered: string[] = [];
  for (const name of safeReaddir(runsDir)) {
    if (!name.endsWith(JOURNAL_EXT)) continue;
    const id = name.slice(0, -JOURNAL_EXT.length);
    if (liveIds.has(id)) continue;
    // One journal at a time: a failure keeps that journal (and its samples) and moves on, so no
    // single file, and no full disk, stops the agent from starting.
    try {
      const file = path.join(runsDir, name);
      const rebuilt = readJournal(file);
      if (rebuilt) {
        const at = statSync(file).mtime.toISOString();
        const error =
          `the agent (process ${rebuilt.pid}) stopped during the run, last write at ${at}; ` +
          `the ${rebuilt.samples.warmupMs.length} warm-up and ${rebuilt.samples.latencyMs.length} measured samples taken before are kept`;
        writeRunFileAtomic(runsDir, failedRun(rebuilt.prepared, rebuilt.samples, error, at));
        recovered.push(id);
      }
      unlinkSync(file);
    } catch (e) {
      onProblem(id, `could not recover it (${(e as Error).message}); its journal is kept for the next start`);
    }
  }
  return recovered;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function readPersistedRun(runsDir: string, runId: string): RunFile | null {
  if (!isSafeRunId(runId)) return null;
  try {
    return JSON.parse(readFileSync(path.join(runsDir, `${runId}${RUN_EXT}`), 'utf8')) as RunFile;
  } catch {
    return null;
  }
}

export function summarize(run: RunFile): RunSummary {
  return {
    id: run.id,
    state: run.status,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
    model: run.spec.model,
    backend: run.spec.backend,
    precision: run.spec.precision,
    label: run.spec.label,
    warmupCount: run.samples.warmupLatencyMs.length,
    measureCount: run.samples.latencyMs.length,
    medianMs: run.stats?.medianMs ?? null,
    ...(run.error ? { error: run.error } : {}),
  };
}

/** Summaries of the finished runs on disk. Parsed once per file version (size + mtime). */
export class PersistedRunIndex {
  private readonly cache = new Map<string, { key: string; summary: RunSummary }>();

  constructor(private readonly runsDir: string) {}

  list(): RunSummary[] {
    const out: RunSummary[] = [];
    for (const name of safeReaddir(this.runsDir)) {
      if (!name.endsWith(RUN_EXT) || name.startsWith('.')) continue;
      const file = path.join(this.runsDir, name);
      try {
        const st = statSync(file);
        const key = `${st.size}:${st.mtimeMs}`;
        let hit = this.cache.get(name);
        if (hit?.key !== key) {
          hit = { key, summary: summarize(JSON.parse(readFileSync(file, 'utf8')) as RunFile) };
          this.cache.set(name, hit);
        }
        out.push(hit.summary);
      } catch {
        /* a file being replaced or not a run: skip it */
      }
    }
    return out;
  }
}
