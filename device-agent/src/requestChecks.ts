// Every request's params are checked against the contract before they touch the agent's shared
// state (the queue, the live runs): a malformed request from any client is answered with a
// BadInput error naming the problem, and leaves nothing behind (no phantom live run that would make
// `listRuns` fail for everyone and `stopDaemon` report busy forever).
import os from 'node:os';
import { fidelityProblems, specProblems, type DeviceFacts } from '../../contract/runSpec';
import { BadInputError } from './errors';
import type { AttachRunParams, BuildParams, DetectFramesParams, RunIdParams, RunParams, RunSpec, TelemetryNowParams, TvmAdoptParams, TvmRpcServerStartParams } from '../../contract/protocol';
import { isSafeRunId } from '../../contract/runId';
import { ADAPTIVE_SIGNALS } from '../../contract/adaptive';

/** The facts a spec's bounds depend on (threads per core, input size against memory). */
export function deviceFacts(): DeviceFacts {
  return { cpuCores: os.availableParallelism(), memoryBytes: os.totalmem() };
}

type Raw = Record<string, unknown>;

function object(params: unknown, what: string): Raw {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new BadInputError(`${what}: the params must be an object`);
  return params as Raw;
}

function unknownKeys(p: Raw, known: readonly string[], what: string): void {
  const extra = Object.keys(p).filter((k) => !known.includes(k));
  if (extra.length > 0) throw new BadInputError(`${what}: unknown param ${extra.map((k) => `"${k}"`).join(', ')} (known: ${known.join(', ')})`);
}

/** Throws BadInputError listing every problem of the spec, as `spec.<field> <message>`. */
export function checkSpec(spec: unknown, facts: DeviceFacts = deviceFacts()): RunSpec {
  const problems = specProblems(spec, facts);
  if (problems.length > 0) throw new BadInputError(problems.map((p) => `${p.field === 'spec' ? 'spec' : `spec.${p.field}`} ${p.message}`).join('; '));
  return spec as RunSpec;
}

