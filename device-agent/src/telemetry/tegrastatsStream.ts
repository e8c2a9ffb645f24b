// tegrastats as a telemetry source (issue 14): the fallback on a Jetson whose INA3221 rails cannot be
// read from sysfs (on some boards they are root-only). Runs `tegrastats --interval MS` and keeps the
// latest line parsed (contract/tegrastats.ts); the watch takes from it what sysfs did not give.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseTegrastatsLine, type TegrastatsSample } from '../../../contract/tegrastats';
import { nearestBy } from './nvml';

/** tegrastats: $JETBENCH_TEGRASTATS, else on PATH or in /usr/bin (JetPack puts it there); null when absent. */
export function findTegrastats(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.JETBENCH_TEGRASTATS) return existsSync(env.JETBENCH_TEGRASTATS) ? env.JETBENCH_TEGRASTATS : null;
  for (const dir of [...(env.PATH ?? '').split(path.delimiter), '/usr/bin']) {
    const candidate = path.join(dir, 'tegrastats');
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

export class TegrastatsStream {
  latest: TegrastatsSample | null = null;
  /** Samples with the time they arrived (performance.now()), bounded. */
  private readonly history: Array<{ atMs: number; sample: TegrastatsSample }> = [];

  /** The sample that arrived nearest `atMs`, within `withinMs`; undefined if none. */
  nearest(atMs: number, withinMs: number): TegrastatsSample | undefined {
    const best = nearestBy(this.history, atMs, (h) => h.atMs);
    return best && Math.abs(best.atMs - atMs) <= withinMs ? best.sample : undefined;
  }

  private constructor(private readonly child: ChildProcess) {}

  /** Started and printing, or why not (within `timeoutMs`: tegrastats prints its first line after one interval). */
  static open(binary: string, intervalMs: number, timeoutMs = 3000 + intervalMs): Promise<TegrastatsStream | { unavailable: string }> {
    return new Promise((resolve) => {
      const child = spawn(binary, ['--interval', String(Math.max(1, Math.round(intervalMs)))], { stdio: ['ignore', 'pipe', 'ignore'] });
      const stream = new TegrastatsStream(child);
      let settled = false;
      const settle = (v: TegrastatsStream | { unavailable: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (v !== stream) child.kill();
        resolve(v);
      };
      const timer = setTimeout(() => settle({ unavailable: `${binary} printed no line within ${timeoutMs / 1000} s` }), timeoutMs);
      child.on('error', (e) => settle({ unavailable: `${binary} could not start (${e.message})` }));
      child.on('exit', (code) => settle({ unavailable: `${binary} exited (code ${code}) before printing a line` }));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const sample = parseTegrastatsLine(line);
        if (!sample) return;
        stream.latest = sample;
        stream.history.push({ atMs: performance.now(), sample });
        if (stream.history.length > 60_000) stream.history.splice(0, 10_000);
        settle(stream);
      });
    });
  }

  close(): void {
    this.child.kill('SIGTERM');
  }
}
