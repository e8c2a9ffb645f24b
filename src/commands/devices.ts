// Device commands: Add Device, Connect, Disconnect, Info, Deploy Agent, Select Device.
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DeviceInfo } from '../../contract/protocol';
import { formatDeviceInfo } from '../../contract/format';
import { parseSshTarget, sshConfigHostAliases, validateDeviceConfig } from '../core/devices';
import type { DeployResult } from '../core/deploy';
import { LOCAL_DEVICE } from '../devices/deviceRegistry';
import { deviceNameOf } from '../views/devicesView';
import type { JetbenchContext } from '../vscode/context';
import { SETTING_KEYS, type DeviceSetting } from '../vscode/settingsModel';
import { pickDevice } from './picks';
import { progressReporter, showError, showInfo } from '../vscode/notify';

/** A device Add Device stores (the settings' own fields of it). */
type NewDevice = Omit<DeviceSetting, 'config'>;

async function deviceArg(ctx: JetbenchContext, arg: unknown, title: string): Promise<string | undefined> {
  return deviceNameOf(arg) ?? (await pickDevice(ctx, title));
}

/** `jetbench.connectDevice [name]`: resolves to the connection state. */
export function connectDevice(ctx: JetbenchContext) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const name = await deviceArg(ctx, arg, 'Jetbench: Connect to Device');
    if (!name) return undefined;
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Jetbench: connecting to ${name}` }, (progress) =>
        ctx.devices.connect(name, progressReporter(progress)),
      );
      await ctx.setActiveDevice(name);
    } catch (e) {
      showFailure(ctx, `Jetbench: cannot connect to ${name}: ${(e as Error).message}`);
    }
    return ctx.devices.state(name);
  };
}

export function disconnectDevice(ctx: JetbenchContext) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const name = await deviceArg(ctx, arg, 'Jetbench: Disconnect Device');
    if (!name) return undefined;
    await ctx.devices.disconnect(name);
    return ctx.devices.state(name);
  };
}

/** `jetbench.showDeviceInfo [name]`: writes the device's description to the output; while the
 * device is not connected it says so and offers Connect. Resolves to the description. */
export function showDeviceInfo(ctx: JetbenchContext) {
  return async (arg?: unknown): Promise<DeviceInfo | undefined> => {
    const name = await deviceArg(ctx, arg, 'Jetbench: Show Device Info');
    if (!name) return undefined;
    if (ctx.devices.state(name) !== 'connected') {
      const pick = await showInfo(`Device '${name}' is not connected.`, 'Connect');
      if (pick !== 'Connect') return undefined;
      await vscode.commands.executeCommand('jetbench.connectDevice', name);
      if (ctx.devices.state(name) !== 'connected') return undefined;
    }
    const client = ctx.devices.client(name);
    if (!client.info) return undefined;
    ctx.output.appendLine(`\nDevice '${name}' (agent ${client.agent?.agentVersion ?? '?'}):`);
    ctx.output.appendLine(formatDeviceInfo(client.info, client.backends ?? []));
    ctx.output.show(true);
    return client.info;
  };
}

function showFailure(ctx: JetbenchContext, message: string): void {
  ctx.output.appendLine(message);
  void showError(message, 'Show Log').then((p) => {
    if (p) ctx.output.show(true);
  });
}

/** What Deploy Agent resolves to (the extension-host tests read it). */
export interface DeployOutcome {
  deployed: boolean;
  /** In words: why nothing was deployed, or what was. */
  reason: string;
  result: DeployResult | null;
}

/** `jetbench.deployAgent [name]`: uploads this extension's agent to an SSH device (a no-op when
 * it is there), the same code as `jetbench deploy`; the local device needs nothing. */
export function deployAgent(ctx: JetbenchContext) {
  return async (arg?: unknown): Promise<DeployOutcome | undefined> => {
    const name = await deviceArg(ctx, arg, 'Jetbench: Deploy Agent');
    if (!name) return undefined;
    if (name === LOCAL_DEVICE) {
      const reason = 'The local device runs the agent bundled with the extension (dist/agent.js): there is nothing to deploy.';
      void showInfo(reason);
      return { deployed: false, reason, result: null };
    }
    try {
      const { result, summary } = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Jetbench: deploying to ${name}` },
        (progress) => ctx.devices.deploy(name, progressReporter(progress)),
      );
      const warn = result.native.status === 'failed' ? ' The native addon did not build (see the Jetbench output): the pipeline and TensorRT need it.' : '';
      void showInfo(`Jetbench: ${summary[0]}.${warn}`);
      return { deployed: result.uploaded, reason: summary.join('\n'), result };
    } catch (e) {
      const reason = `Jetbench: cannot deploy to ${name}: ${(e as Error).message}`;
      showFailure(ctx, reason);
      return { deployed: false, reason, result: null };
    }
  };
}

