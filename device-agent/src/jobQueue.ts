// Runs jobs one at a time in arrival order: measurements must not share the accelerator.
export class JobQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private active = 0;

  /** True while a job runs or waits. */
  get busy(): boolean {
    return this.active > 0;
  }

  /** Jobs running or waiting. */
  get pending(): number {
    return this.active;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    this.active++;
    const result = this.tail.then(job);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.active--;
    });
  }
}
