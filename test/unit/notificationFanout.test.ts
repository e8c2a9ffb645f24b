// The one notification fan-out, over two real vscode-jsonrpc connections joined by in-memory streams.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createMessageConnection, NotificationType, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { agentRpc } from '../../src/core/runClient';

const Tick = new NotificationType<{ n: number }>('test/tick');

function pair(): { client: MessageConnection; server: MessageConnection; dispose(): void } {
  const up = new PassThrough();
  const down = new PassThrough();
  const client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  const server = createMessageConnection(new StreamMessageReader(up), new StreamMessageWriter(down));
  client.listen();
  server.listen();
  return { client, server, dispose: () => (client.dispose(), server.dispose()) };
}

/** Follows Tick; `done` resolves once `count` ticks arrived. */
function ticks(rpc: ReturnType<typeof agentRpc>, count: number): { got: number[]; done: Promise<void>; stop(): void } {
  const got: number[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const sub = rpc.follow(Tick, ({ n }) => {
    got.push(n);
    if (got.length === count) resolve();
  });
  return { got, done, stop: () => sub.dispose() };
}

test('vscode-jsonrpc keeps one handler per method: a second onNotification silences the first', async () => {
  // Why the fan-out exists (if vscode-jsonrpc ever changes this, the fan-out may go).
  const { client, server, dispose } = pair();
  try {
    const first: number[] = [];
    const second: number[] = [];
    client.onNotification(Tick, ({ n }) => first.push(n));
    const got = new Promise<void>((resolve) => client.onNotification(Tick, ({ n }) => (second.push(n), resolve())));
    await server.sendNotification(Tick, { n: 1 });
    await got;
    assert.deepEqual([first, second], [[], [1]]);
  } finally {
    dispose();
  }
});

/** Runs `body` with the client side as an AgentRpc and the server side to notify from. */
async function withRpc(body: (rpc: ReturnType<typeof agentRpc>, server: MessageConnection) => Promise<void>): Promise<void> {
  const { client, server, dispose } = pair();
  const rpc = agentRpc(client);
  try {
    await body(rpc, server);
  } finally {
    rpc.dispose();
    dispose();
  }
}

test('every follower of one method on one connection gets every notification; disposed ones leave', () =>
  withRpc(async (rpc, server) => {
    const a = ticks(rpc, 2);
    const b = ticks(rpc, 1);
    assert.equal(rpc.followerCount(Tick.method), 2);
    await server.sendNotification(Tick, { n: 1 });
    await b.done;
    b.stop();
    assert.equal(rpc.followerCount(Tick.method), 1);
    await server.sendNotification(Tick, { n: 2 });
    await a.done;
    assert.deepEqual(a.got, [1, 2]);
    assert.deepEqual(b.got, [1]);
    a.stop();
    assert.equal(rpc.followerCount(Tick.method), 0);
  }));

test('many followers over time leave no handler behind', () =>
  withRpc(async (rpc, server) => {
    for (let run = 0; run < 5; run++) {
      const t = ticks(rpc, 1);
      await server.sendNotification(Tick, { n: run });
      await t.done;
      t.stop();
      assert.deepEqual(t.got, [run]);
    }
    assert.equal(rpc.followerCount(Tick.method), 0);
  }));
