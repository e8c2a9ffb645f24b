// A bare onnxruntime-node CPU session on a model's first input, for benchmarks that time
// session.run in their own process (bench:overhead, bench:telemetry).
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { makeInput } from '../device-agent/src/inputs';
import { inspectModel } from '../device-agent/src/modelInfo';

export interface BareSession {
  /** One inference, timed (ms). */
  timedRun(): Promise<number>;
  release(): Promise<void>;
}

export async function openBareSession(modelPath: string, threads: number): Promise<BareSession> {
  const info = await inspectModel(modelPath, null);
  const input = info.inputs[0]!;
  const data = makeInput(input.name, input.dtype, input.shape as number[]);
  const feeds = { [input.name]: new ort.Tensor(data.dtype, data.data, data.dims) };
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1, intraOpNumThreads: threads, logSeverityLevel: 3,
  });
  return {
    async timedRun() {
      const t0 = performance.now();
      await session.run(feeds);
      return performance.now() - t0;
    },
    release: () => session.release(),
  };
}
