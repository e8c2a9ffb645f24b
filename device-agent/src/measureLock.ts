// One measuring job per machine, across agents: the CLI's local agent, a second CLI's, the
// extension's and a device's daemon each have their own queue, and two of them measuring at once
// contaminate each other's numbers (measured: +27% median, and nothing in either run said so).
// Whoever measures holds a lock file in the user's runtime directory; the others wait their turn
// and say whom they wait for.
import { mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { releaseLock, tryLock, type LockHolder } from './pidLock';

/** The user's runtime directory for jetbench: $XDG_RUNTIME_DIR/jetbench (per user, on tmpfs,
 * where the session has one), else <tmp>/jetbench-<uid>. Owned by the user, mode 0700. */
export function runtimeDir(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const fallback = path.join(os.tmpdir(), `jetbench-${uid ?? os.userInfo().username}`);
  let dir = xdg && path.isAbsolute(xdg) ? path.join(xdg, 'jetbench') : fallback;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    // A stale XDG_RUNTIME_DIR (the session that made it ended, e.g. under sudo or an old tmux).
    if (dir === fallback) throw e;
    dir = fallback;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const st = statSync(dir);
  // In a shared /tmp another user could have made the directory first and watch or block us.
  if (uid !== null && (st.uid !== uid || (st.mode & 0o077) !== 0)) {
    throw new Error(`${dir} is not a private directory of yours (owner uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}): remove it, or set XDG_RUNTIME_DIR to a directory only you can use`);
  }
  return dir;
}

export function measureLockFile(): string {
  return path.join(runtimeDir(), 'measure.lock');
}

/** Raised when the job was withdrawn while it waited for the lock. */
export class LockWaitAbandoned extends Error {
  override name = 'LockWaitAbandoned';
}

const POLL_MS = 100;
/** How often a waiting job says again that it waits. */
const WAIT_REPORT_MS = 2000;

/** Waits for the machine's measuring lock; resolves with its release. `onWait` hears whom the job
 * waits for (at once, then every couple of seconds); `isAbandoned` ends the wait with
 * LockWaitAbandoned (a cancelled job). */
export async function acquireMeasureLock(opts: {
  file?: string;
  onWait?(message: string, holder: LockHolder): void;
  isAbandoned?(): boolean;
}): Promise<() => void> {
  const file = opts.file ?? measureLockFile();
  const since = Date.now();
  let lastReport = 0;
  for (;;) {
    if (opts.isAbandoned?.()) throw new LockWaitAbandoned('the job was cancelled while it waited for the machine');
    const got = tryLock(file);
    if (got.held) return () => releaseLock(file);
    const now = Date.now();
    if (now - lastReport >= WAIT_REPORT_MS) {
      lastReport = now;
      const waited = Math.round((now - since) / 1000);
      opts.onWait?.(`waiting for another jetbench job measuring on this machine (process ${got.holder.pid}, lock ${file}) to end${waited ? `: ${waited} s so far` : ''}`, got.holder);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
