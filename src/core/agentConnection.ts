// JSON-RPC (LSP framing, vscode-jsonrpc) over any AgentStreams, with the `initialize` handshake and
// the protocol version check; and `connectDeviceAgent`, the one entry point from a device name to a
// connected agent (local child process, or an SSH device's daemon, deployed on the way).
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  PROTOCOL_VERSION,
  StopDaemonRequest,
  type JetbenchInitializationOptions,
  type JetbenchInitializeResult,
} from '../../contract/protocol';
import type { DeployResult } from './deploy';
import { describeDevice, resolveDevice, type DeviceSources, type ResolvedDevice, type SshDevice } from './devices';
import { agentRpc, type AgentRpc, type ResumableAgent } from './runClient';
import type { SshConnectOptions, SshHooks } from './sshSession';
import { localAgentPath } from './deploy';
import { checkAgentProtocol, ProtocolMismatchError } from './protocolCheck';
import { openLocalAgent, openSshAgent, toleratingWriter, type AgentStreams, type SshAgentStreams } from './transport';
import { stopPartialMessageTimer } from '../../contract/jsonrpcReader';

export { localAgentPath } from './deploy';

export interface AgentConnection {
  connection: MessageConnection;
  /** The connection for the client core (runOnAgent) and for following notifications: many
   * followers of one method coexist here, never on `connection` itself. */
  rpc: AgentRpc;
  agent: JetbenchInitializeResult;
  streams: AgentStreams;
  /** Resolves when the transport has ended (the agent exited, or the connection dropped). */
  closed: Promise<void>;
  /** Resolves with how the agent's transport ended, in words (see AgentStreams.ended). */
  ended: Promise<string>;
  /** Ends the session politely, then closes the transport (a device's daemon keeps running). */
  dispose(): Promise<void>;
}

/** Speaks JSON-RPC over the streams and performs the `initialize` handshake. */
export async function connectAgent(streams: AgentStreams, opts: { client: string; acceptOtherProtocol?: boolean }): Promise<AgentConnection> {
  const reader = new StreamMessageReader(streams.reader);
  void streams.closed.then(() => stopPartialMessageTimer(reader));
  const connection = createMessageConnection(reader, new StreamMessageWriter(toleratingWriter(streams.writer)));
  connection.listen();
  const initializationOptions: JetbenchInitializationOptions = { protocolVersion: PROTOCOL_VERSION, client: opts.client };
  let agent: JetbenchInitializeResult;
  try {
    const result: unknown = await Promise.race([
      connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions }),
      streams.closed.then(() => {
        throw new Error(`the jetbench agent (${streams.describe}) ended during start-up`);
      }),
    ]);
    agent = checkAgentProtocol(result, { agent: `the agent (${streams.describe})`, fix: 'rebuild or redeploy the agent', acceptOtherVersion: opts.acceptOtherProtocol ?? false });
  } catch (e) {
    connection.dispose();
    await streams.close();
    throw e;
  }
  const initialized = connection.sendNotification('initialized', {}).catch(() => undefined);
  const daemon = agent.mode === 'daemon';
  let disposed: Promise<void> | null = null;
  const rpc = agentRpc(connection);
  return {
    connection,
    rpc,
    agent,
    streams,
    closed: streams.closed,
    ended: streams.ended ?? streams.closed.then(() => `closed the connection (${streams.describe})`),
    dispose: () => (disposed ??= (async () => {
      // Writes are queued: let the last one out before the stream ends.
      await initialized;
      // A daemon serves others too: leaving is closing our channel. A stdio agent is ours: end it.
      if (!daemon) {
        try {
          await Promise.race([connection.sendRequest('shutdown'), streams.closed, new Promise((r) => setTimeout(r, 1000))]);
          await connection.sendNotification('exit');
        } catch {
          /* already gone */
        }
      }
      rpc.dispose();
      connection.dispose();
      await streams.close();
    })()),
  };
}

/** The local agent as a child process, connected (the CLI's and the extension's local device). */
export async function startLocalAgent(opts: { client: string; agentPath?: string; stderr?: (text: string) => void }): Promise<AgentConnection & { exited: Promise<number | null> }> {
  const streams = openLocalAgent({ agentPath: opts.agentPath ?? localAgentPath(), ...(opts.stderr ? { stderr: opts.stderr } : {}) });
  const exited = streams.exitCode;
  try {
    return { ...(await connectAgent(streams, { client: opts.client })), exited };
  } catch (e) {
    if (e instanceof Error && /ended during start-up/.test(e.message)) {
      throw new Error(`the jetbench agent exited during start-up (exit code ${await exited})`, { cause: e });
    }
    throw e;
  }
}

export interface ConnectDeviceOptions extends DeviceSources {
  /** The client's name, shown in the device's queue. */
  client: string;
  hooks: SshHooks;
  ssh?: SshConnectOptions;
  /** The local agent's stderr. */
  stderr?: (text: string) => void;
}

