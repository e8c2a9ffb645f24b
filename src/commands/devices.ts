// Device commands: Add Device, Connect, Disconnect, Info, Deploy Agent, Select Device.
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DeviceInfo } from '../../device-agent/src/protocol';
import { formatDeviceInfo } from '../cli/info';
import { DeviceUnavailableError, LOCAL_DEVICE, SSH_NOT_YET } from '../devices/deviceRegistry';
import { parseSshTarget, sshConfigHosts } from '../devices/sshTargets';
import { deviceNameOf } from '../views/devicesView';
import type { JetbenchContext } from '../vscode/context';
import { SETTING_KEYS, type DeviceSetting } from '../vscode/settingsModel';
import { pickDevice } from './picks';

async function deviceArg(ctx: JetbenchContext, arg: unknown, title: string): Promise<string | undefined> {
  return deviceNameOf(arg) ?? (await pickDevice(ctx, title));
}

/** `jetbench.connectDevice [name]`: resolves to the connection state. */
export function connectDevice(ctx: JetbenchContext) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const name = await deviceArg(ctx, arg, 'Jetbench: Connect to Device');
    if (!name) return undefined;
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Jetbench: connecting to ${name}…` }, () => ctx.devices.connect(name));
      await ctx.setActiveDevice(name);
    } catch (e) {
      if (e instanceof DeviceUnavailableError) void vscode.window.showInformationMessage(e.message);
      else {
        void vscode.window.showErrorMessage(`Jetbench: cannot connect to ${name}: ${(e as Error).message}`, 'Show Log').then((p) => {
          if (p) ctx.output.show(true);
        });
      }
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
      const pick = await vscode.window.showInformationMessage(`Device '${name}' is not connected.`, 'Connect');
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

/** `jetbench.deployAgent [name]`: the local device needs nothing; SSH devices arrive with issue 3. */
export function deployAgent(ctx: JetbenchContext) {
  return async (arg?: unknown): Promise<{ deployed: boolean; reason: string } | undefined> => {
    const name = await deviceArg(ctx, arg, 'Jetbench: Deploy Agent');
    if (!name) return undefined;
    const reason =
      name === LOCAL_DEVICE
        ? 'The local device runs the agent bundled with the extension (dist/agent.js): there is nothing to deploy.'
        : `Deploying to '${name}': ${SSH_NOT_YET}`;
    void vscode.window.showInformationMessage(reason);
    return { deployed: false, reason };
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
  return async (given?: Partial<DeviceSetting>): Promise<DeviceSetting | undefined> => {
    let entry: DeviceSetting | undefined;
    if (given && typeof given === 'object' && given.name && given.host) {
      entry = { name: given.name, host: given.host, port: given.port ?? null, user: given.user ?? null, identityFile: given.identityFile ?? null, python: given.python ?? null };
    } else {
      entry = await askDevice(ctx);
    }
    if (!entry) return undefined;
    const taken = ctx.devices.list().some((d) => d.name === entry.name);
    if (taken) {
      void vscode.window.showErrorMessage(`A device named '${entry.name}' exists already: choose another name.`);
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
    void vscode.window.showInformationMessage(`Added device '${entry.name}' (${entry.user ? `${entry.user}@` : ''}${entry.host}). ${SSH_NOT_YET}`);
    return entry;
  };
}

async function askDevice(ctx: JetbenchContext): Promise<DeviceSetting | undefined> {
  const configFile = path.join(os.homedir(), '.ssh', 'config');
  const hosts = sshConfigHosts(await readFile(configFile, 'utf8').catch(() => ''));
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
    validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v) && v !== LOCAL_DEVICE ? null : 'Letters, digits, ".", "_" or "-", and not "local"'),
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
