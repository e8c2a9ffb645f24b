// The trtexec runner of the tensorrt backend (issue 19 item 1): the device's own trtexec builds the
// engine (into the native runner's engine cache, same key) and runs it, with the span flags stated
// for its version (contract/trtexec.ts trtexecArgs), its per-query --exportTimes becoming the run's
// samples, its --exportProfile the per-layer times and its performance warnings joining the
// verdict. trtexec runs its own timing loop, so the session measures whole trials (measure()) instead
// of timing infer() calls; each trial is one trtexec process. Works with any TensorRT that has
// trtexec and needs no native build: what a user's board has on day one.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../../../contract/cacheDir';
import {
  JETPACK_TRTEXEC,
  decodeBannerVersion,
  parseTrtexecProfile,
  parseTrtexecTimes,
  readTrtexecLog,
  trtexecArgs,
  trtexecBuildArgs,
  trtexecFindings,
  trtexecMissingMessage,
  type TrtexecLayerProfile,
} from '../../../contract/trtexec';
import { TENSORRT_DEFAULTS } from '../../../contract/runSpec';
import type { ArtifactInfo, OperatorTime, RunSpec, TensorrtOptions } from '../../../contract/protocol';
import type { Finding } from '../../../contract/validity';
import { BackendUnavailableError, BadInputError } from '../errors';
import type { MeasureHooks, MeasureLimits, MeasureResult } from '../measure';
import type { PreparedSession, PrepareRequest } from './backend';

/** trtexec's warm-up is a time (--warmUp, ms), not a count: this when the spec gives no time. */
export const TRTEXEC_DEFAULT_WARMUP_MS = 200;
/** Seconds between SIGTERM and SIGKILL when a trtexec is cancelled. */
const KILL_GRACE_MS = 3000;

export function tensorrtOptions(spec: RunSpec): TensorrtOptions {
  return { ...TENSORRT_DEFAULTS, ...spec.tensorrt };
}

/** The trtexec a run uses: the spec's path, else $JETBENCH_TRTEXEC, PATH, JetPack's place. */
export async function locateTrtexec(given: string | null): Promise<{ file: string } | { searched: string[] }> {
  const fromEnv = process.env.JETBENCH_TRTEXEC || null;
  const onPath = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'trtexec'));
  const candidates = given ? [given] : [...(fromEnv ? [fromEnv] : []), ...onPath, JETPACK_TRTEXEC];
  for (const file of candidates) {
    try {
      await access(file, fsConstants.X_OK);
      if ((await stat(file)).isFile()) return { file };
    } catch {
      /* not here */
    }
  }
  return { searched: given ? [given] : [...(fromEnv ? [`$JETBENCH_TRTEXEC (${fromEnv})`] : []), 'PATH', JETPACK_TRTEXEC] };
}

const versions = new Map<string, Promise<string | Error>>();

/** TensorRT's version from the banner `trtexec --help` prints ("[TensorRT v100300]"), asked once. */
export function trtexecVersion(file: string): Promise<string | Error> {
  let p = versions.get(file);
  if (!p) {
    p = new Promise((resolve) => {
      execFile(file, ['--help'], { timeout: 30_000, maxBuffer: 8 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
        const banner = /\[TensorRT v(\d+)\]/.exec(`${stdout}\n${stderr}`);
        const version = banner ? decodeBannerVersion(banner[1]!) : undefined;
        if (version) resolve(version);
        else resolve(new Error(`${file} --help printed no "[TensorRT vNNNN]" banner${err ? ` (${err.message.split('\n')[0]})` : ''}: is it trtexec, and are TensorRT's libraries on LD_LIBRARY_PATH?`));
      });
    });
    versions.set(file, p);
  }
  return p;
}

