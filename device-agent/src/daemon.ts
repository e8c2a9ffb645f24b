// The agent as a per-user daemon on a device: detached from any SSH session (its own session,
// setsid), serving every client that attaches on a unix socket in the agent home (mode 0700), one
// per home thanks to a lock file holding its pid, exiting after a configurable idle time, logging
// to a rotating file. `ensureDaemon` starts it when it is not running; `attach` bridges stdio to it
// for clients that cannot forward a unix socket.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { createConnection as createServerConnection, type Connection } from 'vscode-languageserver/lib/common/server';
import { probeDeviceFacts } from './deviceInfo';
import { runtimeDir } from './measureLock';
import { holderAlive, readHolder, releaseLock, tryLock } from './pidLock';
import { createAgentState, reportFatal, serve } from './server';
import { stopPartialMessageTimer } from '../../contract/jsonrpcReader';

export interface AgentHome {
  home: string;
  socket: string;
  /** Why the socket is not in the home (its path there would be too long), else null. */
  socketMoved: string | null;
  lock: string;
  log: string;
  runs: string;
}

/** The agent home: `--home`, else $JETBENCH_HOME, else ~/.jetbench. */
export function agentHome(home?: string): AgentHome {
  const dir = path.resolve(home ?? process.env.JETBENCH_HOME ?? path.join(os.homedir(), '.jetbench'));
  const { socket, moved } = socketPath(dir);
  return {
    home: dir,
    socket,
    socketMoved: moved,
    lock: path.join(dir, 'agent.lock'),
    log: path.join(dir, 'logs', 'agent.log'),
    runs: path.join(dir, 'runs'),
  };
}

/** A unix socket's path must fit sockaddr_un.sun_path: 108 bytes on Linux with the final NUL
 * (104 on macOS). A longer path is not refused by every layer: it can be cut short and bind
 * somewhere else, outside the home. */
export const SOCKET_PATH_MAX_BYTES = process.platform === 'linux' ? 107 : 103;

/** `<home>/agent.sock` when it fits; else a socket in the user's private runtime directory named
 * by a hash of the home (one per home, so one daemon per home still). */
function socketPath(home: string): { socket: string; moved: string | null } {
  const inHome = path.join(home, 'agent.sock');
  if (Buffer.byteLength(inHome) <= SOCKET_PATH_MAX_BYTES) return { socket: inHome, moved: null };
  const hash = createHash('sha256').update(home).digest('hex').slice(0, 16);
  const short = path.join(runtimeDir(), `agent-${hash}.sock`);
  if (Buffer.byteLength(short) > SOCKET_PATH_MAX_BYTES) {
    throw new Error(`the agent socket's path ${inHome} is ${Buffer.byteLength(inHome)} bytes, over the ${SOCKET_PATH_MAX_BYTES}-byte limit of unix sockets, and so is ${short}: use a shorter agent home (--home or the device's agentHome setting) or a shorter XDG_RUNTIME_DIR`);
  }
  const moved = `the agent home's path is too long for a unix socket (${Buffer.byteLength(inHome)} bytes, limit ${SOCKET_PATH_MAX_BYTES}): its socket is ${short}`;
  return { socket: short, moved };
}

/** What `daemon --ensure` prints (one JSON line) for the client. */
export interface DaemonStatus {
  state: 'started' | 'running';
  pid: number;
  socket: string;
}

/** The home holds the socket and the runs: only its owner may enter it. */
function prepareHome(paths: AgentHome): void {
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const st = statSync(paths.home);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new Error(`agent home ${paths.home} belongs to another user (uid ${st.uid}): use your own (--home or JETBENCH_HOME)`);
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(paths.home, 0o700);
  mkdirSync(path.dirname(paths.log), { recursive: true, mode: 0o700 });
}

/** setTimeout takes at most 2^31-1 ms (~24.8 days) and fires at once for more: a long delay is
 * waited for in steps. Returns the function that cancels it. */
export function longTimeout(fn: () => void, ms: number): () => void {
  const MAX_MS = 2 ** 31 - 1;
  let timer: NodeJS.Timeout;
  const due = Date.now() + ms;
  const arm = () => {
    const left = due - Date.now();
    timer = left > MAX_MS ? setTimeout(arm, MAX_MS) : setTimeout(fn, Math.max(0, left));
  };
  arm();
  return () => clearTimeout(timer);
}

/** How long a starter waits for the daemon that holds the lock to open its socket. */
const SOCKET_WAIT_MS = 20_000;

/** Waits until the live daemon that holds the lock answers on its socket. Null when the holder
 * died meanwhile (the lock is stale: take it); throws when it neither dies nor answers. */