function checkRunId(v: unknown, what: string): string {
  if (typeof v !== 'string' || !isSafeRunId(v)) {
    throw new BadInputError(`${what}: "runId" must be 1 to 200 letters, digits, '.', '_' or '-' (starting with a letter or digit, no '..'); got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return v;
}

function checkToken(v: unknown, what: string): void {
  if (v !== undefined && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) throw new BadInputError(`${what}: "workDoneToken" must be a string or a number`);
}

export function checkRunParams(params: unknown): RunParams {
  const what = 'jetbench/run';
  const p = object(params, what);
  unknownKeys(p, ['spec', 'runId', 'workDoneToken'], what);
  if (p.runId !== undefined) checkRunId(p.runId, what);
  checkToken(p.workDoneToken, what);
  checkSpec(p.spec);
  return p as unknown as RunParams;
}

export function checkDetectFramesParams(params: unknown): DetectFramesParams {
  const what = 'jetbench/detectFrames';
  const p = object(params, what);
  unknownKeys(p, ['spec', 'frames', 'switching', 'workDoneToken'], what);
  checkToken(p.workDoneToken, what);
  checkSpec(p.spec);
  const problems = fidelityProblems(p.frames, {});
  if (problems.length > 0) throw new BadInputError(`${what}: ${problems.map((x) => `${x.field.replace(/^fidelity/, 'frames')} ${x.message}`).join('; ')}`);
  if (p.switching !== undefined) {
    const s = object(p.switching, `${what} "switching"`);
    unknownKeys(s, ['low', 'policy'], `${what} "switching"`);
    checkSpec(s.low);
    const policy = object(s.policy, `${what} "switching.policy"`);
    unknownKeys(policy, ['signal', 'enter', 'leave', 'minDwell'], `${what} "switching.policy"`);
    const bad: string[] = [];
    if (!(ADAPTIVE_SIGNALS as readonly unknown[]).includes(policy.signal)) bad.push(`"signal" must be one of ${ADAPTIVE_SIGNALS.join(', ')}`);
    for (const k of ['enter', 'leave'] as const) if (typeof policy[k] !== 'number' || !Number.isFinite(policy[k])) bad.push(`"${k}" must be a finite number`);
    if (typeof policy.enter === 'number' && typeof policy.leave === 'number' && !(policy.leave < policy.enter)) bad.push('"leave" must be below "enter" (hysteresis)');
    if (!Number.isInteger(policy.minDwell) || (policy.minDwell as number) < 1 || (policy.minDwell as number) > 100_000) bad.push('"minDwell" must be a whole number from 1 to 100000');
    if (bad.length > 0) throw new BadInputError(`${what}: switching.policy ${bad.join('; ')}`);
  }
  return p as unknown as DetectFramesParams;
}

export function checkBuildParams(params: unknown): BuildParams {
  const what = 'jetbench/build';
  const p = object(params, what);
  unknownKeys(p, ['spec', 'workDoneToken'], what);
  checkToken(p.workDoneToken, what);
  checkSpec(p.spec);
  return p as unknown as BuildParams;
}

export function checkRunIdParams(params: unknown, what: string): RunIdParams {
  const p = object(params, what);
  unknownKeys(p, ['runId'], what);
  checkRunId(p.runId, what);
  return p as unknown as RunIdParams;
}

export function checkAttachParams(params: unknown): AttachRunParams {
  const what = 'jetbench/attachRun';
  const p = object(params, what);
  unknownKeys(p, ['runId', 'warmupOffset', 'measureOffset', 'workDoneToken'], what);
  checkRunId(p.runId, what);
  for (const k of ['warmupOffset', 'measureOffset'] as const) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BadInputError(`${what}: "${k}" must be a whole number >= 0 (the samples the client holds)`);
  }
  checkToken(p.workDoneToken, what);
  return p as unknown as AttachRunParams;
}

/** `jetbench/telemetryNow`: `{}` or `{ nvml: boolean }`. */
export function checkTelemetryNowParams(params: unknown): TelemetryNowParams {
  const p = object(params ?? {}, 'jetbench/telemetryNow');
  unknownKeys(p, ['nvml'], 'jetbench/telemetryNow');
  if (p.nvml !== undefined && typeof p.nvml !== 'boolean') throw new BadInputError('jetbench/telemetryNow: "nvml" must be true or false');
  return p.nvml === undefined ? {} : { nvml: p.nvml };
}

function checkText(v: unknown, field: string, what: string, nullable: boolean): void {
  if (nullable && v === null) return;
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) throw new BadInputError(`${what}: "${field}" must be ${nullable ? 'null or ' : ''}a non-empty string`);
}

export function checkTvmRpcStartParams(params: unknown): TvmRpcServerStartParams {
  const what = 'jetbench/tvmRpcServer/start';
  const p = object(params, what);
  unknownKeys(p, ['tracker', 'reportAddress', 'python'], what);
  if (p.tracker !== null) {
    const t = object(p.tracker, `${what} "tracker"`);
    unknownKeys(t, ['host', 'port', 'key'], `${what} "tracker"`);
    checkText(t.host, 'tracker.host', what, false);
    checkText(t.key, 'tracker.key', what, false);
    if (!Number.isSafeInteger(t.port) || (t.port as number) < 1 || (t.port as number) > 65535) throw new BadInputError(`${what}: "tracker.port" must be a port number (1-65535)`);
  }
  checkText(p.reportAddress, 'reportAddress', what, true);
  checkText(p.python, 'python', what, true);
  return p as unknown as TvmRpcServerStartParams;
}

export function checkTvmRpcStopParams(params: unknown): { id: string } {
  const what = 'jetbench/tvmRpcServer/stop';
  const p = object(params, what);
  unknownKeys(p, ['id'], what);
  checkText(p.id, 'id', what, false);
  return p as { id: string };
}

export function checkTvmAdoptParams(params: unknown): TvmAdoptParams {
  const what = 'jetbench/tvmAdopt';
  const p = object(params, what);
  unknownKeys(p, ['spec', 'module', 'tuningLog', 'flags', 'buildMs', 'modelSha256'], what);
  checkSpec(p.spec);
  if ((p.spec as RunSpec).backend !== 'tvm') throw new BadInputError(`${what}: spec.backend must be tvm`);
  checkText(p.module, 'module', what, false);
  checkText(p.tuningLog, 'tuningLog', what, true);
  const flags = object(p.flags, `${what} "flags"`);
  for (const [k, v] of Object.entries(flags)) if (!['string', 'number', 'boolean'].includes(typeof v)) throw new BadInputError(`${what}: flags.${k} must be a string, number or boolean`);
  if (typeof p.buildMs !== 'number' || !Number.isFinite(p.buildMs) || p.buildMs < 0) throw new BadInputError(`${what}: "buildMs" must be a number >= 0`);
  if (typeof p.modelSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(p.modelSha256)) throw new BadInputError(`${what}: "modelSha256" must be a sha256 in hex`);
  return p as unknown as TvmAdoptParams;
}
