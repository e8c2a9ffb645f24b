// The Devices view: the local device first, then the SSH devices of `jetbench.devices`, each with
// its connection state and, once connected, what its agent reported (OS, CPU, GPU, Jetson model,
// backends). Inline actions Connect, Deploy, Info come from package.json menus by contextValue.
import * as vscode from 'vscode';
import type { DeviceInfo } from '../../contract/protocol';
import { telemetryNowText } from '../../contract/telemetry';
import { oneLine } from '../../contract/untrustedText';
import type { AgentClient } from '../devices/agentClient';
import type { Device, DeviceRegistry } from '../devices/deviceRegistry';

export const DEVICES_VIEW_ID = 'jetbench.devices';

type DeviceNode = { kind: 'device'; device: Device } | { kind: 'detail'; device: string; label: string; value: string; icon: string };

/** One line per fact the agent reported, for the Devices view (the Info command prints the CLI's
 * `jetbench info` text instead). */
export function deviceFacts(client: AgentClient): Array<{ label: string; value: string; icon: string }> {
  const info: DeviceInfo | null = client.info;
  if (!info) return [];
  const facts = [
    { label: 'Agent', value: `${client.agent?.agentVersion ?? '?'} (protocol ${client.agent?.protocolVersion ?? '?'}, pid ${client.agent?.pid ?? '?'})`, icon: 'server-process' },
    { label: 'Host', value: `${info.hostname} — ${info.distro ?? info.platform} ${info.osRelease} (${info.arch})`, icon: 'device-desktop' },
    { label: 'CPU', value: `${info.cpuModel} × ${info.cpuCount}`, icon: 'chip' },
  ];
  for (const g of info.gpus) facts.push({ label: 'GPU', value: `${g.name}${g.computeCapability ? ` (sm ${g.computeCapability})` : ''}`, icon: 'circuit-board' });
  if (info.gpus.length === 0) facts.push({ label: 'GPU', value: 'none found', icon: 'circuit-board' });
  if (info.jetson) facts.push({ label: 'Jetson', value: [info.jetson.model, info.jetson.jetpack ? `JetPack ${info.jetson.jetpack}` : null, info.jetson.powerMode].filter(Boolean).join(', '), icon: 'rocket' });
  for (const b of client.backends ?? []) {
    facts.push({ label: b.id, value: b.available ? `${b.version ?? 'available'} (${b.precisions.join(', ')})` : `unavailable: ${b.reason ?? ''}`, icon: b.available ? 'check' : 'circle-slash' });
  }
  return facts;
}

/** How often the view asks a connected device for its sensors while the view is visible. */
export const TELEMETRY_POLL_MS = 5000;

export class DevicesTreeProvider implements vscode.TreeDataProvider<DeviceNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DeviceNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;
  /** The last sensor reading per device, or the reason there is none. */
  private readonly now = new Map<string, { text: string } | { unavailable: string }>();
  private poll: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly registry: DeviceRegistry) {
    this.subscription = registry.onDidChange(() => this.changed.fire(undefined));
  }

  /** Live power/temperature/clocks while the view is visible; nothing is asked while it is hidden. */
  setVisible(visible: boolean): void {
    if (visible && !this.poll) {
      void this.refreshTelemetry();
      this.poll = setInterval(() => void this.refreshTelemetry(), TELEMETRY_POLL_MS);
    } else if (!visible && this.poll) {
      clearInterval(this.poll);
      this.poll = null;
    }
  }

  /** Asks every connected device for one sensor reading. */
  async refreshTelemetry(): Promise<void> {
    const connected = this.registry.list().filter((d) => this.registry.state(d.name) === 'connected');
    await Promise.all(
      connected.map(async (d) => {
        try {
          const n = await this.registry.client(d.name).telemetryNow();
          const text = telemetryNowText(n) ?? `no sensor readable (${n.sources.length ? n.sources.join(', ') : 'no cpufreq, thermal zones, power monitors or NVML'})`;
          // During a run the agent answers from the run's own sampler rather than read again.
          this.now.set(d.name, { text: n.fromRun ? `${text} (the running benchmark's sampler)` : text });
        } catch (e) {
          this.now.set(d.name, { unavailable: oneLine((e as Error).message) });
        }
      }),
    );
    this.changed.fire(undefined);
  }

  getChildren(node?: DeviceNode): DeviceNode[] {
    if (!node) return this.registry.list().map((device) => ({ kind: 'device', device }));
    if (node.kind !== 'device' || this.registry.state(node.device.name) !== 'connected') return [];
    const facts = deviceFacts(this.registry.client(node.device.name)).map((f): DeviceNode => ({ kind: 'detail', device: node.device.name, ...f }));
    const now = this.now.get(node.device.name);
    if (now) facts.unshift({ kind: 'detail', device: node.device.name, label: 'Now', value: 'text' in now ? now.text : `sensors not read: ${now.unavailable}`, icon: 'pulse' });
    return facts;
  }

  getTreeItem(node: DeviceNode): vscode.TreeItem {
    if (node.kind === 'detail') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.id = `${node.device}:${node.label}:${node.value}`;
      item.description = node.value;
      item.tooltip = `${node.label}: ${node.value}`;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      return item;
    }
    const { device } = node;
    const state = this.registry.state(device.name);
    const connected = state === 'connected';
    const item = new vscode.TreeItem(device.name, connected ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = `device:${device.name}`;
    const client = connected ? this.registry.client(device.name) : null;
    const jobs = this.registry.jobCount(device.name);
    const where = device.kind === 'local' ? 'this machine' : `${device.setting?.user ? `${device.setting.user}@` : ''}${device.setting?.host ?? ''}${device.setting?.port ? `:${device.setting.port}` : ''}`;
    const stateText = state === 'disconnected' ? 'not connected' : state;
    const gpu = client?.info?.jetson?.model ?? client?.info?.gpus[0]?.name ?? null;
    item.description = [stateText, client?.agent ? `agent ${client.agent.agentVersion}` : null, client?.info?.arch ?? null, gpu, jobs > 0 ? `${jobs} job${jobs === 1 ? '' : 's'}` : null, where]
      .filter(Boolean)
      .join(' · ');
    const tip = new vscode.MarkdownString(undefined, false);
    tip.appendText(`${device.name} (${where}): ${stateText}`);
    if (state === 'failed' && this.registry.client(device.name).lastError) tip.appendText(`\n\n${this.registry.client(device.name).lastError}`);
    if (device.kind === 'ssh') tip.appendText('\n\nConnect deploys the agent when this version is not on the device yet, then attaches to its agent daemon.');
    item.tooltip = tip;
    item.iconPath = new vscode.ThemeIcon(
      device.kind === 'local' ? 'vm' : 'remote',
      new vscode.ThemeColor(connected ? 'testing.iconPassed' : state === 'failed' ? 'testing.iconFailed' : 'disabledForeground'),
    );
    item.contextValue = `jetbench.device.${device.kind}.${state}`;
    return item;
  }

  dispose(): void {
    this.setVisible(false);
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** The device name a device command was invoked on: a tree node, a name, or none. */
export function deviceNameOf(arg: unknown): string | null {
  if (typeof arg === 'string') return arg;
  const node = arg as Partial<DeviceNode> | null;
  if (node && node.kind === 'device' && node.device) return node.device.name;
  return null;
}
