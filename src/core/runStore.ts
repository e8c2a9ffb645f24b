// Run files on disk: `.jetbench/runs/<id>.json` by default, written atomically (temp file in the
// same directory, then rename) so a reader never sees half a run.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RUN_SCHEMA_VERSION } from '../../contract/protocolValues';
import type { RunFile } from '../../contract/protocol';

export const RUNS_DIR = path.join('.jetbench', 'runs');

export function defaultRunPath(cwd: string, runId: string): string {
  return path.join(cwd, RUNS_DIR, `${runId}.json`);
}

/** Where a run's file goes, checked before anything is measured: `out` null = the default
 * `.jetbench/runs/<id>.json`; an existing directory, or a path ending in `/`, = `<dir>/<id>.json`;
 * anything else is the file itself. Throws (naming the fix) when it could not be written. */
export async function resolveRunOutput(cwd: string, out: string | null, runId: string): Promise<string> {
  if (out === null) {
    const file = defaultRunPath(cwd, runId);
    await checkOutputPath(file, true);
    return file;
  }
  const given = path.resolve(cwd, out);
  const st = await stat(given).catch(() => null);
  if (st?.isDirectory() || /[\\/]$/.test(out)) {
    if (!st) throw new Error(`output directory '${given}' does not exist: create it first (mkdir -p '${given}') or choose another --out`);
    const file = path.join(given, `${runId}.json`);
    await checkOutputPath(file, false);
    return file;
  }
  await checkOutputPath(given, false);
  return given;
}

/** Fails early (before measuring) when the file could not be written; names the fix. */
export async function checkOutputPath(file: string, createDefaultDir: boolean): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  if (createDefaultDir) await mkdir(dir, { recursive: true });
  // The file is replaced by a rename, which a directory refuses (EISDIR) after all the work.
  if ((await stat(file).catch(() => null))?.isDirectory()) {
    throw new Error(`'${path.resolve(file)}' is a directory: give the path of a file (in it or elsewhere) instead`);
  }
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new Error(`output directory '${dir}' does not exist: create it first or choose another --out`);
  }
  if (!st.isDirectory()) throw new Error(`output path's parent '${dir}' is not a directory`);
  // A real write, not access(2): root passes access checks on read-only file systems.
  // Unique per call: one process (the extension host) may start several runs at once.
  const probe = path.join(dir, `.jetbench-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
    await unlink(probe);
  } catch (e) {
    throw new Error(`output directory '${dir}' is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): choose another --out`, { cause: e });
  }
  // A nearly full disk would take the measurement and then refuse the file: say so before.
  const fs = await statfs(dir).catch(() => null);
  if (fs && fs.bavail * fs.bsize < MIN_FREE_BYTES) {
    throw new Error(`only ${Math.round((fs.bavail * fs.bsize) / 1024)} KB are free in '${dir}': free some space or choose another --out (a run needs up to a few MB)`);
  }
}

/** Below this much free space where the run file goes, a run is refused before it measures. */
export const MIN_FREE_BYTES = 16 * 1024 * 1024;

/** Where a run goes when its own place cannot take it after measuring. */
export function fallbackRunDir(): string {
  return path.join(os.tmpdir(), `jetbench-unsaved-${process.getuid?.() ?? 'user'}`);
}

/** Writes the run file; when that fails after measuring (disk full, folder removed, read-only),
 * the run is saved in fallbackRunDir() instead and the reason returned: a measurement is never
 * lost to a write error. Throws only when both writes fail. */
export async function saveRunFile(file: string, run: RunFile): Promise<{ file: string; fallbackReason: string | null }> {
  try {
    await writeRunFile(file, run);
    return { file, fallbackReason: null };
  } catch (e) {
    const reason = `${(e as NodeJS.ErrnoException).code ?? 'error'}: ${(e as Error).message}`;
    const dir = fallbackRunDir();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fallback = path.join(dir, path.basename(file));
    await writeRunFile(fallback, run);
    return { file: fallback, fallbackReason: `could not write ${file} (${reason})` };
  }
}

export async function writeRunFile(file: string, run: RunFile): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, JSON.stringify(run, null, 1) + '\n', { encoding: 'utf8', flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Why a file in the runs folder is not a run the tools can show. */
export type RunFileProblemKind =
  /** Not JSON (truncated, binary, unreadable). */
  | 'unreadable'
  /** JSON, but not a jetbench run file (another tool's file). */
  | 'foreign'
  /** A run file with missing or malformed fields. */
  | 'invalid'
  /** Written by a newer jetbench (run schema version above this one's). */
  | 'newer';

export class RunFileProblem extends Error {
  override name = 'RunFileProblem';
  constructor(
    readonly kind: RunFileProblemKind,
    message: string,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks parsed JSON is a run file every reader (report, panels, views) can rely on: the fields
 * they read exist with the right shapes. Throws a RunFileProblem naming the file and the fix. */
export async function checkRunData(data: unknown, file: string): Promise<RunFile> {
  if (!isObject(data) || typeof data.schemaVersion !== 'number' || !isObject(data.spec) || !isObject(data.samples)) {
    throw new RunFileProblem('foreign', `'${file}' is not a jetbench run file (no schemaVersion/spec/samples)`);
  }
  if (data.schemaVersion > RUN_SCHEMA_VERSION) {
    throw new RunFileProblem(
      'newer',
      `'${file}' has run schema version ${data.schemaVersion}, newer than this jetbench understands (${RUN_SCHEMA_VERSION}): update jetbench`,
    );
  }
  // Loaded on first use: the schema checker (ajv) stays out of the extension's activation.
  const { runFileProblems } = await import('../../contract/runFileCheck');
  const problems = runFileProblems(data);
  if (problems.length > 0) {
    throw new RunFileProblem('invalid', `'${file}' is a damaged run file (${problems.join('; ')}): restore it from version control or delete it`);
  }
  return data as unknown as RunFile;
}

/** Reads and sanity-checks a run file; throws with the file name and the problem. */
export async function readRunFile(file: string): Promise<RunFile> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new RunFileProblem('unreadable', `cannot read run file '${file}': ${(e as Error).message}`);
  }
  return checkRunData(data, file);
}

/** One `.json` file of a runs folder: the run, or why it cannot be shown. */
export interface RunListing {
  file: string;
  run: RunFile | null;
  problem: { kind: RunFileProblemKind; message: string } | null;
}

/** Every `*.json` in a runs folder, each read and checked; a bad file is listed with its problem,
 * never thrown, so one broken file cannot hide the others. A missing folder has no runs. */
export async function listRuns(dir: string): Promise<RunListing[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  names.sort();
  return Promise.all(
    names.map(async (name): Promise<RunListing> => {
      const file = path.join(dir, name);
      try {
        return { file, run: await readRunFile(file), problem: null };
      } catch (e) {
        const kind = e instanceof RunFileProblem ? e.kind : 'unreadable';
        return { file, run: null, problem: { kind, message: (e as Error).message } };
      }
    }),
  );
}

/** Sets (or, with null, removes) a run's label; the file is rewritten atomically. */
export async function relabelRun(file: string, label: string | null): Promise<RunFile> {
  const run = await readRunFile(file);
  const updated: RunFile = { ...run, spec: { ...run.spec, label } };
  // writeRunFile renames over the old file: a reader sees the old run or the new one, never half.
  await writeRunFile(file, updated);
  return updated;
}
