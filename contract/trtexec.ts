// trtexec's outputs and command line (issue 19). Pure: the CLI importer and the agent's trtexec
// runner both read trtexec through this module, so the parsing and the span flags have one owner.
import type { Finding } from './validity.js';

/** One "Name: min = … ms, …, percentile(P%) = … ms" line of trtexec's performance summary. */
export interface TrtexecStat {
  minMs: number;
  maxMs: number;
  meanMs: number;
  medianMs: number;
  /** percentile -> ms, e.g. { 90: 0.045, 99: 0.051 }; which ones depends on --percentile and the version. */
  percentilesMs: Record<number, number>;
}

export interface TrtexecSummary {
  throughputQps: number;
  /** "Latency": H2D + GPU compute + D2H per query (compute only when data transfers are off). */
  latency: TrtexecStat;
  gpuCompute: TrtexecStat;
  enqueue?: TrtexecStat;
  h2d?: TrtexecStat;
  d2h?: TrtexecStat;
  endToEnd?: TrtexecStat;
  totalHostWalltimeS?: number;
  totalGpuComputeS?: number;
}

export interface TrtexecLog {
  /** e.g. "10.16.1", from "TensorRT version:" or decoded from the "[TensorRT v101601]" banner. */
  tensorrtVersion: string;
  commandLine?: string;
  device?: string;
  /** The option echo ("=== Build Options ===", "=== Inference Options ===", ...) as key -> value. */
  options: Record<string, string>;
  /** The measured span as trtexec reported it; undefined where the log does not say. */
  dataTransfers?: boolean;
  spinWait?: boolean;
  cudaGraph?: boolean;
  summary: TrtexecSummary;
  /** trtexec's own "[W] * …" performance warnings (continuation lines joined). */
  warnings: string[];
  passed: boolean;
}

/** A trtexec output that cannot be read; the message names the file and what is missing. */
export class TrtexecParseError extends Error {
  constructor(file: string, problem: string, fix: string) {
    super(`${file}: ${problem}. ${fix}`);
    this.name = 'TrtexecParseError';
  }
}

const LINE_PREFIX = /^(?:\[[^\]]*\]\s*)*?\[([IWEVF])\]\s?/;

function stripPrefix(line: string): { level: string; text: string } | undefined {
  const m = LINE_PREFIX.exec(line);
  return m ? { level: m[1] ?? '', text: line.slice(m[0].length) } : undefined;
}

function parseStat(rest: string): TrtexecStat | undefined {
  const num = (name: string): number | undefined => {
    const m = new RegExp(`\\b${name} = ([0-9.eE+-]+) ms`).exec(rest);
    return m ? Number(m[1]) : undefined;
  };
  const minMs = num('min');
  const maxMs = num('max');
  const meanMs = num('mean');
  const medianMs = num('median');
  if (minMs === undefined || maxMs === undefined || meanMs === undefined || medianMs === undefined) return undefined;
  const percentilesMs: Record<number, number> = {};
  for (const m of rest.matchAll(/percentile\(([0-9.]+)%\) = ([0-9.eE+-]+) ms/g)) percentilesMs[Number(m[1])] = Number(m[2]);
  return { minMs, maxMs, meanMs, medianMs, percentilesMs };
}

/** "v101601" -> "10.16.1", "v8601" -> "8.6.1" (major.minor.patch packed as M*1000+m*100+p, or M*10000+m*100+p from 10). */
export function decodeBannerVersion(packed: string): string | undefined {
  const n = Number(packed);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  const major = n >= 100000 ? Math.floor(n / 10000) : Math.floor(n / 1000);
  const rest = n >= 100000 ? n % 10000 : n % 1000;
  return `${major}.${Math.floor(rest / 100)}.${rest % 100}`;
}

const ON_OFF: Record<string, boolean> = { Enabled: true, Disabled: false };

const STAT_LINES: Record<string, keyof TrtexecSummary> = {
  Latency: 'latency',
  'GPU Compute Time': 'gpuCompute',
  'Enqueue Time': 'enqueue',
  'H2D Latency': 'h2d',
  'D2H Latency': 'd2h',
  'End-to-End Host Latency': 'endToEnd',
};

/**
 * Parses a trtexec log (any TensorRT 8.x-11.x). A log that ran several inferences keeps the last
 * performance summary. Throws TrtexecParseError when the log has no complete summary (truncated,
 * --skipInference, or not a trtexec log).
 */
