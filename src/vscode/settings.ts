// The `jetbench.*` settings behind a typed class: read once, sanitised (settingsModel.ts), re-read on
// change; listeners learn which keys changed and whether the agents need a restart.
import * as vscode from 'vscode';
import { changedKeys, RESTART_KEYS, sanitiseSettings, type JetbenchSettings } from './settingsModel';

export interface SettingsChange {
  keys: Array<keyof JetbenchSettings>;
  needsAgentRestart: boolean;
}

export class Settings implements vscode.Disposable {
  private current: JetbenchSettings;
  private readonly emitter = new vscode.EventEmitter<SettingsChange>();
  readonly onDidChange = this.emitter.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly warn: (message: string) => void) {
    this.current = this.read();
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('jetbench')) return;
      const previous = this.current;
      this.current = this.read();
      const keys = changedKeys(previous, this.current);
      if (keys.length > 0) this.emitter.fire({ keys, needsAgentRestart: keys.some((k) => RESTART_KEYS.includes(k)) });
    });
  }

  get value(): Readonly<JetbenchSettings> {
    return this.current;
  }

  private read(): JetbenchSettings {
    const config = vscode.workspace.getConfiguration('jetbench');
    const { settings, warnings } = sanitiseSettings((key) => config.get(key));
    warnings.forEach(this.warn);
    return settings;
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
