// TVM's RPC server on this device, for a client that compiles elsewhere (`jetbench build --rpc`):
// the device's own `python3 -m tvm.exec.rpc_server`, listening on loopback only (the client reaches
// it through the SSH connection it already holds), registered with a tracker when asked, stopped
// by the client or when the client's connection goes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { TvmRpcServerInfo, TvmRpcServerStartParams, TvmRpcServerStopped } from '../../contract/protocol';
import { tvmPython, tvmProbe } from './backends/tvm';
import { HelperError, translate } from './backends/pythonHelper';
import { BadInputError } from './errors';

/** Ports TVM's server tries, first free one wins (TVM's own default range). */
const PORT_RANGE = [9090, 9199] as const;
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
    const args = ['-m', 'tvm.exec.rpc_server', '--host', host, '--port', String(PORT_RANGE[0]), '--port-end', String(PORT_RANGE[1])];
    if (params.tracker) {
      args.push('--tracker', `${params.tracker.host}:${params.tracker.port}`, '--key', params.tracker.key, '--custom-addr', params.reportAddress ?? host);
    }
    // Its own process group: the server forks one child per session, stop ends them all.
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const id = randomUUID();
    const entry: Running = { child, sessions: 0, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
    let log = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => fail(`did not report its port within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
      const fail = (why: string) => {
        clearTimeout(timer);
        killGroup(child);
        reject(new BadInputError(`TVM's RPC server (${python} -m tvm.exec.rpc_server) ${why}${log.trim() ? `: ${log.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
      };
      const onText = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        log = (log + text).slice(-4000);
        entry.sessions += (text.match(/connected from/g) ?? []).length;
        const bound = /bind to [^\s:]+:(\d+)/.exec(log);
        if (bound) {
          clearTimeout(timer);
          resolve(Number(bound[1]));
        }
      };
      child.stdout?.on('data', onText);
      child.stderr?.on('data', onText);
      child.once('error', (e) => fail(`could not start (${e.message})`));
      child.once('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before listening`));
    });
    this.running.set(id, entry);
    return { id, host, port, tvm: found.tvm };
  }

  async stop(id: string): Promise<TvmRpcServerStopped> {
    const entry = this.running.get(id);
    if (!entry) throw new BadInputError(`no TVM RPC server '${id}' runs for this connection`);
    this.running.delete(id);
    killGroup(entry.child);
    await entry.exited;
    return { sessions: entry.sessions };
  }

  /** Every server this connection started (it is closing). */
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
