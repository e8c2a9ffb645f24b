// Trials in fresh processes. Each trial of a run of 2+ trials runs in a new `agent.js trial`
// process: the model is loaded anew, at new addresses, by a runtime with new thread pools, on
// whatever CPUs the scheduler places it. Between separate runs all of that varies (identical runs,
// each in its own agent process, differed by up to 7% while trials sharing one process agreed
// within 1.3%: bench:compare), so trials must vary it too, or their spread understates the noise
// between runs and compare calls noise a difference.
//
// Parent side: runTrialsInProcesses() forks one child per trial, forwards cancellation and
// collects the child's samples into one MeasureResult. Child side: runTrialProcess() prepares the
// session with the same backend code, measures one trial (measure()), streams its samples in
// batches over IPC and exits. A child that dies fails the run with its exit status; the samples
// it sent are kept.
import { fork } from 'node:child_process';
import type { ModelInfo, RunSpec } from '../../contract/protocol';
import { agentScript } from './agentScript';
import type { Backend } from './backends/backend';
import { measure, type MeasureHooks, type MeasureResult, type Phase } from './measure';
import { SampleBatcher } from './sampleBatcher';

type ToChild = { op: 'start'; spec: RunSpec; model: ModelInfo } | { op: 'cancel' };
type FromChild =
  /** startEpochMs: the measured samples' starts as performance.timeOrigin + now(), a clock both
   * processes share (each one's performance.now() counts from its own start). */
  | { event: 'batch'; phase: Phase; latencyMs: number[]; startEpochMs?: number[] }
  | { event: 'done'; cancelled: boolean; error: string | null };

/** Runs spec.trials trials, each in a new process, with the hooks measure() takes. */
export async function runTrialsInProcesses(spec: RunSpec, model: ModelInfo, hooks: MeasureHooks): Promise<MeasureResult> {
  const result: MeasureResult = { warmupMs: [], latencyMs: [], startMs: [], trials: [], cancelled: false, error: null };
  const starts = result.startMs!;
  const count = spec.trials ?? 1;
  for (let t = 0; t < count && !result.cancelled && !result.error; t++) {
    const trial = { warmupCount: 0, count: 0 };
    result.trials.push(trial);
    hooks.onTrial?.(t, count);
    const end = await oneTrial({ ...spec, trials: 1 }, model, hooks.signal, (phase, samples, startEpochMs) => {
      const into = phase === 'warmup' ? result.warmupMs : result.latencyMs;
      into.push(...samples);
      if (phase === 'measure') starts.push(...(startEpochMs ?? samples.map(() => NaN)).map((e) => e - performance.timeOrigin));
      trial[phase === 'warmup' ? 'warmupCount' : 'count'] += samples.length;
      hooks.onSample(phase, into, phase === 'measure' ? starts : undefined);
    });
    // A trial process that sent no start times (none is expected to) leaves the run without them.
    if (starts.some((x) => Number.isNaN(x))) delete result.startMs;
    result.cancelled = end.cancelled;
    result.error = end.error ? new Error(count > 1 ? `trial ${t + 1} of ${count}: ${end.error}` : end.error) : null;
  }
  return result;
}

function oneTrial(spec: RunSpec, model: ModelInfo, signal: AbortSignal, onBatch: (phase: Phase, samples: number[], startEpochMs?: number[]) => void): Promise<{ cancelled: boolean; error: string | null }> {
  return new Promise((resolve) => {
    const child = fork(agentScript(), ['trial'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: ['--no-deprecation'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    let done: { cancelled: boolean; error: string | null } | null = null;
    const onAbort = () => {
      if (child.connected) child.send({ op: 'cancel' } satisfies ToChild);
    };
    child.on('message', (m: FromChild) => {
      if (m.event === 'batch') onBatch(m.phase, m.latencyMs, m.startEpochMs);
      else done = { cancelled: m.cancelled, error: m.error };
    });
    child.on('error', (e) => {
      done ??= { cancelled: false, error: `the trial process could not start: ${e.message}` };
    });
    child.on('exit', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      const why = sig ? `killed by ${sig}` : `exited with code ${code}`;
      resolve(done ?? { cancelled: signal.aborted, error: signal.aborted ? null : `the trial process ${why} before it finished${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}` });
    });
    signal.addEventListener('abort', onAbort, { once: true });
    child.send({ op: 'start', spec, model } satisfies ToChild);
    if (signal.aborted) onAbort();
  });
}

/** `node agent.js trial`: one trial for the parent agent over IPC, then exit. */
export function runTrialProcess(backends: () => ReadonlyMap<string, Backend>): void {
  const stop = new AbortController();
  // Ctrl-C in a terminal reaches the whole process group: the parent agent decides, and cancels
  // this trial over IPC (so the run is saved as cancelled, not failed by a dead child).
  process.on('SIGINT', () => undefined);
  const send = (m: FromChild) => new Promise<void>((resolve) => (process.send ? process.send(m, () => resolve()) : resolve()));
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToChild) => {
    if (m.op === 'cancel') stop.abort();
    else
      void trial(m.spec, m.model)
        .catch((e: unknown) => send({ event: 'done', cancelled: false, error: e instanceof Error ? e.message : String(e) }))
        .finally(() => process.exit(0));
  });

  async function trial(spec: RunSpec, model: ModelInfo): Promise<void> {
    const backend = backends().get(spec.backend);
    if (!backend) throw new Error(`no backend '${spec.backend}' in the trial process`);
    const session = await backend.prepare({ spec, model, progress: () => undefined, signal: stop.signal });
    let starts: readonly number[] = [];
    const batcher = new SampleBatcher((phase, from, samples) =>
      void send({
        event: 'batch',
        phase,
        latencyMs: samples.slice(from),
        ...(phase === 'measure' ? { startEpochMs: starts.slice(from, samples.length).map((t) => performance.timeOrigin + t) } : {}),
      }),
    );
    let result: MeasureResult;
    try {
      result = await measure(session.infer, spec, {
        signal: stop.signal,
        onSample: (phase, samples, startsMs) => {
          if (startsMs) starts = startsMs;
          batcher.onSample(phase, samples);
        },
      });
    } finally {
      await session.dispose().catch(() => undefined);
    }
    batcher.finish(result);
    await send({ event: 'done', cancelled: result.cancelled, error: result.error?.message ?? null });
  }
}