/** Runs trtexec to its end, streaming its output lines; kills it (TERM, then KILL) on abort. */
function runTrtexec(file: string, args: string[], signal: AbortSignal, onLine: (line: string) => void): Promise<{ code: number | null; log: string; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let pending = '';
    const take = (chunk: string) => {
      log += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(new BackendUnavailableError(`cannot start ${file}: ${e.message}`));
    });
    child.on('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (pending) onLine(pending);
      resolve({ code, log, aborted: signal.aborted });
    });
  });
}

/** trtexec's own error lines ("[E] ..."), else the end of its output, for a failure message. */
function failureText(log: string): string {
  const errors = log.split('\n').filter((l) => /\[E\]/.test(l)).map((l) => l.replace(/^(\[[^\]]*\]\s*)+/, '').trim());
  const text = errors.length > 0 ? errors.slice(0, 3).join(' / ') : log.trim().split('\n').slice(-3).join(' / ');
  return text.length > 600 ? `${text.slice(0, 600)}...` : text;
}

export interface TrtexecEngine {
  file: string;
  version: string;
  enginePath: string;
  artifact: ArtifactInfo;
}

/**
 * Finds trtexec and its TensorRT version, then builds the engine with it unless the cache has one
 * for the key (`engineFor` gives the path, shared with the native runner). The build goes to a
 * temporary name and is renamed into the cache only when trtexec succeeded.
 */
export async function trtexecEngine(
  req: PrepareRequest,
  engineFor: (tensorrt: string) => Promise<{ enginePath: string; timingCachePath: string; calibrationCachePath: string; workspaceBytes: number; gpu: string }>,
): Promise<TrtexecEngine> {
  const { spec, model, progress, signal } = req;
  const opts = tensorrtOptions(spec);
  const found = await locateTrtexec(opts.trtexec);
  if ('searched' in found) throw new BackendUnavailableError(trtexecMissingMessage(found.searched));
  const version = await trtexecVersion(found.file);
  if (version instanceof Error) throw new BackendUnavailableError(version.message);
  if (spec.precision === 'bf16') throw new BadInputError('the tensorrt backend builds fp32, fp16 or int8 engines: use --precision fp16 (bf16 runs with --backend pytorch)');
  if (model.precision !== 'fp32') {
    throw new BadInputError(`TensorRT builds ${spec.precision} engines from the fp32 model: use the fp32 model (e.g. --model ${model.builtin?.replace(/-(fp16|int8)$/, '') ?? 'model.onnx'}) with --precision ${spec.precision}`);
  }
  const where = await engineFor(version);
  const flags = { precision: spec.precision, workspaceBytes: where.workspaceBytes, tensorrt: version, gpu: where.gpu, runner: 'trtexec', trtexec: found.file };
  if (existsSync(where.enginePath)) {
    progress(`reusing TensorRT engine ${where.enginePath}`);
    const bytes = (await stat(where.enginePath)).size;
    return { file: found.file, version, enginePath: where.enginePath, artifact: { kind: 'tensorrt-engine', path: where.enginePath, bytes, buildMs: 0, flags: { ...flags, cached: true } } };
  }
  const calibrated = spec.precision === 'int8' && existsSync(where.calibrationCachePath);
  let args: string[];
  try {
    args = trtexecBuildArgs({
      tensorrtVersion: version,
      onnxPath: model.path,
      enginePath: `${where.enginePath}.partial-${process.pid}`,
      precision: spec.precision,
      workspaceMiB: Math.round(where.workspaceBytes / 2 ** 20),
      timingCachePath: where.timingCachePath,
      ...(calibrated ? { calibrationCachePath: where.calibrationCachePath } : {}),
    });
  } catch (e) {
    throw new BadInputError((e as Error).message);
  }
  progress(`building a ${spec.precision} TensorRT ${version} engine with ${found.file} (this takes minutes)${spec.precision === 'int8' && !calibrated ? '; no calibration cache for this engine: trtexec --int8 uses placeholder scales, so the speed is real and the outputs are not' : ''}`);
  await mkdir(path.dirname(where.enginePath), { recursive: true });
  const started = performance.now();
  const built = await runTrtexec(found.file, args, signal, (line) => {
    if (/\[E\]/.test(line)) progress(`trtexec: ${line.replace(/^(\[[^\]]*\]\s*)+/, '')}`);
  });
  const partial = `${where.enginePath}.partial-${process.pid}`;
  if (built.aborted || built.code !== 0) {
    await rm(partial, { force: true });
    if (built.aborted) throw new BadInputError('the TensorRT engine build with trtexec was cancelled; nothing was cached');
    throw new BadInputError(`trtexec could not build the engine from ${model.path} (exit ${built.code}): ${failureText(built.log)}`);
  }
  await rename(partial, where.enginePath);
  const log = readTrtexecLog(built.log, 'trtexec build log');
  const buildMs = log.engineBuildS !== undefined ? log.engineBuildS * 1000 : performance.now() - started;
  await writeFile(`${where.enginePath}.trtexec-build.log`, built.log);
  const bytes = (await stat(where.enginePath)).size;
  return { file: found.file, version, enginePath: where.enginePath, artifact: { kind: 'tensorrt-engine', path: where.enginePath, bytes, buildMs, flags: { ...flags, cached: false, calibrated } } };
}

