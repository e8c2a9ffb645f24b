// Samples the device's sensors in the background while a run goes (issue 14): an idle baseline
// before warm-up where power is readable (the agent's process and the model already loaded, so the
// baseline is the device holding the job, not an empty device), then warm-up and measurement, the
// phases marked as the runner enters them. The sysfs files are read in a worker thread
// (device-agent/workers/telemetrySampler.cjs): ONNX Runtime's session.run holds the main thread for
// the whole inference, so a timer here would fire only between inferences. NVML and tegrastats
// stream from their own processes with their own times; each reading takes their sample nearest in
// time when the run ends.
import type { OverCurrentCount, PhaseMark, RunSpec, Telemetry, TelemetryLiveBatch, TelemetryLiveMeta, TelemetryNow, TelemetryReading } from '../../../contract/protocol';
import { buildTelemetry, telemetryNowOf } from '../../../contract/telemetry';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { NvmlStream } from './nvml';
import { Sensors } from './sensors';
import { findTegrastats, TegrastatsStream } from './tegrastatsStream';
import { readingOfTegrastats, tegrastatsTotalMw } from '../../../contract/tegrastats';

/** The run's energy where the CPU packages' RAPL counters measured it. */
export const RAPL_RULE = 'CPU packages (RAPL energy counters; DRAM, GPU and the rest of the machine not included)';

