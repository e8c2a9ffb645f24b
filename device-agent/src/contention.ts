// What else used the device's CPUs while a run measured: two snapshots of /proc (before and after
// the measured phase, outside the timed loop) turned into findings for the run's verdict. Linux
// only; elsewhere, or where /proc cannot be read, nothing is claimed and the verdict says so.
import { readFile, readdir } from 'node:fs/promises';
import type { Finding } from '../../contract/validity';
import { contentionFindings, type ProcSnapshot } from '../../contract/validityRules';

/** Jiffies per second of /proc's CPU times (USER_HZ): 100 on every Linux our devices run. */
const USER_HZ = 100;

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/** One process's fields from /proc/<pid>/stat: the name is in parentheses and may hold spaces or ')'. */
function parsePidStat(text: string): { name: string; ppid: number; ticks: number } | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] = state (field 3), ppid = field 4, utime = field 14, stime = field 15.
  const ppid = Number(rest[1]);
  const ticks = Number(rest[11]) + Number(rest[12]);
  if (!Number.isFinite(ppid) || !Number.isFinite(ticks)) return null;
  return { name: text.slice(open + 1, close), ppid, ticks };
}

/** A snapshot of the CPU times of the whole machine and of every process; null off Linux. */
export async function snapshotProc(root = '/proc'): Promise<ProcSnapshot | null> {
  const stat = await readText(`${root}/stat`);
  const cpu = stat?.split('\n').find((l) => l.startsWith('cpu '));
  if (!cpu) return null;
  // user nice system idle iowait irq softirq steal (guest times are inside user/nice).
  const f = cpu.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const load = await readText(`${root}/loadavg`);
  const processes: ProcSnapshot['processes'] = [];
  for (const entry of await readdir(root).catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readText(`${root}/${entry}/stat`);
    const p = text ? parsePidStat(text) : null;
    if (p) processes.push({ pid: Number(entry), ...p });
  }
  return {
    atMs: performance.now(),
    totalTicks: total,
    stealTicks: f[7] ?? 0,
    loadAverage1: load ? Number(load.split(' ')[0]) : null,
    processes,
    ticksPerSecond: USER_HZ,
  };
}

/** Watches one measured phase: `start()` before it, `findings()` after it. */
export class ContentionWatch {
  private before: ProcSnapshot | null = null;
  constructor(private readonly cpuCount: number, private readonly selfPid = process.pid) {}

  async start(): Promise<void> {
    this.before = await snapshotProc();
  }

  /** Findings over the watched span; null when the device gave nothing to judge (not Linux). */
  async findings(): Promise<Finding[] | null> {
    if (!this.before) return null;
    const after = await snapshotProc();
    if (!after) return null;
    return contentionFindings(this.before, after, { cpuCount: this.cpuCount, selfPid: this.selfPid });
  }
}
