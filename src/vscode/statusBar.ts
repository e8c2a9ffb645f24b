// The status-bar item: the active device and its state (and jobs while any run); a click picks
// another device or connects this one.
import * as vscode from 'vscode';
import type { DeviceRegistry } from '../devices/deviceRegistry';

const ICONS: Record<string, string> = {
  disconnected: '$(debug-disconnect)',
  connecting: '$(sync~spin)',
  connected: '$(vm-active)',
  failed: '$(error)',
};

export class DeviceStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('jetbench.device', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly activeDevice: () => string,
  ) {
    this.item.name = 'Jetbench device';
    this.item.command = 'jetbench.selectDevice';
    this.subscription = registry.onDidChange(() => this.update());
    this.update();
    this.item.show();
  }

  update(): void {
    const name = this.activeDevice();
    const state = this.registry.state(name);
    const jobs = this.registry.jobCount(name);
    const busy = jobs > 0 ? ` · ${jobs === 1 ? '1 run' : `${jobs} runs (${jobs - 1} queued)`}` : '';
    this.item.text = `${jobs > 0 ? '$(loading~spin)' : (ICONS[state] ?? '')} jetbench: ${name}${state === 'connected' ? '' : ` (${state === 'disconnected' ? 'not connected' : state})`}${busy}`;
    this.item.tooltip = `Jetbench device '${name}': ${state}. Click to choose a device or connect.`;
    this.item.backgroundColor = state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  /** For tests: what the item shows. */
  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
