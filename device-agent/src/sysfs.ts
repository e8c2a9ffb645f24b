// Reading sysfs and procfs the way every device reader here does: under a root that is `/` on a
// device and a fixture tree of the same layout in tests (JETBENCH_DEVICE_ROOT); anything that
// cannot be read is null or empty, never an exception (many files are root-only on a Jetson).
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** The file-system root device facts are read under. */
export function deviceRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.JETBENCH_DEVICE_ROOT || '/';
}

export async function readText(file: string): Promise<string | null> {
  try {
    // Device-tree strings end with NUL.
    return (await readFile(file, 'utf8')).replace(/\0/g, '').trim();
  } catch {
    return null;
  }
}

/** A sysfs file's text as a number; null for empty or non-numeric text. */
function parseNumber(text: string | null): number | null {
  if (text === null || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export async function readNumber(file: string): Promise<number | null> {
  return parseNumber(await readText(file));
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}


/** A number from a small sysfs file, read synchronously: the telemetry sampler reads ~40 such files
 * ten times a second while a model runs, and async reads would queue behind inference work in
 * libuv's thread pool (measured: 3 Hz achieved instead of 10, +3% median latency). A sysfs read is
 * microseconds. Null when unreadable or not a number. */
export function readNumberSync(file: string): number | null {
  try {
    return parseNumber(readFileSync(file, 'utf8').trim());
  } catch {
    return null;
  }
}
