// One device's agent as a vscode-languageclient LanguageClient over the device's streams: the
// protocol check at start, the restart policy when the agent dies, what the device said about
// itself, and runs through the one client core (runOnAgent). Everything registered for one
// connection lives in that connection's scope and goes with it.
//
// Its own bundle (dist/agentClient.js), loaded when the first device connects: the language client
// and JSON-RPC are most of the extension's code, and loading them would triple its activation
// time. Everything that touches JSON-RPC objects lives on this side, so none crosses between the
// two bundles' copies: the extension side passes plain data, VS Code objects and callbacks.
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  ResponseError,
  State,
  type LanguageClientOptions,
  type NotificationHandler,
  type ProgressType,
  type MessageTransports,
} from 'vscode-languageclient/node';
import {
  AgentErrorCode,
  AgentErrorNotification,
  DeviceInfoRequest,
  TelemetryNowRequest,
  type TelemetryNow,
  ListBackendsRequest,
  PROTOCOL_VERSION,
  type BackendStatus,
  type DeviceInfo,
  type JetbenchInitializationOptions,
  type JetbenchInitializeResult,
  type RunFile,
  type RunSpec,
} from '../../contract/protocol';
import { checkAgentProtocol } from '../core/protocolCheck';
import { AgentEndedError, agentRpc, runOnAgent, type AgentRpc, type ResumableAgent, type RunObserver } from '../core/runClient';
import type { AgentStreams } from '../core/transport';
import { guardAgentStreams } from './agentGuard';
import { failedRun } from '../../contract/failedRun';
import { QuietLanguageClient } from './quietLanguageClient';
import { RestartPolicy, type RestartLimits } from './restartPolicy';
import { showError } from '../vscode/notify';

// What the extension bundle reaches through this one (ssh2 and the deploy code load with it).
export { openDeviceStreams } from '../core/agentConnection';
export { connectAndDeploy, deploySummary } from '../core/deploy';

/** A failed run, classified here where the JSON-RPC classes are: `fromAgent` when the agent
 * answered with an error (bad model, backend unavailable), false when the request died with the
 * connection. */
export class RunRequestError extends Error {
  override name = 'RunRequestError';
  constructor(
    message: string,
    readonly fromAgent: boolean,
  ) {
    super(message);
  }
}

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'failed';

export interface AgentClientOptions {
  /** The device's name, for messages and the client's name. */
  device: string;
  openStreams: () => Promise<AgentStreams>;
  output: vscode.OutputChannel;
  /** The restart settings, read each time the device connects (so a changed setting applies at
   * the next connection, not only after a reload). */
  restartLimits(): RestartLimits;
  /** The agent outlives a connection (an SSH device's daemon): a run survives a drop, and after
   * the automatic reconnect the client re-attaches to it. */
  resumable?: boolean;
}

export class AgentClient implements vscode.Disposable {
  private client: LanguageClient | null = null;
  /** Disposed when this connection ends (user disconnect, give-up); an automatic restart keeps it:
   * LanguageClient re-registers its handlers on the new connection itself. */
  private connectionScope: vscode.Disposable[] = [];
  private streams: AgentStreams | null = null;
  /** The restart policy of this connection, made from the settings when it started. */
  private policy: RestartPolicy;
  private pendingDelayMs = 0;
  private starting: Promise<void> | null = null;
  /** An automatic restart is under way: the next Running state is a new agent to check. */
  private restarting = false;

  state: ConnectionState = 'disconnected';
  agent: JetbenchInitializeResult | null = null;
  info: DeviceInfo | null = null;
  backends: BackendStatus[] | null = null;
  lastError: string | null = null;

  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly lost = new vscode.EventEmitter<string>();
  /** The connection dropped unexpectedly (the agent died, the link broke); a restart may follow. */
  readonly onDidLoseConnection = this.lost.event;

  constructor(private readonly opts: AgentClientOptions) {
    this.policy = RestartPolicy.from(opts.restartLimits());
  }

  /** One reading of the device's sensors now (the Devices view's live status). */
  telemetryNow(): Promise<TelemetryNow> {
    return this.rpc.sendRequest(TelemetryNowRequest, {});
  }

  /** The connection for the client core (runOnAgent) and requests; throws when not connected.
   * One object per LanguageClient: notifications reach their followers through its one fan-out,
   * so a run's followers leave with the run. */
  get rpc(): AgentRpc {
    if (!this.client || !this.connectionRpc || this.state !== 'connected') throw new Error(`device '${this.opts.device}' is not connected`);
    return this.connectionRpc;
  }

  /** The rpc of the current LanguageClient (kept across its automatic restarts: LanguageClient
   * moves its handlers to each new connection itself). */
  private connectionRpc: AgentRpc | null = null;

  /** How many followers a notification method has on this connection (0 when not connected). */
  followerCount(method: string): number {
    return this.connectionRpc?.followerCount(method) ?? 0;
  }

