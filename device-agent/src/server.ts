// Wires the agent's JSON-RPC API (protocol.ts) onto a vscode-languageserver connection. The
// state (queue, live and finished runs) is shared by every connection of one agent: a daemon serves
// many clients at once, a stdio agent one.
import { ResponseError, type CancellationToken, type NotificationType } from 'vscode-jsonrpc';
import { LSPErrorCodes, WorkDoneProgress, type Connection, type InitializeResult } from 'vscode-languageserver/node';
import type { Backend } from './backends/backend';
import { OnnxRuntimeBackend } from './backends/onnxruntime';
import { TvmBackend } from './backends/tvm';
import { PytorchBackend } from './backends/pytorch';
import { TensorRtBackend } from './backends/tensorrt';
import { deviceInfo } from './deviceInfo';
import { BadInputError, JobCancelledError, toResponseError } from './errors';
import { JobQueue, type MachineGate } from './jobQueue';
import { acquireMeasureLock } from './measureLock';
import { checkAttachParams, checkBuildParams, checkDetectFramesParams, checkRunIdParams, checkRunParams, checkTelemetryNowParams, checkTvmAdoptParams, checkTvmRpcStartParams, checkTvmRpcStopParams, checkSpec } from './requestChecks';
import { deviceRoot } from './sysfs';
import { readTelemetryNow, telemetryPython } from './telemetry/watch';
import { RunRegistry, type LiveRun } from './liveRuns';
import {
  AgentErrorNotification,
  AttachRunRequest,
  BuildRequest,
  TvmAdoptRequest,
  ResolveModelRequest,
  TvmRpcServerStartRequest,
  TvmRpcTrackerStartRequest,
  TvmRpcServerStopRequest,
  DetectFramesRequest,
  type DetectFramesParams,
  type RunSpec,
  CancelRunRequest,
  DeviceInfoRequest,
  TelemetryNowRequest,
  GetRunRequest,
  ListBackendsRequest,
  ListRunsRequest,
  PROTOCOL_VERSION,
  QueueChangedNotification,
  QueueStateRequest,
  RunRequest,
  RunPreparedNotification,
  SamplesNotification,
  TelemetryLiveNotification,
  type TelemetryLiveBatch,
  type PreparedRun,
  StopDaemonRequest,
  type AgentMode,
  type BackendId,
  type JetbenchInitializationOptions,
  type JetbenchInitializeResult,
  type BuildParams,
  type RunParams,
  type SamplesBatch,
  type StopDaemonResult,
} from '../../contract/protocol';
import { executePipeline } from './pipeline';
import { executeDetectFrames } from './detectFrames';
import { availableBackend, executeAdopt, executeBuild, executeRun, resolveAndInspect, type RunSinks } from './runner';
import { TvmRpcServers } from './tvmRpcServer';
import { newRunId } from '../../contract/runId';
import { StreamedSamples } from '../../contract/streamedSamples';
import { AGENT_VERSION } from '../../contract/version';

export function defaultBackends(): Map<BackendId, Backend> {
  return new Map<BackendId, Backend>([
    ['onnxruntime', new OnnxRuntimeBackend()],
    ['tensorrt', new TensorRtBackend()],
    ['tvm', new TvmBackend()],
    ['pytorch', new PytorchBackend()],
  ]);
}

/** What every connection of one agent shares. */
export interface AgentState {
  readonly mode: AgentMode;
  readonly backends: ReadonlyMap<BackendId, Backend>;
  /** The accelerator is exclusive: one measuring job at a time, the others wait in order. */
  readonly queue: JobQueue;
  readonly runs: RunRegistry;
  /** A daemon exits when no job is live; absent for a stdio agent. */
  stopWhenIdle?(): StopDaemonResult;
}

export function createAgentState(opts: {
  mode: AgentMode;
  /** Where runs persist as they go (a daemon); null keeps them in memory (stdio). */
  runsDir: string | null;
  backends?: Map<BackendId, Backend>;
  stopWhenIdle?: () => StopDaemonResult;
  /** Takes the machine for a job; default: the user's machine-wide measuring lock. */
  gate?: MachineGate;
}): AgentState {
  return {
    mode: opts.mode,
    backends: opts.backends ?? defaultBackends(),
    queue: new JobQueue(opts.gate ?? ((o) => acquireMeasureLock(o))),
    runs: new RunRegistry(opts.runsDir),
    ...(opts.stopWhenIdle ? { stopWhenIdle: opts.stopWhenIdle } : {}),
  };
}