export function parseTrtexecLog(text: string, file: string): TrtexecLog {
  const options: Record<string, string> = {};
  const warnings: string[] = [];
  let tensorrtVersion: string | undefined;
  let commandLine: string | undefined;
  let device: string | undefined;
  let passed = false;
  let inSummary = false;
  let summary: Partial<TrtexecSummary> | undefined;
  let lastSummary: Partial<TrtexecSummary> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const banner = /^&&&& (RUNNING|PASSED|FAILED) TensorRT\.trtexec \[TensorRT v(\d+)\](?: \[[^\]]*\])? # (.*)$/.exec(raw);
    if (banner) {
      tensorrtVersion ??= decodeBannerVersion(banner[2] ?? '');
      if (banner[1] === 'RUNNING') commandLine = banner[3];
      if (banner[1] === 'PASSED') passed = true;
      continue;
    }
    const line = stripPrefix(raw);
    if (!line) continue;
    const { level, text: body } = line;
    if (body.startsWith('=== ')) {
      inSummary = body.startsWith('=== Performance summary');
      if (inSummary) summary = {};
      continue;
    }
    if (level === 'W' && inSummary) {
      if (body.startsWith('* ')) warnings.push(body.slice(2).trim());
      else if (warnings.length > 0 && body.trim()) warnings[warnings.length - 1] += ` ${body.trim()}`;
      continue;
    }
    if (level !== 'I') continue;
    const kv = /^([A-Za-z][A-Za-z0-9 ()/-]*?):\s?(.*)$/.exec(body);
    if (!kv) continue;
    const key = kv[1] ?? '';
    const value = (kv[2] ?? '').trim();
    if (inSummary && summary) {
      const statKey = STAT_LINES[key];
      if (statKey) {
        const stat = parseStat(value);
        if (stat) (summary as Record<string, unknown>)[statKey] = stat;
      } else if (key === 'Throughput') summary.throughputQps = Number(value.replace(/\s*qps$/, ''));
      else if (key === 'Total Host Walltime') summary.totalHostWalltimeS = Number(value.replace(/\s*s$/, ''));
      else if (key === 'Total GPU Compute Time') summary.totalGpuComputeS = Number(value.replace(/\s*s$/, ''));
      if (summary.latency && summary.gpuCompute && summary.throughputQps !== undefined) lastSummary = summary;
      continue;
    }
    if (key === 'TensorRT version') tensorrtVersion = value;
    else if (key === 'Selected Device') device = value;
    else if (!(key in options)) options[key] = value;
  }
  if (!tensorrtVersion && !commandLine) {
    throw new TrtexecParseError(file, 'is not a trtexec log (no "&&&& RUNNING TensorRT.trtexec" banner, no "TensorRT version:" line)',
      'Pass the text trtexec printed (e.g. `trtexec ... 2>&1 | tee run.log`).');
  }
  if (!lastSummary) {
    throw new TrtexecParseError(file, 'has no complete "=== Performance summary ===" (Throughput, Latency and GPU Compute Time lines); the log is truncated or trtexec ran with --skipInference',
      'Import the log of a run that finished inference, or pass the per-iteration times with --times.');
  }
  return {
    tensorrtVersion: tensorrtVersion ?? 'unknown',
    ...(commandLine !== undefined ? { commandLine } : {}),
    ...(device !== undefined ? { device } : {}),
    options,
    ...spanFrom(options),
    summary: lastSummary as TrtexecSummary,
    warnings,
    passed,
  };
}

function spanFrom(options: Record<string, string>): Pick<TrtexecLog, 'dataTransfers' | 'spinWait' | 'cudaGraph'> {
  const flag = (k: string): boolean | undefined => {
    const v = options[k];
    return v === undefined ? undefined : ON_OFF[v];
  };
  const out: Pick<TrtexecLog, 'dataTransfers' | 'spinWait' | 'cudaGraph'> = {};
  const dataTransfers = flag('Data transfers');
  const spinWait = flag('Spin-wait');
  const cudaGraph = flag('CUDA Graph');
  if (dataTransfers !== undefined) out.dataTransfers = dataTransfers;
  if (spinWait !== undefined) out.spinWait = spinWait;
  if (cudaGraph !== undefined) out.cudaGraph = cudaGraph;
  return out;
}

