// The one client core above an agent connection: run a job, follow its samples and progress,
// return the run; when the connection to a device drops mid-run, reconnect, re-attach from the
// samples already held and receive the rest (the device's daemon measured on meanwhile). The CLI
// drives it over vscode-jsonrpc; the extension over its LanguageClient.
import { WorkDoneProgress, type WorkDoneProgressBegin, type WorkDoneProgressEnd, type WorkDoneProgressReport } from 'vscode-languageserver-protocol';
import { ErrorCodes } from 'vscode-jsonrpc';
import type { CancellationToken, Disposable, NotificationHandler, NotificationType, ProgressType, RequestType } from 'vscode-jsonrpc';
import { NotificationFanout, type NotificationSource } from './notificationFanout';
import {
  AttachRunRequest,
  CancelRunRequest,
  RunPreparedNotification,
  RunRequest,
  SamplesNotification,
  TelemetryLiveNotification,
  type PreparedRun,
  type RunFile,
  type RunSpec,
  type SamplesBatch,
  type TelemetryLiveBatch,
} from '../../contract/protocol';
import { newRunId } from '../../contract/runId';
import { StreamedSamples } from '../../contract/streamedSamples';

export { StreamedSamples };

/** What the core needs of a connection. `follow` lets many followers of one notification method
 * coexist (a NotificationFanout); a raw MessageConnection has no `follow`, so it cannot be passed
 * by mistake: wrap it with agentRpc(), once per connection. */
export interface AgentRpc {
  sendRequest<P, R, E>(type: RequestType<P, R, E>, params: P, token?: CancellationToken): Promise<R>;
  follow<P>(type: NotificationType<P>, handler: NotificationHandler<P>): Disposable;
  onProgress<P>(type: ProgressType<P>, token: string | number, handler: NotificationHandler<P>): Disposable;
  /** How many followers a notification method has now. */
  followerCount(method: string): number;
}

/** A connection as vscode-jsonrpc's MessageConnection gives it (only the typed overloads: its full
 * overload set differs from LanguageClient's, so a Pick of one does not admit the other). */
export interface RawAgentConnection extends NotificationSource {
  sendRequest<P, R, E>(type: RequestType<P, R, E>, params: P, token?: CancellationToken): Promise<R>;
  onProgress<P>(type: ProgressType<P>, token: string | number, handler: NotificationHandler<P>): Disposable;
}

/** The connection as the client core's AgentRpc; call once per connection and keep the result. */
export function agentRpc(connection: RawAgentConnection): AgentRpc & Disposable {
  const fanout = new NotificationFanout(connection);
  return {
    sendRequest: (type, params, token) => connection.sendRequest(type, params, token),
    follow: (type, handler) => fanout.follow(type, handler),
    onProgress: (type, token, handler) => connection.onProgress(type, token, handler),
    followerCount: (method) => fanout.followerCount(method),
    dispose: () => fanout.dispose(),
  };
}

export interface RunObserver {
  onSamples?(batch: SamplesBatch): void;
  /** Telemetry readings of the run while it goes (agents of 0.1.0 before live telemetry send none). */
  onTelemetry?(batch: TelemetryLiveBatch): void;
  onProgress?(message: string, percentage: number | undefined): void;
  /** The connection dropped; reconnect attempt `attempt` (1, 2, ...) follows. */
  onConnectionLost?(attempt: number, error: unknown): void;
  /** Re-attached to the run after a drop; the rest of the samples follow from these offsets. */
  onReattached?(offsets: { warmup: number; measure: number }): void;
}

/** A connection that can be replaced by a new one to the same agent (an SSH device's daemon). */
export interface ResumableAgent {
  rpc: AgentRpc;
  /** Resolves when this connection is lost. */
  lost: Promise<unknown>;
  /** A new connection to the same agent; throws when it cannot be had (yet). */
  reconnect(): Promise<ResumableAgent>;
}

export interface RunOnAgentOptions {
  runId?: string;
  token?: CancellationToken;
  observer?: RunObserver;
  /** How long to keep trying to reconnect after a drop (default 120 s). */
  reconnectWindowMs?: number;
  /** With a plain AgentRpc: resolves, with how, when the agent's transport ends. vscode-jsonrpc
   * leaves a request pending for ever when its stream closes, so without this a dead agent would
   * leave the run awaited by nobody and the process would exit as if it had succeeded. */
  agentEnded?: Promise<string>;
}

/** The agent (or its transport) ended before answering the run; the samples that had arrived
 * are in `streamed`. */
export class AgentEndedError extends Error {
  override name = 'AgentEndedError';
  constructor(
    readonly how: string,
    readonly streamed: StreamedSamples,
    /** The run's head, when the run had started measuring: with it the client can keep a failed
     * run with the samples received (failedRun). */
    readonly prepared: PreparedRun | null = null,
  ) {
    super(
      `the agent ${how} before the run ended; ${streamed.warmupMs.length} warm-up and ${streamed.latencyMs.length} measured samples had arrived`,
    );
  }
}

/** How long a run whose connection was disposed waits to hear how its agent ended. */
const AGENT_END_GRACE_MS = 3000;

