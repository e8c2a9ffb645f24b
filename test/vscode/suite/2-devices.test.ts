// Devices: the local agent over the LanguageClient, its restart when it dies, SSH devices listed.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { DeviceInfo } from '../../../contract/protocol';
import { jetbench, until } from './util';

describe('devices', () => {
  it('connects the local device: protocol checked, device described, backends listed', async () => {
    const api = await jetbench();
    const state = await vscode.commands.executeCommand<string>('jetbench.connectDevice', 'local');
    assert.equal(state, 'connected');
    const client = api.devices.client('local');
    assert.ok(client.agent && client.agent.pid > 0);
    assert.ok(client.info && client.info.cpuCount > 0);
    const ort = client.backends?.find((b) => b.id === 'onnxruntime');
    assert.equal(ort?.available, true, JSON.stringify(client.backends));
    assert.match(api.statusBarText(), /jetbench: local$/);
  });

  it('Show Device Info answers with what the agent reported', async () => {
    const info = await vscode.commands.executeCommand<DeviceInfo>('jetbench.showDeviceInfo', 'local');
    assert.ok(info.hostname.length > 0);
    assert.ok(info.versions.onnxruntime);
  });

  it('restarts the agent when it dies, with a new process', async () => {
    const api = await jetbench();
    const client = api.devices.client('local');
    const oldPid = client.agentPid!;
    const lost = new Promise<string>((resolve) => client.onDidLoseConnection(resolve));
    process.kill(oldPid, 'SIGKILL');
    assert.match(await lost, /stopped/);
    await until(client.onDidChange, () => client.state === 'connected' && client.agentPid !== null && client.agentPid !== oldPid, 'a restarted agent');
    assert.ok(client.info, 'the restarted agent described the device again');
  });

  it('a changed restart setting applies at the next connection, without a reload', async () => {
    const api = await jetbench();
    const config = vscode.workspace.getConfiguration('jetbench');
    // The registry fires onDidChange once the settings object holds the new value.
    const setMaxRestarts = async (value: number | undefined) => {
      const applied = new Promise<void>((resolve) => {
        const sub = api.devices.onDidChange(() => (sub.dispose(), resolve()));
      });
      await config.update('agent.maxRestarts', value, vscode.ConfigurationTarget.Workspace);
      await applied;
    };
    // The device's client exists (connected) before the setting changes.
    assert.equal(await vscode.commands.executeCommand('jetbench.connectDevice', 'local'), 'connected');
    await setMaxRestarts(0);
    try {
      await vscode.commands.executeCommand('jetbench.disconnectDevice', 'local');
      assert.equal(await vscode.commands.executeCommand('jetbench.connectDevice', 'local'), 'connected');
      const client = api.devices.client('local');
      process.kill(client.agentPid!, 'SIGKILL');
      // No restart allowed: the client gives up at the first death instead of restarting.
      await until(client.onDidChange, () => client.state === 'failed', 'the client giving up', 20_000);
      assert.match(client.lastError ?? '', /will not be restarted/);
    } finally {
      await setMaxRestarts(undefined);
      assert.equal(await vscode.commands.executeCommand('jetbench.connectDevice', 'local'), 'connected');
    }
  });

  describe('SSH devices', () => {
    after(async () => {
      await vscode.workspace.getConfiguration('jetbench').update('devices', undefined, vscode.ConfigurationTarget.Workspace);
    });

    it('Add Device stores the device in the workspace settings; the view lists it, not connected', async () => {
      const api = await jetbench();
      const changed = new Promise<void>((resolve) => {
        const sub = api.devices.onDidChange(() => {
          if (!api.devices.get('xavier')) return;
          sub.dispose();
          resolve();
        });
      });
      const added = await vscode.commands.executeCommand<{ name: string }>('jetbench.addDevice', { name: 'xavier', host: '192.0.2.7', user: 'nvidia', port: 22 });
      assert.equal(added.name, 'xavier');
      await changed;
      const stored = vscode.workspace.getConfiguration('jetbench').inspect<unknown[]>('devices')?.workspaceValue;
      assert.deepEqual(stored, [{ name: 'xavier', host: '192.0.2.7', port: 22, user: 'nvidia' }]);
      assert.deepEqual(
        api.devices.list().map((d) => [d.name, d.kind]),
        [
          ['local', 'local'],
          ['xavier', 'ssh'],
        ],
      );
      assert.equal(api.devices.state('xavier'), 'disconnected');
    });

    it('Connect and Deploy on a device whose port refuses say so, and the device is marked failed', async () => {
      const api = await jetbench();
      await vscode.workspace.getConfiguration('jetbench').update('devices', [{ name: 'xavier', host: '127.0.0.1', port: 1, user: 'nvidia' }], vscode.ConfigurationTarget.Workspace);
      await until(api.devices.onDidChange, () => api.devices.get('xavier')?.setting?.port === 1, 'the changed device');
      assert.equal(await vscode.commands.executeCommand('jetbench.connectDevice', 'xavier'), 'failed');
      assert.match(api.devices.client('xavier').lastError ?? '', /refused/i);
      const deploy = await vscode.commands.executeCommand<{ deployed: boolean; reason: string }>('jetbench.deployAgent', 'xavier');
      assert.equal(deploy.deployed, false);
      assert.match(deploy.reason, /cannot deploy to xavier: .*refused/i);
      assert.equal(api.devices.state('local'), 'connected', 'the local device is not affected');
    });
  });
});
