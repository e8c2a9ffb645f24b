// The runs of the open workspace folders (`<folder>/.jetbench/runs/*.json`), read through the run
// store and kept current by a file watcher; the Runs view, Compare and Export read them here.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listRuns, RUNS_DIR, type RunListing } from '../core/runStore';

export class RunCatalog implements vscode.Disposable {
  private current: RunListing[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private readonly reported = new Set<string>();

  constructor(private readonly output: vscode.OutputChannel) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/.jetbench/runs/*.json');
    const soon = () => this.refreshSoon();
    this.subscriptions.push(watcher, watcher.onDidCreate(soon), watcher.onDidChange(soon), watcher.onDidDelete(soon), vscode.workspace.onDidChangeWorkspaceFolders(soon));
  }

  get listings(): readonly RunListing[] {
    return this.current;
  }

  /** The runs folder of a workspace folder. */
  static runsDir(folder: string): string {
    return path.join(folder, RUNS_DIR);
  }

  /** Where new runs go: the folder holding `near` (a spec file), else the first workspace folder. */
  static targetFolder(near?: vscode.Uri): string | null {
    const folder = (near && vscode.workspace.getWorkspaceFolder(near)) ?? vscode.workspace.workspaceFolders?.[0];
    return folder && folder.uri.scheme === 'file' ? folder.uri.fsPath : null;
  }

  find(file: string): RunListing | undefined {
    return this.current.find((l) => l.file === file);
  }

  /** Re-reads every runs folder. Resolves after a read that started after this call: a call
   * during a read queues one more (calls while one is queued share it). */
  refresh(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.running) {
      const queued = this.running.then(() => {
        this.queued = null;
        return this.start();
      });
      this.queued = queued;
      return queued;
    }
    return this.start();
  }

  private start(): Promise<void> {
    const running = this.load().finally(() => {
      if (this.running === running) this.running = null;
    });
    this.running = running;
    return running;
  }

  private async load(): Promise<void> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    const lists = await Promise.all(
      folders.map((f) =>
        listRuns(RunCatalog.runsDir(f.uri.fsPath)).catch((e: unknown) => {
          this.output.appendLine(`cannot list runs in ${f.uri.fsPath}: ${(e as Error).message}`);
          return [] as RunListing[];
        }),
      ),
    );
    this.current = lists.flat();
    for (const l of this.current) {
      // Each problem is logged once, not on every refresh.
      if (l.problem && !this.reported.has(l.problem.message)) {
        this.reported.add(l.problem.message);
        this.output.appendLine(`runs: ${l.problem.message}`);
      }
    }
    this.changed.fire();
  }

  /** File events come in bursts (a write is a create plus a rename): read once they settle. */
  private refreshSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, 150);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.subscriptions.forEach((d) => d.dispose());
    this.changed.dispose();
  }
}
