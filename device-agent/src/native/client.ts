// The agent's handle on its native worker process: forks `agent.js native-worker`, sends requests
// over IPC, and turns the worker's death into an error for every pending request, so a native
// crash ends one job, never the agent.
import { fork, type ChildProcess } from 'node:child_process';
import { agentScript } from '../agentScript';
import { BackendUnavailableError, BadInputError } from '../errors';
import type { NativeBuildInfo } from './binding';
import type { PipelineJob, PipelineJobResult, TensorRtJob, TensorRtOpened, WorkerBatch, WorkerMessage, WorkerRequest } from './messages';

/** The worker died (a native crash, or killed) while requests were pending. */
export class NativeWorkerCrashedError extends Error {
  override name = 'NativeWorkerCrashedError';
}

interface Pending {
  op: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  onEvent?(m: WorkerMessage): void;
}

export class NativeWorker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitError: Error | null = null;
  private stderrTail = '';
  readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: WorkerMessage) => this.onMessage(m));
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      this.stderrTail = (this.stderrTail + t).slice(-2000);
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        const last = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
        this.exitError = new NativeWorkerCrashedError(
          `the native worker ${signal ? `crashed (${signal})` : `exited with code ${code}`}${last ? `: ${last}` : ''}; the agent is still running and starts a new worker for the next job`,
        );
        for (const [, p] of this.pending) p.reject(new NativeWorkerCrashedError(`${this.exitError.message} (during ${p.op})`));
        this.pending.clear();
        resolve();
      });
    });
  }

  static start(env: NodeJS.ProcessEnv = process.env): NativeWorker {
    const child = fork(agentScript(), ['native-worker'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      execArgv: ['--no-deprecation'],
    });
    return new NativeWorker(child);
  }

  private onMessage(m: WorkerMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.event === 'result') {
      this.pending.delete(m.id);
      p.resolve(m.value);
    } else if (m.event === 'error') {
      this.pending.delete(m.id);
      p.reject(m.code === 'EINVAL' ? new BadInputError(m.message) : m.code === 'EUNAVAILABLE' ? new BackendUnavailableError(m.message) : new Error(m.message));
    } else {
      p.onEvent?.(m);
    }
  }

  private request<T>(req: Omit<WorkerRequest, 'id'>, onEvent?: (m: WorkerMessage) => void): { id: number; done: Promise<T> } {
    const id = this.nextId++;
    const done = new Promise<T>((resolve, reject) => {
      if (this.exitError) {
        reject(this.exitError);
        return;
      }
      this.pending.set(id, { op: req.op, resolve: resolve as (v: unknown) => void, reject, ...(onEvent ? { onEvent } : {}) });
      this.child.send({ ...req, id } as WorkerRequest);
    });
    return { id, done };
  }

  info(): Promise<NativeBuildInfo> {
    return this.request<NativeBuildInfo>({ op: 'info' }).done;
  }

  /** Runs a pipeline job; `signal`'s abort is forwarded to the worker; batches stream as they come. */
  async runPipeline(
    job: PipelineJob,
    hooks: { onReady(ran: { runtimeVersion: string }): void; onBatch(b: WorkerBatch): void; onProgress(message: string): void; signal: AbortSignal },
  ): Promise<PipelineJobResult> {
    const { id, done } = this.request<PipelineJobResult>({ op: 'pipeline', job } as Omit<WorkerRequest, 'id'>, (m) => {
      if (m.event === 'batch') hooks.onBatch(m);
      else if (m.event === 'progress') hooks.onProgress(m.message);
      else if (m.event === 'ready') hooks.onReady({ runtimeVersion: m.runtimeVersion });
    });
    const onAbort = () => {
      if (!this.exitError) this.child.send({ id: this.nextId++, op: 'cancel', target: id } satisfies WorkerRequest);
    };
    if (hooks.signal.aborted) onAbort();
    else hooks.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await done;
    } finally {
      hooks.signal.removeEventListener('abort', onAbort);
    }
  }

  openTensorRt(job: TensorRtJob): Promise<TensorRtOpened> {
    return this.request<TensorRtOpened>({ op: 'tensorrt.open', job } as Omit<WorkerRequest, 'id'>).done;
  }

  inferTensorRt(): Promise<number> {
    return this.request<number>({ op: 'tensorrt.infer' }).done;
  }

  profileTensorRt(): Promise<Array<{ name: string; ms: number }>> {
    return this.request<Array<{ name: string; ms: number }>>({ op: 'tensorrt.profile' }).done;
  }

  /** Test hook: asks the worker to crash natively (it refuses unless JETBENCH_NATIVE_TEST_CRASH is set). */
  crashForTest(): Promise<never> {
    return this.request<never>({ op: 'crash' }).done;
  }

  async dispose(): Promise<void> {
    if (this.exitError) return;
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}
