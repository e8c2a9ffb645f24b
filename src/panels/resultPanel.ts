// A result panel's controller: holds what the panel shows (a live run's samples and phase, then the
// final run), sends it whenever the page says `ready` (first load, re-shown, restored), and turns
// the page's messages into actions (Stop, Open JSON).
import * as vscode from 'vscode';
import type { RunFile, RunSpec, SamplesBatch, TelemetryLiveBatch, TelemetryReading } from '../../contract/protocol';
import { modelName } from '../../contract/format';
import type { FromResultPanel, LivePhase, RenderReport, ToResultPanel } from '../../contract/panelMessages';
import { initialResultModel, reduceResult, type ResultModel } from '../../contract/resultModel';
import { firstMatching } from './waitForRender';
import { buildWebviewHtml } from './webviewHtml';

export class ResultPanel implements vscode.Disposable {
  /** What the page shows, kept by the page's own reducer: every message sent changes both alike,
   * and a page that (re)loads gets this model back as messages. */
  private model: ResultModel = initialResultModel();
  /** What a panel without a run says (a restored panel whose run is gone). */
  private notice: { phase: LivePhase; message: string } | null = null;
  private ready = false;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** What the page reported drawing, in order (the first is the first render). */
  readonly renders: RenderReport[] = [];
  private readonly rendered = new vscode.EventEmitter<RenderReport>();
  readonly onDidRender = this.rendered.event;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  /** Every phase the live run went through, in order (the panel's history, for tests and logs). */
  readonly phases: LivePhase[] = [];
  private readonly updated = new vscode.EventEmitter<void>();
  /** Samples, a phase or the final run arrived. */
  readonly onDidUpdate = this.updated.event;
  /** Set by the run that feeds this panel: the Stop button calls it. */
  onCancel: (() => void) | null = null;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly runId: string,
    extensionUri: vscode.Uri,
  ) {
    panel.webview.html = buildWebviewHtml(panel.webview, extensionUri, 'result', panel.title);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'jetbench.svg');
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((m: FromResultPanel) => this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get file(): string | null {
    return this.model.file;
  }

  get phase(): LivePhase {
    return this.model.phase;
  }

  /** Samples held for the live run (measured), for tests and messages. */
  get liveSampleCount(): number {
    return this.model.latencyMs.length;
  }

  private receive(m: FromResultPanel): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.sendSnapshot();
        break;
      case 'cancelRun':
        if (m.runId === this.runId) this.onCancel?.();
        break;
      case 'revealJson':
        if (this.model.file) void vscode.window.showTextDocument(vscode.Uri.file(this.model.file), { preview: true, viewColumn: vscode.ViewColumn.Beside });
        break;
      case 'rendered':
        this.renders.push(m.report);
        this.rendered.fire(m.report);
        break;
    }
  }

  private post(msg: ToResultPanel): void {
    // Before `ready` the page is not listening; it gets everything in the snapshot then.
    if (this.ready) void this.panel.webview.postMessage(msg);
  }

  /** Changes the model and the page alike. */
  private apply(msg: ToResultPanel): void {
    this.model = reduceResult(this.model, msg);
    this.post(msg);
    this.updated.fire();
  }

  private sendSnapshot(): void {
    const m = this.model;
    if (m.run) {
      this.post({ type: 'run', run: m.run, file: m.file });
      return;
    }
    if (!m.runId || !m.spec) {
      if (this.notice) this.post({ type: 'phase', ...this.notice });
      return;
    }
    this.post({ type: 'live', runId: m.runId, spec: m.spec, device: m.device, redrawIntervalMs: m.redrawIntervalMs, phase: m.phase, message: m.message });
    if (m.warmupMs.length) this.post({ type: 'samples', batch: { runId: m.runId, phase: 'warmup', offset: 0, latencyMs: m.warmupMs.slice() } });
    if (m.latencyMs.length) this.post({ type: 'samples', batch: { runId: m.runId, phase: 'measure', offset: 0, latencyMs: m.latencyMs.slice() } });
    const t = m.telemetry;
    if (t) this.post({ type: 'telemetry', batch: { runId: m.runId, offset: 0, readings: t.readings.filter((r): r is TelemetryReading => r !== null), marks: t.marks, meta: t.meta } });
  }

  startLive(spec: RunSpec, device: string, phase: LivePhase, message: string, redrawIntervalMs: number): void {
    this.phases.push(phase);
    this.apply({ type: 'live', runId: this.runId, spec, device, redrawIntervalMs, phase, message });
  }

  /** For a panel that has no run to show, only a reason. */
  showNotice(phase: LivePhase, message: string): void {
    this.notice = { phase, message };
    this.apply({ type: 'phase', phase, message });
  }

  addSamples(batch: SamplesBatch): void {
    if (this.model.run || batch.runId !== this.runId) return;
    this.apply({ type: 'samples', batch });
  }

  addTelemetry(batch: TelemetryLiveBatch): void {
    if (this.model.run || batch.runId !== this.runId) return;
    this.apply({ type: 'telemetry', batch });
  }

  setPhase(phase: LivePhase, message: string): void {
    if (this.model.run || !this.model.runId) return;
    if (this.model.phase === phase && this.model.message === message) return;
    if (this.model.phase !== phase) this.phases.push(phase);
    this.apply({ type: 'phase', phase, message });
  }

  showRun(run: RunFile, file: string | null): void {
    this.phases.push('finished');
    this.panel.title = resultTitle(run);
    this.apply({ type: 'run', run, file });
  }

  /** Resolves with the first render report matching `predicate` (already received or to come). */
  waitForRender(predicate: (r: RenderReport) => boolean): Promise<RenderReport> {
    return firstMatching(this.renders, this.onDidRender, predicate);
  }

  private isDisposed = false;

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.subscriptions.forEach((d) => d.dispose());
    this.subscriptions.length = 0;
    this.panel.dispose();
    this.disposed.fire();
    this.disposed.dispose();
    this.rendered.dispose();
    this.updated.dispose();
  }
}

export function resultTitle(run: RunFile): string {
  return `${run.spec.label ?? modelName(run)} · ${run.spec.backend} ${run.spec.precision}`;
}

export function liveTitle(spec: RunSpec): string {
  const model = spec.model.split(/[/\\]/).pop() ?? spec.model;
  return `${spec.label ?? model} · ${spec.backend} ${spec.precision} (running)`;
}
