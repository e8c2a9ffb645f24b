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

/** One layer of trtexec's per-layer profile (--dumpProfile's table or --exportProfile's JSON). */
export interface TrtexecLayerTime {
  name: string;
  /** Summed over every profiled iteration. */
  totalMs: number;
  averageMs: number;
  medianMs: number;
  /** Share of the profile's total, as trtexec printed it. */
  percent: number;
}

export interface TrtexecLayerProfile {
  /** Iterations the profiler saw ("=== Profile (N iterations ) ===", or the JSON's count). */
  iterations: number;
  /** The layers, without trtexec's "Total" row. */
  layers: TrtexecLayerTime[];
}

/** What a trtexec log says, the performance summary optional (a --dumpProfile run without
 * --separateProfileRun prints a profile and no summary). */
export interface TrtexecLogContent extends Omit<TrtexecLog, 'summary'> {
  summary?: TrtexecSummary;
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
  /** "Warmup completed N queries over M ms". */
  warmup?: { queries: number; ms: number };
  /** "Timing trace has N queries over S s". */
  trace?: { queries: number; seconds: number };
  /** "Engine built in S sec." */
  engineBuildS?: number;
  /** "Engine deserialized in S sec." */
  engineLoadS?: number;
  /** The per-layer table --dumpProfile prints. */
  profile?: TrtexecLayerProfile;
  /** Timestamps of the first and last prefixed lines ("[07/07/2026-02:10:45]"), as ISO times in UTC
   * (trtexec prints local time without a zone). */
  startedAt?: string;
  endedAt?: string;
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
  const log = readTrtexecLog(text, file);
  if (!log.summary) {
    throw new TrtexecParseError(file, 'has no complete "=== Performance summary ===" (Throughput, Latency and GPU Compute Time lines); the log is truncated or trtexec ran with --skipInference',
      'Import the log of a run that finished inference, or pass the per-iteration times with --times.');
  }
  return { ...log, summary: log.summary };
}

