// TVM on this machine's CPU, in one run: compile time of the untuned module, tuning time per
// trial, and latency untuned vs tuned vs ONNX Runtime on the same model and input.
// Usage: npm run bench:tvm -- [--model yolov5n] [--trials 32] [--iterations 50]
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BuildRequest, type RunSpec } from '../contract/protocol';
import { startLocalAgent } from '../src/core/agentConnection';
import { formatCompareTable } from '../src/core/report';
import { runOnAgent } from '../src/core/runClient';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'yolov5n' },
    trials: { type: 'string', default: '32' },
    iterations: { type: 'string', default: '50' },
  },
});
const trials = Number(values.trials);
const base: RunSpec = {
  device: 'local', model: values.model, backend: 'tvm', precision: 'fp32', warmup: 5, warmupMs: 0,
  iterations: Number(values.iterations), durationS: 0, threads: null, inputShape: null, opset: 13, label: null,
};

async function main(): Promise<void> {
  const agent = await startLocalAgent({ client: 'bench-tvm' });
  const log = path.join(mkdtempSync(path.join(os.tmpdir(), 'jetbench-tuning-')), 'log');
  try {
    const untuned = await agent.connection.sendRequest(BuildRequest, { spec: { ...base, label: 'tvm untuned' } });
    console.log(`untuned build: ${(untuned.artifact.buildMs / 1000).toFixed(1)} s${untuned.cached ? ' (cached: an earlier build)' : ''}, flags ${JSON.stringify(untuned.artifact.flags)}`);
    const tunedSpec: RunSpec = { ...base, label: `tvm tuned ${trials} trials`, tvm: { target: 'llvm', arch: null, tuneTrials: trials, tuningLog: log, python: null, profile: false } };
    const tuned = await agent.connection.sendRequest(BuildRequest, { spec: tunedSpec });
    const f = tuned.artifact.flags;
    console.log(`tuned build: ${(tuned.artifact.buildMs / 1000).toFixed(1)} s, of which tuning ${(Number(f.tuneMs) / 1000).toFixed(1)} s = ${(Number(f.tuneMs) / 1000 / trials).toFixed(2)} s per trial (${trials} trials), log ${log}`);
    const runs = [];
    for (const spec of [
      { ...base, backend: 'onnxruntime' as const, label: 'onnxruntime' },
      { ...base, label: 'tvm untuned' },
      { ...tunedSpec, tvm: { ...tunedSpec.tvm!, tuneTrials: 0 } },
    ]) {
      runs.push((await runOnAgent(agent.rpc, spec, {})).run);
    }
    console.log(`model ${values.model}, ${base.iterations} iterations each, CPU ${os.cpus()[0]?.model} x ${os.cpus().length}`);
    console.log(formatCompareTable(runs, 0, 'text'));
  } finally {
    await agent.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
