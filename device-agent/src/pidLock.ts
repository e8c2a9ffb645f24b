// A lock file naming the process that holds it: `<pid> <start time>` (the start time in clock
// ticks since boot, /proc/<pid>/stat field 22). A pid alone is not an identity: after a reboot or a
// long uptime the kernel gives a dead holder's pid to another process, and a lock checked with
// `kill -0` alone then stays "held" for ever. A zombie holds nothing either (PID 1 does not reap
// orphans in some containers). Used for the agent home (one daemon per home) and for measuring
// (one measuring job per machine).
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export interface LockHolder {
  pid: number;
  /** Clock ticks since boot when the holder started; null where /proc is not there (or an old lock). */
  startTicks: number | null;
}

/** The start time and state of a process from /proc, or null when it does not exist. `undefined`:
 * there is no /proc here (not Linux), so nothing but the pid can be checked. */
function procStat(pid: number): { state: string; startTicks: number } | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return readableProc() ? null : undefined;
    return undefined;
  }
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses; fields after it from 3 on.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '', startTicks: Number(rest[19]) };
}

function readableProc(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

/** This process as a lock holder. */
export function selfHolder(): LockHolder {
  const st = procStat(process.pid);
  return { pid: process.pid, startTicks: st ? st.startTicks : null };
}

export function parseHolder(text: string): LockHolder | null {
  const [pidText, startText] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const startTicks = startText === undefined ? null : Number(startText);
  return { pid, startTicks: startTicks !== null && Number.isFinite(startTicks) ? startTicks : null };
}

/** Whether the process that wrote the lock still runs: alive, not a zombie, and (where the lock
 * recorded it) started at the same tick, so not a later process that got its pid. A lock without
 * a start time (written by an older agent) counts only when the pid runs a jetbench daemon. */
export function holderAlive(holder: LockHolder): boolean {
  const st = procStat(holder.pid);
  if (st === undefined) {
    try {
      process.kill(holder.pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  if (st === null || st.state === 'Z') return false;
  if (holder.startTicks !== null) return st.startTicks === holder.startTicks;
  try {
    // An older agent's daemon: `node .../agent.js daemon ...` (arguments NUL-separated).
    const args = readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').split('\0');
    return args.some((a) => a.endsWith('agent.js')) && args.includes('daemon');
  } catch {
    return false;
  }
}

export function readHolder(lock: string): LockHolder | null {
  try {
    return parseHolder(readFileSync(lock, 'utf8'));
  } catch {
    return null;
  }
}

/** Takes the lock unless a live process holds it; a stale lock (dead holder, reused pid, zombie,
 * unreadable content) is removed and taken over. */
export function tryLock(lock: string): { held: true } | { held: false; holder: LockHolder } {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      const me = selfHolder();
      writeSync(fd, `${me.pid}${me.startTicks === null ? '' : ` ${me.startTicks}`}\n`);
      closeSync(fd);
      return { held: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(lock);
    if (holder && holderAlive(holder)) return { held: false, holder };
    // A holder between its open and its write reads as empty: give it a moment before calling the
    // lock stale.
    if (!holder && attempt < 2) {
      const until = Date.now() + 20;
      while (Date.now() < until) {
        /* a few ms, synchronously: callers take locks at start-up */
      }
      continue;
    }
    try {
      unlinkSync(lock);
    } catch {
      /* another starter removed it first */
    }
  }
  throw new Error(`cannot take the lock ${lock}: remove it if no jetbench agent runs`);
}

/** Removes the lock if this process holds it. */
export function releaseLock(lock: string): void {
  const holder = readHolder(lock);
  if (holder?.pid !== process.pid) return;
  try {
    unlinkSync(lock);
  } catch {
    /* gone */
  }
}
