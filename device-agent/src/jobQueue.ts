// Runs jobs one at a time in arrival order: measurements must not share the accelerator. Every
// client attached to the agent can see the queue (QueueState) and is told when it changes. A job
// also waits for the machine (measureLock.ts) when another agent measures there; a waiting job can
// be withdrawn at once.
import { JobCancelledError } from './errors';
import { LockWaitAbandoned } from './measureLock';
import type { QueueJob, QueueState } from '../../contract/protocol';

export type JobInfo = Pick<QueueJob, 'kind' | 'runId' | 'title' | 'client'>;

/** Takes the machine for one job (resolves with its release); `onWait` says whom the job waits for. */
export type MachineGate = (opts: { onWait(message: string): void; isAbandoned(): boolean }) => Promise<() => void>;

/** At most this many jobs go into a queue notification: a queue of thousands of runs would
 * otherwise send megabytes to every client on every change. `total` gives the full count. */
export const QUEUE_JOBS_SENT = 50;
/** Queue notifications are coalesced: at most one per this interval per agent. */
export const QUEUE_NOTIFY_MS = 100;

export class JobQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly jobs: QueueJob[] = [];
  private readonly withdrawn = new WeakSet<QueueJob>();
  private nextId = 1;
  private readonly listeners = new Set<(state: QueueState) => void>();
  private notifyTimer: NodeJS.Timeout | null = null;
  private lastNotify = 0;

  constructor(private readonly gate: MachineGate | null = null) {}

  /** True while a job runs or waits. */
  get busy(): boolean {
    return this.jobs.length > 0;
  }

  /** Jobs running or waiting. */
  get pending(): number {
    return this.jobs.length;
  }

  /** The running job first, then at most `limit` jobs in all; `total` counts every job. */
  state(limit = Number.POSITIVE_INFINITY): QueueState {
    return { jobs: this.jobs.slice(0, limit).map((j) => ({ ...j })), total: this.jobs.length };
  }

  /** Called with the new (bounded) state after changes, at most once per QUEUE_NOTIFY_MS; the
   * last change is always delivered. Returns the unsubscribe function. */
  onChange(listener: (state: QueueState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `onWait` hears that the job waits for another agent's measuring job on this machine. */
  run<T>(
    job: () => Promise<T>,
    info: JobInfo = { kind: 'run', runId: null, title: 'job', client: 'unknown' },
    onWait: (message: string) => void = () => undefined,
  ): Promise<T> {
    const entry: QueueJob = { ...info, jobId: this.nextId++, state: 'queued', submittedAt: new Date().toISOString() };
    this.jobs.push(entry);
    this.changed();
    const result = this.tail.then(async () => {
      if (this.withdrawn.has(entry)) throw new JobCancelledError(`${info.title} was cancelled while it waited for its turn: nothing was measured`);
      let release: () => void = () => undefined;
      if (this.gate) {
        try {
          release = await this.gate({ onWait, isAbandoned: () => this.withdrawn.has(entry) });
        } catch (e) {
          if (e instanceof LockWaitAbandoned) throw new JobCancelledError(`${info.title} was cancelled while it waited for the machine: nothing was measured`);
          throw e;
        }
      }
      entry.state = 'running';
      this.changed();
      try {
        return await job();
      } finally {
        release();
      }
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => this.remove(entry));
  }

  /** Takes a run that has not started yet out of the queue: its job will not run (its promise
   * rejects with JobCancelledError). False when the run is running or unknown. A job waiting for
   * the machine counts as not started. */
  withdraw(runId: string): boolean {
    const entry = this.jobs.find((j) => j.runId === runId && j.state === 'queued');
    if (!entry) return false;
    this.withdrawn.add(entry);
    this.remove(entry);
    return true;
  }

  private remove(entry: QueueJob): void {
    const i = this.jobs.indexOf(entry);
    if (i < 0) return;
    this.jobs.splice(i, 1);
    this.changed();
  }

  private changed(): void {
    if (this.notifyTimer) return;
    const wait = this.lastNotify + QUEUE_NOTIFY_MS - Date.now();
    if (wait <= 0) return this.notify();
    this.notifyTimer = setTimeout(() => this.notify(), wait);
    this.notifyTimer.unref?.();
  }

  private notify(): void {
    this.notifyTimer = null;
    this.lastNotify = Date.now();
    const state = this.state(QUEUE_JOBS_SENT);
    for (const listener of this.listeners) listener(state);
  }
}
