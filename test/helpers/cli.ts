// Runs the built CLI (dist/cli.js) as a user would, in a scratch directory.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
/** One model cache for the whole test run, so each built-in model is generated once. */
export const TEST_CACHE_DIR = path.join(ROOT, 'test-output', 'cache');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function scratchDir(prefix = 'jetbench-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Sends SIGINT to the CLI's whole process group, as Ctrl-C in a terminal does. */
export function ctrlC(child: ReturnType<typeof spawn>): void {
  process.kill(-child.pid!, 'SIGINT');
}

export function runCli(
  args: string[],
  opts: {
    cwd?: string;
    env?: Record<string, string>;
    onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
    onStdout?: (text: string, child: ReturnType<typeof spawn>) => void;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, JETBENCH_CACHE_DIR: TEST_CACHE_DIR, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own, like a terminal's foreground job (see ctrlC).
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
      opts.onStdout?.(t, child);
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      opts.onStderr?.(t, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
