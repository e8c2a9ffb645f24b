// The agent over its JSON-RPC API, through the same client core the CLI and the extension use:
// samples stream in ordered batches equal to the final result, bad input is a typed error that
// leaves the agent serving, runs queue one at a time, and cancellation returns a cancelled run.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc';
import { AgentErrorCode, DeviceInfoRequest, ListBackendsRequest, PROTOCOL_VERSION, SamplesNotification, type RunSpec } from '../../contract/protocol';
import { startLocalAgent, type AgentConnection } from '../../src/core/agentConnection';
import { runOnAgent } from '../../src/core/runClient';
import { TEST_CACHE_DIR } from '../helpers/cli';

const spec: RunSpec = {
  device: 'local', model: 'tiny', backend: 'onnxruntime', precision: 'fp32', warmup: 3, warmupMs: 0,
  iterations: 60, durationS: 0, threads: 1, inputShape: null, opset: 13, label: 'agent test',
};

let agent: AgentConnection;
before(async () => {
  process.env.JETBENCH_CACHE_DIR = TEST_CACHE_DIR;
  agent = await startLocalAgent({ client: 'test' });
});
after(async () => {
  await agent.dispose();
});

test('initialize reports the protocol and the agent process', () => {
  assert.equal(agent.agent.protocolVersion, PROTOCOL_VERSION);
  assert.ok(agent.agent.pid > 0 && agent.agent.pid !== process.pid);
});

test('streamed samples arrive in order and equal the final run', async () => {
  const progress: string[] = [];
  const { run, streamed } = await runOnAgent(agent.rpc, { ...spec, iterations: 300 }, {
    observer: { onProgress: (m) => progress.push(m) },
  });
  assert.equal(run.status, 'ok');
  assert.equal(streamed.gaps, 0);
  assert.deepEqual(streamed.latencyMs, run.samples.latencyMs);
  assert.deepEqual(streamed.warmupMs, run.samples.warmupLatencyMs);
  assert.ok(progress.some((m) => /resolving model tiny/.test(m)), progress.join(' | '));
});

test('bad input is a BadInput error and the agent keeps serving', async () => {
  await assert.rejects(
    runOnAgent(agent.rpc, { ...spec, model: '/nonexistent/model.onnx' }, {}),
    (e: unknown) => e instanceof ResponseError && e.code === AgentErrorCode.BadInput && /not found/.test(e.message),
  );
  await assert.rejects(
    runOnAgent(agent.rpc, { ...spec, iterations: 0 }, {}),
    (e: unknown) => e instanceof ResponseError && e.code === AgentErrorCode.BadInput && /iterations/.test(e.message),
  );
  const info = await agent.connection.sendRequest(DeviceInfoRequest);
  assert.ok(info.cpuCount > 0);
  const { backends } = await agent.connection.sendRequest(ListBackendsRequest);
  assert.deepEqual(backends.map((b) => b.id), ['onnxruntime', 'tensorrt', 'tvm', 'pytorch']);
});

test('two runs at once are measured one after the other', async () => {
  const [a, b] = await Promise.all([
    runOnAgent(agent.rpc, { ...spec, iterations: 40 }, {}),
    runOnAgent(agent.rpc, { ...spec, iterations: 40 }, {}),
  ]);
  const [first, second] = Date.parse(a.run.createdAt) <= Date.parse(b.run.createdAt) ? [a.run, b.run] : [b.run, a.run];
  // The second job's measurement starts only after the first finished.
  assert.ok(Date.parse(second.finishedAt) >= Date.parse(first.finishedAt));
  assert.equal(a.run.status, 'ok');
  assert.equal(b.run.status, 'ok');
  // Both runs followed samples on one connection at once, and neither left a follower behind.
  assert.equal(agent.rpc.followerCount(SamplesNotification.method), 0);
});

test('$/cancelRequest ends the run with status cancelled and keeps its samples', async () => {
  const source = new CancellationTokenSource();
  let seen = 0;
  const pending = runOnAgent(agent.rpc, { ...spec, iterations: 10_000_000 }, {
    token: source.token,
    observer: {
      onSamples: (batch) => {
        if (batch.phase === 'measure') seen += batch.latencyMs.length;
        if (seen > 20) source.cancel();
      },
    },
  });
  const { run, streamed } = await pending;
  assert.equal(run.status, 'cancelled');
  assert.ok(run.samples.latencyMs.length >= 20);
  assert.deepEqual(streamed.latencyMs, run.samples.latencyMs);
  assert.equal(run.stats!.count, run.samples.latencyMs.length);
});