/** Measures a live run to its end; never throws (the outcome goes to the run's awaiters). */
async function executeLive(state: AgentState, live: LiveRun): Promise<void> {
  try {
    const sinks: RunSinks = {
      signal: live.signal,
      samples: (batch) => live.publish(batch),
      telemetry: (batch) => live.publishTelemetry(batch),
      progress: (message, percentage) => live.progress(message, percentage),
      prepared: (prepared) => state.runs.prepared(live, prepared),
    };
    // A spec with `pipeline` measures whole frames stage by stage in the native worker.
    const run = live.spec.pipeline ? await executePipeline(live.spec, live.id, sinks) : await executeRun(live.spec, live.id, state.backends, sinks);
    state.runs.settle(live, { run });
  } catch (e) {
    state.runs.settle(live, { error: e });
  }
}

/** Cancels a run: a run that has not started leaves the queue and ends at once (nothing was
 * measured); a running one stops measuring and ends `cancelled` with its samples. */
function cancelLive(state: AgentState, live: LiveRun): void {
  live.cancel();
  if (state.queue.withdraw(live.id)) {
    state.runs.settle(live, { error: new JobCancelledError(`run ${live.id} was cancelled before it started (it waited for its turn on the accelerator): nothing was measured`) });
  }
}

function runTitle(spec: { model: string; backend: string; precision: string }): string {
  return `${spec.model} ${spec.backend} ${spec.precision}`;
}

/** Serves one connection; returns the function that detaches it from the shared state (call it
 * when the connection closes: its runs go on). */
