// The compare panel's controller: 2..N runs, the report module's comparison table against a
// selectable baseline (the same table the Markdown export writes), overlaid histograms on the page.
import * as vscode from 'vscode';
import type { RunFile } from '../../contract/protocol';
import { compareNotes, compareTable, formatCompareTable } from '../core/report';
import type { CompareRun, FromComparePanel, ToComparePanel } from '../../contract/panelMessages';
import { firstMatching } from './waitForRender';
import { buildWebviewHtml } from './webviewHtml';

type Rendered = Extract<FromComparePanel, { type: 'rendered' }>;

export class ComparePanel implements vscode.Disposable {
  private ready = false;
  private readonly subscriptions: vscode.Disposable[] = [];
  readonly renders: Rendered[] = [];
  private readonly rendered = new vscode.EventEmitter<Rendered>();
  readonly onDidRender = this.rendered.event;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  private isDisposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly runs: RunFile[],
    readonly files: string[],
    private baseline: number,
    extensionUri: vscode.Uri,
  ) {
    if (runs.length < 2) throw new Error('comparing needs at least two runs');
    this.baseline = Math.min(Math.max(0, baseline), runs.length - 1);
    panel.webview.html = buildWebviewHtml(panel.webview, extensionUri, 'compare', panel.title);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'jetbench.svg');
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((m: FromComparePanel) => this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get baselineIndex(): number {
    return this.baseline;
  }

  /** The comparison table as Markdown: what Export Markdown writes. */
  markdown(): string {
    return `# jetbench comparison\n\n${formatCompareTable(this.runs, this.baseline, 'md')}\n`;
  }

  /** The table the panel shows. */
  message(): ToComparePanel {
    const table = compareTable(this.runs, this.baseline);
    const runs: CompareRun[] = this.runs.map((r, i) => ({
      id: r.id,
      name: table.rows[i]![0]!,
      latencyMs: r.samples.latencyMs,
      medianMs: r.stats?.medianMs ?? null,
      p95Ms: r.stats?.p95Ms ?? null,
    }));
    return { type: 'compare', runs, files: this.files, table, notes: compareNotes(this.runs, this.baseline), baselineIndex: this.baseline };
  }

  setBaseline(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.runs.length) return;
    this.baseline = index;
    if (this.ready) void this.panel.webview.postMessage(this.message());
  }

  private receive(m: FromComparePanel): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        void this.panel.webview.postMessage(this.message());
        break;
      case 'setBaseline':
        this.setBaseline(m.index);
        break;
      case 'exportMarkdown':
        void vscode.commands.executeCommand('jetbench.exportReport', { files: this.files, format: 'md', baselineIndex: this.baseline });
        break;
      case 'rendered':
        this.renders.push(m);
        this.rendered.fire(m);
        break;
    }
  }

  waitForRender(predicate: (r: Rendered) => boolean): Promise<Rendered> {
    return firstMatching(this.renders, this.onDidRender, predicate);
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.subscriptions.forEach((d) => d.dispose());
    this.panel.dispose();
    this.disposed.fire();
    this.disposed.dispose();
    this.rendered.dispose();
  }
}
