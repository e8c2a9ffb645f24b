// The device is not trusted with the developer's machine (issue 18 item 6): a fake agent on the
// other end of the extension's LanguageClient asks it to create a file (workspace/applyEdit), to
// open a link in the browser (window/showDocument, external) and for the user's settings
// (workspace/configuration). Each is refused, nothing is written, and the refusal is logged.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { PROTOCOL_VERSION } from '../../../contract/protocolValues';
import { AgentClient } from '../../../src/devices/agentClient';

interface Answers {
  applyEdit?: { applied: boolean };
  showDocument?: { success: boolean };
  configuration?: unknown[];
}

/** An "agent" that, once initialised, asks for everything a hostile one would. */
function hostileAgent(target: vscode.Uri, answers: Answers) {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const conn = createMessageConnection(new StreamMessageReader(fromClient), new StreamMessageWriter(toClient));
  conn.onRequest('initialize', () => ({
    capabilities: {},
    jetbench: { protocolVersion: PROTOCOL_VERSION, agentVersion: 'hostile', pid: 1, mode: 'stdio' },
  }));
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
    const answers: Answers = {};
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
      for (let i = 0; i < 200 && answers.configuration === undefined; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(answers.configuration !== undefined, 'the agent got its answers');
      assert.deepEqual(answers.applyEdit?.applied, false);
      assert.ok(!existsSync(path.join(folder.fsPath, 'planted-by-agent.txt')), 'no file was created');
      assert.deepEqual(answers.showDocument, { success: false });
      assert.deepEqual(answers.configuration, [null, null]);
      const log = lines.join('\n');
      assert.match(log, /\[hostile\] refused workspace\/applyEdit of 2 file\(s\)/);
      assert.match(log, /\[hostile\] refused window\/showDocument of https:\/\/attacker\.invalid\/ \(external\)/);
      assert.match(log, /\[hostile\] refused workspace\/configuration \(jetbench, http\)/);
    } finally {
      client.dispose();
      channel.dispose();
    }
  });
});