/** The sampler thread's script: dist/workers/ beside dist/agent.js, device-agent/workers/ from the sources. */
export function samplerScript(): string | null {
  const candidates = [path.join(__dirname, 'workers', 'telemetrySampler.cjs'), path.resolve(__dirname, '../../workers/telemetrySampler.cjs')];
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** How often a running benchmark's readings go to its clients (TelemetryLiveBatch). */
export const TELEMETRY_LIVE_MS = 500;

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

/** The Python that runs the NVML helper: the run's TVM Python where the spec names one (the
 * device's configured Python), else $JETBENCH_PYTHON, else python3. */
export function telemetryPython(spec: Pick<RunSpec, 'tvm' | 'pytorch'>, env: NodeJS.ProcessEnv = process.env): string {
  return spec.tvm?.python ?? spec.pytorch?.python ?? env.JETBENCH_PYTHON ?? 'python3';
}

export class TelemetryWatch {
  /** Watches sampling for a run now, by device root: telemetryNow answers from them. */
  private static readonly sampling = new Map<string, TelemetryWatch>();
  private root = '';
  private readonly readings: TelemetryReading[] = [];
  private readonly marks: PhaseMark[] = [];
  private worker: Worker | null = null;
  private stopped: Promise<void> | null = null;
  /** Stops the main-thread fallback sampler (no worker script). */
  private stopMainThread: (() => void) | null = null;
  private ocStart: Array<{ counter: string; value: number | null }> = [];
  /** The live feed's timer and how many readings it has sent. */
  private feedTimer: NodeJS.Timeout | null = null;
  private fed = 0;

  private constructor(
    private readonly sensors: Sensors,
    readonly hz: number,
    private readonly nvml: NvmlStream | null,
    private readonly unavailable: string[],
    private readonly tegrastats: TegrastatsStream | null = null,
  ) {}

  /** The watch for this device, or null when it has no sensor the agent can read. `nvmlPython`:
   * the Python to run the NVML helper with, on a device with a discrete NVIDIA GPU (null: none). */
  static async open(root: string, hz = telemetryHz(), nvmlPython: string | null = null): Promise<TelemetryWatch | null> {
    const [sensors, nvml] = await Promise.all([Sensors.find(root), nvmlPython ? NvmlStream.open(nvmlPython, hz) : Promise.resolve(null)]);
    const stream = nvml instanceof NvmlStream ? nvml : null;
    const unavailable = nvml && !(nvml instanceof NvmlStream) ? [`GPU power, clocks and throttling (NVML: ${nvml.unavailable})`] : [];
    // One energy counter per run: a GPU's NVML counter where there is one, else the CPU packages' RAPL.
    if (stream) sensors.dropRapl();
    else if (!sensors.power && sensors.raplUnreadable) unavailable.push(sensors.raplUnreadable);
    // No power rails in sysfs (root-only on some boards) but tegrastats present: its rails instead.
    let tegra: TegrastatsStream | null = null;
    const binary = !sensors.power && !stream ? findTegrastats() : null;
    if (binary) {
      const t = await TegrastatsStream.open(binary, 1000 / hz);
      if (t instanceof TegrastatsStream) tegra = t;
      else unavailable.push(`power rails (tegrastats: ${t.unavailable})`);
    }
    if (sensors.empty && !stream && !tegra) return null;
    const watch = new TelemetryWatch(sensors, hz, stream, unavailable, tegra);
    watch.root = root;
    return watch;
  }

  get hasPower(): boolean {
    const tegraPower = this.tegrastats?.latest ? tegrastatsTotalMw(this.tegrastats.latest.railsMw) !== null : false;
    return this.sensors.power !== null || this.sensors.rapl.length > 0 || tegraPower || this.nvml?.latest?.energyMj !== undefined || this.nvml?.latest?.powerMw !== undefined;
  }

  private sources(): string[] {
    return [...this.sensors.sources, ...(this.nvml ? ['nvml'] : []), ...(this.tegrastats ? ['tegrastats'] : [])];
  }

  /** How total power is taken: sysfs rails' rule, else tegrastats' rails' rule. */
  private totalPowerRule(): string | null {
    if (this.sensors.power) return this.sensors.power.totalRule;
    if (this.sensors.rapl.length > 0) return RAPL_RULE;
    const t = this.tegrastats?.latest;
    return t ? (tegrastatsTotalMw(t.railsMw)?.rule ?? null) : null;
  }

  /** A reading completed with what tegrastats and NVML said nearest its time (never overriding
   * a sysfs value with tegrastats'). */
  private enrich(r: TelemetryReading): TelemetryReading {
    const t = this.tegrastats?.nearest(r.tMs, 3000 / this.hz + 1100);
    if (t) {
      const fromTegra = readingOfTegrastats(t, r.tMs);
      const fill = <K extends keyof TelemetryReading>(key: K) => {
        if (r[key] === undefined && fromTegra[key] !== undefined) r[key] = fromTegra[key];
      };
      (['totalPowerMw', 'railsMw', 'cpuMinKHz', 'cpuMaxKHz', 'gpuHz', 'gpuLoadPercent', 'tempC'] as const).forEach(fill);
    }
    const n = this.nvml?.nearest(r.tMs, 3000 / this.hz + 100);
    if (n) {
      if (n.energyMj !== undefined) r.energyMj = n.energyMj;
      if (n.powerMw !== undefined) r.totalPowerMw = n.powerMw;
      if (n.smMhz !== undefined) r.gpuHz = n.smMhz * 1e6;
      if (n.utilGpu !== undefined) r.gpuLoadPercent = n.utilGpu;
      if (n.tempC !== undefined) r.tempC = { ...r.tempC, gpu: n.tempC };
      if (n.reasons !== undefined) r.gpuClockReasons = n.reasons;
    }
    return r;
  }

  async start(): Promise<void> {
    TelemetryWatch.sampling.set(this.root, this);
    this.ocStart = await this.sensors.overCurrentCounts();
    // NVML's first sample arrives right after its hello: wait for it (at most a second) so the
    // first reading has it too.
    for (let i = 0; this.nvml && !this.nvml.latest && i < 20; i++) await new Promise((r) => setTimeout(r, 50));
    const script = samplerScript();
    if (!script) {
      // A bundle without its worker script (a partial copy): sample on this thread, between
      // inferences, and say so rather than fail the run.
      this.unavailable.push('sampling during inferences (workers/telemetrySampler.cjs is not beside the agent: readings are taken between inferences only)');
      const timer = setInterval(() => this.readings.push(this.sensors.read(performance.now())), 1000 / this.hz);
      timer.unref();
      this.stopped = Promise.resolve();
      this.stopMainThread = () => {
        clearInterval(timer);
        this.readings.push(this.sensors.read(performance.now()));
      };
      return;
    }
    const worker = new Worker(script, { workerData: { files: this.sensors.files, hz: this.hz } });
    worker.unref();
    this.worker = worker;
    let first: () => void = () => undefined;
    const firstReading = new Promise<void>((resolve) => (first = resolve));
    this.stopped = new Promise((resolve) => {
      worker.on('message', (m: Array<{ t: number; values: Array<number | null> }> | 'stopped') => {
        if (m === 'stopped') return resolve();
        for (const r of m) this.readings.push(this.sensors.readingOf(r.values, r.t - performance.timeOrigin));
        first();
      });
      worker.on('error', () => resolve());
      worker.on('exit', () => resolve());
    });
    // The worker takes a moment to start: the phases marked next (the idle baseline) must begin
    // after its first reading, or a counter's energy for them cannot be read at their start.
    await Promise.race([firstReading, this.stopped, new Promise((r) => setTimeout(r, 2000).unref())]);
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

  /** What the run's telemetry says of its sources (the same for live batches and the summary). */
  private meta(): TelemetryLiveMeta {
    const hello = this.nvml?.hello;
    return {
      sources: this.sources(),
      requestedHz: this.hz,
      totalPowerRule: this.totalPowerRule(),
      ...(this.unavailable.length > 0 ? { unavailable: [...this.unavailable] } : {}),
      ...(Object.keys(this.sensors.passiveTripC).length > 0 ? { passiveTripC: this.sensors.passiveTripC } : {}),
      ...(hello ? { gpu: { name: hello.name, driver: hello.driver, powerLimitW: hello.powerLimitMw === null ? null : hello.powerLimitMw / 1000, maxSmClockMhz: hello.maxSmClockMhz } } : {}),
    };
  }

  /** Sends the readings taken since the last batch, every `everyMs` until the watch finishes or
   * stops: what a result panel draws while the run goes. With NVML or tegrastats the readings are
   * copies completed with their nearest samples so far (the run's own are completed at its end,
   * when a nearer one may have come); with sysfs only they are the run's own readings, not copies:
   * the live run keeps what it sent for late followers, and an hour at 100 Hz is 360k readings. */
  feed(emit: (batch: Omit<TelemetryLiveBatch, 'runId'>) => void, everyMs = TELEMETRY_LIVE_MS): void {
    this.stopFeed();
    const send = () => {
      if (this.readings.length <= this.fed) return;
      const offset = this.fed;
      const taken = this.readings.slice(offset);
      const readings = this.nvml || this.tegrastats ? taken.map((r) => this.enrich({ ...r })) : taken;
      this.fed = this.readings.length;
      emit({ offset, readings, marks: [...this.marks], meta: this.meta() });
    };
    this.feedTimer = setInterval(send, everyMs);
    this.feedTimer.unref();
  }

  private stopFeed(): void {
    if (this.feedTimer) clearInterval(this.feedTimer);
    this.feedTimer = null;
  }

  /** Stops sampling and summarises, `measured` inferences having been measured (each begun at
   * `sampleStartsMs`, on performance.now()'s clock, where known). */
  async finish(measured: number, sampleStartsMs?: readonly number[]): Promise<Telemetry> {
    const endMs = performance.now();
    this.stopFeed();
    this.leave();
    // The worker's last reading, taken as it stops (after the end).
    this.worker?.postMessage('stop');
    this.stopMainThread?.();
    this.stopMainThread = null;
    await this.stopped;
    this.worker = null;
    // With NVML, a sample one period after the end, so the energy counter brackets the last phase.
    if (this.nvml) await new Promise((r) => setTimeout(r, 1000 / this.hz + 20));
    this.nvml?.close();
    this.tegrastats?.close();
    this.readings.forEach((r) => this.enrich(r));
    const ocEnd = await this.sensors.overCurrentCounts();
    const overCurrent: OverCurrentCount[] = [];
    for (const start of this.ocStart) {
      const end = ocEnd.find((c) => c.counter === start.counter);
      if (start.value !== null && end?.value != null) overCurrent.push({ counter: start.counter, start: start.value, end: end.value });
    }
    return buildTelemetry(this.readings, this.marks, endMs, measured, {
      ...this.meta(),
      ...(overCurrent.length > 0 ? { overCurrent } : {}),
      ...(sampleStartsMs ? { sampleStartsMs } : {}),
    });
  }

  /** One reading now, then the NVML helper (if any) is stopped: for a watch that never started. */
  async now(): Promise<TelemetryNow> {
    for (let i = 0; this.nvml && !this.nvml.latest && i < 20; i++) await new Promise((r) => setTimeout(r, 50));
    const r = this.enrich(this.sensors.read(performance.now()));
    this.nvml?.close();
    this.tegrastats?.close();
    return telemetryNowOf(r, this.sources(), this.totalPowerRule() ?? (this.nvml ? 'NVML' : null), new Date());
  }

  /** The latest reading of a run's watch sampling `root` now, as TelemetryNow; null when no run
   * samples it (or it has no reading yet). */
  static latestWhileSampling(root: string): TelemetryNow | null {
    const watch = TelemetryWatch.sampling.get(root);
    const last = watch?.readings[watch.readings.length - 1];
    if (!watch || !last) return null;
    // A copy: the run's own reading is enriched once, when it finishes.
    const r = watch.enrich({ ...last });
    return { ...telemetryNowOf(r, watch.sources(), watch.totalPowerRule() ?? (watch.nvml ? 'NVML' : null), new Date()), fromRun: true };
  }

  private leave(): void {
    if (TelemetryWatch.sampling.get(this.root) === this) TelemetryWatch.sampling.delete(this.root);
  }

  /** Stops sampling without a summary (a run that failed before measuring). */
  stop(): void {
    this.stopFeed();
    this.leave();
    // Asked to stop, not terminated: the thread closes the files it holds open (the process's
    // descriptors) before it ends.
    this.worker?.postMessage('stop');
    this.worker = null;
    this.stopMainThread?.();
    this.stopMainThread = null;
    this.nvml?.close();
    this.tegrastats?.close();
  }
}

/** One reading of every sensor now (no run): the Devices view's live status. */
export async function readTelemetryNow(root: string, nvmlPython: string | null): Promise<TelemetryNow> {
  // During a run, its sampler's latest reading: no second reader beside the measurement.
  const sampled = TelemetryWatch.latestWhileSampling(root);
  if (sampled) return sampled;
  const watch = await TelemetryWatch.open(root, 10, nvmlPython);
  if (!watch) return telemetryNowOf({ tMs: 0 }, [], null, new Date());
  return watch.now();
}
