// The Runs view: the workspace's run files grouped by model, then device (runsTree.ts). A click
// opens a run; the context menu labels, deletes, reveals the JSON; several selected runs compare.
import * as vscode from 'vscode';
import { formatMs } from '../../contract/format';
import type { RunCatalog } from '../runs/runCatalog';
import { buildRunsTree, type RunsTreeNode } from './runsTree';

export const RUNS_VIEW_ID = 'jetbench.runs';

/** contextValue of tree items, used by package.json `menus` when-clauses. */
export const RUN_ITEM = 'jetbench.run';
export const PROBLEM_ITEM = 'jetbench.runProblem';

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsTreeNode>, vscode.Disposable {
  private roots: ReturnType<typeof buildRunsTree> = [];
  private readonly changed = new vscode.EventEmitter<RunsTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(catalog: RunCatalog) {
    this.subscription = catalog.onDidChange(() => {
      this.roots = buildRunsTree(catalog.listings);
      void vscode.commands.executeCommand('setContext', 'jetbench.hasRuns', this.roots.length > 0);
      this.changed.fire(undefined);
    });
  }

  getChildren(node?: RunsTreeNode): RunsTreeNode[] {
    if (!node) return this.roots;
    switch (node.kind) {
      case 'model':
        return node.devices;
      case 'device':
        return node.runs;
      case 'problems':
        return node.files;
      default:
        return [];
    }
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'model': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `model:${node.key}`;
        item.description = node.description;
        item.iconPath = new vscode.ThemeIcon('symbol-class');
        return item;
      }
      case 'device': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `device:${node.key}`;
        item.description = node.description;
        item.iconPath = new vscode.ThemeIcon(node.label === 'local' ? 'vm' : 'remote');
        return item;
      }
      case 'run': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = `run:${node.file}`;
        item.description = node.description;
        item.resourceUri = vscode.Uri.file(node.file);
        item.contextValue = RUN_ITEM;
        const s = node.run.stats;
        const tip = new vscode.MarkdownString(undefined, false);
        tip.appendText(`${node.run.id}\n\n`);
        tip.appendText(s ? `mean ${formatMs(s.meanMs)} ms · median ${formatMs(s.medianMs)} ms · P95 ${formatMs(s.p95Ms)} ms · ${s.fps.toFixed(1)} FPS · n ${s.count}` : 'no statistics');
        if (node.run.error) tip.appendText(`\n\n${node.run.error}`);
        item.tooltip = tip;
        item.iconPath = new vscode.ThemeIcon(node.run.status === 'ok' ? 'pulse' : node.run.status === 'cancelled' ? 'circle-slash' : 'error');
        item.command = { command: 'jetbench.openRun', title: 'Open Run', arguments: [node.file] };
        return item;
      }
      case 'problems': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = 'problems';
        item.description = node.description;
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        return item;
      }
      case 'problem': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = `problem:${node.file}`;
        item.description = node.description;
        item.tooltip = node.message;
        item.resourceUri = vscode.Uri.file(node.file);
        item.contextValue = PROBLEM_ITEM;
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        item.command = { command: 'jetbench.revealRunJson', title: 'Open JSON', arguments: [node.file] };
        return item;
      }
    }
  }

  /** Tree nodes for tests and the reveal after a run: every run leaf. */
  runLeaves(): Extract<RunsTreeNode, { kind: 'run' }>[] {
    return this.roots.flatMap((g) => (g.kind === 'model' ? g.devices.flatMap((d) => d.runs) : []));
  }

  problemLeaves(): Extract<RunsTreeNode, { kind: 'problem' }>[] {
    return this.roots.flatMap((g) => (g.kind === 'problems' ? g.files : []));
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    for (const g of this.roots) {
      if (g.kind === 'problems') {
        if (node.kind === 'problem' && g.files.includes(node)) return g;
        continue;
      }
      for (const d of g.devices) {
        if (d === node) return g;
        if (node.kind === 'run' && d.runs.includes(node)) return d;
      }
    }
    return undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** Files of the nodes a run command was invoked on: the clicked node plus the selection, or an
 * explicit file path (palette, tests). */
export function filesOf(arg: unknown, selection: unknown): string[] {
  const one = (v: unknown): string | null => {
    if (typeof v === 'string') return v;
    if (v instanceof vscode.Uri) return v.fsPath;
    const node = v as Partial<RunsTreeNode> | null;
    if (node && (node.kind === 'run' || node.kind === 'problem') && typeof node.file === 'string') return node.file;
    return null;
  };
  const list = Array.isArray(selection) ? selection : Array.isArray(arg) ? arg : [arg];
  const files = list.map(one).filter((f): f is string => f !== null);
  const clicked = one(arg);
  if (clicked && !files.includes(clicked)) files.unshift(clicked);
  return files;
}
