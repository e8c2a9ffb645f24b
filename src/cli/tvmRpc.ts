// TVM over RPC from the CLI: this machine compiles (cross-compiling for the device's CPU), the
// device measures. The device's own TVM RPC server is started by its agent on its loopback and
// reached through the SSH connection jetbench already holds: a local forward to the server, a
// remote forward from the device back to the tracker; no port is opened to the network.
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { TvmRpcServerStartRequest, TvmRpcServerStopRequest, type TvmCrossTarget, type TvmRpcTarget } from '../../contract/protocol';
import type { DeviceConnection } from '../core/agentConnection';
import { shellCommand } from '../core/sshQuote';
import type { SshSession } from '../core/sshSession';
import type { SshAgentStreams } from '../core/transport';
import { UsageError } from './args';

/** `--rpc`: `device` (jetbench runs a tracker here and the device's server), a tracker of yours
 * (`tracker:HOST:PORT:KEY`, the device's server joins it), or one server of yours (`HOST:PORT`). */
export type RpcFlag = { kind: 'device' } | TvmRpcTarget;

export function parseRpcFlag(text: string): RpcFlag {
  if (text === 'device') return { kind: 'device' };
  const port = (p: string | undefined): number => {
    if (p === undefined || !/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new UsageError(`--rpc '${text}': '${p ?? ''}' is not a port number (1-65535)`);
    return Number(p);
  };
  if (text.startsWith('tracker:')) {
    const parts = text.slice('tracker:'.length).split(':');
    if (parts.length !== 3 || !parts[0] || !parts[2]) throw new UsageError(`--rpc '${text}': a tracker is tracker:HOST:PORT:KEY, e.g. tracker:127.0.0.1:9190:orin`);
    return { kind: 'tracker', host: parts[0], port: port(parts[1]), key: parts[2] };
  }
  const parts = text.split(':');
  if (parts.length !== 2 || !parts[0]) throw new UsageError(`--rpc '${text}' is not device, HOST:PORT (a TVM RPC server) or tracker:HOST:PORT:KEY`);
  return { kind: 'server', host: parts[0], port: port(parts[1]) };
}

/** Splits `--rpc VALUE` (or `--rpc=VALUE`) off a command's arguments. */
export function takeRpcFlag(args: readonly string[]): { rest: string[]; rpc: RpcFlag | null } {
  const rest: string[] = [];
  let rpc: RpcFlag | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--rpc' || a.startsWith('--rpc=')) {
      const value = a === '--rpc' ? args[++i] : a.slice('--rpc='.length);
      if (value === undefined || value === '') throw new UsageError('--rpc needs a value: device, HOST:PORT or tracker:HOST:PORT:KEY');
      rpc = parseRpcFlag(value);
    } else {
      rest.push(a);
    }
  }
  return { rest, rpc };
}

/** LLVM's triple for a device's `uname -m`. */
export function crossTargetFor(arch: string, cores: number): TvmCrossTarget {
  const known: Record<string, string> = { aarch64: 'aarch64-linux-gnu', arm64: 'aarch64-linux-gnu', x86_64: 'x86_64-linux-gnu', x64: 'x86_64-linux-gnu' };
  const triple = known[arch];
  if (!triple) throw new UsageError(`cannot cross-compile for a device of architecture '${arch}': jetbench knows aarch64 (Jetson) and x86_64`);
  return { triple, cores: Math.max(1, cores) };
}

export function sshSessionOf(agent: DeviceConnection): SshSession | null {
  return agent.device.kind === 'ssh' ? (agent.streams as SshAgentStreams).session : null;
}

function pipeBoth(a: Duplex, b: Duplex): void {
  a.pipe(b).on('error', () => a.destroy());
  b.pipe(a).on('error', () => b.destroy());
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

/** Listens on 127.0.0.1:`port` here; each connection goes to `host:port` on the device. `close`
 * ends the connections still open too (a client that never hangs up must not keep it). */
async function listenForward(session: SshSession, port: number, deviceHost: string, devicePort: number): Promise<{ close(): Promise<void> }> {
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    session.forwardOut(deviceHost, devicePort).then(
      (channel) => pipeBoth(socket, channel),
      () => socket.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

export interface DeviceRpcServer {
  /** Where this machine reaches it (a forward to the device's loopback). */
  port: number;
  tvm: string;
  /** Stops it; resolves to the RPC sessions it served. */
  stop(): Promise<number>;
}

/** Starts TVM's RPC server on the device, registered with `tracker` under its key; the tracker
 * hands clients 127.0.0.1:PORT, where this machine forwards to the device. */
export async function startDeviceRpcServer(agent: DeviceConnection, tracker: { host: string; port: number; key: string }, python: string | null): Promise<DeviceRpcServer> {
  const session = sshSessionOf(agent);
  if (!session) throw new UsageError('--rpc measures on another machine through SSH: give --device an SSH device');
  // The device calls the tracker back through the SSH connection.
  const back = await session.forwardIn((channel) => pipeBoth(channel, net.connect(tracker.port, tracker.host)));
  let info;
  try {
    info = await agent.connection.sendRequest(TvmRpcServerStartRequest, { tracker: { host: '127.0.0.1', port: back.port, key: tracker.key }, reportAddress: '127.0.0.1', python });
  } catch (e) {
    await back.close();
    throw e;
  }
  let forward: { close(): Promise<void> };
  try {
    forward = await listenForward(session, info.port, info.host, info.port);
  } catch (e) {
    await agent.connection.sendRequest(TvmRpcServerStopRequest, { id: info.id }).catch(() => undefined);
    await back.close();
    throw new Error(`the device's TVM RPC server listens on port ${info.port}, which is taken on this machine (${(e as Error).message}): the tracker hands clients that port, so free it here`, { cause: e });
  }
  return {
    port: info.port,
    tvm: info.tvm,
    stop: async () => {
      const stopped = await agent.connection.sendRequest(TvmRpcServerStopRequest, { id: info.id });
      await forward.close();
      await back.close();
      return stopped.sessions;
    },
  };
}

/** Uploads files into a fresh temporary folder on the device; `remove` deletes it. */
export async function uploadToDevice(session: SshSession, files: Array<{ local: string; name: string }>): Promise<{ dir: string; remove(): Promise<void> }> {
  const made = await session.exec('mktemp -d "${TMPDIR:-/tmp}/jetbench-rpc-XXXXXX"');
  const dir = made.stdout.trim();
  if (made.code !== 0 || !dir.startsWith('/')) throw new Error(`cannot make a temporary folder on the device: ${made.stderr.trim()}`);
  const sftp = await session.sftp();
  for (const f of files) {
    const remote = path.posix.join(dir, f.name);
    const parent = path.posix.dirname(remote);
    if (parent !== dir) await new Promise<void>((resolve) => sftp.mkdir(parent, () => resolve()));
    await new Promise<void>((resolve, reject) => sftp.fastPut(f.local, remote, (err) => (err ? reject(new Error(`uploading ${f.local} to the device failed: ${err.message}`)) : resolve())));
  }
  return {
    dir,
    remove: async () => {
      await session.exec(shellCommand(['rm', '-rf', '--', dir]));
    },
  };
}

/** Copies a file of the device's here (into `dir`). */
export async function downloadFromDevice(session: SshSession, remote: string, local: string): Promise<void> {
  const sftp = await session.sftp();
  await new Promise<void>((resolve, reject) => sftp.fastGet(remote, local, (err) => (err ? reject(new Error(`downloading ${remote} from the device failed: ${err.message}`)) : resolve())));
}
