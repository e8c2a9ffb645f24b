// NVML telemetry of a discrete NVIDIA GPU (issue 14) through the agent's Python helper
// (device-agent/python/jetbench_nvml.py: ctypes on libnvidia-ml.so.1, so nothing is built on the
// device). The helper streams JSON lines; the watch attaches the latest one to each of its readings.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** One line of the helper. */
export interface NvmlSample {
  /** ms on CLOCK_MONOTONIC (Python's time.monotonic, the clock of process.hrtime). */
  t: number;
  energyMj?: number;
  powerMw?: number;
  powerAvgMw?: number;
  smMhz?: number;
  memMhz?: number;
  tempC?: number;
  utilGpu?: number;
  reasons?: number;
}

export interface NvmlHello {
  name: string;
  driver: string;
  powerLimitMw: number | null;
  maxSmClockMhz: number | null;
}

export function nvmlHelperPath(): string | null {
  // dist/agent.js has it in dist/python/; the sources (tsx) in device-agent/python/.
  const candidates = [path.join(__dirname, 'python', 'jetbench_nvml.py'), path.resolve(__dirname, '../../python/jetbench_nvml.py')];
  return candidates.find((c) => existsSync(c)) ?? null;
}

export class NvmlStream {
  latest: NvmlSample | null = null;
  /** performance.now() - this = ms on CLOCK_MONOTONIC. */
  private readonly offsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now();

  private constructor(
    private readonly child: ChildProcess,
    readonly hello: NvmlHello,
  ) {}

  /** The helper started and answering, or the reason there is no NVML telemetry. */
  static open(python: string, hz: number, timeoutMs = 10_000): Promise<NvmlStream | { unavailable: string }> {
    const helper = nvmlHelperPath();
    if (!helper) return Promise.resolve({ unavailable: 'the NVML helper jetbench_nvml.py is not beside the agent' });
    return new Promise((resolve) => {
      const child = spawn(python, [helper, '--hz', String(hz)], { stdio: ['pipe', 'pipe', 'ignore'] });
      let stream: NvmlStream | null = null;
      let settled = false;
      const settle = (v: NvmlStream | { unavailable: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!(v instanceof NvmlStream)) child.kill();
        resolve(v);
      };
      const timer = setTimeout(() => settle({ unavailable: `the NVML helper did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
      child.on('error', (e) => settle({ unavailable: `Python '${python}' could not start the NVML helper (${e.message})` }));
      child.on('exit', (code) => settle({ unavailable: `the NVML helper exited (code ${code}) before answering` }));
      child.stdin?.on('error', () => undefined);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let msg: { hello?: NvmlHello; error?: string } & Partial<NvmlSample>;
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return;
        }
        if (msg.error) return settle({ unavailable: msg.error });
        if (msg.hello) {
          stream = new NvmlStream(child, msg.hello);
          return settle(stream);
        }
        if (stream && typeof msg.t === 'number') {
          stream.latest = msg as NvmlSample;
          stream.history.push(msg as NvmlSample);
          // Ten minutes at 100 Hz; a longer run keeps its latest samples.
          if (stream.history.length > 60_000) stream.history.splice(0, 10_000);
        }
      });
    });
  }

  /** Every sample so far (bounded), in arrival order. */
  readonly history: NvmlSample[] = [];

  /** The sample nearest `atMs` (performance.now()'s clock), within `withinMs`; undefined if none. */
  nearest(atMs: number, withinMs: number): NvmlSample | undefined {
    const target = atMs + this.offsetMs;
    const best = nearestBy(this.history, target, (s) => s.t);
    return best && Math.abs(best.t - target) <= withinMs ? best : undefined;
  }

  close(): void {
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
  }
}

/** The item of `sorted` (ascending by `time`) nearest `target`, by binary search. */
export function nearestBy<T>(sorted: readonly T[], target: number, time: (item: T) => number): T | undefined {
  if (sorted.length === 0) return undefined;
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (time(sorted[mid]!) < target) lo = mid + 1;
    else hi = mid;
  }
  const after = sorted[lo]!;
  const before = lo > 0 ? sorted[lo - 1]! : after;
  return Math.abs(time(before) - target) <= Math.abs(time(after) - target) ? before : after;
}
