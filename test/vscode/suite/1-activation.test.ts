// Activation, contributions and the commands that need no run.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { COMMAND_IDS } from '../../../src/commands/ids';
import { jetbench, EXTENSION_ID } from './util';

describe('activation', () => {
  it('activates on its view, registers every contributed command, connects nothing', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    // Opening the view is what activates it for a user (onView).
    await vscode.commands.executeCommand('workbench.view.extension.jetbench');
    const api = await jetbench();
    assert.ok(ext.isActive);
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of COMMAND_IDS) assert.ok(registered.has(id), `${id} is not registered`);
    assert.equal(api.devices.state('local'), 'disconnected');
    assert.match(api.statusBarText(), /jetbench: local \(not connected\)/);
    assert.ok(api.activationMs < 1000, `activate() took ${api.activationMs} ms`);
  });

  it('lists the local device first, and devices of the settings after it', async () => {
    const api = await jetbench();
    assert.deepEqual(api.devices.list()[0], { name: 'local', kind: 'local', setting: null });
  });

  it('Deploy Agent on the local device says there is nothing to deploy', async () => {
    const r = await vscode.commands.executeCommand<{ deployed: boolean; reason: string }>('jetbench.deployAgent', 'local');
    assert.equal(r.deployed, false);
    assert.match(r.reason, /bundled with the extension/);
  });

  it('Show Log reveals the output channel without failing', async () => {
    await vscode.commands.executeCommand('jetbench.showLog');
  });
});
