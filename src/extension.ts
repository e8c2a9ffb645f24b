// Activates the extension: builds the context (services), then wires commands, views, the spec
// files' CodeLens and the panels' serializers. Nothing connects to a device here: the first
// command that needs one does, so activation stays cheap.
import * as vscode from 'vscode';
import { COMMANDS } from './commands';
import type { CommandId } from './commands/ids';
import type { DeviceRegistry } from './devices/deviceRegistry';
import type { SshPromptDeps } from './devices/sshPrompts';
import type { PanelManager } from './panels/panelManager';
import type { RunCatalog } from './runs/runCatalog';
import { SPEC_SELECTOR, SpecCodeLensProvider, specBase } from './specs/specCodeLens';
import { DEVICES_VIEW_ID, type DevicesTreeProvider } from './views/devicesView';
import { RUNS_VIEW_ID, type RunsTreeProvider } from './views/runsView';
import { JetbenchContext, type ActiveRun } from './vscode/context';

/** What activate() returns: the services, for the extension-host tests and other extensions. */
export interface JetbenchApi {
  devices: DeviceRegistry;
  panels: PanelManager;
  catalog: RunCatalog;
  runsTree: RunsTreeProvider;
  /** The Devices view's provider (its live sensor line). */
  devicesTree: DevicesTreeProvider;
  activeRuns: ReadonlyMap<string, ActiveRun>;
  /** How SSH's questions are asked; tests answer the host-key modal through it. */
  sshPrompts: SshPromptDeps;
  statusBarText(): string;
  /** How long activate() took, ms (bench/ext-activation.ts prints it). */
  activationMs: number;
}

export function activate(extension: vscode.ExtensionContext): JetbenchApi {
  const started = performance.now();
  const ctx = new JetbenchContext(extension);

  for (const [id, make] of Object.entries(COMMANDS) as Array<[CommandId, (typeof COMMANDS)[CommandId]]>) {
    // VS Code passes whatever the caller gave (palette: nothing; menus: tree nodes; other code: any
    // value): every handler checks its arguments.
    const handler = make(ctx) as (...args: unknown[]) => Promise<unknown>;
    ctx.own(vscode.commands.registerCommand(id, handler));
  }

  const devicesView = ctx.own(vscode.window.createTreeView(DEVICES_VIEW_ID, { treeDataProvider: ctx.devicesTree, showCollapseAll: false }));
  // Live sensor readings only while the view is on screen.
  ctx.own(devicesView.onDidChangeVisibility((e) => ctx.devicesTree.setVisible(e.visible)));
  ctx.devicesTree.setVisible(devicesView.visible);
  ctx.own(vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: ctx.runsTree, canSelectMany: true, showCollapseAll: true }));

  const lenses = ctx.own(new SpecCodeLensProvider(() => specBase(ctx.settings.value, ctx.activeDevice)));
  ctx.own(vscode.languages.registerCodeLensProvider(SPEC_SELECTOR, lenses));
  ctx.own(ctx.settings.onDidChange(() => lenses.refresh()));
  ctx.own(ctx.devices.onDidChange(() => lenses.refresh()));

  ctx.panels.registerSerializers().forEach((d) => ctx.own(d));
  void ctx.catalog.refresh();

  return {
    devices: ctx.devices,
    panels: ctx.panels,
    catalog: ctx.catalog,
    runsTree: ctx.runsTree,
    devicesTree: ctx.devicesTree,
    activeRuns: ctx.activeRuns,
    sshPrompts: ctx.sshPrompts,
    statusBarText: () => ctx.statusBar.text,
    activationMs: performance.now() - started,
  };
}

export function deactivate(): void {}