export function selectDevice(ctx: JetbenchContext) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const name = await deviceArg(ctx, arg, 'Jetbench: Select Device');
    if (!name) return undefined;
    await ctx.setActiveDevice(name);
    if (ctx.devices.get(name)?.kind === 'local' && ctx.devices.state(name) !== 'connected') {
      await vscode.commands.executeCommand('jetbench.connectDevice', name);
    }
    return name;
  };
}

/** `jetbench.addDevice`: a Host of ~/.ssh/config, or one entered by hand, added to jetbench.devices
 * (workspace settings when a folder is open: the CLI reads the same array there). */
export function addDevice(ctx: JetbenchContext) {
  return async (given?: Partial<NewDevice>): Promise<NewDevice | undefined> => {
    let entry: NewDevice | undefined;
    if (given && typeof given === 'object' && given.name && given.host) {
      entry = { name: given.name, host: given.host, port: given.port ?? null, user: given.user ?? null, identityFile: given.identityFile ?? null, python: given.python ?? null };
    } else {
      entry = await askDevice(ctx);
    }
    if (!entry) return undefined;
    const taken = ctx.devices.list().some((d) => d.name === entry.name);
    if (taken) {
      void showError(`A device named '${entry.name}' exists already: choose another name.`);
      return undefined;
    }
    const config = vscode.workspace.getConfiguration('jetbench');
    const current = (config.get<unknown[]>(SETTING_KEYS.devices) ?? []).filter((d) => typeof d === 'object' && d !== null);
    const stored: Record<string, string | number> = { name: entry.name, host: entry.host };
    if (entry.port !== null) stored.port = entry.port;
    if (entry.user !== null) stored.user = entry.user;
    if (entry.identityFile !== null) stored.identityFile = entry.identityFile;
    if (entry.python !== null) stored.python = entry.python;
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await config.update(SETTING_KEYS.devices, [...current, stored], target);
    void showInfo(`Added device '${entry.name}' (${entry.user ? `${entry.user}@` : ''}${entry.host}). Connect deploys the agent to it.`);
    return entry;
  };
}

async function askDevice(ctx: JetbenchContext): Promise<NewDevice | undefined> {
  const configFile = path.join(os.homedir(), '.ssh', 'config');
  const hosts = sshConfigHostAliases(await readFile(configFile, 'utf8').catch(() => ''));
  const known = new Set(ctx.devices.list().map((d) => d.setting?.host));
  const byHand = { label: '$(edit) Enter by hand…', value: '' };
  const items = [...hosts.filter((h) => !known.has(h)).map((h) => ({ label: h, value: h, description: 'from ~/.ssh/config' })), byHand];
  const pick = await vscode.window.showQuickPick(items, { title: 'Jetbench: Add Device', placeHolder: hosts.length ? 'A host of ~/.ssh/config, or enter one by hand' : 'No hosts in ~/.ssh/config: enter one by hand', ignoreFocusOut: true });
  if (!pick) return undefined;
  let target: { host: string; user: string | null; port: number | null } | null = { host: pick.value, user: null, port: null };
  if (!pick.value) {
    const text = await vscode.window.showInputBox({
      title: 'Jetbench: Add Device — address',
      prompt: 'user@host[:port] (user and port optional)',
      placeHolder: 'nvidia@192.168.55.1',
      ignoreFocusOut: true,
      validateInput: (v) => (parseSshTarget(v) ? null : 'Expected user@host or user@host:port'),
    });
    if (!text) return undefined;
    target = parseSshTarget(text);
    if (!target) return undefined;
  }
  const suggested = target.host.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'device';
  const name = await vscode.window.showInputBox({
    title: 'Jetbench: Add Device — name',
    prompt: 'What the Devices view and --device call it',
    value: suggested,
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        validateDeviceConfig({ name: v, host: target.host }, 'name');
        return null;
      } catch (e) {
        return (e as Error).message.replace(/^name: /, '');
      }
    },
  });
  if (!name) return undefined;
  let identityFile: string | null = null;
  if (!pick.value) {
    const key = await vscode.window.showInputBox({ title: 'Jetbench: Add Device — key', prompt: 'Private key file (optional; ~ is your home). Keys never leave this machine.', placeHolder: '~/.ssh/id_ed25519', ignoreFocusOut: true });
    if (key === undefined) return undefined;
    identityFile = key.trim() || null;
  }
  return { name, host: target.host, port: target.port, user: target.user, identityFile, python: null };
}