/** "[07/07/2026-02:10:45]" -> "2026-07-07T02:10:45.000Z" (trtexec prints MM/DD/YYYY-HH:MM:SS). */
function logTime(raw: string): string | undefined {
  const m = /^\[(\d\d)\/(\d\d)\/(\d{4})-(\d\d):(\d\d):(\d\d)\]/.exec(raw);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

/** A row of --dumpProfile's table: TensorRT 10+ prints the numbers first ("137.84 0.0069 0.0061
 * 9.4 name"), 8.x the name first, right-aligned ("name 137.84 0.0069 0.0061 9.4"). */
function profileRow(body: string): TrtexecLayerTime | undefined {
  const num = '([0-9]+(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)';
  const numbersFirst = new RegExp(`^\\s*${num}\\s+${num}\\s+${num}\\s+${num}\\s+(\\S.*?)\\s*$`).exec(body);
  const nameFirst = numbersFirst ? null : new RegExp(`^\\s*(\\S.*?)\\s+${num}\\s+${num}\\s+${num}\\s+${num}\\s*$`).exec(body);
  if (numbersFirst) {
    const [, t, a, m, p, name] = numbersFirst;
    return { name: name!, totalMs: Number(t), averageMs: Number(a), medianMs: Number(m), percent: Number(p) };
  }
  if (nameFirst) {
    const [, name, t, a, m, p] = nameFirst;
    return { name: name!, totalMs: Number(t), averageMs: Number(a), medianMs: Number(m), percent: Number(p) };
  }
  return undefined;
}

/** Like parseTrtexecLog, but a log without a performance summary is read too (summary absent). */
export function readTrtexecLog(text: string, file: string): TrtexecLogContent {
  const options: Record<string, string> = {};
  const warnings: string[] = [];
  let tensorrtVersion: string | undefined;
  let commandLine: string | undefined;
  let device: string | undefined;
  let passed = false;
  let inSummary = false;
  let summary: Partial<TrtexecSummary> | undefined;
  let lastSummary: Partial<TrtexecSummary> | undefined;
  let profile: TrtexecLayerProfile | undefined;
  let inProfile = false;
  const facts: Pick<TrtexecLog, 'warmup' | 'trace' | 'engineBuildS' | 'engineLoadS' | 'startedAt' | 'endedAt'> = {};
  for (const raw of text.split(/\r?\n/)) {
    const at = logTime(raw);
    if (at) {
      facts.startedAt ??= at;
      facts.endedAt = at;
    }
    // Anywhere in the line: a log that went through another program's logger has its prefix first.
    const banner = /&&&& (RUNNING|PASSED|FAILED) TensorRT\.trtexec \[TensorRT v(\d+)\](?: \[[^\]]*\])? # (.*)$/.exec(raw);
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
      const profiled = /^=== Profile \((\d+) iterations ?\) ===/.exec(body);
      inProfile = profiled !== null;
      if (profiled) profile = { iterations: Number(profiled[1]), layers: [] };
      continue;
    }
    if (inProfile && profile && level === 'I') {
      const row = profileRow(body);
      if (row && row.name !== 'Total') profile.layers.push(row);
      else if (!row && !/Time|Layer/.test(body)) inProfile = false;
      continue;
    }
    if (level === 'W' && inSummary) {
      if (body.startsWith('* ')) warnings.push(body.slice(2).trim());
      else if (warnings.length > 0 && body.trim()) warnings[warnings.length - 1] += ` ${body.trim()}`;
      continue;
    }
    if (level !== 'I') continue;
    const warm = /^Warmup completed (\d+) queries over ([0-9.]+) ms$/.exec(body);
    if (warm) facts.warmup = { queries: Number(warm[1]), ms: Number(warm[2]) };
    const trace = /^Timing trace has (\d+) queries over ([0-9.]+) s$/.exec(body);
    if (trace) facts.trace = { queries: Number(trace[1]), seconds: Number(trace[2]) };
    const built = /^Engine built in ([0-9.]+) sec\.?$/.exec(body);
    if (built) facts.engineBuildS = Number(built[1]);
    // "Engine deserialized in" from 8.4; 8.2 prints only "Engine loaded in" (8.4+ print both).
    const loaded = /^Engine (deserialized|loaded) in ([0-9.]+) sec\.?$/.exec(body);
    if (loaded && (loaded[1] === 'deserialized' || facts.engineLoadS === undefined)) facts.engineLoadS = Number(loaded[2]);
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
    // 8.0 prints the packed number ("8001"), later versions "8.6.1".
    if (key === 'TensorRT version') tensorrtVersion = /^\d+$/.test(value) ? (decodeBannerVersion(value) ?? value) : value;
    else if (key === 'Selected Device') device = value;
    else if (!(key in options)) options[key] = value;
  }
  if (!tensorrtVersion && !commandLine) {
    throw new TrtexecParseError(file, 'is not a trtexec log (no "&&&& RUNNING TensorRT.trtexec" banner, no "TensorRT version:" line)',
      'Pass the text trtexec printed (e.g. `trtexec ... 2>&1 | tee run.log`).');
  }
  return {
    tensorrtVersion: tensorrtVersion ?? 'unknown',
    ...(commandLine !== undefined ? { commandLine } : {}),
    ...(device !== undefined ? { device } : {}),
    options,
    ...spanFrom(options),
    ...(lastSummary ? { summary: lastSummary as TrtexecSummary } : {}),
    warnings,
    passed,
    ...facts,
    ...(profile && profile.layers.length > 0 ? { profile } : {}),
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
export function trtexecFindings(log: Pick<TrtexecLog, 'warnings' | 'tensorrtVersion'>): Finding[] {
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

/** Per-query times of --exportTimes, the measured queries only, in order. */
export interface TrtexecTimes {
  /** "latencyMs": H2D + compute + D2H (compute alone when data transfers were off). */
  latencyMs: number[];
  /** "computeMs": GPU compute, from CUDA events around the enqueue on trtexec's stream. */
  computeMs: number[];
  /** "h2dMs"/"d2hMs" (TensorRT 8+) or "inMs"/"outMs" (7.x). */
  h2dMs: number[];
  d2hMs: number[];
  /** Entries dropped as warm-up: TensorRT 7.x and 8.x up to at least 8.4 wrote every query,
   * warm-up included (a real 8.x file: 263 entries for a log's 248 measured + 15 warm-up); later
   * versions write the measured queries only. */
  warmupDropped: number;
}

/** What the run's log says about the queries, to tell whether the times file holds the warm-up. */
export interface TrtexecQueryCounts {
  /** "Warmup completed N queries". */
  warmupQueries?: number;
  /** "Timing trace has N queries" (the measured ones). */
  measuredQueries?: number;
}

const TIMES_FIELDS = {
  current: { h2d: 'h2dMs', d2h: 'd2hMs' },
  legacy: { h2d: 'inMs', d2h: 'outMs' },
} as const;

/**
 * Reads trtexec's --exportTimes JSON: `[ { "startEnqMs", ..., "h2dMs", "computeMs", "d2hMs",
 * "latencyMs" }, ... ]` (TensorRT 8+) or the 7.x form (`"inMs"`, `"outMs"`). Whether the warm-up
 * queries are in it depends on the version, not on the field names (8.x up to at least 8.4 wrote
 * them too), so the log's counts decide: a file of exactly warm-up + measured entries starts with
 * the warm-up, which is dropped; one of the measured count is kept whole. Without the measured
 * count, the 7.x form drops the warm-up and the 8+ form keeps every entry. Throws
 * TrtexecParseError naming the first entry and field that is missing or not a number.
 */
export function parseTrtexecTimes(text: string, file: string, counts: TrtexecQueryCounts = {}): TrtexecTimes {
  const fix = 'Pass the file written by trtexec --exportTimes=FILE, whole.';
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TrtexecParseError(file, `is not JSON (${(e as Error).message}); a file cut short by a killed trtexec ends mid-array`, fix);
  }
  if (!Array.isArray(doc)) throw new TrtexecParseError(file, 'is not a JSON array of per-query times', fix);
  if (doc.length === 0) throw new TrtexecParseError(file, 'holds no queries (an empty array)', 'Run trtexec without --skipInference, with --exportTimes=FILE.');
  const first = doc[0] as Record<string, unknown>;
  const legacy = typeof first === 'object' && first !== null && 'inMs' in first && !('h2dMs' in first);
  const names = legacy ? TIMES_FIELDS.legacy : TIMES_FIELDS.current;
  const warm = counts.warmupQueries ?? 0;
  const measured = counts.measuredQueries;
  const dropWarmup = warm > 0 && (measured !== undefined ? doc.length === measured + warm : legacy);
  const out: TrtexecTimes = { latencyMs: [], computeMs: [], h2dMs: [], d2hMs: [], warmupDropped: dropWarmup ? Math.min(warm, doc.length) : 0 };
  doc.forEach((entry: unknown, i: number) => {
    if (typeof entry !== 'object' || entry === null) throw new TrtexecParseError(file, `entry ${i} is not an object`, fix);
    const value = (field: string): number => {
      const v = (entry as Record<string, unknown>)[field];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new TrtexecParseError(file, `entry ${i} has ${v === undefined ? 'no' : 'a bad'} "${field}"${v === undefined ? '' : ` (${JSON.stringify(v)})`}`, fix);
      }
      return v;
    };
    const row = { latency: value('latencyMs'), compute: value('computeMs'), h2d: value(names.h2d), d2h: value(names.d2h) };
    if (i < out.warmupDropped) return;
    out.latencyMs.push(row.latency);
    out.computeMs.push(row.compute);
    out.h2dMs.push(row.h2d);
    out.d2hMs.push(row.d2h);
  });
  if (out.latencyMs.length === 0) throw new TrtexecParseError(file, `holds only the ${out.warmupDropped} warm-up queries`, fix);
  return out;
}

