// Every open panel: one result panel per run (opening a run again reveals it), compare panels,
// and the serializers that bring them back after a window reload from the state the page saved.
import * as vscode from 'vscode';
import type { RunFile, RunSpec } from '../../contract/protocol';
import { readRunFile } from '../core/runStore';
import { COMPARE_VIEW_TYPE, RESULT_VIEW_TYPE, type PanelState } from '../../contract/panelMessages';
import { ComparePanel } from './comparePanel';
import { liveTitle, ResultPanel, resultTitle } from './resultPanel';
import { webviewOptions } from './webviewHtml';

export class PanelManager implements vscode.Disposable {
  private readonly results = new Map<string, ResultPanel>();
  private readonly compares = new Set<ComparePanel>();
  private readonly created = new vscode.EventEmitter<ResultPanel | ComparePanel>();
  /** A panel opened (tests wait on this). */
  readonly onDidCreate = this.created.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly output: vscode.OutputChannel,
  ) {}

  /** Restores panels after a reload: the page saved which run file (or files) it showed. */
  registerSerializers(): vscode.Disposable[] {
    return [
      vscode.window.registerWebviewPanelSerializer(RESULT_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => this.restoreResult(panel, state as PanelState | undefined),
      }),
      vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => this.restoreCompare(panel, state as PanelState | undefined),
      }),
    ];
  }

  private async restoreResult(panel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    panel.webview.options = webviewOptions(this.extensionUri);
    const runId = state?.view === 'result' ? state.runId : '';
    const controller = this.adoptResult(panel, runId || `restored-${Date.now()}`);
    if (state?.view === 'result' && state.file) {
      try {
        const run = await readRunFile(state.file);
        controller.showRun(run, state.file);
        return;
      } catch (e) {
        this.output.appendLine(`cannot restore the panel of ${state.file}: ${(e as Error).message}`);
      }
    }
    // The run was live when the window went: the agent went with the old extension host.
    controller.showNotice(
      'failed',
      state?.view === 'result' && state.file
        ? `its run file ${state.file} can no longer be read`
        : 'the window reloaded before this run finished, and it was not saved; run it again',
    );
  }

  private async restoreCompare(panel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    panel.webview.options = webviewOptions(this.extensionUri);
    if (state?.view !== 'compare') {
      panel.dispose();
      return;
    }
    try {
      const runs = await Promise.all(state.files.map((f) => readRunFile(f)));
      this.adoptCompare(panel, runs, state.files, state.baselineIndex);
    } catch (e) {
      this.output.appendLine(`cannot restore a compare panel: ${(e as Error).message}`);
      panel.dispose();
    }
  }

  private adoptResult(panel: vscode.WebviewPanel, runId: string): ResultPanel {
    const controller = new ResultPanel(panel, runId, this.extensionUri);
    this.results.set(runId, controller);
    controller.onDidDispose(() => {
      if (this.results.get(runId) === controller) this.results.delete(runId);
    });
    this.created.fire(controller);
    return controller;
  }

  private adoptCompare(panel: vscode.WebviewPanel, runs: RunFile[], files: string[], baselineIndex: number): ComparePanel {
    const controller = new ComparePanel(panel, runs, files, baselineIndex, this.extensionUri);
    this.compares.add(controller);
    controller.onDidDispose(() => this.compares.delete(controller));
    this.created.fire(controller);
    return controller;
  }

  private newPanel(viewType: string, title: string): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(viewType, title, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, webviewOptions(this.extensionUri));
  }

  /** A panel following a run that is about to start. */
  createLive(runId: string, spec: RunSpec): ResultPanel {
    return this.adoptResult(this.newPanel(RESULT_VIEW_TYPE, liveTitle(spec)), runId);
  }

  /** Shows a finished run, in its panel if one is open. */
  showRun(run: RunFile, file: string | null): ResultPanel {
    const open = this.results.get(run.id);
    if (open) {
      open.showRun(run, file);
      open.panel.reveal();
      return open;
    }
    const controller = this.adoptResult(this.newPanel(RESULT_VIEW_TYPE, resultTitle(run)), run.id);
    controller.showRun(run, file);
    return controller;
  }

  async openRunFile(file: string): Promise<ResultPanel> {
    return this.showRun(await readRunFile(file), file);
  }

  compare(runs: RunFile[], files: string[], baselineIndex = 0): ComparePanel {
    return this.adoptCompare(this.newPanel(COMPARE_VIEW_TYPE, `Compare ${runs.length} runs`), runs, files, baselineIndex);
  }

  resultPanel(runId: string): ResultPanel | undefined {
    return this.results.get(runId);
  }

  get comparePanels(): ComparePanel[] {
    return [...this.compares];
  }

  dispose(): void {
    this.results.forEach((p) => p.dispose());
    this.compares.forEach((p) => p.dispose());
    this.created.dispose();
  }
}
