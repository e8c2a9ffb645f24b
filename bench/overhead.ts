// How much does measuring through jetbench's agent cost? Compares, on the same model, input and
// thread count, the median latency the agent reports with a bare onnxruntime-node session.run
// loop in this process. Rounds alternate (bare, agent, bare, agent, ...) so drift hits both.
// Usage: npm run bench:overhead -- [--model yolov5n] [--threads N] [--iterations 200] [--rounds 3]
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { RunSpec } from '../contract/protocol';
import { computeStats } from '../contract/stats';
import { resolveModel } from '../models/src/index';
import { openBareSession } from './ortSession';
import { startLocalAgent } from '../src/core/agentConnection';
import { runOnAgent } from '../src/core/runClient';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'yolov5n' },
    threads: { type: 'string', default: String(os.cpus().length) },
    iterations: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
  },
});
const threads = Number(values.threads);
const iterations = Number(values.iterations);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);

async function bareMedian(modelPath: string): Promise<number> {
  const session = await openBareSession(modelPath, threads);
  for (let i = 0; i < warmup; i++) await session.timedRun();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) samples.push(await session.timedRun());
  await session.release();
  return computeStats(samples)!.medianMs;
}

async function main(): Promise<void> {
  const { path: modelPath } = await resolveModel(values.model, { opset: 13 });
  const spec: RunSpec = {
    device: 'local', model: values.model, backend: 'onnxruntime', precision: 'fp32', warmup, warmupMs: 0,
    iterations, durationS: 0, threads, inputShape: null, opset: 13, label: 'bench:overhead',
  };
  const agent = await startLocalAgent({ client: 'bench-overhead' });
  const bare: number[] = [];
  const viaAgent: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      bare.push(await bareMedian(modelPath));
      const { run } = await runOnAgent(agent.rpc, spec, {});
      viaAgent.push(run.stats!.medianMs);
      console.log(`round ${r + 1}: bare ${bare[r]!.toFixed(3)} ms, agent ${viaAgent[r]!.toFixed(3)} ms`);
    }
  } finally {
    await agent.dispose();
  }
  const b = computeStats(bare)!.medianMs;
  const a = computeStats(viaAgent)!.medianMs;
  console.log(`model ${values.model}, threads ${threads}, ${iterations} iterations x ${rounds} rounds, CPU ${os.cpus()[0]?.model}`);
  console.log(`median latency: bare session.run ${b.toFixed(3)} ms, through the agent ${a.toFixed(3)} ms`);
  console.log(`ratio agent/bare: ${(a / b).toFixed(4)} (goal <= 1.02)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
