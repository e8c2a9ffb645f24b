// Runs the agent's Python helpers (device-agent/python/: jetbench_tvm.py for TVM, jetbench_torch.py
// for PyTorch) with the device's Python, one protocol for both: one-shot commands (probe, build)
// that stream JSON-line events, and a serving process that answers one timed inference per request
// line.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { ModelInfo, PythonInfo, RunSpec } from '../../../contract/protocol';
import { BackendUnavailableError, BadInputError } from '../errors';
import { float16ToNumber, makeInput, type InputData } from '../inputs';
import { concreteInputShape } from '../modelInfo';

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

/** Which helper: its script and the engine it drives, for messages ("the TVM helper"). */
export interface Helper {
  script: 'jetbench_tvm.py' | 'jetbench_torch.py';
  engine: string;
}

export const TVM_HELPER: Helper = { script: 'jetbench_tvm.py', engine: 'TVM' };
export const TORCH_HELPER: Helper = { script: 'jetbench_torch.py', engine: 'PyTorch' };

export function helperScript(helper: Helper = TVM_HELPER): string {
  const candidates = [path.join(__dirname, 'python', helper.script), path.resolve(__dirname, '../../python', helper.script)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${helper.script} not found beside the agent (looked in ${candidates.join(', ')})`);
  return found;
}

function spawnHelper(helper: Helper, python: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(python, ['-u', helperScript(helper), ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
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
  opts: { onEvent?: (e: HelperEvent) => void; signal?: AbortSignal; stderr?: (t: string) => void; helper?: Helper } = {},
): Promise<HelperEvent> {
  const helper = opts.helper ?? TVM_HELPER;
  return new Promise((resolve, reject) => {
    const child = spawnHelper(helper, python, [command, JSON.stringify(spec)]);
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
        return; // the engine's own prints; they carry no events
      }
      if (e.event === 'done') done = e;
      else if (e.event === 'error') error ??= new HelperError(e.kind ?? 'internal', e.message ?? `the ${helper.engine} helper failed`);
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
        reject(new HelperError('crashed', `the ${helper.engine} helper ${signal ? `was killed by ${signal}` : `exited with code ${code}`} during ${command}${last ? `: ${last}` : ''}`));
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

  /** The helper's `ready` event: the engine's version and the Python (path, version) serving the model. */
  ready: HelperEvent = { event: 'ready' };

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    helper: Helper,
  ) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.resolve(line));
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      this.stderrTail = (this.stderrTail + t).slice(-4000);
    });
    child.on('close', (code, signal) => {
      const last = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
      this.closedError = new HelperError('crashed', `the ${helper.engine} helper ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${last ? `: ${last}` : ''}`);
      for (const w of this.waiting.splice(0)) w.reject(this.closedError);
    });
  }

  static async start(python: string, spec: object, helper: Helper = TVM_HELPER): Promise<HelperSession> {
    const child = spawnHelper(helper, python, ['serve', JSON.stringify(spec)]);
    const session = new HelperSession(child, helper);
    const spawned = new Promise<never>((_, reject) => child.on('error', (e) => reject(spawnFailure(python, e))));
    const first = JSON.parse(await Promise.race([session.next(), spawned])) as HelperEvent;
    if (first.event !== 'ready') {
      await session.close();
      throw new HelperError(first.kind ?? 'internal', first.message ?? `the ${helper.engine} helper did not start`);
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

const probes = new Map<string, Promise<unknown>>();

/** The helper's `probe` answer for this Python (what the engine is, whether it sees a GPU), asked
 * once per helper and Python; a failure is returned, not thrown, so status() can show it. */
export function probeHelper<T>(helper: Helper, python: string): Promise<T | HelperError> {
  const key = `${helper.script}\0${python}`;
  let p = probes.get(key) as Promise<T | HelperError> | undefined;
  if (!p) {
    p = runHelper(python, 'probe', {}, { helper }).then(
      (e) => e as unknown as T,
      (e: unknown) => (e instanceof HelperError ? e : new HelperError('internal', String(e))),
    );
    probes.set(key, p);
  }
  return p;
}

/** Errors of a helper become the agent's typed errors: bad input vs. unavailable backend. */
export function translate(e: unknown): Error {
  if (!(e instanceof HelperError)) return e instanceof Error ? e : new Error(String(e));
  if (['no-python', 'no-tvm', 'no-torch', 'too-old', 'no-cuda', 'missing-dependency', 'no-cross-compiler'].includes(e.kind)) return new BackendUnavailableError(e.message);
  if (['unsupported-op', 'import-failed', 'bad-model', 'unsupported', 'rpc-needs-tracker', 'rpc-unreachable', 'rpc-no-server'].includes(e.kind)) return new BadInputError(e.message);
  return e;
}

/** The model's inputs (the agent's deterministic input data) as raw files a helper reads. */
export async function writeHelperInputs(model: ModelInfo, spec: RunSpec, dir: string): Promise<Array<{ name: string; dtype: string; shape: number[]; file: string }>> {
  const inputs = [];
  for (const [i, input] of model.inputs.entries()) {
    const shape = concreteInputShape(input, i === 0 ? spec.inputShape : null);
    const data = makeInput(input.name, input.dtype, shape);
    const file = path.join(dir, `input${i}.bin`);
    await writeFile(file, Buffer.from(data.data.buffer, data.data.byteOffset, data.data.byteLength));
    inputs.push({ name: input.name, dtype: input.dtype, shape, file });
  }
  return inputs;
}

/** The outputs of one inference on inputs of the caller's (real frames): the inputs written as
 * float32 files, the helper's `f DIR` (it casts them to its session's precision, copies them into
 * its inputs in place, runs once and writes the outputs). */
export async function helperOutputsFor(session: HelperSession, work: string, inputs: readonly InputData[]): Promise<Float32Array[]> {
  const dir = path.join(work, 'given');
  await mkdir(dir, { recursive: true });
  for (const [k, input] of inputs.entries()) {
    if (input.dtype !== 'float32') throw new Error(`a Python helper takes float32 inputs of the caller's, not ${input.dtype}`);
    await writeFile(path.join(dir, `input${k}.bin`), Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength));
  }
  return readHelperOutputs(JSON.parse(await session.request(`f ${dir}`)) as Array<{ file: string; dtype: string }>);
}

/** The outputs a helper wrote (`o DIR`), as float32 arrays for verification. */
export function readHelperOutputs(files: ReadonlyArray<{ file: string; dtype: string }>): Promise<Float32Array[]> {
  return Promise.all(files.map(async (f) => toFloat32(await readFile(f.file), f.dtype)));
}

function toFloat32(buf: Buffer, dtype: string): Float32Array {
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).slice();
  if (dtype === 'float32') return new Float32Array(bytes.buffer);
  if (dtype === 'float16') {
    const u16 = new Uint16Array(bytes.buffer);
    return Float32Array.from(u16, float16ToNumber);
  }
  throw new Error(`cannot compare outputs of type ${dtype}`);
}

/** The engine and Python that serve the model, as the serving helper reported them (the probe ran
 * the same interpreter: its answer stands in for a field the event lacks). */
export function servedBy(ready: HelperEvent, python: string, pythonVersion: string, versionKey: string, version: string): { version: string; python: PythonInfo } {
  const text = (v: unknown, fallback: string): string => (typeof v === 'string' && v.length > 0 ? v : fallback);
  return { version: text(ready[versionKey], version), python: { path: text(ready.python, python), version: text(ready.pythonVersion, pythonVersion) } };
}
