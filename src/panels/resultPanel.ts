// A result panel's controller: holds what the panel shows (a live run's samples and phase, then the
// final run), sends it whenever the page says `ready` (first load, re-shown, restored), and turns
// the page's messages into actions (Stop, Open JSON).
import * as vscode from 'vscode';
import type { RunFile, RunSpec, SamplesBatch } from '../../device-agent/src/protocol';
import { modelName } from '../core/report';
import { StreamedSamples } from '../core/runClient';
import type { FromResultPanel, LivePhase, RenderReport, ToResultPanel } from '../../webview/src/messages';
import { buildWebviewHtml } from './webviewHtml';

interface LiveState {
  spec: RunSpec;
  device: string;
  phase: LivePhase;
  message: string;
  samples: StreamedSamples;
}

export class ResultPanel implements vscode.Disposable {
  private live: LiveState | null = null;
  private final: { run: RunFile; file: string | null } | null = null;
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
  private redrawIntervalMs = 250;

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
    return this.final?.file ?? null;
  }

  get phase(): LivePhase {
    return this.final ? 'finished' : (this.live?.phase ?? 'connecting');
  }

  /** Samples held for the live run (measured), for tests and messages. */
  get liveSampleCount(): number {
    return this.live?.samples.latencyMs.length ?? 0;
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
        if (this.final?.file) void vscode.window.showTextDocument(vscode.Uri.file(this.final.file), { preview: true, viewColumn: vscode.ViewColumn.Beside });
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

  private sendSnapshot(): void {
    if (this.final) {
      this.post({ type: 'run', run: this.final.run, file: this.final.file });
      return;
    }
    const l = this.live;
    if (!l) {
      if (this.notice) this.post({ type: 'phase', ...this.notice });
      return;
    }
    this.post({ type: 'live', runId: this.runId, spec: l.spec, device: l.device, redrawIntervalMs: this.redrawIntervalMs, phase: l.phase, message: l.message });
    const { warmupMs, latencyMs } = l.samples;
    if (warmupMs.length) this.post({ type: 'samples', batch: { runId: this.runId, phase: 'warmup', offset: 0, latencyMs: warmupMs.slice() } });
    if (latencyMs.length) this.post({ type: 'samples', batch: { runId: this.runId, phase: 'measure', offset: 0, latencyMs: latencyMs.slice() } });
  }

  startLive(spec: RunSpec, device: string, phase: LivePhase, message: string, redrawIntervalMs: number): void {
    this.redrawIntervalMs = redrawIntervalMs;
    this.live = { spec, device, phase, message, samples: new StreamedSamples() };
    this.phases.push(phase);
    this.post({ type: 'live', runId: this.runId, spec, device, redrawIntervalMs, phase, message });
    this.updated.fire();
  }

  /** For a panel that has no run to show, only a reason. */
  showNotice(phase: LivePhase, message: string): void {
    this.notice = { phase, message };
    this.post({ type: 'phase', phase, message });
  }

  addSamples(batch: SamplesBatch): void {
    if (!this.live || this.final || batch.runId !== this.runId) return;
    this.live.samples.add(batch);
    this.post({ type: 'samples', batch });
    this.updated.fire();
  }

  setPhase(phase: LivePhase, message: string): void {
    if (!this.live || this.final) return;
    if (this.live.phase === phase && this.live.message === message) return;
    if (this.live.phase !== phase) this.phases.push(phase);
    this.live.phase = phase;
    this.live.message = message;
    this.post({ type: 'phase', phase, message });
    this.updated.fire();
  }

  showRun(run: RunFile, file: string | null): void {
    this.final = { run, file };
    this.phases.push('finished');
    this.panel.title = resultTitle(run);
    this.post({ type: 'run', run, file });
    this.updated.fire();
  }

  /** Resolves with the first render report matching `predicate` (already received or to come). */
  waitForRender(predicate: (r: RenderReport) => boolean): Promise<RenderReport> {
    const seen = this.renders.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const sub = this.onDidRender((r) => {
        if (!predicate(r)) return;
        sub.dispose();
        resolve(r);
      });
    });
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
