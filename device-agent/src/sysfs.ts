// Reading sysfs and procfs the way every device reader here does: under a root that is `/` on a
// device and a fixture tree of the same layout in tests (JETBENCH_DEVICE_ROOT); anything that
// cannot be read is null or empty, never an exception (many files are root-only on a Jetson).
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

export async function readNumber(file: string): Promise<number | null> {
  const text = await readText(file);
  if (text === null || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

