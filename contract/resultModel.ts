// What a result panel knows, and how each message from the extension changes it. Pure code (no
// DOM), unit-tested under test/unit; the page draws from this model.
import type { PhaseMark, RunFile, RunSpec, Telemetry, TelemetryLiveMeta, TelemetryReading } from './protocol';
import { liveTelemetry } from './telemetry';
import type { LivePhase, ToResultPanel } from './panelMessages';

export interface ResultModel {
  runId: string | null;
  spec: RunSpec | null;
  device: string;
  phase: LivePhase;
  /** What the device or the extension last said about the run, in words. */
  message: string;
  /** Live samples, placed by offset. Appended in place: a live run can reach 100k samples, and
   * copying on every batch would be quadratic. */
  warmupMs: number[];
  latencyMs: number[];
  /** Batches that started past the end of what was held (a lost batch). */
  gaps: number;
  /** The live run's telemetry readings (placed by offset, appended in place like the samples),
   * its phase marks and sources; null until the first batch. */
  telemetry: { readings: Array<TelemetryReading | null>; marks: PhaseMark[]; meta: TelemetryLiveMeta } | null;
  /** The final run once it arrived; the page then draws from it, not from the live samples. */
  run: RunFile | null;
  file: string | null;
  redrawIntervalMs: number;
}

export const DEFAULT_REDRAW_INTERVAL_MS = 250;

export function initialResultModel(): ResultModel {
  return {
    runId: null,
    spec: null,
    device: '',
    phase: 'connecting',
    message: '',
    warmupMs: [],
    latencyMs: [],
    gaps: 0,
    telemetry: null,
    run: null,
    file: null,
    redrawIntervalMs: DEFAULT_REDRAW_INTERVAL_MS,
  };
}

export function reduceResult(model: ResultModel, msg: ToResultPanel): ResultModel {
  switch (msg.type) {
    case 'live':
      // A snapshot of the same run (after `ready`) starts from the samples the extension resends.
      return {
        ...initialResultModel(),
        runId: msg.runId,
        spec: msg.spec,
        device: msg.device,
        phase: msg.phase,
        message: msg.message,
        redrawIntervalMs: msg.redrawIntervalMs,
      };
    case 'samples': {
      if (msg.batch.runId !== model.runId || model.run) return model;
      const target = msg.batch.phase === 'warmup' ? model.warmupMs : model.latencyMs;
      const gaps = model.gaps + (msg.batch.offset > target.length ? 1 : 0);
      msg.batch.latencyMs.forEach((v, i) => {
        target[msg.batch.offset + i] = v;
      });
      // Samples mean the device is measuring, whatever the last progress message said.
      const phase = model.phase === 'queued' || model.phase === 'connecting' ? 'running' : model.phase;
      return { ...model, gaps, phase };
    }
    case 'telemetry': {
      const b = msg.batch;
      if (b.runId !== model.runId || model.run) return model;
      const readings = model.telemetry?.readings ?? [];
      b.readings.forEach((r, i) => {
        readings[b.offset + i] = r;
      });
      return { ...model, telemetry: { readings, marks: b.marks, meta: b.meta } };
    }
    case 'phase':
      // A final run outranks late progress; a drop keeps what the panel has.
      if (model.run) return model;
      return { ...model, phase: msg.phase, message: msg.message };
    case 'run':
      return {
        ...model,
        runId: msg.run.id,
        spec: msg.run.spec,
        device: msg.run.spec.device,
        run: msg.run,
        file: msg.file,
        phase: 'finished',
        message: msg.run.status === 'ok' ? '' : (msg.run.error ?? msg.run.status),
      };
  }
}

/** Warm-up and measured latencies the page draws: the run file's once final, else the live ones. */
export function drawnSamples(model: ResultModel): { warmupMs: number[]; latencyMs: number[] } {
  if (model.run) return { warmupMs: model.run.samples.warmupLatencyMs, latencyMs: model.run.samples.latencyMs };
  // Holes (a lost batch) are not samples.
  return { warmupMs: model.warmupMs.filter(Number.isFinite), latencyMs: model.latencyMs.filter(Number.isFinite) };
}

/** The share of the page's time the live telemetry's summary may take: it is summarised again
 * (every reading so far, twice a second as batches come) only once this long has passed since the
 * last summary began: 10 x its cost. A long run's figures then update less often, not late. */
export const LIVE_SUMMARY_SHARE = 0.1;

/** Whether the live telemetry may be summarised again at `nowMs`, the last summary having begun at
 * `atMs` and taken `costMs`. */
export function liveSummaryDue(last: { atMs: number; costMs: number }, nowMs: number): boolean {
  return nowMs - last.atMs >= last.costMs / LIVE_SUMMARY_SHARE;
}

/** The telemetry the page draws: the run file's once final, else what the live readings say so
 * far (`live` true), else none. */
export function drawnTelemetry(model: ResultModel): { telemetry: Telemetry; live: boolean } | null {
  if (model.run) return model.run.telemetry ? { telemetry: model.run.telemetry, live: false } : null;
  const t = model.telemetry;
  const live = t ? liveTelemetry(t.readings, t.marks, t.meta, model.latencyMs.filter(Number.isFinite).length) : null;
  return live ? { telemetry: live, live: true } : null;
}
