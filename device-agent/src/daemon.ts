// The agent as a per-user daemon on a device: detached from any SSH session (its own session,
// setsid), serving every client that attaches on a unix socket in the agent home (mode 0700), one
// per home thanks to a lock file holding its pid, exiting after a configurable idle time, logging
// to a rotating file. `ensureDaemon` starts it when it is not running; `attach` bridges stdio to it
// for clients that cannot forward a unix socket.
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { createConnection as createServerConnection, type Connection } from 'vscode-languageserver/lib/common/server';
import { createAgentState, reportFatal, serve } from './server';

export interface AgentHome {
  home: string;
  socket: string;
  lock: string;
  log: string;
  runs: string;
}

/** The agent home: `--home`, else $JETBENCH_HOME, else ~/.jetbench. */
export function agentHome(home?: string): AgentHome {
  const dir = path.resolve(home ?? process.env.JETBENCH_HOME ?? path.join(os.homedir(), '.jetbench'));
  return {
    home: dir,
    socket: path.join(dir, 'agent.sock'),
    lock: path.join(dir, 'agent.lock'),
    log: path.join(dir, 'logs', 'agent.log'),
    runs: path.join(dir, 'runs'),
  };
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

/** Whether a process runs. A zombie does not: a killed daemon stays one where the init process
 * does not reap orphans (some containers), and it holds no socket. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Takes the home's lock (a file holding the owner's pid); a lock whose pid is dead is stale and
 * taken over. Returns the holder's pid when another live daemon has it. */
function acquireLock(lock: string): { held: true } | { held: false; pid: number } {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { held: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) return { held: false, pid };
    try {
      unlinkSync(lock);
    } catch {
      /* another starter removed it first */
    }
  }
  throw new Error(`cannot take the agent lock ${lock}: remove it if no jetbench agent runs`);
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
  return createServerConnection(() => createProtocolConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket), logger), {
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
  const lock = acquireLock(paths.lock);
  if (!lock.held) {
    printStatus({ state: 'running', pid: lock.pid, socket: paths.socket });
    return;
  }
  const log = new RotatingLog(paths.log);
  const cleanup = () => {
    for (const f of [paths.socket, paths.lock]) {
      try {
        unlinkSync(f);
      } catch {
        /* gone */
      }
    }
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
      setImmediate(() => stop('asked to stop by a client'));
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
  let idleTimer: NodeJS.Timeout | null = null;
  const checkIdle = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (connections.size === 0 && !state.queue.busy) {
      idleTimer = setTimeout(() => stop(`idle for ${opts.idleMinutes} min`), idleMs);
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
  const pid = Number.parseInt(readFileSync(paths.lock, 'utf8'), 10);
  return { state: 'running', pid, socket: paths.socket };
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
