// A connection cut in the middle of a JSON-RPC frame: vscode-jsonrpc's reader then re-arms a
// "partial message" timer every 10 s for ever, which kept the CLI alive after its run was written
// (seen on the emulated aarch64 device). The client's connection stops it when its transport ends.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { StreamMessageReader, StreamMessageWriter, type ResponseMessage } from 'vscode-jsonrpc/node';
import { PROTOCOL_VERSION } from '../../contract/protocol';
import { connectAgent } from '../../src/core/agentConnection';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const tick = () => new Promise((r) => setImmediate(r));

test('an agent connection cut mid-frame leaves no timer behind', async () => {
  const fromAgent = new PassThrough();
  const toAgent = new PassThrough();
  let ended!: () => void;
  const closed = new Promise<void>((r) => (ended = r));
  // The agent's side: answers initialize, then starts a frame it never finishes.
  const agentReader = new StreamMessageReader(toAgent);
  const agentWriter = new StreamMessageWriter(fromAgent);
  agentReader.listen((message) => {
    const m = message as { id?: number; method?: string };
    if (m.method === 'initialize') {
      const response: ResponseMessage = { jsonrpc: '2.0', id: m.id!, result: { jetbench: { protocolVersion: PROTOCOL_VERSION, agentVersion: 'test', pid: 1, mode: 'daemon' } } };
      void agentWriter.write(response);
    }
  });
  const conn = await connectAgent({ reader: fromAgent, writer: toAgent, close: async () => ended(), closed, describe: 'test agent' }, { client: 'test' });
  await tick();
  const before = timers();
  fromAgent.write('Content-Length: 500\r\n\r\n{"jsonrpc":"2.0","method":"jetbench/samp');
  await tick();
  assert.equal(timers(), before + 1, 'the reader armed its partial-message timer');
  // The transport ends (the SSH channel dropped) without the client disposing this connection.
  ended();
  await tick();
  assert.equal(timers(), before, 'the partial-message timer is gone once the transport has ended');
  agentReader.dispose();
  await conn.dispose();
});