/** trtexec's own performance warnings as verdict findings (codes `trtexec-*`, documented in README). */
export function trtexecFindings(log: TrtexecLog): Finding[] {
  const findings: Finding[] = [];
  for (const w of log.warnings) {
    const cov = /GPU compute time is unstable, with coefficient of variance = ([0-9.]+)%/.exec(w);
    if (cov) {
      findings.push({
        code: 'trtexec-unstable-gpu-compute',
        severity: 'caution',
        summary: `trtexec: GPU compute time is unstable (CoV ${cov[1]}%)`,
        evidence: { covPercent: Number(cov[1]), tensorrtVersion: log.tensorrtVersion },
        why: 'trtexec found the per-query GPU compute time varies more than its own threshold (1% up to TensorRT 10.13.0, 2.5% from 10.13.2), so one median hides a spread.',
        fix: 'Lock the GPU clocks (sudo jetson_clocks on a Jetson, nvidia-smi -lgc elsewhere) and run with --useSpinWait.',
      });
    } else if (/bound by Enqueue Time/.test(w)) {
      findings.push({
        code: 'trtexec-enqueue-bound',
        severity: 'caution',
        summary: 'trtexec: throughput is bound by enqueue time, not GPU compute',
        evidence: { tensorrtVersion: log.tensorrtVersion },
        why: 'The host takes longer to launch a query than the GPU takes to run it, so the figures measure the CPU launch path.',
        fix: 'Run with --useCudaGraph (on by default from TensorRT 11.0).',
      });
    } else if (/H2D|D2H|data transfers/i.test(w)) {
      findings.push({
        code: 'trtexec-transfer-bound',
        severity: 'caution',
        summary: 'trtexec: throughput is bound by host-device data transfers',
        evidence: { tensorrtVersion: log.tensorrtVersion, warning: w },
        why: 'Copies dominate the measured span, so the figure says more about the bus than about the engine.',
        fix: 'Measure compute alone with --noDataTransfers, or keep transfers and compare only with runs that include them.',
      });
    } else {
      findings.push({
        code: 'trtexec-warning',
        severity: 'caution',
        summary: `trtexec: ${w}`,
        evidence: { tensorrtVersion: log.tensorrtVersion },
        why: 'trtexec flagged its own measurement.',
        fix: 'Read the warning in the trtexec log and rerun with the flag it suggests.',
      });
    }
  }
  return findings;
}

/** One layer of `--exportLayerInfo` (needs --profilingVerbosity=detailed for more than names). */
export interface TrtexecLayerInfo {
  name: string;
  layerType?: string;
}

export function parseTrtexecLayerInfo(text: string, file: string): TrtexecLayerInfo[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TrtexecParseError(file, `is not JSON (${(e as Error).message})`, 'Pass the file written by trtexec --exportLayerInfo=FILE.');
  }
  const layers = typeof doc === 'object' && doc !== null && 'Layers' in doc ? (doc as { Layers: unknown }).Layers : undefined;
  if (!Array.isArray(layers)) {
    throw new TrtexecParseError(file, 'has no "Layers" array', 'Pass the file written by trtexec --exportLayerInfo=FILE.');
  }
  return layers.map((l: unknown, i: number): TrtexecLayerInfo => {
    // Without --profilingVerbosity=detailed each layer is a bare name string.
    if (typeof l === 'string') return { name: l };
    if (typeof l === 'object' && l !== null && typeof (l as { Name?: unknown }).Name === 'string') {
      const o = l as { Name: string; LayerType?: unknown };
      return { name: o.Name, ...(typeof o.LayerType === 'string' ? { layerType: o.LayerType } : {}) };
    }
    throw new TrtexecParseError(file, `layer ${i} has no "Name"`, 'Pass the file written by trtexec --exportLayerInfo=FILE.');
  });
}

/** Which span a trtexec run measures, stated whatever the version's defaults are. */
export interface TrtexecSpan {
  /** true: H2D + compute + D2H; false: compute only (--noDataTransfers). */
  dataTransfers: boolean;
  cudaGraph: boolean;
  spinWait: boolean;
}

export interface TrtexecCommandInput {
  tensorrtVersion: string;
  /** Either an ONNX model to build (and save to enginePath) or an engine to load. */
  onnxPath?: string;
  enginePath: string;
  loadEngine: boolean;
  precision: 'fp32' | 'fp16' | 'int8';
  workspaceMiB?: number;
  timingCachePath?: string;
  warmupMs: number;
  iterations: number;
  span: TrtexecSpan;
  /** Output files in the run's folder. */
  outDir: string;
}

