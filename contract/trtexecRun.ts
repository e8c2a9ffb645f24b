// A run file from trtexec's outputs (`jetbench import trtexec`, issue 19 item 2). Pure: the CLI
// reads the files and hashes them; this turns what trtexec wrote into the run file every face
// reads, with our statistics recomputed from trtexec's per-query times, trtexec's own summary kept
// beside them to check against, and trtexec's warnings in the verdict.
import { RUN_SCHEMA_VERSION, type ImportedFile, type OperatorTime, type Precision, type RunFile, type RunSpec } from './protocol';
import { computeStats } from './stats';
import type { TrtexecLayerProfile, TrtexecLogContent, TrtexecStat, TrtexecTimes } from './trtexec';
import { trtexecFindings } from './trtexec';
import type { Finding } from './validity';
import { runValidity } from './validityRules';

/** Which of trtexec's per-query times become the samples: `gpu-compute` ("GPU Compute Time", CUDA
 * events around the enqueue: the span of jetbench's own TensorRT runner) or `latency` ("Latency":
 * H2D + compute + D2H; compute alone when the run had --noDataTransfers). */
export type TrtexecImportSpan = 'gpu-compute' | 'latency';
export const TRTEXEC_IMPORT_SPANS: readonly TrtexecImportSpan[] = ['gpu-compute', 'latency'];

export interface TrtexecImportInput {
  id: string;
  log: TrtexecLogContent;
  times: TrtexecTimes;
  /** From --exportProfile, else the log's --dumpProfile table. */
  profile?: TrtexecLayerProfile;
  files: ImportedFile[];
  span: TrtexecImportSpan;
  label: string | null;
  /** Overrides the precision read from the log (a log that loaded an engine does not say it). */
  precision?: Precision;
  importedAt: Date;
}

const UNKNOWN = 'unknown';

/** "FP32+FP16" -> fp16, "FP32+INT8"/"FP16+INT8"/"Best" -> int8, else fp32. */
export function trtexecPrecision(option: string | undefined): Precision {
  const p = (option ?? '').toUpperCase();
  if (p.includes('INT8') || p === 'BEST') return 'int8';
  if (p.includes('FP16') || p.includes('BF16')) return 'fp16';
  return 'fp32';
}

/** "3s (+ 200ms warm up)" -> 3; 0 when absent or not in seconds. */
function durationS(option: string | undefined): number {
  const m = /^([0-9.]+)s\b/.exec(option ?? '');
  return m ? Number(m[1]) : 0;
}

/** "81081 MiB" -> bytes. */
function mibBytes(option: string | undefined): number | null {
  const m = /^([0-9.]+) MiB$/.exec(option ?? '');
  return m ? Math.round(Number(m[1]) * 1024 * 1024) : null;
}

function reportedOf(stat: TrtexecStat | undefined, throughputQps: number | undefined): NonNullable<RunFile['imported']>['reported'] {
  if (!stat || throughputQps === undefined) return null;
  const percentilesMs: Record<string, number> = {};
  for (const [p, v] of Object.entries(stat.percentilesMs)) percentilesMs[p] = v;
  return { medianMs: stat.medianMs, meanMs: stat.meanMs, minMs: stat.minMs, maxMs: stat.maxMs, percentilesMs, throughputQps };
}

