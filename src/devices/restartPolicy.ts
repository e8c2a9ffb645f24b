// When an agent's connection closes unexpectedly: restart it after a growing delay, and give up
// when it keeps dying (a crash loop would otherwise spin). Pure code, unit-tested.

export interface RestartDecision {
  restart: boolean;
  /** Wait this long before starting the agent again. */
  delayMs: number;
  /** Closures counted within the window, this one included. */
  recentClosures: number;
}

/** Back-off steps; the last repeats. */
export const RESTART_DELAYS_MS: readonly number[] = [0, 500, 2000, 5000];

/** How many closures within how long a window are restarted (the settings `agent.maxRestarts`,
 * `agent.restartWindowS`). */
export interface RestartLimits {
  maxRestarts: number;
  restartWindowMs: number;
}

export class RestartPolicy {
  private closures: number[] = [];

  constructor(
    private readonly maxRestarts: number,
    private readonly windowMs: number,
  ) {}

  static from(limits: RestartLimits): RestartPolicy {
    return new RestartPolicy(limits.maxRestarts, limits.restartWindowMs);
  }

  get limits(): RestartLimits {
    return { maxRestarts: this.maxRestarts, restartWindowMs: this.windowMs };
  }

  /** Records an unexpected closure at `nowMs` and decides what follows. */
  closed(nowMs: number): RestartDecision {
    this.closures = this.closures.filter((t) => nowMs - t < this.windowMs);
    this.closures.push(nowMs);
    const n = this.closures.length;
    if (n > this.maxRestarts) return { restart: false, delayMs: 0, recentClosures: n };
    return { restart: true, delayMs: RESTART_DELAYS_MS[Math.min(n - 1, RESTART_DELAYS_MS.length - 1)]!, recentClosures: n };
  }
}
