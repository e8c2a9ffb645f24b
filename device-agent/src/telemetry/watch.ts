// Samples the device's sensors in the background while a run goes (issue 14): an idle baseline
// before warm-up where power is readable (the agent's process and the model already loaded, so the
// baseline is the device holding the job, not an empty device), then warm-up and measurement, the
// phases marked as the runner enters them. Reads are async and skipped while the previous one is
// still out, so a slow sensor lowers the achieved rate rather than piling reads up.
import type { OverCurrentCount, Telemetry } from '../../../contract/protocol';
import { buildTelemetry, type PhaseMark, type TelemetryReading } from '../../../contract/telemetry';
import { Sensors } from './sensors';

/** Sampling rate (Hz): JETBENCH_TELEMETRY_HZ, 1-100, default 10. */
export function telemetryHz(env: NodeJS.ProcessEnv = process.env): number {
  const hz = Number(env.JETBENCH_TELEMETRY_HZ);
  return Number.isFinite(hz) && hz >= 1 && hz <= 100 ? hz : 10;
}

/** Idle baseline before warm-up (ms): JETBENCH_TELEMETRY_IDLE_MS, 0-60000, default 2000; only
 * taken where power is readable (it exists to subtract idle power from energy per inference). */
export function idleBaselineMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.JETBENCH_TELEMETRY_IDLE_MS);
  return Number.isFinite(ms) && ms >= 0 && ms <= 60_000 ? ms : 2000;
}

export class TelemetryWatch {
  private readonly readings: TelemetryReading[] = [];
  private readonly marks: PhaseMark[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private pending: Promise<void> | null = null;
  private ocStart: Array<{ counter: string; value: number | null }> = [];

  private constructor(
    private readonly sensors: Sensors,
    readonly hz: number,
  ) {}

  /** The watch for this device, or null when it has no sensor the agent can read. */
  static async open(root: string, hz = telemetryHz()): Promise<TelemetryWatch | null> {
    const sensors = await Sensors.find(root);
    return sensors.empty ? null : new TelemetryWatch(sensors, hz);
  }

  get hasPower(): boolean {
    return this.sensors.power !== null;
  }

  private sample(): void {
    if (this.pending) return;
    this.pending = this.sensors
      .read(performance.now())
      .then((r) => void this.readings.push(r))
      .catch(() => undefined)
      .finally(() => (this.pending = null));
  }

  async start(): Promise<void> {
    this.ocStart = await this.sensors.overCurrentCounts();
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000 / this.hz);
    this.timer.unref?.();
  }

  /** A phase begins (at `atMs` on performance.now()'s clock, default now). */
  mark(phase: PhaseMark['phase'], atMs = performance.now()): void {
    this.marks.push({ phase, atMs });
  }

  /** Waits `ms` as the idle baseline (marked `idle`), or less when the signal aborts. */
  async idle(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0) return;
    this.mark('idle');
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }

  /** Stops sampling and summarises, `measured` inferences having been measured. */
  async finish(measured: number): Promise<Telemetry> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pending;
    const endMs = performance.now();
    this.readings.push(await this.sensors.read(endMs));
    const ocEnd = await this.sensors.overCurrentCounts();
    const overCurrent: OverCurrentCount[] = [];
    for (const start of this.ocStart) {
      const end = ocEnd.find((c) => c.counter === start.counter);
      if (start.value !== null && end?.value != null) overCurrent.push({ counter: start.counter, start: start.value, end: end.value });
    }
    return buildTelemetry(this.readings, this.marks, endMs, measured, {
      sources: this.sensors.sources,
      requestedHz: this.hz,
      totalPowerRule: this.sensors.power?.totalRule ?? null,
      ...(overCurrent.length > 0 ? { overCurrent } : {}),
      passiveTripC: this.sensors.passiveTripC,
    });
  }

  /** Stops sampling without a summary (a run that failed before measuring). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
