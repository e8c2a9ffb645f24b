// Runs the agent's Python helper for TVM (device-agent/python/jetbench_tvm.py) with the device's
// Python: one-shot commands (probe, build) that stream JSON-line events, and a serving process
// that answers one timed inference per request line.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';

/** How long a cancelled helper gets to stop by itself before it is killed. */
const CANCEL_GRACE_MS = 5000;

export interface HelperEvent {
  event: 'progress' | 'done' | 'error' | 'ready';
  message?: string;
  kind?: string;
  [key: string]: unknown;
}

/** A failure the helper reported (kind: no-tvm, unsupported-op, no-cuda, cancelled, ...). */
export class HelperError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

export function helperScript(): string {
  const candidates = [path.join(__dirname, 'python', 'jetbench_tvm.py'), path.resolve(__dirname, '../../python/jetbench_tvm.py')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`jetbench_tvm.py not found beside the agent (looked in ${candidates.join(', ')})`);
  return found;
}

function spawnHelper(python: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(python, ['-u', helperScript(), ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
}

function spawnFailure(python: string, e: NodeJS.ErrnoException): HelperError {
  return e.code === 'ENOENT'
    ? new HelperError('no-python', `Python '${python}' was not found on this device: install Python 3 or give the right one (--python /path/to/python3)`)
    : new HelperError('no-python', `cannot start Python '${python}': ${e.message}`);
}

/** Runs a one-shot helper command; resolves to its `done` event, rejects with its `error`. */
export function runHelper(
  python: string,
  command: 'probe' | 'build',
  spec: object,
  opts: { onEvent?: (e: HelperEvent) => void; signal?: AbortSignal; stderr?: (t: string) => void } = {},
): Promise<HelperEvent> {
  return new Promise((resolve, reject) => {
    const child = spawnHelper(python, [command, JSON.stringify(spec)]);
    let done: HelperEvent | null = null;
    let error: HelperError | null = null;
    let stderrTail = '';
    // Cancel: SIGINT lets Python stop between MetaSchedule batches; records already measured stay
    // in the tuning log (the JSON database appends per record). If it does not stop soon, kill it.
    let killTimer: NodeJS.Timeout | null = null;
    const onAbort = () => {
      if (error) return;
      error = new HelperError('cancelled', `${command} cancelled`);
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), CANCEL_GRACE_MS);
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderrTail = (stderrTail + t).slice(-4000);
      opts.stderr?.(t);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let e: HelperEvent;
      try {
        e = JSON.parse(line) as HelperEvent;
      } catch {
        return; // TVM's own prints; they carry no events
      }
      if (e.event === 'done') done = e;
      else if (e.event === 'error') error ??= new HelperError(e.kind ?? 'internal', e.message ?? 'TVM helper failed');
      else opts.onEvent?.(e);
    });
    child.on('error', (e) => reject(spawnFailure(python, e)));
    child.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (error) reject(error);
      else if (done && code === 0) resolve(done);
      else {
        const last = stderrTail.trim().split('\n').slice(-3).join(' | ');
        reject(new HelperError('crashed', `the TVM helper ${signal ? `was killed by ${signal}` : `exited with code ${code}`} during ${command}${last ? `: ${last}` : ''}`));
      }
    });
  });
}

/** A serving helper process: a loaded module and its inputs, answering requests line by line. */
export class HelperSession {
  private readonly lines: Interface;
  private readonly waiting: Array<{ resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  private closedError: Error | null = null;
  private stderrTail = '';

  /** The helper's `ready` event: the TVM version and the Python (path, version) serving the module. */
  ready: HelperEvent = { event: 'ready' };

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.resolve(line));
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      this.stderrTail = (this.stderrTail + t).slice(-4000);
    });
    child.on('close', (code, signal) => {
      const last = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
      this.closedError = new HelperError('crashed', `the TVM helper ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${last ? `: ${last}` : ''}`);
      for (const w of this.waiting.splice(0)) w.reject(this.closedError);
    });
  }

  static async start(python: string, spec: object): Promise<HelperSession> {
    const child = spawnHelper(python, ['serve', JSON.stringify(spec)]);
    const session = new HelperSession(child);
    const spawned = new Promise<never>((_, reject) => child.on('error', (e) => reject(spawnFailure(python, e))));
    const first = JSON.parse(await Promise.race([session.next(), spawned])) as HelperEvent;
    if (first.event !== 'ready') {
      await session.close();
      throw new HelperError(first.kind ?? 'internal', first.message ?? 'the TVM helper did not start');
    }
    session.ready = first;
    return session;
  }

  private next(): Promise<string> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Sends one request line and resolves to the helper's one answer line. */
  request(line: string): Promise<string> {
    const answer = this.next();
    this.child.stdin.write(line + '\n');
    return answer;
  }

  async close(): Promise<void> {
    if (this.closedError) return;
    const closed = new Promise<void>((r) => this.child.once('close', () => r()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await closed;
    clearTimeout(timer);
  }
}
