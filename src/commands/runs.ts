// Run commands: Open, Compare, Export Report, Label, Delete, Reveal JSON, Refresh, Stop, and the
// spec files' Run CodeLens.
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatReport, type ReportFormat } from '../core/report';
import { relabelRun } from '../core/runStore';
import { runBenchmarkSession, type RunOutcome } from '../runs/runSession';
import { parseSpecFile, selectSpecRuns } from '../specs/specFile';
import { specBase } from '../specs/specCodeLens';
import { filesOf } from '../views/runsView';
import type { JetbenchContext } from '../vscode/context';
import { pickRuns, readRuns, requireRunsFolder } from './picks';
import { askModal, showError, showInfo, showWarning } from '../vscode/notify';

/** `jetbench.openRun [file | tree node]`: resolves to the run's id. */
export function openRun(ctx: JetbenchContext) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const files = arg === undefined ? await pickRuns(ctx, 'Jetbench: Open Run', false) : filesOf(arg, undefined);
    const file = files[0];
    if (!file) return undefined;
    try {
      const panel = await ctx.panels.openRunFile(file);
      return panel.runId;
    } catch (e) {
      void showError(`Jetbench: ${(e as Error).message}`, 'Open JSON').then((p) => {
        if (p) void vscode.commands.executeCommand('jetbench.revealRunJson', file);
      });
      return undefined;
    }
  };
}

/** `jetbench.compareRuns [node, selectedNodes] | [files[]]`: 2..N runs, the first as baseline. */
export function compareRuns(ctx: JetbenchContext) {
  return async (arg?: unknown, selection?: unknown): Promise<{ files: string[]; baselineIndex: number } | undefined> => {
    let files = arg === undefined && selection === undefined ? [] : filesOf(arg, selection);
    if (files.length < 2) files = await pickRuns(ctx, 'Jetbench: Compare Runs — select two or more', true);
    if (files.length === 0) return undefined;
    const runs = await readRuns(ctx, files);
    if (runs.length < 2) {
      void showWarning('Comparing needs at least two runs: select two or more in the Runs view (Ctrl/Cmd+click), or pick them here.');
      return undefined;
    }
    const panel = ctx.panels.compare(
      runs.map((r) => r.run),
      runs.map((r) => r.file),
      0,
    );
    return { files: panel.files, baselineIndex: panel.baselineIndex };
  };
}

const FORMATS: Array<{ label: string; value: ReportFormat; ext: string; description: string }> = [
  { label: 'Markdown', value: 'md', ext: 'md', description: 'each run, then the comparison table' },
  { label: 'CSV', value: 'csv', ext: 'csv', description: 'one row per run, statistics in ms' },
  { label: 'JSON', value: 'json', ext: 'json', description: 'spec, model, statistics and versions per run' },
];

export interface ExportOptions {
  files?: string[];
  format?: ReportFormat;
  /** Where to write; asked with a save dialog when absent. */
  out?: string;
  /** The compare panel's baseline (Markdown comparison table). */
  baselineIndex?: number;
}

function isExportOptions(v: unknown): v is ExportOptions {
  return typeof v === 'object' && v !== null && !('kind' in v) && ('files' in v || 'format' in v || 'out' in v);
}

/** `jetbench.exportReport [options | node, selection]`: resolves to the written file. */
export function exportReport(ctx: JetbenchContext) {
  return async (arg?: unknown, selection?: unknown): Promise<string | undefined> => {
    const opts: ExportOptions = isExportOptions(arg) ? arg : {};
    let files = opts.files ?? (arg === undefined ? [] : filesOf(arg, selection));
    if (files.length === 0) files = await pickRuns(ctx, 'Jetbench: Export Report — select runs', true);
    if (files.length === 0) return undefined;
    const runs = await readRuns(ctx, files);
    if (runs.length === 0) return undefined;
    const format = opts.format ?? (await vscode.window.showQuickPick(FORMATS, { title: 'Jetbench: Export Report — format', ignoreFocusOut: true }))?.value;
    if (!format) return undefined;
    const ext = FORMATS.find((f) => f.value === format)!.ext;
    let out = opts.out;
    if (!out) {
      const folder = path.dirname(path.dirname(path.dirname(runs[0]!.file)));
      const uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(folder, `jetbench-report.${ext}`)), filters: { [format.toUpperCase()]: [ext] }, title: 'Save the report' });
      if (!uri) return undefined;
      out = uri.fsPath;
    }
    const baselineIndex = Math.min(Math.max(0, opts.baselineIndex ?? 0), runs.length - 1);
    await writeFile(out, formatReport(runs.map((r) => r.run), format, { baselineIndex }), 'utf8');
    void vscode.window.showTextDocument(vscode.Uri.file(out), { preview: true });
    return out;
  };
}

