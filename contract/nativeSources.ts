// The native addon's sources, their hash, and where builds of them live. The hash keys the build
// directory, so a device builds each version of the sources once. The build (scripts/build.mjs)
// puts the sources and the Node-API headers (node-api/) in dist/native/; deploy uploads that folder
// and runs `node agent.js build-native` on the device.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from './cacheDir';

/** Folders of native/ that are sources (build outputs and fetched headers are not). */
const SOURCE_DIRS = ['include', 'src', 'test', 'bench', 'scripts'];
const SOURCE_FILES = ['CMakeLists.txt', 'package.json'];
const SOURCE_EXTENSIONS = /\.(h|hpp|cpp|cu|cuh|in|txt|json|sh)$/;

/** native/ beside the agent (a device bundle), else the repository's (development). */
export function nativeSourceDir(): string | null {
  const candidates = [process.env.JETBENCH_NATIVE_SOURCE, path.join(__dirname, 'native'), path.resolve(__dirname, '../native'), path.resolve(__dirname, '../../../native')];
  return candidates.find((p): p is string => !!p && existsSync(path.join(p, 'CMakeLists.txt'))) ?? null;
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  for (const entry of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const child = path.posix.join(rel, entry.name);
    if (entry.isDirectory()) await walk(root, child, out);
    else if (entry.isFile() && SOURCE_EXTENSIONS.test(entry.name)) out.push(child);
  }
}

/** The files to upload for a device build, relative to the source directory, sorted. */
export async function nativeSourceFiles(sourceDir: string): Promise<string[]> {
  const files = SOURCE_FILES.filter((f) => existsSync(path.join(sourceDir, f)));
  for (const dir of SOURCE_DIRS) if (existsSync(path.join(sourceDir, dir))) await walk(sourceDir, dir, files);
  return files.sort();
}

/** sha256 over every source file's relative path and bytes. */
export async function nativeSourceHash(sourceDir: string): Promise<string> {
  const h = createHash('sha256');
  for (const rel of await nativeSourceFiles(sourceDir)) {
    h.update(rel).update('\0').update(await readFile(path.join(sourceDir, rel))).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** Where the build of one source hash lives: <cache>/native/<hash>/ (addon, build.log, build.json). */
export function nativeBuildDir(hash: string): string {
  return path.join(cacheDir(), 'native', hash);
}

export const ADDON_FILE = 'jetbench_native.node';

/** The Node-API headers' folder inside a native source folder (dist/native/node-api on a device). */
export const NODE_API_DIR = 'node-api';