/** A session that runs the engine with trtexec, one trtexec process per trial. */
export function trtexecSession(req: PrepareRequest, engine: TrtexecEngine): PreparedSession {
  const { spec, progress } = req;
  const opts = tensorrtOptions(spec);
  const span = { dataTransfers: opts.span === 'latency', cudaGraph: opts.cudaGraph, spinWait: true };
  const findings = new Map<string, Finding>();
  let profile: TrtexecLayerProfile | null = null;
  const outRoot = path.join(cacheDir(), 'trtexec-runs');
  engine.artifact.flags.cudaGraph = opts.cudaGraph;

  async function oneTrial(limits: MeasureLimits, hooks: MeasureHooks, result: MeasureResult, trial: { warmupCount: number; count: number }, label: string): Promise<boolean> {
    await mkdir(outRoot, { recursive: true });
    const outDir = path.join(outRoot, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${result.trials.length}`);
    await mkdir(outDir, { recursive: true });
    const warmupMs = limits.warmupMs > 0 ? limits.warmupMs : TRTEXEC_DEFAULT_WARMUP_MS;
    const args = trtexecArgs({
      tensorrtVersion: engine.version,
      enginePath: engine.enginePath,
      loadEngine: true,
      precision: spec.precision === 'bf16' ? 'fp32' : spec.precision,
      warmupMs,
      iterations: limits.iterations,
      durationS: limits.durationS,
      span,
      outDir,
    });
    let measuringTimer: NodeJS.Timeout | undefined;
    progress(`${label}trtexec loading the engine`);
    const ran = await runTrtexec(engine.file, args, hooks.signal, (line) => {
      if (/\[I\] Starting inference/.test(line)) {
        // trtexec prints nothing between here and its summary: warm-up is the first warmupMs.
        hooks.onPhase?.('warmup');
        progress(`${label}trtexec warm-up: ${warmupMs} ms`);
        measuringTimer = setTimeout(() => {
          hooks.onPhase?.('measure');
          progress(`${label}trtexec measuring: ${limits.iterations} iterations${limits.durationS > 0 ? ` and ${limits.durationS} s` : ''}`);
        }, warmupMs);
      }
    });
    clearTimeout(measuringTimer);
    await writeFile(path.join(outDir, 'trtexec.log'), ran.log);
    if (ran.aborted) {
      result.cancelled = true;
      return false;
    }
    if (ran.code !== 0) {
      result.error = new Error(`trtexec failed (exit ${ran.code}; its log: ${path.join(outDir, 'trtexec.log')}): ${failureText(ran.log)}`);
      return false;
    }
    const log = readTrtexecLog(ran.log, path.join(outDir, 'trtexec.log'));
    // Its option echo says what it measured: the span asked for, whatever this version's defaults.
    const echoed = { dataTransfers: log.dataTransfers, cudaGraph: log.cudaGraph, spinWait: log.spinWait };
    const differs = (Object.keys(echoed) as Array<keyof typeof echoed>).filter((k) => echoed[k] !== undefined && echoed[k] !== span[k]);
    if (differs.length > 0) {
      result.error = new Error(`trtexec ${engine.version} measured another span than asked (${differs.map((k) => `${k} ${echoed[k] ? 'on' : 'off'}, asked ${span[k] ? 'on' : 'off'}`).join('; ')}): its flags for this version are not what jetbench expects; its log: ${path.join(outDir, 'trtexec.log')}`);
      return false;
    }
    const timesFile = path.join(outDir, 'trtexec-times.json');
    const times = parseTrtexecTimes(await readFile(timesFile, 'utf8'), timesFile, { warmupQueries: log.warmup?.queries, measuredQueries: log.trace?.queries });
    const samples = opts.span === 'latency' ? times.latencyMs : times.computeMs;
    for (const f of trtexecFindings(log)) if (!findings.has(f.code)) findings.set(f.code, f);
    const profileFile = path.join(outDir, 'trtexec-profile.json');
    if (existsSync(profileFile)) {
      profile = parseTrtexecProfile(await readFile(profileFile, 'utf8'), profileFile);
      // Read by the faces' headings (contract/format.ts operatorsHeading).
      engine.artifact.flags.profileIterations = profile.iterations;
    }
    // trtexec's --exportTimes hold the measured queries only: no per-query warm-up samples.
    trial.warmupCount = 0;
    for (const ms of samples) {
      result.latencyMs.push(ms);
      trial.count++;
    }
    hooks.onSample('measure', result.latencyMs);
    return true;
  }

  return {
    infer: () => Promise.reject(new Error('the trtexec runner measures whole trials (measure()), not single inferences')),
    async measure(limits: MeasureLimits, hooks: MeasureHooks): Promise<MeasureResult> {
      const result: MeasureResult = { warmupMs: [], latencyMs: [], trials: [], cancelled: false, error: null };
      const trials = limits.trials ?? 1;
      for (let t = 0; t < trials && !hooks.signal.aborted; t++) {
        const trial = { warmupCount: 0, count: 0 };
        result.trials.push(trial);
        hooks.onTrial?.(t, trials);
        try {
          if (!(await oneTrial(limits, hooks, result, trial, trials > 1 ? `trial ${t + 1}/${trials}: ` : ''))) break;
        } catch (e) {
          result.error = e instanceof Error ? e : new Error(String(e));
          break;
        }
      }
      if (hooks.signal.aborted) result.cancelled = true;
      return result;
    },
    findings: () => [...findings.values()],
    timing: {
      clock: `trtexec's CUDA events (spin-wait), per query from --exportTimes; warm-up by time (${spec.warmupMs > 0 ? spec.warmupMs : TRTEXEC_DEFAULT_WARMUP_MS} ms), not by count`,
      spans:
        opts.span === 'latency'
          ? `one query's host-to-device copy, GPU compute and device-to-host copy (trtexec's Latency)${opts.cudaGraph ? ', the engine replayed as a CUDA graph' : ''}`
          : `the engine's GPU compute for one query on device-resident buffers (trtexec's GPU Compute Time with --noDataTransfers)${opts.cudaGraph ? ', replayed as a CUDA graph' : ''}`,
      span: opts.span === 'latency' ? 'trt-latency' : 'trt-compute',
      executionProvider: `tensorrt ${engine.version} through ${engine.file}`,
      threads: null,
    },
    artifact: engine.artifact,
    outputs: async () => {
      throw new BadInputError('--verify is not available for tensorrt: trtexec runs on random inputs; compare with a separate onnxruntime run');
    },
    profile: async (): Promise<OperatorTime[]> => (profile ? profile.layers.map((l) => ({ name: l.name, ms: l.averageMs, calls: 1 })) : []),
    runtimeVersion: engine.version,
    dispose: async () => undefined,
  };
}