  private rpcFor(client: LanguageClient): AgentRpc {
    const rpc = agentRpc({
      sendRequest: (type, params, token) => client.sendRequest(type, params, token),
      onNotification: (type, handler) => client.onNotification(type, handler),
      onProgress: (type, token, handler) => this.followProgress(client, type, token, handler),
    });
    this.connectionScope.push(rpc);
    return rpc;
  }

  /** One LanguageClient progress handler per token for the life of a run: LanguageClient moves
   * its handlers to the new connection after a restart, so a handler disposed and registered again
   * across a reconnect would be registered twice there. A follower replaces the handler; run()
   * removes the token's registration when the run ends. */
  private readonly progress = new Map<string | number, { handler: NotificationHandler<unknown> | null; registration: vscode.Disposable }>();

  private followProgress<P>(client: LanguageClient, type: ProgressType<P>, token: string | number, handler: NotificationHandler<P>): vscode.Disposable {
    let entry = this.progress.get(token);
    if (!entry) {
      const created: { handler: NotificationHandler<unknown> | null; registration: vscode.Disposable } = { handler: null, registration: new vscode.Disposable(() => undefined) };
      created.registration = client.onProgress(type, token, (value) => created.handler?.(value));
      entry = created;
      this.progress.set(token, entry);
    }
    const current = entry;
    const h = handler as NotificationHandler<unknown>;
    current.handler = h;
    return new vscode.Disposable(() => {
      if (current.handler === h) current.handler = null;
    });
  }

  private endProgress(token: string | number): void {
    this.progress.get(token)?.registration.dispose();
    this.progress.delete(token);
  }

