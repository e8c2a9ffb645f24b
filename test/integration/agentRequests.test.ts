// Every request is checked against the contract before it touches the agent's shared state: a
// malformed request from any client (here raw JSON-RPC, as a buggy or hostile client would send it)
// is a BadInput error naming the problem, and leaves the daemon serving everyone: `listRuns` works,
// a good run still runs, and the idle daemon can still be stopped (no phantom live run).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc';
import { AgentErrorCode, ListRunsRequest, StopDaemonRequest, type RunSpec } from '../../contract/protocol';
import type { AgentConnection } from '../../src/core/agentConnection';
import { runOnAgent } from '../../src/core/runClient';
import { daemonClient } from '../helpers/daemon';

const good: RunSpec = {
  device: 'local', model: 'tiny', backend: 'onnxruntime', precision: 'fp32', warmup: 2, warmupMs: 0,
  iterations: 10, durationS: 0, threads: 1, inputShape: null, opset: 13, label: 'requests test',
};

let home: string;
let agent: AgentConnection;

/** A client of a real daemon in a fresh agent home. */
function attachClient(): Promise<AgentConnection> {
  return daemonClient(home, 'requests test');
}

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'jb-requests-'));
  agent = await attachClient();
  assert.equal(agent.agent.mode, 'daemon');
});
after(async () => {
  await agent.dispose();
  rmSync(home, { recursive: true, force: true });
});

async function badInput(method: string, params: unknown, message: RegExp): Promise<void> {
  await assert.rejects(agent.connection.sendRequest(method, params), (e: unknown) => {
    assert.ok(e instanceof ResponseError, String(e));
    assert.equal(e.code, AgentErrorCode.BadInput, e.message);
    assert.match(e.message, message);
    return true;
  });
}

test('malformed requests are refused naming the problem, and leave no phantom run', async () => {
  await badInput('jetbench/run', { runId: 'x', spec: null }, /spec must be an object/);
  await badInput('jetbench/run', null, /params must be an object/);
  await badInput('jetbench/run', { spec: { ...good, iterations: '10' } }, /spec\.iterations must be a whole number from 1 to 10000000 \(got '10'\)/);
  await badInput('jetbench/run', { spec: { ...good, inputShape: [1, 3, 20000, 20000] } }, /spec\.inputShape 1x3x20000x20000 is 1\.20e\+9 values \(4\.8 GB as fp32\): this device has [\d.]+ GB of memory/);
  await badInput('jetbench/run', { spec: { ...good, threads: 5000 } }, new RegExp(`spec\\.threads must be .* from 1 to ${os.availableParallelism() * 4} \\(4 per core`));
  await badInput('jetbench/run', { spec: { ...good, backend: 'tvm', tvm: { target: 'lvm', arch: null, tuneTrials: -1, tuningLog: null, python: null, profile: false } } }, /spec\.tvm\.target must be one of llvm, cuda.*spec\.tvm\.tuneTrials must be a whole number from 0/);
  await badInput('jetbench/run', { spec: good, runId: '../escape' }, /"runId" must be/);
  await badInput('jetbench/run', { spec: good, extra: 1 }, /unknown param "extra"/);
  await badInput('jetbench/build', { spec: { ...good, backend: 'tvm', tvm: 'fast' } }, /spec\.tvm must be an object/);
  await badInput('jetbench/attachRun', { runId: 'r', warmupOffset: -1, measureOffset: 0 }, /"warmupOffset" must be a whole number >= 0/);
  await badInput('jetbench/getRun', { runId: 42 }, /"runId" must be/);
  await badInput('jetbench/cancelRun', {}, /"runId" must be/);

  // The shared state is untouched: everyone can list runs, and nothing is live.
  const { runs } = await agent.connection.sendRequest(ListRunsRequest);
  assert.ok(!runs.some((r) => r.id === 'x'), 'no phantom run x');
  assert.ok(runs.every((r) => r.finishedAt !== null), JSON.stringify(runs));

  // A second client of the same daemon is served, and a good run still runs.
  const other = await attachClient();
  try {
    assert.equal(other.agent.pid, agent.agent.pid, 'the same daemon serves the second client');
    const { run } = await runOnAgent(other.rpc, good, {});
    assert.equal(run.status, 'ok');
    assert.equal(run.samples.latencyMs.length, 10);
  } finally {
    await other.dispose();
  }

  // With nothing live, the daemon can be stopped (a phantom run made it answer "busy" forever).
  // (The daemon may close the connection before its answer is flushed: the clients race the two.)
  const stop = await Promise.race([agent.connection.sendRequest(StopDaemonRequest), agent.closed.then(() => ({ stopping: true, reason: 'closed' }))]);
  assert.equal(stop.stopping, true, JSON.stringify(stop));
  await agent.closed;
});
