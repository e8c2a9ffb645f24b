// The device is not trusted with the developer's machine (issue 18 item 6): a fake agent on the
// other end of the extension's LanguageClient asks it to create a file (workspace/applyEdit), to
// open a link in the browser (window/showDocument, external), for the user's settings
// (workspace/configuration), to send it every file the developer opens (client/registerCapability
// of textDocument/didOpen), to show a notification with a command link (window/showMessage), and
// offers a code lens for every file in its initialize answer. Each is refused, nothing is written,
// no file reaches the agent, and the refusal is logged.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { CancelRunRequest } from '../../../contract/protocol';
import { PROTOCOL_VERSION } from '../../../contract/protocolValues';
import { AgentClient } from '../../../src/devices/agentClient';

interface Answers {
  applyEdit?: { applied: boolean };
  showDocument?: { success: boolean };
  configuration?: unknown[];
  registerCapability?: string;
  done?: boolean;
  /** Every request and notification the agent got from the client, by method. */
  received: string[];
  initializeParams?: { rootUri?: unknown; rootPath?: unknown; workspaceFolders?: unknown };
}

/** An "agent" that, once initialised, asks for everything a hostile one would. */
function hostileAgent(target: vscode.Uri, answers: Answers) {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const conn = createMessageConnection(new StreamMessageReader(fromClient), new StreamMessageWriter(toClient));
  conn.onRequest('initialize', (params: Answers['initializeParams']) => {
    answers.initializeParams = params;
    return {
      // A code lens provider for every file, statically: its lenses would be clickable commands.
      capabilities: { codeLensProvider: { resolveProvider: false, documentSelector: [{ pattern: '**' }] }, textDocumentSync: { openClose: true, change: 1 } },
      jetbench: { protocolVersion: PROTOCOL_VERSION, agentVersion: 'hostile', pid: 1, mode: 'stdio' },
    };
  });
  conn.onRequest('jetbench/cancelRun', () => ({ cancelled: false }));
  conn.onRequest((method) => void answers.received.push(method));
  conn.onNotification((method) => void answers.received.push(method));
  conn.onRequest('textDocument/codeLens', (p) => {
    answers.received.push('textDocument/codeLens');
    return [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, command: { title: 'Run', command: 'workbench.action.terminal.sendSequence', arguments: [{ text: `echo owned ${JSON.stringify(p)}\n` }] } }];
  });
  conn.onNotification('textDocument/didOpen', () => void answers.received.push('textDocument/didOpen'));
  conn.onRequest('jetbench/deviceInfo', () => ({ hostname: 'hostile', platform: 'linux', arch: 'x64', osRelease: '1', distro: null, cpuModel: 'x', cpuCount: 1, cpuGovernor: null, memoryBytes: 1, gpus: [], jetson: null, versions: { agent: 'hostile', node: 'v20', onnxruntime: null, cuda: null, tensorrt: null, tvm: null } }));
  conn.onRequest('jetbench/listBackends', () => ({ backends: [] }));
  conn.onNotification('initialized', () => {
    void (async () => {
      answers.applyEdit = await conn.sendRequest('workspace/applyEdit', {
        label: 'plant',
        edit: { documentChanges: [{ kind: 'create', uri: target.toString() }, { textDocument: { uri: target.toString(), version: null }, edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: 'planted' }] }] },
      });
      answers.showDocument = await conn.sendRequest('window/showDocument', { uri: 'https://attacker.invalid/', external: true });
      answers.configuration = await conn.sendRequest('workspace/configuration', { items: [{ section: 'jetbench' }, { section: 'http' }] });
      answers.registerCapability = await conn
        .sendRequest('client/registerCapability', { registrations: [{ id: 'all-files', method: 'textDocument/didOpen', registerOptions: { documentSelector: [{ pattern: '**' }] } }] })
        .then(
          () => 'accepted',
          (e: Error) => `refused: ${e.message}`,
        );
      await conn.sendNotification('window/showMessage', { type: 1, message: 'Update needed: [Fix it](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22echo%20owned%5Cn%22%7D)' });
      answers.done = true;
    })();
  });
  conn.listen();
  return {
    reader: toClient,
    writer: fromClient,
    closed: new Promise<void>((resolve) => conn.onClose(() => resolve())),
    describe: 'a hostile agent',
    close: async () => {
      conn.dispose();
      toClient.end();
    },
  };
}

describe('an untrusted agent', () => {
  it('cannot edit files, open links or read settings through the LanguageClient', async function () {
    this.timeout(30_000);
    const folder = vscode.workspace.workspaceFolders![0]!.uri;
    const target = vscode.Uri.joinPath(folder, 'planted-by-agent.txt');
    const answers: Answers = { received: [] };
    const lines: string[] = [];
    const channel = vscode.window.createOutputChannel('jetbench hostile agent test');
    const output = Object.assign(channel, { appendLine: (line: string) => void lines.push(line) });
    const client = new AgentClient({
      device: 'hostile',
      openStreams: async () => hostileAgent(target, answers),
      output,
      restartLimits: () => ({ maxRestarts: 0, restartWindowMs: 60_000 }),
    });
    try {
      await client.connect();
      for (let i = 0; i < 200 && !answers.done; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(answers.done, 'the agent got its answers');
      assert.deepEqual(answers.applyEdit?.applied, false);
      assert.ok(!existsSync(path.join(folder.fsPath, 'planted-by-agent.txt')), 'no file was created');
      assert.deepEqual(answers.showDocument, { success: false });
      assert.deepEqual(answers.configuration, [null, null]);
      const log = lines.join('\n');
      assert.match(log, /\[hostile\] refused workspace\/applyEdit of 2 file\(s\)/);
      assert.match(log, /\[hostile\] refused window\/showDocument of https:\/\/attacker\.invalid\/ \(external\)/);
      assert.match(log, /\[hostile\] refused workspace\/configuration \(jetbench, http\)/);
      // No registration: a file the developer opens is not sent to the agent, and the agent's code
      // lens (a clickable command) appears nowhere.
      assert.match(answers.registerCapability ?? '', /^refused/);
      assert.match(log, /\[hostile\] refused client\/registerCapability/);
      const file = vscode.Uri.joinPath(folder, 'secret-notes.txt');
      await vscode.workspace.fs.writeFile(file, Buffer.from('the developer\'s own text\n'));
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', file);
      assert.ok(!lenses.some((l) => l.command?.command === 'workbench.action.terminal.sendSequence'), 'a code lens of the agent');
      // A jetbench request as a barrier: whatever the client sent before it has arrived.
      await client.rpc.sendRequest(CancelRunRequest, { runId: 'barrier' });
      assert.deepEqual(answers.received.filter((m) => m.startsWith('textDocument/')), [], 'documents reached the agent');
      // Its notification with a command link is not shown: its text goes to the log, as text.
      assert.match(log, /\[hostile\] ignored window\/showMessage from the agent: Update needed/);
      // The developer's workspace paths are not sent.
      assert.equal(answers.initializeParams?.rootUri, null);
      assert.equal(answers.initializeParams?.workspaceFolders, null);
    } finally {
      client.dispose();
      channel.dispose();
    }
  });
});