/** A rejection that says the connection went away, not an answer of the agent. */
function connectionGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === ErrorCodes.PendingResponseRejected || code === ErrorCodes.ConnectionInactive;
}

function isResumable(target: AgentRpc | ResumableAgent): target is ResumableAgent {
  return 'reconnect' in target && 'lost' in target;
}

const RECONNECT_WINDOW_MS = 120_000;
const RECONNECT_BACKOFF_MS = [250, 500, 1000, 2000, 4000];

/** Runs a spec on the agent; with a ResumableAgent a dropped connection is survived. */
export async function runOnAgent(
  target: AgentRpc | ResumableAgent,
  spec: RunSpec,
  opts: RunOnAgentOptions,
): Promise<{ run: RunFile; streamed: StreamedSamples }> {
  const runId = opts.runId ?? newRunId(spec);
  const streamed = new StreamedSamples();
  let prepared: PreparedRun | null = null;
  const follow = (rpc: AgentRpc): Disposable[] => [
    rpc.follow(RunPreparedNotification, (p) => {
      if (p.runId === runId) prepared = p.prepared;
    }),
    rpc.follow(SamplesNotification, (batch) => {
      if (batch.runId !== runId) return;
      streamed.add(batch);
      opts.observer?.onSamples?.(batch);
    }),
    rpc.follow(TelemetryLiveNotification, (batch) => {
      if (batch.runId === runId) opts.observer?.onTelemetry?.(batch);
    }),
    rpc.onProgress(WorkDoneProgress.type, runId, (value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => {
      if (value.kind === 'end') return;
      opts.observer?.onProgress?.(value.message ?? '', value.percentage);
    }),
  ];
  let rpc = isResumable(target) ? target.rpc : target;
  let subscriptions = follow(rpc);
  let pending: Promise<RunFile> = rpc.sendRequest(RunRequest, { spec, runId, workDoneToken: runId }, opts.token);
  try {
    if (!isResumable(target)) {
      if (!opts.agentEnded) return { run: await pending, streamed };
      const ended = opts.agentEnded.then((how) => ({ how }));
      let outcome = await Promise.race([pending.then((run) => ({ run }), (error: unknown) => ({ error })), ended]);
      if ('run' in outcome) return { run: outcome.run, streamed };
      if ('error' in outcome) {
        // A request on a connection that went away is rejected as the connection is disposed,
        // often before the agent's process has reported how it ended: wait a moment for that.
        if (!connectionGone(outcome.error)) throw outcome.error;
        const how = await Promise.race([opts.agentEnded, new Promise<null>((r) => setTimeout(() => r(null), AGENT_END_GRACE_MS).unref?.())]);
        if (how === null) throw outcome.error;
        outcome = { how };
      }
      pending.catch(() => undefined);
      throw new AgentEndedError(outcome.how, streamed, prepared);
    }
    let agent = target;
    for (;;) {
      const outcome = await Promise.race([pending.then((run) => ({ run })), agent.lost.then((error) => ({ lost: error }))]);
      if ('run' in outcome) return { run: outcome.run, streamed };
      // The request may still settle on the dead connection; nobody waits for it any more.
      pending.catch(() => undefined);
      subscriptions.forEach((d) => d.dispose());
      agent = await reconnect(agent, outcome.lost, opts);
      rpc = agent.rpc;
      subscriptions = follow(rpc);
      const cancel = opts.token?.onCancellationRequested(() => void rpc.sendRequest(CancelRunRequest, { runId }).catch(() => undefined));
      if (cancel) subscriptions.push(cancel);
      // Contiguous samples held: everything from here on comes again, nothing twice.
      const offsets = { warmup: streamed.warmupMs.length, measure: streamed.latencyMs.length };
      opts.observer?.onReattached?.(offsets);
      pending = rpc.sendRequest(AttachRunRequest, { runId, warmupOffset: offsets.warmup, measureOffset: offsets.measure, workDoneToken: runId });
      if (opts.token?.isCancellationRequested) void rpc.sendRequest(CancelRunRequest, { runId }).catch(() => undefined);
    }
  } finally {
    subscriptions.forEach((s) => s.dispose());
  }
}

/** New connections until one works or the window closes; backs off between attempts. */
async function reconnect(agent: ResumableAgent, error: unknown, opts: RunOnAgentOptions): Promise<ResumableAgent> {
  const deadline = Date.now() + (opts.reconnectWindowMs ?? RECONNECT_WINDOW_MS);
  let lastError: unknown = error;
  for (let attempt = 1; ; attempt++) {
    opts.observer?.onConnectionLost?.(attempt, lastError);
    try {
      return await agent.reconnect();
    } catch (e) {
      lastError = e;
    }
    const waitMs = RECONNECT_BACKOFF_MS[Math.min(attempt - 1, RECONNECT_BACKOFF_MS.length - 1)]!;
    if (Date.now() + waitMs > deadline) {
      const why = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(`the connection to the device was lost and could not be re-established (${attempt} attempts: ${why}); the run goes on on the device: fetch it later with jetbench runs / jetbench fetch`);
    }
    await new Promise((r) => setTimeout(r, waitMs));
  }
}
