// Complete run files for tests and benchmarks of the readers (views, panels, reports): statistics
// come from the samples exactly as the agent computes them, so nothing is hard-coded.
import { RUN_SCHEMA_VERSION, type RunFile, type RunStatus } from '../../contract/protocol';
import { computeStats, trialSummaries } from '../../contract/stats';

export interface FakeRunOptions {
  id?: string;
  latencyMs: number[];
  warmupLatencyMs?: number[];
  stagesMs?: Record<string, number[]>;
  model?: string;
  device?: string;
  hostname?: string;
  backend?: RunFile['spec']['backend'];
  precision?: RunFile['spec']['precision'];
  label?: string | null;
  createdAt?: string;
  status?: RunStatus;
  /** Measured samples per trial: latencyMs is split into trials of this many each (2+ trials). */
  trialCount?: number;
}

export function fakeRun(o: FakeRunOptions): RunFile {
  const perTrial = o.trialCount ? Math.ceil(o.latencyMs.length / o.trialCount) : 0;
  const trials = o.trialCount ? Array.from({ length: o.trialCount }, (_, i) => ({ warmupCount: i === 0 ? (o.warmupLatencyMs?.length ?? 3) : 0, count: Math.min(perTrial, o.latencyMs.length - i * perTrial) })) : null;
  const model = o.model ?? 'tiny';
  const versions = { agent: '0.1.0', node: 'v20.20.2', onnxruntime: '1.30.0', cuda: null, tensorrt: null, tvm: null };
  const createdAt = o.createdAt ?? '2025-01-01T10:00:00.000Z';
  return {
    schemaVersion: RUN_SCHEMA_VERSION,
    id: o.id ?? `20250101-100000-${model}-${o.backend ?? 'onnxruntime'}-${o.precision ?? 'fp32'}-abcdef`,
    createdAt,
    finishedAt: createdAt,
    spec: {
      device: o.device ?? 'local',
      model,
      backend: o.backend ?? 'onnxruntime',
      precision: o.precision ?? 'fp32',
      warmup: o.warmupLatencyMs?.length ?? 3,
      warmupMs: 0,
      iterations: perTrial || o.latencyMs.length,
      durationS: 0,
      ...(trials ? { trials: trials.length } : {}),
      threads: null,
      inputShape: null,
      opset: 13,
      label: o.label ?? null,
    },
    device: {
      hostname: o.hostname ?? 'bench-host',
      platform: 'linux',
      osRelease: '6.1.0',
      distro: 'Debian GNU/Linux 12 (bookworm)',
      arch: 'x64',
      cpuModel: 'Test CPU',
      cpuCount: 2,
      memoryBytes: 8 * 2 ** 30,
      gpus: [],
      jetson: null,
      cpuGovernor: null,
      versions,
    },
    versions,
    model: { builtin: model, path: `/cache/models/${model}.onnx`, sha256: 'ab'.repeat(32), bytes: 123_456, opset: 13, precision: o.precision ?? 'fp32', inputs: [], outputs: [] },
    artifact: null,
    timing: { clock: 'host monotonic clock (performance.now)', spans: 'one inference call', executionProvider: 'cpu', threads: 2 },
    samples: { latencyMs: o.latencyMs, warmupLatencyMs: o.warmupLatencyMs ?? [9, 8, 7], ...(o.stagesMs ? { stagesMs: o.stagesMs } : {}) },
    stats: computeStats(o.latencyMs),
    ...(trials ? { trials: trialSummaries(o.latencyMs, trials) } : {}),
    status: o.status ?? 'ok',
  };
}

/** n deterministic latencies around centreMs with a long right tail (a fixed LCG, no Math.random). */
export function latencies(n: number, centreMs: number, seed = 1): number[] {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  return Array.from({ length: n }, () => centreMs * (0.9 + 0.2 * next()) + (next() < 0.02 ? centreMs * next() : 0));
}