/**
 * A percentile by trtexec's own rule (its sampleReporting's findPercentile, read from its
 * source): sort ascending, leave out the floor((1 - p/100) * n) largest values (in float32, as
 * trtexec computes it) and take the largest of the rest. Our statistics interpolate between ranks
 * (stats.ts, Hyndman & Fan 7), so on the same samples the two differ by up to one rank's gap;
 * this rule reproduces trtexec's printed figure from its own per-query times.
 */
export function trtexecPercentile(samples: readonly number[], p: number): number {
  const n = samples.length;
  if (n === 0) throw new RangeError('percentile of an empty sample');
  const sorted = [...samples].sort((a, b) => a - b);
  const exclude = Math.floor(Math.fround(Math.fround(1 - Math.fround(p / 100)) * n));
  return sorted[Math.max(n - 1 - Math.min(exclude, n - 1), 0)]!;
}

/** Reads trtexec's --exportProfile JSON: `[ { "count": N }, { "name", "timeMs", "averageMs",
 * "medianMs", "percentage" }, ... ]` (medianMs from TensorRT 8.x on; absent before, taken as the
 * average). */
export function parseTrtexecProfile(text: string, file: string): TrtexecLayerProfile {
  const fix = 'Pass the file written by trtexec --exportProfile=FILE, whole.';
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TrtexecParseError(file, `is not JSON (${(e as Error).message})`, fix);
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new TrtexecParseError(file, 'is not a JSON array starting with { "count": N }', fix);
  const head = doc[0] as { count?: unknown };
  if (typeof head !== 'object' || head === null || typeof head.count !== 'number') throw new TrtexecParseError(file, 'does not start with { "count": N }', fix);
  const layers = doc.slice(1).map((l: unknown, i: number): TrtexecLayerTime => {
    const o = (typeof l === 'object' && l !== null ? l : {}) as Record<string, unknown>;
    const num = (field: string): number => {
      const v = o[field];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new TrtexecParseError(file, `layer ${i} has no numeric "${field}"`, fix);
      return v;
    };
    if (typeof o.name !== 'string') throw new TrtexecParseError(file, `layer ${i} has no "name"`, fix);
    const averageMs = num('averageMs');
    return { name: o.name, totalMs: num('timeMs'), averageMs, medianMs: typeof o.medianMs === 'number' ? o.medianMs : averageMs, percent: num('percentage') };
  });
  return { iterations: head.count, layers };
}