export function labelRun(ctx: JetbenchContext) {
  return async (arg?: unknown, label?: string | null): Promise<string | null | undefined> => {
    const file = (arg === undefined ? await pickRuns(ctx, 'Jetbench: Label Run', false) : filesOf(arg, undefined))[0];
    if (!file) return undefined;
    const [current] = await readRuns(ctx, [file]);
    if (!current) return undefined;
    const text =
      label !== undefined
        ? label
        : await vscode.window.showInputBox({ title: 'Jetbench: Label Run', prompt: 'A label for this run (empty removes it)', value: current.run.spec.label ?? '', ignoreFocusOut: true });
    if (text === undefined) return undefined;
    const next = text === null || text.trim() === '' ? null : text.trim();
    const updated = await relabelRun(file, next);
    ctx.panels.resultPanel(updated.id)?.showRun(updated, file);
    await ctx.catalog.refresh();
    return next;
  };
}

/** `jetbench.deleteRun [node | file, selection]`: asks first unless jetbench.confirmDelete is off. */
export function deleteRun(ctx: JetbenchContext) {
  return async (arg?: unknown, selection?: unknown): Promise<string[]> => {
    const files = arg === undefined ? await pickRuns(ctx, 'Jetbench: Delete Runs', true) : filesOf(arg, selection);
    if (files.length === 0) return [];
    if (vscode.workspace.getConfiguration('jetbench').get<boolean>('confirmDelete', true)) {
      const names = files.map((f) => path.basename(f)).join(', ');
      const ok = await askModal(`Delete ${files.length === 1 ? names : `${files.length} runs`}?`, files.length > 1 ? names : undefined, 'Delete');
      if (ok !== 'Delete') return [];
    }
    const deleted: string[] = [];
    for (const f of files) {
      try {
        await vscode.workspace.fs.delete(vscode.Uri.file(f), { useTrash: true });
        deleted.push(f);
      } catch {
        // Remote file systems (code-server) may have no trash.
        await vscode.workspace.fs.delete(vscode.Uri.file(f), { useTrash: false });
        deleted.push(f);
      }
    }
    await ctx.catalog.refresh();
    return deleted;
  };
}

export function revealRunJson(ctx: JetbenchContext) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const file = (arg === undefined ? await pickRuns(ctx, 'Jetbench: Reveal Run JSON', false) : filesOf(arg, undefined))[0];
    if (!file) return undefined;
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    return file;
  };
}

export function refreshRuns(ctx: JetbenchContext) {
  return async (): Promise<number> => {
    await ctx.catalog.refresh();
    return ctx.catalog.listings.length;
  };
}

/** `jetbench.stopRun [runId]`: cancels a live run (the agent gets `$/cancelRequest`). */
export function stopRun(ctx: JetbenchContext) {
  return async (runId?: unknown): Promise<string | undefined> => {
    let id = typeof runId === 'string' ? runId : undefined;
    if (!id) {
      const runs = [...ctx.activeRuns.values()];
      if (runs.length === 0) {
        void showInfo('No benchmark is running.');
        return undefined;
      }
      id = runs.length === 1 ? runs[0]!.runId : (await vscode.window.showQuickPick(runs.map((r) => ({ label: r.runId, description: r.device }))))?.label;
    }
    const run = id ? ctx.activeRuns.get(id) : undefined;
    run?.cancel();
    return run?.runId;
  };
}

/** `jetbench.runSpec uri index|'all'` (the spec files' CodeLens): runs one entry, or all of them at
 * once (the device queues them; their panels say so). */
export function runSpec(ctx: JetbenchContext) {
  return async (uri?: unknown, which?: unknown): Promise<RunOutcome[]> => {
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!target) return [];
    const folder = await requireRunsFolder(target);
    if (!folder) return [];
    const doc = await vscode.workspace.openTextDocument(target);
    const parsed = parseSpecFile(doc.getText(), specBase(ctx.settings.value, ctx.activeDevice));
    if (parsed.problems.length > 0) {
      void showError(`${path.basename(target.fsPath)}: ${parsed.problems.join('; ')}`);
      return [];
    }
    const { runnable, skipped } = selectSpecRuns(parsed, typeof which === 'number' ? which : 'all');
    if (skipped.length > 0) {
      const ran = runnable.length > 0 ? ` (running the other ${runnable.length})` : '';
      void showError(`${path.basename(target.fsPath)}: skipped ${skipped.length} invalid run${skipped.length > 1 ? 's' : ''}${ran}: ${skipped.join(' | ')}`);
    }
    return Promise.all(runnable.map((e) => runBenchmarkSession(ctx, e.spec, folder)));
  };
}

export function showLog(ctx: JetbenchContext) {
  return async (): Promise<void> => {
    ctx.output.show(true);
  };
}
