// The devices the extension knows: this machine first, then the SSH devices of `jetbench.devices`.
// Each has at most one AgentClient, whose streams come from the core's openDeviceStreams: the local
// agent's child process, or (SSH) a deploy when needed, the device's agent daemon started or
// checked, and a channel to it. SSH's questions (host key, passphrase) go through sshPrompts.ts.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveDevice, type ResolvedDevice, type SshDevice } from '../core/devices';
import type { DeployResult } from '../core/deploy';
import type { SshHooks } from '../core/sshSession';
import type { Settings } from '../vscode/settings';
import type { DeviceSetting } from '../vscode/settingsModel';
import type { AgentClient, ConnectionState } from './agentClient';
import { sshHooksFor, type SshPromptDeps } from './sshPrompts';

type AgentClientModule = typeof import('./agentClient');
let agentClientModule: AgentClientModule | null = null;

/** dist/agentClient.js, loaded on first use (see agentClient.ts for why it is a bundle of its own). */
function agentClientBundle(): AgentClientModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path at run time, so the extension bundle does not pull the client in
  agentClientModule ??= require(path.join(__dirname, 'agentClient.js')) as AgentClientModule;
  return agentClientModule;
}

export const LOCAL_DEVICE = 'local';

export type DeviceKind = 'local' | 'ssh';

export interface Device {
  name: string;
  kind: DeviceKind;
  /** The `jetbench.devices` entry of an SSH device; null for the local device. */
  setting: DeviceSetting | null;
}

/** A job the extension submitted to a device, for the queue it shows. */
export interface JobTicket {
  /** Jobs of this extension ahead of this one on the device when it was submitted. */
  ahead: number;
  done(): void;
}

export class DeviceRegistry implements vscode.Disposable {
  private readonly clients = new Map<string, AgentClient>();
  private readonly jobs = new Map<string, number>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  /** Where a connect or deploy under way reports its steps (a notification's text), by device. */
  private readonly progressSinks = new Map<string, (message: string) => void>();

  constructor(
    private readonly settings: Settings,
    private readonly output: vscode.OutputChannel,
    private readonly prompts: SshPromptDeps,
  ) {
    this.subscriptions.push(
      settings.onDidChange((change) => {
        if (change.keys.includes('devices')) this.forgetRemoved();
        // Each connection reads them when it starts (AgentClientOptions.restartLimits).
        if (change.needsAgentRestart) this.output.appendLine('Restart settings changed: they apply from the next connection of each device (a device connected now keeps its limits until it connects again).');
        this.changed.fire();
      }),
    );
  }

  list(): Device[] {
    return [{ name: LOCAL_DEVICE, kind: 'local', setting: null }, ...this.settings.value.devices.map((s): Device => ({ name: s.name, kind: 'ssh', setting: s }))];
  }

  get(name: string): Device | undefined {
    return this.list().find((d) => d.name === name);
  }

  /** The device's client, created on first use (not connected by this). */
  client(name: string): AgentClient {
    const device = this.get(name);
    if (!device) throw new Error(`no device named '${name}': add it with Jetbench: Add Device`);
    let client = this.clients.get(name);
    if (!client) {
      client = new (agentClientBundle().AgentClient)({
        device: name,
        openStreams: () =>
          agentClientBundle().openDeviceStreams(this.resolve(name), {
            client: 'jetbench-vscode',
            hooks: this.hooks(name),
            stderr: (text) => this.output.append(`[${name} agent] ${text}`),
          }),
        output: this.output,
        restartLimits: () => ({ maxRestarts: this.settings.value.maxRestarts, restartWindowMs: this.settings.value.restartWindowS * 1000 }),
        resumable: device.kind === 'ssh',
      });
      client.onDidChange(() => this.changed.fire());
      this.clients.set(name, client);
    }
    return client;
  }

  state(name: string): ConnectionState {
    return this.clients.get(name)?.state ?? 'disconnected';
  }

  /** The device as the core connects to it (an SSH device's ssh config and defaults applied). */
  resolve(name: string): ResolvedDevice {
    if (name === LOCAL_DEVICE) return { kind: 'local', name: 'local' };
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
    return resolveDevice(name, { cwd: folder, devices: this.settings.value.devices.map((d) => d.config) });
  }

  private hooks(name: string): SshHooks {
    return sshHooksFor(name, this.prompts, (message) => this.progressSinks.get(name)?.(message));
  }

  /** Connects the device unless connected; returns its client. `onProgress` hears the steps
   * (deploy, agent start) of an SSH device. */
  async connect(name: string, onProgress?: (message: string) => void): Promise<AgentClient> {
    const client = this.client(name);
    if (onProgress) this.progressSinks.set(name, onProgress);
    try {
      await client.connect();
    } finally {
      if (onProgress && this.progressSinks.get(name) === onProgress) this.progressSinks.delete(name);
    }
    return client;
  }

  /** Deploys the agent to an SSH device (a no-op when this bundle is there); the same code as
   * `jetbench deploy`. */
  async deploy(name: string, onProgress?: (message: string) => void): Promise<{ result: DeployResult; summary: string[] }> {
    const device = this.resolve(name);
    if (device.kind !== 'ssh') throw new Error('the local device runs the agent bundled with the extension: there is nothing to deploy');
    const hooks = sshHooksFor(name, this.prompts, onProgress);
    const bundle = agentClientBundle();
    const result = await bundle.connectAndDeploy(device satisfies SshDevice, hooks);
    const summary = bundle.deploySummary(device, result);
    summary.forEach((line) => this.output.appendLine(`[${name}] ${line}`));
    return { result, summary };
  }

  async disconnect(name: string): Promise<void> {
    await this.clients.get(name)?.disconnect();
  }

  /** Counts a job submitted to the device until `done`. */
  submitJob(name: string): JobTicket {
    const ahead = this.jobs.get(name) ?? 0;
    this.jobs.set(name, ahead + 1);
    this.changed.fire();
    let finished = false;
    return {
      ahead,
      done: () => {
        if (finished) return;
        finished = true;
        this.jobs.set(name, Math.max(0, (this.jobs.get(name) ?? 1) - 1));
        this.changed.fire();
      },
    };
  }

  /** Jobs of this extension on the device, running or waiting. */
  jobCount(name: string): number {
    return this.jobs.get(name) ?? 0;
  }

  private forgetRemoved(): void {
    for (const [name, client] of this.clients) {
      if (this.get(name)) continue;
      client.dispose();
      this.clients.delete(name);
    }
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.clients.forEach((c) => c.dispose());
    this.clients.clear();
    this.changed.dispose();
  }
}
