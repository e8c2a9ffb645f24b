// The devices the extension knows: this machine first, then the SSH devices of `jetbench.devices`.
// Each has at most one AgentClient; how its streams are opened is one function per kind, so the
// SSH transport is one more case of `openDeviceStreams` (SSH devices issue).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Settings } from '../vscode/settings';
import type { DeviceSetting } from '../vscode/settingsModel';
import type { AgentClient, ConnectionState } from './agentClient';
import type { AgentStreams } from './agentStreams';

type AgentClientModule = typeof import('./agentClient');
let agentClientModule: AgentClientModule | null = null;

/** dist/agentClient.js, loaded on first use (see agentClient.ts for why it is a bundle of its own). */
function agentClientBundle(): AgentClientModule {
  // A path, not a module name: the extension bundle must not pull the client in.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
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

/** SSH devices are listed but cannot be reached until the SSH transport lands. */
export class DeviceUnavailableError extends Error {
  override name = 'DeviceUnavailableError';
}

export const SSH_NOT_YET = 'SSH devices arrive with issue 3 (SSH devices, deploy and the agent daemon); until then only the local device can connect.';

export type StreamsOpener = (device: Device, stderr: (text: string) => void) => Promise<AgentStreams>;

/** Today's transports: the local agent's child process; SSH says when it arrives. */
export const openDeviceStreams: StreamsOpener = async (device, stderr) => {
  if (device.kind === 'local') return agentClientBundle().openLocalAgentStreams({ stderr });
  throw new DeviceUnavailableError(`Cannot connect to '${device.name}': ${SSH_NOT_YET}`);
};

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

  constructor(
    private readonly settings: Settings,
    private readonly output: vscode.OutputChannel,
    private readonly openStreams: StreamsOpener = openDeviceStreams,
  ) {
    this.subscriptions.push(
      settings.onDidChange((change) => {
        if (change.keys.includes('devices')) this.forgetRemoved();
        if (change.needsAgentRestart) this.output.appendLine('Restart settings changed: they apply to the next connection of each device.');
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
      const s = this.settings.value;
      client = new (agentClientBundle().AgentClient)({
        device: name,
        openStreams: () => this.openStreams(device, (text) => this.output.append(`[${name} agent] ${text}`)),
        output: this.output,
        maxRestarts: s.maxRestarts,
        restartWindowMs: s.restartWindowS * 1000,
      });
      client.onDidChange(() => this.changed.fire());
      this.clients.set(name, client);
    }
    return client;
  }

  state(name: string): ConnectionState {
    return this.clients.get(name)?.state ?? 'disconnected';
  }

  /** Connects the device unless connected; returns its client. */
  async connect(name: string): Promise<AgentClient> {
    const device = this.get(name);
    if (device?.kind === 'ssh') throw new DeviceUnavailableError(`Cannot connect to '${name}': ${SSH_NOT_YET}`);
    const client = this.client(name);
    await client.connect();
    return client;
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