async function awaitHolderSocket(paths: AgentHome): Promise<{ pid: number } | null> {
  const deadline = Date.now() + SOCKET_WAIT_MS;
  for (;;) {
    const holder = readHolder(paths.lock);
    if (!holder || !holderAlive(holder)) return null;
    try {
      (await connectSocket(paths.socket)).destroy();
      return { pid: holder.pid };
    } catch {
      /* still starting (recovering runs, loading) */
    }
    if (Date.now() > deadline) {
      throw new Error(`the agent daemon (pid ${holder.pid}) holds ${paths.lock} but has not opened ${paths.socket} in ${SOCKET_WAIT_MS / 1000} s: see ${paths.log}, or stop it (kill ${holder.pid})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Appends timestamped lines; at maxBytes the file moves to .1 (.1 to .2, ...), keeping `keep`. */
export class RotatingLog {
  constructor(
    private readonly file: string,
    private readonly maxBytes = 1 << 20,
    private readonly keep = 3,
  ) {}

  write(text: string): void {
    try {
      const lines = text.endsWith('\n') ? text : `${text}\n`;
      appendFileSync(this.file, lines.replace(/^(?=.)/gm, `${new Date().toISOString()} `), { mode: 0o600 });
      if (statSync(this.file).size >= this.maxBytes) this.rotate();
    } catch {
      /* a full disk must not stop the runs */
    }
  }

  private rotate(): void {
    for (let i = this.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      } catch {
        /* not there yet */
      }
    }
    renameSync(this.file, `${this.file}.1`);
  }
}

/** One client's LSP connection over a socket. The node entry point of vscode-languageserver ends
 * the process on `exit` and watches the client's processId (a pid on another machine here): a
 * daemon only closes that client's socket. */
function socketConnection(socket: net.Socket, log: RotatingLog): Connection {
  let shutdownReceived = false;
  // The protocol layer's own diagnostics ("Sending response failed" when the client has gone)
  // go to the daemon's log. vscode-languageserver's default logger is the connection's remote
  // console, which throws "Connection is disposed" once that client is gone, inside
  // vscode-jsonrpc's catch: an unhandled rejection that would end the daemon and every other
  // client's runs.
  const logger = {
    error: (message: string) => log.write(`client connection: ${message}`),
    warn: (message: string) => log.write(`client connection: ${message}`),
    info: (message: string) => log.write(`client connection: ${message}`),
    log: (message: string) => log.write(`client connection: ${message}`),
  };
  const reader = new StreamMessageReader(socket);
  socket.once('close', () => stopPartialMessageTimer(reader));
  return createServerConnection(() => createProtocolConnection(reader, new StreamMessageWriter(socket), logger), {
    get shutdownReceived() {
      return shutdownReceived;
    },
    set shutdownReceived(value: boolean) {
      shutdownReceived = value;
    },
    initialize: () => undefined,
    exit: () => socket.end(),
  });
}

export interface DaemonOptions {
  home?: string;
  /** Exit after this long with no client and no job; fractions allowed (tests). */
  idleMinutes: number;
}

/** Runs the daemon in this process. Prints one DaemonStatus JSON line on stdout (`running` when
 * another daemon holds the home) and from then on writes only to its log. */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const paths = agentHome(opts.home);
  prepareHome(paths);
  // Another daemon holds the home: answer `running` only once its socket answers (it may still be
  // starting); if it died meanwhile, its lock is stale and this one takes over.
  for (;;) {
    const lock = tryLock(paths.lock);
    if (lock.held) break;
    const running = await awaitHolderSocket(paths);
    if (running) {
      printStatus({ state: 'running', pid: running.pid, socket: paths.socket });
      return;
    }
  }
  const log = new RotatingLog(paths.log);
  if (paths.socketMoved) {
    log.write(paths.socketMoved);
    process.stderr.write(`jetbench agent: ${paths.socketMoved}\n`);
  }
  const cleanup = () => {
    try {
      unlinkSync(paths.socket);
    } catch {
      /* gone */
    }
    releaseLock(paths.lock);
  };
  process.on('exit', cleanup);

  const connections = new Set<Connection>();
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  const stop = (reason: string) => {
    log.write(`stopping: ${reason}`);
    server?.close();
    // end() flushes what is queued (a last response) before closing; then leave.
    for (const socket of sockets) socket.end();
    const timer = setTimeout(() => process.exit(0), 1000);
    const exitWhenClosed = () => {
      if ([...sockets].every((s) => s.closed)) {
        clearTimeout(timer);
        process.exit(0);
      }
    };
    for (const socket of sockets) socket.once('close', exitWhenClosed);
    exitWhenClosed();
  };
  const state = createAgentState({
    mode: 'daemon',
    runsDir: paths.runs,
    stopWhenIdle: () => {
      if (state.queue.busy || state.runs.liveRuns().length > 0) {
        return { stopping: false, reason: `${state.queue.pending} job(s) are live on this agent (pid ${process.pid}); it stops when they end and it is idle` };
      }
      // After this answer is on its way (vscode-jsonrpc writes it after the handler returns; stop()
      // ends the sockets, which flushes what is queued, not what is still to be written).
      setTimeout(() => stop('asked to stop by a client'), 50);
      return { stopping: true, reason: null };
    },
  });
  const recovered = state.runs.recover((id, message) => log.write(`run ${id}: ${message}`));
  for (const id of recovered) log.write(`run ${id}: interrupted by the previous agent's end, kept as failed with its samples`);
  process.on('uncaughtException', (e) => reportFatal(connections, e));
  process.on('unhandledRejection', (e) => reportFatal(connections, e));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => undefined);

  const idleMs = Math.max(0, opts.idleMinutes) * 60_000;
  let cancelIdle: (() => void) | null = null;
  const checkIdle = () => {
    cancelIdle?.();
    cancelIdle = null;
    if (connections.size === 0 && !state.queue.busy) {
      cancelIdle = longTimeout(() => stop(`idle for ${opts.idleMinutes} min`), idleMs);
    }
  };
  state.queue.onChange(checkIdle);

  server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const connection = socketConnection(socket, log);
    connections.add(connection);
    checkIdle();
    const detach = serve(connection, state);
    log.write(`client attached (${connections.size} now)`);
    socket.on('error', (e) => log.write(`client socket error: ${e.message}`));
    socket.on('close', () => {
      detach();
      connection.dispose();
      connections.delete(connection);
      log.write(`client detached (${connections.size} now)`);
      checkIdle();
    });
    connection.listen();
  });
  try {
    unlinkSync(paths.socket);
  } catch {
    /* no stale socket */
  }
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(paths.socket, resolve);
  });
  chmodSync(paths.socket, 0o600);
  log.write(`daemon started: pid ${process.pid}, socket ${paths.socket}, agent ${__dirname}, idle exit after ${opts.idleMinutes} min`);
  printStatus({ state: 'started', pid: process.pid, socket: paths.socket });
  // From here on nobody reads stdout/stderr (the starter has gone): diagnostics go to the log.
  const toLog = (chunk: string | Uint8Array) => {
    log.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  process.stdout.write = toLog as typeof process.stdout.write;
  process.stderr.write = toLog as typeof process.stderr.write;
  probeDeviceFacts();
  checkIdle();
}

