// A byte stream to an agent, whatever carries it: the local agent's stdio (a child process), or an
// SSH channel to the device's agent daemon (OpenSSH direct-streamlocal forwarding to its unix
// socket, falling back to `exec` of the agent's stdio bridge). LSP framing and JSON-RPC go on top:
// vscode-jsonrpc in the CLI (agentConnection.ts), vscode-languageclient in the extension (its
// ServerOptions can return these streams as a StreamInfo).
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { deployAgent, localAgentPath, type DeployOptions, type DeployResult } from './deploy';
import type { SshDevice } from './devices';
import { shellCommand } from './sshQuote';
import { SshError, SshSession, type SshConnectOptions, type SshHooks } from './sshSession';

export interface AgentStreams {
  /** Bytes from the agent. */
  reader: NodeJS.ReadableStream;
  /** Bytes to the agent. */
  writer: NodeJS.WritableStream;
  /** Ends this transport (a local agent then exits; a device's daemon keeps running). */
  close(): Promise<void>;
  /** Resolves when the transport has ended, from either side. */
  closed: Promise<void>;
  /** In words, for messages: "local agent (pid 123)", "user@host via ssh (forwarded socket)". */
  describe: string;
  /** Resolves with how the transport ended, in words ("exited with code 134", "was killed by
   * SIGKILL", "the SSH channel closed"), when it ends; without it, only that it ended is known. */
  ended?: Promise<string>;
}

export interface LocalAgentOptions {
  agentPath?: string;
  stderr?: (text: string) => void;
}

/**
 * The agent's input as the JSON-RPC writer sees it: once the agent is gone (its stdin or channel
 * destroyed or ended), a write completes without an error and the data goes nowhere.
 * vscode-jsonrpc's sendRequest rethrows a failed write from inside an async Promise executor,
 * where no caller can catch it: an unhandled rejection that kills the client with a raw
 * ERR_STREAM_DESTROYED stack (seen in CI: the kill -9 test's CLI died writing to the killed agent).
 * How the agent ended is reported through the transport's `ended`; a request it never answered is
 * rejected when the connection is disposed.
 */
export function toleratingWriter(target: NodeJS.WritableStream): Writable {
  const t = target as Writable;
  const gone = () => t.destroyed === true || t.writableEnded === true;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (gone()) return callback();
      try {
        t.write(chunk, () => callback());
      } catch {
        callback();
      }
    },
    final(callback) {
      if (!gone()) t.end();
      callback();
    },
  });
}

/** Starts the local agent (`node agent.js stdio`) as a child process. */
export function openLocalAgent(opts: LocalAgentOptions = {}): AgentStreams & { child: ChildProcess; exitCode: Promise<number | null> } {
  // Inside VS Code process.execPath is Electron: ELECTRON_RUN_AS_NODE makes it a plain Node.
  // --no-deprecation: protobufjs 6 (under onnx-proto) calls Buffer(), and its warning would
  // reach the user's terminal through the agent's stderr on every model generation.
  const child = spawn(process.execPath, ['--no-deprecation', opts.agentPath ?? localAgentPath(), 'stdio'], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches the client, which cancels the job
    // through the protocol, instead of killing the agent (and its helpers) mid-run. When the
    // client goes, the agent's stdin closes and it exits.
    detached: true,
  });
  let endedHow = 'could not be started';
  const exitCode = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      endedHow = signal ? `was killed by ${signal}${signal === 'SIGKILL' ? ' (kill -9, or the kernel\'s out-of-memory killer)' : ''}` : `exited with code ${code}`;
      resolve(code);
    });
    child.on('error', (e) => {
      endedHow = `could not be started (${e.message})`;
      resolve(null);
    });
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => opts.stderr?.(text));
  // A message written as the agent dies (ERR_STREAM_DESTROYED, EPIPE) is reported through how the
  // agent ended (the exit above), not as an unhandled 'error' event that crashes the client with a
  // raw stack (seen once in CI: the kill -9 test's CLI died writing to the killed agent).
  child.stdin!.on('error', () => undefined);
  return {
    reader: child.stdout!,
    writer: child.stdin!,
    child,
    exitCode,
    closed: exitCode.then(() => undefined),
    ended: exitCode.then(() => endedHow),
    describe: `local agent (pid ${child.pid})`,
    close: async () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exitCode;
      clearTimeout(timer);
    },
  };
}

