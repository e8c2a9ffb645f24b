// Pickers several commands share: a device, runs of the workspace, the folder runs go to.
import * as vscode from 'vscode';
import type { RunFile } from '../../contract/protocol';
import { formatMs, modelName } from '../../contract/format';
import { readRunFile } from '../core/runStore';
import { RunCatalog } from '../runs/runCatalog';
import { lastFirst } from '../runs/livePhase';
import type { JetbenchContext } from '../vscode/context';
import { showError, showInfo, showWarning } from '../vscode/notify';

export async function pickDevice(ctx: JetbenchContext, title: string, preferred?: string): Promise<string | undefined> {
  const items = lastFirst(
    ctx.devices.list().map((d) => {
      const state = ctx.devices.state(d.name);
      return {
        label: d.name,
        value: d.name,
        description: `${d.kind === 'local' ? 'this machine' : (d.setting?.host ?? '')} · ${state === 'disconnected' ? 'not connected' : state}`,
      };
    }),
    preferred ?? ctx.activeDevice,
  );
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: 'Device', ignoreFocusOut: true });
  return pick?.value;
}

/** The workspace folder runs are stored in; says how to get one when none is open. */
export async function requireRunsFolder(near?: vscode.Uri): Promise<string | null> {
  const folder = RunCatalog.targetFolder(near);
  if (folder) return folder;
  const pick = await showError('Jetbench stores runs in the workspace (.jetbench/runs): open a folder first.', 'Open Folder');
  if (pick) await vscode.commands.executeCommand('vscode.openFolder');
  return null;
}

/** Runs of the workspace, newest first, for a quick pick. */
export async function pickRuns(ctx: JetbenchContext, title: string, many: boolean): Promise<string[]> {
  await ctx.catalog.refresh();
  const runs = ctx.catalog.listings.filter((l): l is typeof l & { run: RunFile } => l.run !== null);
  if (runs.length === 0) {
    const pick = await showInfo('There are no runs in this workspace yet.', 'Run Benchmark');
    if (pick) void vscode.commands.executeCommand('jetbench.runBenchmark');
    return [];
  }
  const items = runs
    .sort((a, b) => b.run.createdAt.localeCompare(a.run.createdAt))
    .map((l) => ({
      label: `${l.run.spec.label ?? modelName(l.run)} · ${l.run.spec.backend} ${l.run.spec.precision}`,
      description: `${l.run.spec.device} · ${l.run.stats ? `median ${formatMs(l.run.stats.medianMs)} ms` : l.run.status} · ${l.run.createdAt}`,
      file: l.file,
    }));
  if (many) {
    const picks = await vscode.window.showQuickPick(items, { title, canPickMany: true, ignoreFocusOut: true, placeHolder: 'Select runs (space), then Enter' });
    return picks?.map((p) => p.file) ?? [];
  }
  const pick = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  return pick ? [pick.file] : [];
}

/** Reads run files; a bad one is reported by name and left out. */
export async function readRuns(ctx: JetbenchContext, files: string[]): Promise<Array<{ file: string; run: RunFile }>> {
  const out: Array<{ file: string; run: RunFile }> = [];
  for (const file of files) {
    try {
      out.push({ file, run: await readRunFile(file) });
    } catch (e) {
      ctx.output.appendLine((e as Error).message);
      void showWarning(`Skipping a file that is not a run: ${(e as Error).message}`);
    }
  }
  return out;
}