export function serve(connection: Connection, state: AgentState = createAgentState({ mode: 'stdio', runsDir: null })): () => void {
  let client = 'unknown';
  const detachers = new Set<() => void>();
  const detach = (f: () => void) => {
    detachers.add(f);
    return () => {
      detachers.delete(f);
      f();
    };
  };
  // A client may be gone while its runs go on: sending to a closed connection is not an error.
  const notify = <P>(type: NotificationType<P>, params: P) => {
    try {
      connection.sendNotification(type, params).catch(() => undefined);
    } catch {
      /* closed */
    }
  };
  const follower = (workDoneToken: string | number | undefined, title: string) => {
    const progress = progressReporter(connection, workDoneToken, title);
    return {
      progress,
      follower: {
        samples: (batch: SamplesBatch) => notify(SamplesNotification, batch),
        telemetry: (batch: TelemetryLiveBatch) => notify(TelemetryLiveNotification, batch),
        progress: (message: string, percentage?: number) => progress('report', message, percentage),
        prepared: (prepared: PreparedRun) => notify(RunPreparedNotification, { runId: prepared.id, prepared }),
      },
    };
  };
  const queuedMessage = () => (state.queue.busy ? `queued behind ${state.queue.pending} job(s)` : 'starting');

  connection.onInitialize((params): InitializeResult & { jetbench: JetbenchInitializeResult } => {
    const options = params.initializationOptions as Partial<JetbenchInitializationOptions> | undefined;
    if (typeof options?.client === 'string') client = options.client;
    return {
      capabilities: {},
      serverInfo: { name: 'jetbench-agent', version: AGENT_VERSION },
      jetbench: { protocolVersion: PROTOCOL_VERSION, agentVersion: AGENT_VERSION, pid: process.pid, mode: state.mode, agentDir: __dirname },
    };
  });

  connection.onRequest(DeviceInfoRequest, async () => {
    try {
      return await deviceInfo();
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(TelemetryNowRequest, async (raw) => {
    try {
      const params = checkTelemetryNowParams(raw);
      const gpu = params.nvml !== false && (await deviceInfo()).gpus.some((g) => g.source === 'nvidia-smi');
      return await readTelemetryNow(deviceRoot(), gpu ? telemetryPython({}) : null);
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(ListBackendsRequest, async () => {
    try {
      return { backends: await Promise.all([...state.backends.values()].map((b) => b.status())) };
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(RunRequest, async (raw, token) => {
    let live: LiveRun;
    let params: RunParams;
    try {
      // Checked before anything is registered: a bad request leaves no trace in the shared state.
      params = checkRunParams(raw);
      // A backend this device cannot run is said now, not after waiting for the machine behind
      // another job (the probe is cached: the run asks again for free).
      if (!params.spec.pipeline) await availableBackend(params.spec, state.backends);
      live = state.runs.begin(params.runId ?? newRunId(params.spec), params.spec);
    } catch (e) {
      throw toResponseError(e);
    }
    const { progress, follower: f } = follower(params.workDoneToken, `jetbench run ${live.id}`);
    let unfollow = (): void => undefined;
    let cancel = { dispose: (): void => undefined };
    try {
      progress('begin', queuedMessage());
      unfollow = detach(live.follow({ warmupOffset: 0, measureOffset: 0 }, f));
      cancel = token.onCancellationRequested(() => cancelLive(state, live));
      // The run belongs to the agent, not to this connection: it goes on if the client goes.
      state.queue
        .run(() => executeLive(state, live), { kind: 'run', runId: live.id, title: runTitle(params.spec), client }, (message) => live.progress(message))
        .catch((e: unknown) => {
          // Withdrawn (already settled), or the machine could not be taken: the run must still end.
          const known = state.runs.find(live.id);
          if (known && 'live' in known && known.live === live) state.runs.settle(live, { error: e });
        });
    } catch (e) {
      // Registered but never queued: settle it, so no phantom live run stays behind.
      state.runs.settle(live, { error: e });
    }
    try {
      return await live.done;
    } catch (e) {
      throw toResponseError(e);
    } finally {
      cancel.dispose();
      unfollow();
      progress('end', 'done');
    }
  });

  connection.onRequest(AttachRunRequest, async (raw, token) => {
    try {
      const params = checkAttachParams(raw);
      const known = state.runs.get(params.runId);
      const { progress, follower: f } = follower(params.workDoneToken, `jetbench run ${params.runId}`);
      if ('finished' in known) {
        const run = known.finished;
        for (const batch of StreamedSamples.of(run.samples).batchesFrom(run.id, params.warmupOffset, params.measureOffset)) f.samples(batch);
        return run;
      }
      progress('begin', known.live.state === 'queued' ? 'queued' : 'attached');
      const unfollow = detach(known.live.follow(params, f));
      try {
        return await Promise.race([known.live.done, detached(token)]);
      } finally {
        unfollow();
        progress('end', 'done');
      }
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(CancelRunRequest, (raw) => {
    try {
      const params = checkRunIdParams(raw, 'jetbench/cancelRun');
      const known = state.runs.get(params.runId);
      if ('live' in known) cancelLive(state, known.live);
      return { cancelled: 'live' in known };
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(GetRunRequest, (raw) => {
    try {
      const params = checkRunIdParams(raw, 'jetbench/getRun');
      const known = state.runs.get(params.runId);
      if ('live' in known) throw new BadInputError(`run '${params.runId}' is still ${known.live.state}: attach to it to follow it, or wait until it ends`);
      return known.finished;
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(ListRunsRequest, () => ({ runs: state.runs.list() }));

  connection.onRequest(QueueStateRequest, () => state.queue.state());
  detach(state.queue.onChange((queue) => notify(QueueChangedNotification, queue)));

  connection.onRequest(
    StopDaemonRequest,
    (): StopDaemonResult => state.stopWhenIdle?.() ?? { stopping: false, reason: 'this agent serves one client over stdio and ends with it' },
  );

  /** A job that is not a run but takes its turn on the device (it measures): params checked and
   * the backend found before it queues, progress as work-done reports, cancellation honoured. */
  const queuedJob = <P extends { spec: RunSpec; workDoneToken?: string | number }, R>(
    raw: unknown,
    token: CancellationToken,
    job: { check(raw: unknown): P; verb: string; kind: 'build' | 'run'; execute(params: P, sinks: Pick<RunSinks, 'progress' | 'signal'>): Promise<R> },
  ): Promise<R> => {
    let params: P;
    try {
      params = job.check(raw);
    } catch (e) {
      return Promise.reject(toResponseError(e));
    }
    return (async () => {
      try {
        await availableBackend(params.spec, state.backends);
      } catch (e) {
        throw toResponseError(e);
      }
      const progress = progressReporter(connection, params.workDoneToken, `jetbench ${job.verb} ${params.spec.backend} ${params.spec.model}`);
      progress('begin', queuedMessage());
      const cancellation = new AbortController();
      const onCancel = token.onCancellationRequested(() => cancellation.abort());
      try {
        return await state.queue.run(
          () => job.execute(params, { signal: cancellation.signal, progress: (message) => progress('report', message) }),
          { kind: job.kind, runId: null, title: `${job.verb} ${runTitle(params.spec)}`, client },
          (message) => progress('report', message),
        );
      } catch (e) {
        throw toResponseError(e);
      } finally {
        onCancel.dispose();
        progress('end', 'done');
      }
    })();
  };

  // TVM's RPC server for a host that compiles for this device; it belongs to this connection.
  const rpcServers = new TvmRpcServers();
  detach(() => void rpcServers.stopAll());
  connection.onRequest(TvmRpcServerStartRequest, async (raw) => {
    try {
      return await rpcServers.start(checkTvmRpcStartParams(raw));
    } catch (e) {
      throw toResponseError(e);
    }
  });
  connection.onRequest(TvmRpcTrackerStartRequest, async (raw) => {
    try {
      const p = raw as { python?: unknown } | null;
      if (typeof p !== 'object' || p === null || Object.keys(p).some((k) => k !== 'python') || (p.python !== null && typeof p.python !== 'string')) {
        throw new BadInputError('jetbench/tvmRpcTracker/start: the params are { python: string | null }');
      }
      return await rpcServers.startTracker((p.python as string | null) ?? null);
    } catch (e) {
      throw toResponseError(e);
    }
  });
  connection.onRequest(TvmRpcServerStopRequest, async (raw) => {
    try {
      return await rpcServers.stop(checkTvmRpcStopParams(raw).id);
    } catch (e) {
      throw toResponseError(e);
    }
  });
  connection.onRequest(ResolveModelRequest, async (raw) => {
    try {
      const p = raw as { spec?: unknown } | null;
      if (typeof p !== 'object' || p === null || Object.keys(p).some((k) => k !== 'spec')) throw new BadInputError('jetbench/resolveModel: the params are { spec }');
      const spec = checkSpec(p.spec);
      return await resolveAndInspect(spec, { progress: () => {} }, state.backends.get(spec.backend)?.convertsPrecision ?? false);
    } catch (e) {
      throw toResponseError(e);
    }
  });
  connection.onRequest(TvmAdoptRequest, async (raw) => {
    try {
      return await executeAdopt(checkTvmAdoptParams(raw), { progress: () => {} });
    } catch (e) {
      throw toResponseError(e);
    }
  });

  // Building measures too (tuning times kernels), so it takes its turn on the accelerator.
  connection.onRequest(BuildRequest, (raw, token) =>
    queuedJob(raw, token, { check: checkBuildParams, verb: 'build', kind: 'build', execute: (params: BuildParams, sinks) => executeBuild(params.spec, state.backends, sinks) }),
  );

  // Each frame's latency is measured: it takes its turn on the device like a run.
  connection.onRequest(DetectFramesRequest, (raw, token) =>
    queuedJob(raw, token, { check: checkDetectFramesParams, verb: 'detect', kind: 'run', execute: (params: DetectFramesParams, sinks) => executeDetectFrames(params, state.backends, sinks) }),
  );

  return () => {
    for (const f of [...detachers]) f();
    detachers.clear();
  };
}

/** Rejects when the client cancels an attach: that detaches it, the run goes on. */
function detached(token: CancellationToken): Promise<never> {
  return new Promise((_, reject) => {
    token.onCancellationRequested(() => reject(new ResponseError(LSPErrorCodes.RequestCancelled, 'detached from the run; it goes on on the device')));
  });
}


/** `$/progress` for one job, when the client gave a token (LSP work-done progress). */
function progressReporter(connection: Connection, token: string | number | undefined, title: string) {
  return (kind: 'begin' | 'report' | 'end', message: string, percentage?: number) => {
    if (token === undefined) return;
    const value =
      kind === 'begin'
        ? { kind, title, cancellable: true, message, percentage: 0 }
        : kind === 'report'
          ? { kind, message, ...(percentage !== undefined ? { percentage } : {}) }
          : { kind, message };
    try {
      connection.sendProgress(WorkDoneProgress.type, token, value).catch(() => undefined);
    } catch {
      /* the client is gone; the job goes on */
    }
  };
}

/** Reports an error nobody awaited to every client, then exits: a broken agent must not look
 * healthy (a daemon's interrupted runs are recovered as failed by the next one). */
export function reportFatal(connections: Iterable<Connection>, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  try {
    for (const connection of connections) {
      try {
        connection.sendNotification(AgentErrorNotification, { message: err.message, ...(err.stack ? { stack: err.stack } : {}) }).catch(() => undefined);
      } catch {
        /* that client is gone */
      }
    }
  } finally {
    process.stderr.write(`jetbench agent: fatal: ${err.stack ?? err.message}\n`);
    setTimeout(() => process.exit(1), 100);
  }
}
