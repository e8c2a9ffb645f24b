// Runs jobs one at a time in arrival order: measurements must not share the accelerator. Every
// client attached to the agent can see the queue (QueueState) and is told when it changes.
import type { QueueJob, QueueState } from '../../contract/protocol';

export type JobInfo = Pick<QueueJob, 'kind' | 'runId' | 'title' | 'client'>;

export class JobQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly jobs: QueueJob[] = [];
  private nextId = 1;
  private readonly listeners = new Set<(state: QueueState) => void>();

  /** True while a job runs or waits. */
  get busy(): boolean {
    return this.jobs.length > 0;
  }

  /** Jobs running or waiting. */
  get pending(): number {
    return this.jobs.length;
  }

  state(): QueueState {
    return { jobs: this.jobs.map((j) => ({ ...j })) };
  }

  /** Called with the new state after every change; returns the unsubscribe function. */
  onChange(listener: (state: QueueState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  run<T>(job: () => Promise<T>, info: JobInfo = { kind: 'run', runId: null, title: 'job', client: 'unknown' }): Promise<T> {
    const entry: QueueJob = { ...info, jobId: this.nextId++, state: 'queued', submittedAt: new Date().toISOString() };
    this.jobs.push(entry);
    this.changed();
    const result = this.tail.then(() => {
      entry.state = 'running';
      this.changed();
      return job();
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.jobs.splice(this.jobs.indexOf(entry), 1);
      this.changed();
    });
  }

  private changed(): void {
    const state = this.state();
    for (const listener of this.listeners) listener(state);
  }
}
