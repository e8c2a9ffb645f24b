// Runs persisted on the device as they are measured, so nothing is lost when a client's
// connection drops or the agent dies. Layout under the agent home's `runs/` directory:
//   <id>.jsonl   the journal of a live run: one JSON record per line, appended synchronously as
//                samples are published (a `prepared` header, then `samples` batches)
//   <id>.json    the finished run file (written atomically), after which the journal is removed
// A journal without a run file whose agent is gone is an interrupted run: recovery turns it into a
// `failed` run file that keeps every sample the journal holds.
import { appendFileSync, closeSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isSafeRunId } from '../../contract/runId';
import type { PreparedRun, RunFile, RunSummary, SamplesBatch } from '../../contract/protocol';
import { failedRun } from '../../contract/failedRun';
import { StreamedSamples } from '../../contract/streamedSamples';

type JournalRecord = { t: 'prepared'; pid: number; run: PreparedRun } | ({ t: 'samples' } & Omit<SamplesBatch, 'runId'>);

const JOURNAL_EXT = '.jsonl';
const RUN_EXT = '.json';


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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isTimes = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** One journal line as a record, or null when it is not one this agent writes: a journal is a file
 * on disk (a torn write, a disk error, an older or newer agent, a hand edit) and its records become
 * a run file and file names, so each is checked before it is used. */
export function parseJournalRecord(line: string, journalId: string): JournalRecord | null {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObject(data)) return null;
  if (data.t === 'prepared') {
    const run = data.run;
    if (!isWhole(data.pid) || !isObject(run)) return null;
    // The run file is written under the run's id: it must be this journal's, and a safe file name.
    if (run.id !== journalId || !isSafeRunId(journalId)) return null;
    const objects = ['spec', 'device', 'versions', 'model', 'timing'] as const;
    if (typeof run.createdAt !== 'string' || !objects.every((k) => isObject(run[k]))) return null;
    if (!(run.artifact === null || isObject(run.artifact))) return null;
    return { t: 'prepared', pid: data.pid, run: run as unknown as PreparedRun };
  }
  if (data.t === 'samples') {
    if ((data.phase !== 'warmup' && data.phase !== 'measure') || !isWhole(data.offset) || !isTimes(data.latencyMs)) return null;
    const record: JournalRecord = { t: 'samples', phase: data.phase, offset: data.offset, latencyMs: data.latencyMs };
    if (data.stagesMs !== undefined) {
      const stages = data.stagesMs;
      if (!isObject(stages)) return null;
      const entries = Object.entries(stages);
      const latencyMs = data.latencyMs;
      if (!entries.every(([, v]) => isTimes(v) && v.length === latencyMs.length)) return null;
      record.stagesMs = Object.fromEntries(entries) as Record<string, number[]>;
    }
    return record;
  }
  return null;
}

/** Reads a journal back: samples placed by offset; a torn last line and records that are not well
 * formed are skipped (counted in `skipped`). */
export function readJournal(file: string): { pid: number; prepared: PreparedRun; samples: StreamedSamples; skipped: number } | null {
  const id = path.basename(file, JOURNAL_EXT);
  let prepared: { pid: number; run: PreparedRun } | null = null;
  const samples = new StreamedSamples();
  let skipped = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const record = parseJournalRecord(line, id);
    if (!record) {
      skipped++;
      continue;
    }
    if (record.t === 'prepared') prepared = { pid: record.pid, run: record.run };
    // Only contiguous data counts: a batch past a gap would leave holes in the samples.
    else samples.add({ runId: id, ...record });
  }
  return prepared ? { pid: prepared.pid, prepared: prepared.run, samples, skipped } : null;
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
          `the ${rebuilt.samples.warmupMs.length} warm-up and ${rebuilt.samples.latencyMs.length} measured samples taken before are kept` +
          (rebuilt.skipped ? ` (${rebuilt.skipped} damaged journal record(s) skipped)` : '');
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