  /** Connects (or waits for a connection under way); resolves once the agent answered. */
  connect(): Promise<void> {
    if (this.state === 'connected' && this.client) return Promise.resolve();
    this.starting ??= this.start().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private setState(state: ConnectionState, error: string | null = null): void {
    this.state = state;
    this.lastError = error;
    this.changed.fire();
  }

  private async start(): Promise<void> {
    this.policy = RestartPolicy.from(this.opts.restartLimits());
    this.setState('connecting');
    const output = this.opts.output;
    const initializationOptions: JetbenchInitializationOptions = { protocolVersion: PROTOCOL_VERSION, client: 'jetbench-vscode' };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: output,
      traceOutputChannel: output,
      initializationOptions,
      errorHandler: {
        error: (error, _message, count) => {
          output.appendLine(`[${this.opts.device}] connection error: ${error.message}`);
          return { action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
        },
        closed: () => this.onClosed(),
      },
    };
    const serverOptions = async (): Promise<MessageTransports> => {
      if (this.pendingDelayMs > 0) {
        // The back-off of the restart policy: a crash loop must not spin.
        const delay = this.pendingDelayMs;
        this.pendingDelayMs = 0;
        await new Promise((r) => setTimeout(r, delay));
      }
      const previous = this.streams;
      this.streams = null;
      await previous?.close();
      const streams = await this.opts.openStreams();
      this.streams = streams;
      output.appendLine(`[${this.opts.device}] connected to ${streams.describe}`);
      // The agent's side of the connection is untrusted: only jetbench's protocol passes (agentGuard.ts).
      return guardAgentStreams(streams, (line) => output.appendLine(`[${this.opts.device}] ${line}`));
    };
    const client = new QuietLanguageClient('jetbench', `Jetbench agent (${this.opts.device})`, serverOptions, clientOptions);
    // A failed first start is reported once, clearly, by whoever called connect(); later failures
    // (an automatic restart's) keep the library's notification, as nobody else reports them.
    let firstStart = true;
    client.quietErrors = () => firstStart;
    this.client = client;
    this.connectionRpc = this.rpcFor(client);
    this.connectionRpc.follow(AgentErrorNotification, (e) => {
      output.appendLine(`[${this.opts.device}] agent error: ${e.message}${e.stack ? `\n${e.stack}` : ''}`);
    });
    this.connectionScope.push(
      client.onDidChangeState((e) => {
        // After an automatic restart the agent is new: check it and describe it again.
        if (e.newState === State.Running && this.restarting) {
          this.restarting = false;
          void this.afterStart(client).catch((err: unknown) => this.setState('failed', (err as Error).message));
        }
      }),
    );
    try {
      await client.start().finally(() => {
        firstStart = false;
      });
      await this.afterStart(client);
    } catch (e) {
      const message = (e as Error).message;
      await this.teardown();
      this.setState('failed', message);
      throw e;
    }
  }

  /** Checks the protocol version and fetches what the device says about itself. */
  private async afterStart(client: LanguageClient): Promise<void> {
    const init = checkAgentProtocol(client.initializeResult, {
      agent: `the agent on '${this.opts.device}'`,
      fix: this.opts.device === 'local' ? 'rebuild the extension (npm run build)' : 'deploy the agent again (Jetbench: Deploy Agent)',
    });
    this.agent = init;
    this.state = 'connected';
    const [info, backends] = await Promise.all([client.sendRequest(DeviceInfoRequest), client.sendRequest(ListBackendsRequest)]);
    this.info = info;
    this.backends = backends.backends;
    this.setState('connected');
  }

  private onClosed(): { action: CloseAction; handled: boolean } {
    const decision = this.policy.closed(Date.now());
    const why = `the agent on '${this.opts.device}' stopped`;
    this.lost.fire(why);
    this.agent = null;
    if (decision.restart) {
      this.pendingDelayMs = decision.delayMs;
      this.restarting = true;
      this.opts.output.appendLine(`[${this.opts.device}] ${why}; restarting it${decision.delayMs > 0 ? ` in ${decision.delayMs} ms` : ''} (${decision.recentClosures} of at most ${this.policy.limits.maxRestarts} restarts)`);
      this.setState('connecting', why);
      return { action: CloseAction.Restart, handled: true };
    }
    const message = `The jetbench agent on '${this.opts.device}' stopped ${decision.recentClosures} times within ${Math.round(this.policy.limits.restartWindowMs / 1000)} s and will not be restarted. See the Jetbench output, then connect again.`;
    this.opts.output.appendLine(`[${this.opts.device}] ${message}`);
    this.setState('failed', message);
    void showError(message, 'Show Log', 'Connect').then((pick) => {
      if (pick === 'Show Log') this.opts.output.show(true);
      if (pick === 'Connect') void vscode.commands.executeCommand('jetbench.connectDevice', this.opts.device);
    });
    void this.teardown();
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private async teardown(): Promise<void> {
    const client = this.client;
    const streams = this.streams;
    this.client = null;
    this.connectionRpc = null;
    this.streams = null;
    this.agent = null;
    this.connectionScope.forEach((d) => d.dispose());
    this.connectionScope = [];
    this.progress.forEach((e) => e.registration.dispose());
    this.progress.clear();
    if (client) {
      // stop() sends shutdown/exit to a live agent; on a dead one it only cleans up.
      await client.stop(2000).catch(() => undefined);
      await client.dispose().catch(() => undefined);
    }
    await streams?.close();
  }

  /** Ends the connection on purpose (no restart). */
  async disconnect(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.teardown();
    this.info = this.state === 'failed' ? this.info : null;
    this.setState('disconnected');
  }

  /** Runs a spec through the client core; throws RunRequestError. `token` may be VS Code's. */
  async run(spec: RunSpec, opts: { runId: string; token: vscode.CancellationToken; observer: RunObserver; reconnectWindowMs?: number }): Promise<RunFile> {
    const scope: vscode.Disposable[] = [];
    // A local agent's run dies with its process: hear how it ended, so that what was measured is
    // kept as a failed run saying so (the CLI does the same, measureOnDevice.ts).
    const streams = this.streams;
    const agentEnded = this.opts.resumable || !streams ? undefined : (streams.ended ?? streams.closed.then(() => `closed the connection (${streams.describe})`));
    try {
      return (await runOnAgent(this.opts.resumable ? this.resumable(scope) : this.rpc, spec, { ...opts, agentEnded })).run;
    } catch (e) {
      if (e instanceof AgentEndedError && e.prepared) return failedRun(e.prepared, e.streamed, e.message);
      const fromAgent = e instanceof ResponseError && (Object.values(AgentErrorCode) as number[]).includes(e.code);
      throw new RunRequestError(e instanceof Error ? e.message : String(e), fromAgent);
    } finally {
      scope.forEach((d) => d.dispose());
      this.endProgress(opts.runId);
    }
  }

  /** This connection as the client core's ResumableAgent: `lost` when it drops, `reconnect` once
   * the automatic restart has connected again (a new channel to the same daemon). */
  private resumable(scope: vscode.Disposable[]): ResumableAgent {
    const rpc = this.rpc;
    const lost = new Promise<unknown>((resolve) => {
      scope.push(this.lost.event((why) => resolve(new Error(why))));
    });
    return { rpc, lost, reconnect: async () => (await this.whenConnected(), this.resumable(scope)) };
  }

  /** Resolves when connected; rejects when the client gave up or was disconnected. */
  private whenConnected(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.state === 'connected' && this.client) resolve();
        else if (this.state === 'failed' || this.state === 'disconnected') reject(new Error(this.lastError ?? `device '${this.opts.device}' is not connected`));
        else return false;
        return true;
      };
      if (check()) return;
      const sub = this.changed.event(() => {
        if (check()) sub.dispose();
      });
    });
  }

  /** The agent's process id (local device), for messages and tests. */
  get agentPid(): number | null {
    return this.agent?.pid ?? null;
  }

  dispose(): void {
    void this.teardown();
    this.changed.dispose();
    this.lost.dispose();
  }
}