/** Which span a trtexec run measures, stated whatever the version's defaults are. */
export interface TrtexecSpan {
  /** true: H2D + compute + D2H; false: compute only (--noDataTransfers). */
  dataTransfers: boolean;
  cudaGraph: boolean;
  spinWait: boolean;
}

/** What building an engine from ONNX takes (`--onnx ... --saveEngine ...`). */
export interface TrtexecBuildInput {
  tensorrtVersion: string;
  onnxPath: string;
  enginePath: string;
  precision: 'fp32' | 'fp16' | 'int8';
  workspaceMiB?: number;
  timingCachePath?: string;
  /** An INT8 calibration cache (the native runner's, same engine key); without one trtexec --int8
   * uses placeholder scales: the engine's speed is real, its outputs are not. */
  calibrationCachePath?: string;
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
  /** Minimum measured time in seconds (--duration); 0 or absent = iterations alone. */
  durationS?: number;
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

/** The flags that build an engine from ONNX and save it. */
function buildFlags(input: Omit<TrtexecBuildInput, 'calibrationCachePath'>): string[] {
  const v = input.tensorrtVersion;
  const args = [`--onnx=${input.onnxPath}`, `--saveEngine=${input.enginePath}`];
  if (input.precision !== 'fp32') {
    if (atLeast(v, 11)) {
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
  return args;
}

/** The trtexec argv that builds an engine and stops (no inference): --skipInference from 8.2
 * (its "Skip inference" option echo), --buildOnly before. */
export function trtexecBuildArgs(input: TrtexecBuildInput): string[] {
  const args = buildFlags(input);
  if (input.precision === 'int8' && input.calibrationCachePath) args.push(`--calib=${input.calibrationCachePath}`);
  args.push(atLeast(input.tensorrtVersion, 8, 2) ? '--skipInference' : '--buildOnly');
  return args;
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
    args.push(...buildFlags({ ...input, onnxPath: input.onnxPath }));
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
  args.push(`--warmUp=${input.warmupMs}`, `--iterations=${input.iterations}`, `--duration=${input.durationS ?? 0}`);
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