export function trtexecRun(input: TrtexecImportInput): RunFile {
  const { log, times, span } = input;
  const o = log.options;
  // With data transfers off, trtexec's Latency is the compute span: call it what it is.
  const computeOnly = span === 'gpu-compute' || log.dataTransfers === false;
  const latencyMs = span === 'gpu-compute' ? times.computeMs : times.latencyMs;
  const fromCommand = (flag: string): string | undefined => {
    const m = new RegExp(`(?:^|\\s)--${flag}=(\\S+)`).exec(log.commandLine ?? '');
    return m?.[1];
  };
  const loaded = o['Load engine'] || fromCommand('loadEngine');
  const modelPath = o['Model'] || fromCommand('onnx') || loaded || UNKNOWN;
  const enginePath = o['Save engine'] || fromCommand('saveEngine') || loaded || '';
  const precision = input.precision ?? trtexecPrecision(o['Precision']);
  const spec: RunSpec = {
    device: 'imported',
    model: modelPath,
    backend: 'tensorrt',
    precision,
    warmup: log.warmup?.queries ?? 0,
    warmupMs: log.warmup?.ms ?? 0,
    iterations: latencyMs.length,
    durationS: durationS(o['Duration']),
    threads: null,
    inputShape: null,
    opset: 13,
    label: input.label,
  };
  const versions = { agent: 'none (imported from trtexec)', node: UNKNOWN, onnxruntime: null, cuda: null, tensorrt: log.tensorrtVersion, tvm: null };
  const device: RunFile['device'] = {
    hostname: UNKNOWN,
    platform: UNKNOWN,
    osRelease: UNKNOWN,
    distro: null,
    arch: UNKNOWN,
    cpuModel: UNKNOWN,
    cpuCount: 0,
    memoryBytes: 0,
    gpus: log.device
      ? [{ name: log.device, source: 'trtexec', driverVersion: null, memoryBytes: mibBytes(o['Device Global Memory']), computeCapability: o['Compute Capability'] ?? null }]
      : [],
    jetson: null,
    cpuGovernor: null,
    versions,
  };
  const samples = { latencyMs: [...latencyMs], warmupLatencyMs: [] };
  const stats = computeStats(samples.latencyMs);
  const operators: OperatorTime[] | undefined = input.profile
    ? [...input.profile.layers].sort((a, b) => b.averageMs - a.averageMs).map((l) => ({ name: l.name, ms: l.averageMs, calls: 1 }))
    : undefined;
  const flags: Record<string, string | number | boolean> = { precision: o['Precision'] ?? UNKNOWN };
  if (log.dataTransfers !== undefined) flags.dataTransfers = log.dataTransfers;
  if (log.cudaGraph !== undefined) flags.cudaGraph = log.cudaGraph;
  if (log.spinWait !== undefined) flags.spinWait = log.spinWait;
  const finishedAt = log.endedAt ?? input.importedAt.toISOString();
  const run: RunFile = {
    schemaVersion: RUN_SCHEMA_VERSION,
    id: input.id,
    createdAt: log.startedAt ?? finishedAt,
    finishedAt,
    spec,
    device,
    versions,
    model: { builtin: null, path: modelPath, sha256: '', bytes: 0, opset: null, precision, inputs: [], outputs: [] },
    artifact: { kind: 'tensorrt-engine', path: enginePath, bytes: 0, buildMs: (log.engineBuildS ?? 0) * 1000, flags },
    timing: computeOnly
      ? { clock: "CUDA events on trtexec's stream", spans: "one query's GPU compute (trtexec's GPU Compute Time), no host copies", span: 'trt-compute', executionProvider: 'tensorrt (trtexec)', threads: null }
      : { clock: "CUDA events on trtexec's stream", spans: "one query's H2D copy + GPU compute + D2H copy (trtexec's Latency)", span: 'trt-latency', executionProvider: 'tensorrt (trtexec)', threads: null },
    samples,
    stats,
    ...(operators ? { operators } : {}),
    imported: {
      tool: 'trtexec',
      toolVersion: log.tensorrtVersion,
      importedAt: input.importedAt.toISOString(),
      commandLine: log.commandLine ?? null,
      files: input.files,
      samplesFrom: 'times',
      reported: reportedOf(span === 'gpu-compute' ? log.summary?.gpuCompute : log.summary?.latency, log.summary?.throughputQps),
      ...(input.profile ? { profileIterations: input.profile.iterations } : {}),
    },
    status: log.passed ? 'ok' : 'failed',
    ...(log.passed ? {} : { error: 'the trtexec log does not end in "&&&& PASSED": trtexec failed or was stopped; the per-query times it wrote are kept' }),
  };
  if (stats) run.validity = runValidity({ spec, device, samples, stats }, null, [...trtexecFindings(log), ...mismatchFindings(log, times.latencyMs.length, stats.medianMs, run.imported!.reported)]);
  return run;
}

/** A log and a times file of different trtexec runs would give a run whose figures belong to
 * neither: say so when the query counts or the medians disagree. */
function mismatchFindings(log: TrtexecLogContent, count: number, medianMs: number, reported: NonNullable<RunFile['imported']>['reported']): Finding[] {
  const problems: string[] = [];
  if (log.trace && log.trace.queries !== count) problems.push(`the log's timing trace has ${log.trace.queries} queries, the times file ${count}`);
  if (reported && Math.abs(medianMs - reported.medianMs) > 0.02 * reported.medianMs) {
    problems.push(`the median of the times (${medianMs.toPrecision(4)} ms) is not the log's (${reported.medianMs.toPrecision(4)} ms)`);
  }
  if (problems.length === 0) return [];
  return [{
    code: 'import-mismatch',
    severity: 'unreliable',
    summary: `the log and the times file do not describe the same trtexec run: ${problems.join('; ')}`,
    evidence: { timesQueries: count, medianMs, ...(log.trace ? { logQueries: log.trace.queries } : {}), ...(reported ? { reportedMedianMs: reported.medianMs } : {}) },
    why: "a times file holds the queries trtexec's summary covers (after the warm-up queries, which TensorRT 7.x and 8.x up to at least 8.4 write first and the import drops by the log's counts), so the two disagree only when they come from different runs (or a file was edited): the run's figures would belong to neither",
    fix: 'import the log together with the --exportTimes file of the same trtexec command',
  }];
}