function printStatus(status: DaemonStatus): void {
  process.stdout.write(JSON.stringify(status) + '\n');
}

/** The status of the daemon serving this home, or null when none answers on its socket. */
export async function runningDaemon(opts: Pick<DaemonOptions, 'home'>): Promise<DaemonStatus | null> {
  const paths = agentHome(opts.home);
  try {
    (await connectSocket(paths.socket)).destroy();
  } catch {
    return null;
  }
  return { state: 'running', pid: readHolder(paths.lock)?.pid ?? 0, socket: paths.socket };
}

/** Starts the daemon for this home unless one runs; resolves with its status. The daemon gets its
 * own session (setsid via `detached`), so it outlives the SSH channel that started it. */
export async function ensureDaemon(opts: DaemonOptions): Promise<DaemonStatus> {
  const running = await runningDaemon(opts);
  if (running) return running;
  return startDaemon(opts);
}

function startDaemon(opts: DaemonOptions): Promise<DaemonStatus> {
  const args = [...process.execArgv, process.argv[1]!, 'daemon', '--idle-minutes', String(opts.idleMinutes), ...(opts.home ? ['--home', opts.home] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => {
      out += t;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        child.stdout!.destroy();
        child.stderr!.destroy();
        child.unref();
        try {
          resolve(JSON.parse(line!) as DaemonStatus);
        } catch {
          reject(new Error(`the agent daemon said: ${out.trim()}`));
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`the agent daemon exited at start (code ${code}): ${err.trim() || out.trim()}`));
    });
  });
}

/** Bridges this process's stdin/stdout to the daemon's socket, starting the daemon when needed. */
export async function attach(opts: DaemonOptions): Promise<void> {
  const paths = agentHome(opts.home);
  let socket: net.Socket;
  try {
    socket = await connectSocket(paths.socket);
  } catch {
    const status = await startDaemon(opts);
    socket = await connectSocket(status.socket);
  }
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
  process.stdin.on('end', () => socket.end());
  socket.on('close', () => process.exit(0));
  socket.on('error', (e) => {
    process.stderr.write(`jetbench agent attach: ${e.message}\n`);
    process.exit(1);
  });
}

function connectSocket(file: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(file);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
