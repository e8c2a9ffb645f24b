// TVM's RPC processes for a client that compiles elsewhere (`jetbench build --rpc`): on a device,
// its own `python3 -m tvm.exec.rpc_server`, listening on loopback only (the client reaches it
// through the SSH connection it already holds), registered with a tracker when asked; on the
// client's machine, the tracker (`python -m tvm.exec.rpc_tracker`) for `--rpc device`. Each is
// stopped by the client or when the client's connection goes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { TvmRpcServerInfo, TvmRpcServerStartParams, TvmRpcServerStopped } from '../../contract/protocol';
import { tvmPython, tvmProbe } from './backends/tvm';
import { HelperError, translate } from './backends/pythonHelper';
import { BadInputError } from './errors';

/** Ports TVM's server tries, first free one wins (TVM's own default range). */
const SERVER_PORTS = [9090, 9199] as const;
const TRACKER_PORTS = [9190, 9290] as const;
/** `import tvm` alone takes ~13 s under QEMU's emulation; a small board is faster. */
const START_TIMEOUT_MS = 180_000;

/** The loopback address the server binds. Default 127.0.0.1; JETBENCH_TVM_RPC_BIND moves it (the
 * emulated test device shares its host's loopback, where the client's forward listens on the
 * same port number). */
export function rpcBindAddress(): string {
  return process.env.JETBENCH_TVM_RPC_BIND ?? '127.0.0.1';
}

interface Running {
  child: ChildProcess;
  sessions: number;
  exited: Promise<void>;
}

export class TvmRpcServers {
  private readonly running = new Map<string, Running>();

  async start(params: TvmRpcServerStartParams): Promise<TvmRpcServerInfo> {
    const python = tvmPython(params.python);
    const found = await tvmProbe(python);
    if (found instanceof HelperError) throw translate(found);
    const host = rpcBindAddress();
    const args = ['-m', 'tvm.exec.rpc_server', '--host', host, '--port', String(SERVER_PORTS[0]), '--port-end', String(SERVER_PORTS[1])];
    if (params.tracker) {
      args.push('--tracker', `${params.tracker.host}:${params.tracker.port}`, '--key', params.tracker.key, '--custom-addr', params.reportAddress ?? host);
    }
    const { id, port } = await this.spawnListening(python, args, "TVM's RPC server", () => '');
    return { id, host, port, tvm: found.tvm };
  }

  async startTracker(asked: string | null): Promise<TvmRpcServerInfo> {
    const python = tvmPython(asked);
    const found = await tvmProbe(python);
    if (found instanceof HelperError) throw translate(found);
    const host = '127.0.0.1';
    const args = ['-m', 'tvm.exec.rpc_tracker', '--host', host, '--port', String(TRACKER_PORTS[0]), '--port-end', String(TRACKER_PORTS[1])];
    const { id, port } = await this.spawnListening(python, args, "TVM's RPC tracker", (log) => (/tornado/.test(log) ? ' (it needs tornado: pip install tornado)' : ''));
    return { id, host, port, tvm: found.tvm };
  }

  /** Starts `python args` in a process group of its own (TVM runs the server or tracker proper in
   * a PopenWorker child that outlives its parent: stop ends the group) and resolves when its log
   * says `bind to HOST:PORT`; counts the sessions it logs. */
  private spawnListening(python: string, args: string[], what: string, hint: (log: string) => string): Promise<{ id: string; port: number }> {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const entry: Running = { child, sessions: 0, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
    const id = randomUUID();
    let log = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`did not report its port within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
      const fail = (why: string) => {
        clearTimeout(timer);
        killGroup(child);
        reject(new BadInputError(`${what} (${python} ${args.slice(0, 2).join(' ')}) ${why}${hint(log)}${log.trim() ? `: ${log.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
      };
      const onText = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        log = (log + text).slice(-4000);
        entry.sessions += (text.match(/connected from/g) ?? []).length;
        const bound = /bind to [^\s:]+:(\d+)/.exec(log);
        if (bound && !this.running.has(id)) {
          clearTimeout(timer);
          this.running.set(id, entry);
          resolve({ id, port: Number(bound[1]) });
        }
      };
      child.stdout?.on('data', onText);
      child.stderr?.on('data', onText);
      child.once('error', (e) => fail(`could not start (${e.message})`));
      child.once('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before listening`));
    });
  }

  async stop(id: string): Promise<TvmRpcServerStopped> {
    const entry = this.running.get(id);
    if (!entry) throw new BadInputError(`no TVM RPC server or tracker '${id}' runs for this connection`);
    this.running.delete(id);
    killGroup(entry.child);
    await entry.exited;
    return { sessions: entry.sessions };
  }

  /** Every process this connection started (it is closing). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
}