/** How the SSH transport reached the daemon. */
export type SshVia = 'forwarded socket' | 'exec bridge';

export interface SshAgentStreams extends AgentStreams {
  session: SshSession;
  deploy: DeployResult;
  via: SshVia;
  /** Closes this channel only, whoever owns the session. */
  endChannel(): void;
}

export interface SshAgentOptions {
  ssh?: SshConnectOptions;
  deploy?: DeployOptions;
  /** Reuse a connected session (and a deploy result from it) instead of connecting and deploying. */
  session?: SshSession;
  deployed?: DeployResult;
}

function channelStreams(channel: ClientChannel, session: SshSession, closeSession: boolean, describe: string): AgentStreams {
  const closed = new Promise<void>((resolve) => {
    channel.on('close', () => resolve());
    // The agent's end of the socket closed (the daemon died): sshd sends EOF and waits for ours
    // before it closes the channel, so answer in kind; nothing more will come from the agent.
    channel.on('end', () => {
      channel.end();
      resolve();
    });
    void session.closed.then(() => resolve());
  });
  // A channel error (the connection dropped) surfaces as `closed`; it must not be unhandled.
  channel.on('error', () => undefined);
  // Once the channel is gone, a late write (a queued notification) is dropped rather than thrown
  // as 'write after end' into whoever hosts the client (the CLI, the extension host).
  const writer = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (channel.writableEnded || channel.destroyed) return callback();
      channel.write(chunk, callback);
    },
  });
  return {
    reader: channel,
    writer,
    closed,
    ended: closed.then(() => `closed its SSH channel (${describe})`),
    describe,
    close: async () => {
      channel.end();
      if (closeSession) session.close();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
    },
  };
}

/** The agent home options every remote agent command gets. */
function agentArgs(device: SshDevice, deployed: DeployResult): string[] {
  return ['--home', deployed.agentHome, '--idle-minutes', String(device.agentIdleMinutes)];
}

/** Starts the device's daemon unless it runs; returns its socket path. */
export async function ensureRemoteDaemon(session: SshSession, device: SshDevice, deployed: DeployResult): Promise<string> {
  const r = await session.exec(shellCommand([deployed.node.path, '--no-deprecation', deployed.agentScript, 'daemon', '--ensure', ...agentArgs(device, deployed)]));
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const status = JSON.parse(line) as { socket?: unknown };
    if (r.code === 0 && typeof status.socket === 'string') return status.socket;
  } catch {
    /* reported below */
  }
  throw new SshError('remote', `the agent daemon did not start on ${session.describe} (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-1000)}`);
}

/** Connects (unless given a session), deploys (a no-op when the bundle is there), makes sure the
 * daemon runs, and opens a channel to it. */
export async function openSshAgent(device: SshDevice, hooks: SshHooks, opts: SshAgentOptions = {}): Promise<SshAgentStreams> {
  const ownSession = !opts.session;
  const session = opts.session ?? (await SshSession.connect(device, hooks, opts.ssh));
  try {
    const deployed = opts.deployed ?? (await deployAgent(session, device, hooks, opts.deploy));
    let socket = `${deployed.agentHome}/agent.sock`;
    let channel: ClientChannel | null = await session.forwardStreamLocal(socket).catch(() => null);
    let via: SshVia = 'forwarded socket';
    if (!channel) {
      hooks.progress?.('starting the agent daemon');
      // The daemon says where its socket is: outside the home when the home's path is too long.
      socket = await ensureRemoteDaemon(session, device, deployed);
      channel = await session.forwardStreamLocal(socket).catch((e: Error) => {
        hooks.log?.(`ssh: stream-local forwarding to ${socket} failed (${e.message}); using the agent's stdio bridge`);
        return null;
      });
    }
    if (!channel) {
      via = 'exec bridge';
      channel = await session.execStream(shellCommand([deployed.node.path, '--no-deprecation', deployed.agentScript, 'attach', ...agentArgs(device, deployed)]));
    }
    const open = channel;
    const streams = channelStreams(open, session, ownSession, `${session.describe} via ssh (${via})`);
    return { ...streams, session, deploy: deployed, via, endChannel: () => void open.end() };
  } catch (e) {
    if (ownSession) session.close();
    throw e;
  }
}