function versionParts(v: string): [number, number, number] {
  const [a, b, c] = v.split('.').map((x) => Number.parseInt(x, 10));
  return [a || 0, b || 0, c || 0];
}

function atLeast(v: string, major: number, minor = 0, patch = 0): boolean {
  const [a, b, c] = versionParts(v);
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/**
 * The trtexec argv for a run. The span is always stated: TensorRT 11.0 turned CUDA graphs, spin-wait
 * and "no data transfers" on by default, so the same bare command measures H2D + compute + D2H on a
 * Jetson (10.x) and compute alone on a workstation (11.x). Up to 10.x the defaults are off and only
 * the "on" spellings exist (--useCudaGraph, --useSpinWait, --noDataTransfers); from 11.0 the defaults
 * are on and the "off" spellings are --noCudaGraph, --noSpinWait, --includeDataTransfers.
 */
export function trtexecArgs(input: TrtexecCommandInput): string[] {
  const v = input.tensorrtVersion;
  const v11 = atLeast(v, 11);
  const args: string[] = [];
  if (input.loadEngine) args.push(`--loadEngine=${input.enginePath}`);
  else {
    if (!input.onnxPath) throw new Error('trtexecArgs: an ONNX path is needed to build an engine');
    args.push(`--onnx=${input.onnxPath}`, `--saveEngine=${input.enginePath}`);
    if (input.precision !== 'fp32') {
      if (v11) {
        // 11.0 removed every precision flag: networks are strongly typed, precision lives in the model.
        throw new Error(`TensorRT ${v} has no --${input.precision} flag (11.0 removed precision flags; networks are strongly typed). Convert the model to ${input.precision} first (e.g. ModelOpt AutoCast) and run with precision fp32, or use a TensorRT 10.x device.`);
      }
      args.push(`--${input.precision}`);
    }
    if (input.workspaceMiB !== undefined) {
      // --workspace was removed in 10.0; --memPoolSize exists from 8.4.
      args.push(atLeast(v, 8, 4) ? `--memPoolSize=workspace:${input.workspaceMiB}M` : `--workspace=${input.workspaceMiB}`);
    }
    if (input.timingCachePath) args.push(`--timingCacheFile=${input.timingCachePath}`);
  }
  const { dataTransfers, cudaGraph, spinWait } = input.span;
  if (v11) {
    if (dataTransfers) args.push('--includeDataTransfers');
    if (!cudaGraph) args.push('--noCudaGraph');
    if (!spinWait) args.push('--noSpinWait');
  } else {
    if (!dataTransfers) args.push('--noDataTransfers');
    if (cudaGraph) args.push('--useCudaGraph');
    if (spinWait) args.push('--useSpinWait');
  }
  args.push(`--warmUp=${input.warmupMs}`, `--iterations=${input.iterations}`, '--duration=0');
  // --percentile took one value in early 8.x logs (only percentile(99%) printed); 8.6 prints a list.
  args.push(atLeast(v, 8, 6) ? '--percentile=50,90,95,99' : '--percentile=99');
  // Per-layer times come from a separate profiling run (always separate from 11.0), so the timed run is unperturbed.
  if (!v11) args.push('--separateProfileRun');
  args.push(
    `--exportTimes=${input.outDir}/trtexec-times.json`,
    `--exportProfile=${input.outDir}/trtexec-profile.json`,
    `--exportLayerInfo=${input.outDir}/trtexec-layers.json`,
    '--profilingVerbosity=detailed',
    '--verbose',
  );
  return args;
}

/** The span a version measures when none of the span flags is given (what a user's bare command measured). */
export function trtexecDefaultSpan(tensorrtVersion: string): TrtexecSpan {
  const on = atLeast(tensorrtVersion, 11);
  return { dataTransfers: !on, cudaGraph: on, spinWait: on };
}

/** Where JetPack installs trtexec; not on PATH by default. */
export const JETPACK_TRTEXEC = '/usr/src/tensorrt/bin/trtexec';

export function trtexecMissingMessage(searched: readonly string[]): string {
  return `trtexec was not found (looked in: ${searched.join(', ')}). On a Jetson, JetPack installs it at ${JETPACK_TRTEXEC} (package libnvinfer-bin / tensorrt); elsewhere it ships in TensorRT's bin/ folder. Set jetbench.trtexecPath to its full path or add its folder to PATH.`;
}
