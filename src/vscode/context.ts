// The extension's services, constructed once at activation and handed to every command. Two
// disposal scopes: what lives as long as the extension is pushed here (ExtensionContext
// subscriptions); what lives as long as one agent connection lives in that connection's
// AgentClient, so a reconnect never leaks handlers.
import * as vscode from 'vscode';
import { DeviceRegistry, LOCAL_DEVICE } from '../devices/deviceRegistry';
import { defaultPromptDeps, type SshPromptDeps } from '../devices/sshPrompts';
import { PanelManager } from '../panels/panelManager';
import { RunCatalog } from '../runs/runCatalog';
import { readLastChoices, type LastChoices } from '../runs/livePhase';
import { DevicesTreeProvider } from '../views/devicesView';
import { RunsTreeProvider } from '../views/runsView';
import { Settings } from './settings';
import { DeviceStatusBar } from './statusBar';

/** A run in progress, so Stop (panel, notification, command) can reach it. */
export interface ActiveRun {
  runId: string;
  device: string;
  cancel(): void;
}

const LAST_CHOICES_KEY = 'jetbench.lastRunChoices';
const ACTIVE_DEVICE_KEY = 'jetbench.activeDevice';

export class JetbenchContext {
  readonly output: vscode.OutputChannel;
  readonly settings: Settings;
  readonly devices: DeviceRegistry;
  readonly catalog: RunCatalog;
  readonly panels: PanelManager;
  readonly runsTree: RunsTreeProvider;
  readonly devicesTree: DevicesTreeProvider;
  readonly statusBar: DeviceStatusBar;
  readonly activeRuns = new Map<string, ActiveRun>();
  /** How SSH's questions are asked (modal, input box, SecretStorage). */
  readonly sshPrompts: SshPromptDeps;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = this.own(vscode.window.createOutputChannel('Jetbench'));
    this.settings = this.own(new Settings((w) => this.output.appendLine(`settings: ${w}`)));
    this.sshPrompts = defaultPromptDeps(extension.secrets, this.output);
    this.devices = this.own(new DeviceRegistry(this.settings, this.output, this.sshPrompts));
    this.catalog = this.own(new RunCatalog(this.output));
    this.panels = this.own(new PanelManager(extension.extensionUri, this.output));
    this.runsTree = this.own(new RunsTreeProvider(this.catalog));
    this.devicesTree = this.own(new DevicesTreeProvider(this.devices));
    this.statusBar = this.own(new DeviceStatusBar(this.devices, () => this.activeDevice));
  }

  /** Disposed with the extension. */
  own<T extends vscode.Disposable>(d: T): T {
    this.extension.subscriptions.push(d);
    return d;
  }

  /** The device the status bar shows and Run Benchmark offers first. */
  get activeDevice(): string {
    const stored = this.extension.workspaceState.get<string>(ACTIVE_DEVICE_KEY);
    const name = stored ?? this.settings.value.defaultDevice;
    return this.devices.get(name) ? name : LOCAL_DEVICE;
  }

  async setActiveDevice(name: string): Promise<void> {
    await this.extension.workspaceState.update(ACTIVE_DEVICE_KEY, name);
    this.statusBar.update();
  }

  get lastChoices(): Partial<LastChoices> {
    return readLastChoices(this.extension.workspaceState.get(LAST_CHOICES_KEY));
  }

  async rememberChoices(choices: LastChoices): Promise<void> {
    await this.extension.workspaceState.update(LAST_CHOICES_KEY, choices);
  }

  setRunning(): void {
    void vscode.commands.executeCommand('setContext', 'jetbench.running', this.activeRuns.size > 0);
  }
}