/** A connected device; `reconnect` makes a new connection to the same agent (runClient's resume). */
export interface DeviceConnection extends AgentConnection {
  device: ResolvedDevice;
  /** What deploying found or did (SSH devices). */
  deploy: DeployResult | null;
  reconnect(): Promise<DeviceConnection>;
  /** The same connection as runClient's ResumableAgent. */
  resumable(): ResumableAgent;
}

/** A second channel on the session of `owner`, which hands the session over: closing the new
 * transport closes the session, closing the old one only its channel. */
async function takeOverSession(owner: SshAgentStreams, device: SshDevice, hooks: SshHooks): Promise<SshAgentStreams> {
  const next = await openSshAgent(device, hooks, { session: owner.session, deployed: owner.deploy });
  const close = next.close;
  next.close = async () => {
    await close();
    owner.session.close();
  };
  return next;
}

/** Initialises over SSH. An agent running from another deploy (an older bundle, or another
 * protocol version) is asked to stop when idle and replaced by this deploy's; a busy one of the
 * same protocol is used as it is. */
async function connectSsh(device: SshDevice, opts: ConnectDeviceOptions): Promise<AgentConnection & { streams: SshAgentStreams }> {
  const first = await openSshAgent(device, opts.hooks, opts.ssh ? { ssh: opts.ssh } : {});
  const conn = await connectAgent(first, { client: opts.client, acceptOtherProtocol: true });
  const sameProtocol = conn.agent.protocolVersion === PROTOCOL_VERSION;
  if (sameProtocol && conn.agent.agentDir === first.deploy.agentDir) return conn as AgentConnection & { streams: SshAgentStreams };
  // StopDaemonRequest is part of every protocol from 2 on, so any daemon understands it.
  const stop = await Promise.race([
    conn.connection.sendRequest(StopDaemonRequest).catch((e: Error) => ({ stopping: false, reason: e.message })),
    conn.closed.then(() => ({ stopping: true, reason: null })),
  ]);
  if (!stop.stopping) {
    if (!sameProtocol) {
      await conn.dispose();
      throw new ProtocolMismatchError(
        `the agent on ${describeDevice(device)} speaks protocol ${conn.agent.protocolVersion}, this jetbench ${PROTOCOL_VERSION}, and it cannot be replaced now (${stop.reason}): wait until its jobs end, or stop it (the pid in ${first.deploy.agentHome}/agent.lock)`,
      );
    }
    opts.hooks.log?.(`the agent on ${describeDevice(device)} runs from ${conn.agent.agentDir}, not the deployed ${first.deploy.agentDir}, and is busy (${stop.reason}); using it`);
    return conn as AgentConnection & { streams: SshAgentStreams };
  }
  opts.hooks.progress?.('replacing the agent of another deploy');
  await conn.closed;
  conn.connection.dispose();
  return (await connectAgent(await takeOverSession(first, device, opts.hooks), { client: opts.client })) as AgentConnection & { streams: SshAgentStreams };
}

/** Opens the transport to a device's agent, ready for a client that performs its own
 * `initialize` (the extension's LanguageClient): the local child process, or a fresh channel to
 * the SSH device's daemon after deploying and checking it as connectDeviceAgent does. */
export async function openDeviceStreams(device: ResolvedDevice, opts: Omit<ConnectDeviceOptions, keyof DeviceSources>): Promise<AgentStreams> {
  if (device.kind === 'local') return openLocalAgent(opts.stderr ? { stderr: opts.stderr } : {});
  const checked = await connectSsh(device, { ...opts, cwd: process.cwd() });
  const fresh = await takeOverSession(checked.streams, device, opts.hooks);
  // The checking connection leaves; its channel closes, the session stays with `fresh`.
  checked.connection.dispose();
  checked.streams.endChannel();
  return fresh;
}

/** From `--device` text (or a resolved device) to a connected agent. */
export async function connectDeviceAgent(device: string | ResolvedDevice, opts: ConnectDeviceOptions): Promise<DeviceConnection> {
  const resolved = typeof device === 'string' ? resolveDevice(device, opts) : device;
  let base: AgentConnection;
  let deploy: DeployResult | null = null;
  if (resolved.kind === 'local') {
    base = await startLocalAgent({ client: opts.client, ...(opts.stderr ? { stderr: opts.stderr } : {}) });
  } else {
    const conn = await connectSsh(resolved, opts);
    deploy = conn.streams.deploy;
    base = conn;
  }
  // A reconnect's connection is this one's successor: disposing this disposes it too, so the
  // caller that connected keeps one thing to dispose whatever happened in between.
  let successor: DeviceConnection | null = null;
  const self: DeviceConnection = {
    ...base,
    device: resolved,
    deploy,
    reconnect: async () => {
      await base.dispose().catch(() => undefined);
      successor = await connectDeviceAgent(resolved, opts);
      return successor;
    },
    resumable: () => asResumable(self),
    dispose: async () => {
      await base.dispose();
      await successor?.dispose();
    },
  };
  return self;
}

function asResumable(conn: DeviceConnection): ResumableAgent {
  return {
    rpc: conn.rpc,
    lost: conn.closed,
    reconnect: async () => asResumable(await conn.reconnect()),
  };
}
