// Run files on disk: `.jetbench/runs/<id>.json` by default, written atomically (temp file in the
// same directory, then rename) so a reader never sees half a run.
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RUN_SCHEMA_VERSION, type RunFile } from '../../device-agent/src/protocol';

export const RUNS_DIR = path.join('.jetbench', 'runs');

export function defaultRunPath(cwd: string, runId: string): string {
  return path.join(cwd, RUNS_DIR, `${runId}.json`);
}

/** Fails early (before measuring) when the run file could not be written; names the fix. */
export async function checkOutputPath(file: string, createDefaultDir: boolean): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  if (createDefaultDir) await mkdir(dir, { recursive: true });
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new Error(`output directory '${dir}' does not exist: create it first or choose another --out`);
  }
  if (!st.isDirectory()) throw new Error(`output path's parent '${dir}' is not a directory`);
  // A real write, not access(2): root passes access checks on read-only file systems.
  const probe = path.join(dir, `.jetbench-probe-${process.pid}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
    await unlink(probe);
  } catch (e) {
    throw new Error(`output directory '${dir}' is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): choose another --out`);
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

/** Reads and sanity-checks a run file; throws with the file name and the problem. */
export async function readRunFile(file: string): Promise<RunFile> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read run file '${file}': ${(e as Error).message}`);
  }
  const run = data as Partial<RunFile>;
  if (typeof run !== 'object' || run === null || typeof run.schemaVersion !== 'number' || !run.samples || !run.spec) {
    throw new Error(`'${file}' is not a jetbench run file (no schemaVersion/spec/samples)`);
  }
  if (run.schemaVersion > RUN_SCHEMA_VERSION) {
    throw new Error(`'${file}' has run schema version ${run.schemaVersion}, newer than this jetbench understands (${RUN_SCHEMA_VERSION}): update jetbench`);
  }
  return run as RunFile;
}
