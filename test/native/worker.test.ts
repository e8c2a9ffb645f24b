// The agent runs the addon in a worker process: a native crash (a deliberate SIGSEGV, enabled only
// by JETBENCH_NATIVE_TEST_CRASH) ends that worker, the pending request fails with a message saying
// so, and the agent answers the next request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeviceInfoRequest } from '../../contract/protocol';
import { NativeWorker, NativeWorkerCrashedError } from '../../device-agent/src/native/client';
import { PIPELINE_DEFAULTS } from '../../contract/runSpec';
import { startLocalAgent } from '../../src/core/agentConnection';
import { runOnAgent } from '../../src/core/runClient';
import { TEST_CACHE_DIR } from '../helpers/cli';

const env = { ...process.env, JETBENCH_CACHE_DIR: TEST_CACHE_DIR };

test('a native crash kills the worker, not its owner; a new worker serves the next request', async () => {
  const worker = NativeWorker.start({ ...env, JETBENCH_NATIVE_TEST_CRASH: '1' });
  assert.equal((await worker.info()).version, '0.1.0');
  await assert.rejects(worker.crashForTest(), (e: Error) => e instanceof NativeWorkerCrashedError && /crashed \(SIGSEGV\).*agent is still running.*during crash/.test(e.message));
  await worker.exited;
  await assert.rejects(worker.info(), NativeWorkerCrashedError, 'a dead worker answers every request with the crash');
  const next = NativeWorker.start(env);
  assert.ok((await next.info()).sourceHash);
  await assert.rejects(next.crashForTest(), /disabled/, 'without the variable the crash entry point refuses');
  assert.ok((await next.info()).sourceHash, 'and the worker is still up');
  await next.dispose();
});

test('through the agent: a pipeline whose worker crashes fails with the reason, and the agent answers the next request', async () => {
  process.env.JETBENCH_CACHE_DIR = TEST_CACHE_DIR;
  process.env.JETBENCH_NATIVE_TEST_CRASH = 'pipeline';
  const agent = await startLocalAgent({ client: 'jetbench-test' });
  delete process.env.JETBENCH_NATIVE_TEST_CRASH;
  try {
    const spec = {
      device: 'local', model: 'tiny', backend: 'onnxruntime' as const, precision: 'fp32' as const, warmup: 0, warmupMs: 0, iterations: 2, durationS: 0,
      threads: 1, inputShape: null, opset: 13 as const, label: null, pipeline: { ...PIPELINE_DEFAULTS, frameCount: 1 },
    };
    await assert.rejects(runOnAgent(agent.rpc, spec, {}), /native worker crashed \(SIGSEGV\).*agent is still running/);
    const info = await agent.connection.sendRequest(DeviceInfoRequest);
    assert.ok(info.hostname, 'the agent still answers');
  } finally {
    await agent.dispose();
  }
});
