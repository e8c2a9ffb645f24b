// Messages between the extension and its panels (the result panel and the compare panel): the
// one contract for both sides, imported type-only. Every panel answers `ready` once it listens,
// and the extension then sends it everything it holds, so nothing is posted into a page that is
// not listening and a re-shown panel gets its whole state back.
import type { RunFile, RunSpec, SamplesBatch, TelemetryLiveBatch } from './protocol';

/** The `viewType`s of the panels (also the serializers' ids in package.json activationEvents). */
export const RESULT_VIEW_TYPE = 'jetbench.result';
export const COMPARE_VIEW_TYPE = 'jetbench.compare';

/** Where a live run stands, as a panel shows it. */
export type LivePhase =
  /** Connecting to the device's agent. */
  | 'connecting'
  /** Waiting for the device: another job holds the accelerator. */
  | 'queued'
  /** Running: model resolution, warm-up, measurement. */
  | 'running'
  /** Finished; the panel shows the run file. */
  | 'finished'
  /** The connection to the device dropped during the run: the panel keeps what it received. */
  | 'disconnected'
  /** The run could not start or the agent returned an error. */
  | 'failed';

/** A table of text cells: src/core/report.ts builds it and renders it as text or Markdown; the
 * compare panel draws it. */
export interface Table {
  headers: string[];
  align: Array<'left' | 'right'>;
  rows: string[][];
}

/** The state a result panel persists with setState, so the serializer can restore it after a
 * reload: the run file it shows, or the live run it was following. */
export interface ResultPanelState {
  view: 'result';
  runId: string;
  /** The run file once written; null while live. */
  file: string | null;
}

export interface ComparePanelState {
  view: 'compare';
  files: string[];
  baselineIndex: number;
}

export type PanelState = ResultPanelState | ComparePanelState;

/** Extension -> result panel. */
export type ToResultPanel =
  /** A live run begins (or, after `ready`, the snapshot of one in progress follows). */
  | { type: 'live'; runId: string; spec: RunSpec; device: string; redrawIntervalMs: number; phase: LivePhase; message: string }
  /** Samples of the live run, placed by offset. */
  | { type: 'samples'; batch: SamplesBatch }
  /** Telemetry readings of the live run, placed by offset. */
  | { type: 'telemetry'; batch: TelemetryLiveBatch }
  | { type: 'phase'; phase: LivePhase; message: string }
  /** The final run: the panel settles on it. `file` is where it was stored (null: not stored). */
  | { type: 'run'; run: RunFile; file: string | null };

/** Result panel -> extension. */
export type FromResultPanel =
  | { type: 'ready' }
  /** The Stop button: cancel the live run (the extension sends `$/cancelRequest`). */
  | { type: 'cancelRun'; runId: string }
  /** Open the run file in an editor. */
  | { type: 'revealJson' }
  /** The page drew a run (live or final) for the first time, or redrew it after a change; what it
   * shows is reported so a test in the extension host can check the page without a browser driver. */
  | { type: 'rendered'; report: RenderReport };

/** What a result panel drew: timings and the figures on screen. */
export interface RenderReport {
  runId: string;
  /** True once drawing the final run (not a live update). */
  final: boolean;
  /** From receiving the message to the end of drawing, ms (chart.js draws synchronously). */
  renderMs: number;
  samples: number;
  /** The P95 card's text as shown, e.g. "12.34 ms". */
  p95Text: string;
  /** Non-transparent pixels on the histogram's canvas. */
  histogramPixels: number;
  phase: LivePhase;
  /** The accuracy section's heading and its "all" row as shown (null while the section is hidden:
   * a run without a fidelity check). */
  accuracy: { heading: string; all: string[] } | null;
}

/** One run as the compare panel draws it. */
export interface CompareRun {
  id: string;
  name: string;
  latencyMs: number[];
  medianMs: number | null;
  p95Ms: number | null;
}

/** Extension -> compare panel. */
export type ToComparePanel = {
  type: 'compare';
  runs: CompareRun[];
  files: string[];
  /** report.ts's comparison table against `baselineIndex`; the Markdown export renders this table. */
  table: Table;
  notes: string[];
  baselineIndex: number;
};

/** Compare panel -> extension. */
export type FromComparePanel =
  | { type: 'ready' }
  | { type: 'setBaseline'; index: number }
  | { type: 'exportMarkdown' }
  | { type: 'rendered'; renderMs: number; rows: number; histogramPixels: number };
