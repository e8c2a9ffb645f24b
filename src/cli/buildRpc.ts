// `jetbench build --backend tvm --device D --rpc ...`: this machine compiles the module for D's CPU
// (tuning candidates measured on D, and on every other server under the tracker's key, through
// TVM's RPC), checks the module's outputs from D against ONNX Runtime, and installs it in D's
// artifact cache, where `bench --backend tvm` on D finds it. And `jetbench rpc-server`, which keeps
// a device's server registered with a tracker so a build elsewhere measures on it too.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { DeviceInfoRequest, ResolveModelRequest, TvmAdoptRequest, TvmRpcServerStopRequest, TvmRpcTrackerStartRequest, type BuildResult, type RunSpec, type TvmRpcTarget } from '../../contract/protocol';
import { TVM_DEFAULTS } from '../../contract/runSpec';
import { startLocalAgent, type AgentConnection, type DeviceConnection } from '../core/agentConnection';
import { withDeviceDefaults } from '../core/devices';
import { verificationText } from '../core/report';
import { parse, UsageError } from './args';
import { HELP } from './help';
import type { CliIo } from './io';
import { EXIT_INTERRUPTED } from './measureOnDevice';
import { connectCliDevice } from './sshHooks';
import { requestBuild } from './buildRequest';
import { crossTargetFor, downloadFromDevice, parseRpcFlag, sshSessionOf, startDeviceRpcServer, uploadToDevice, type DeviceRpcServer, type RpcFlag } from './tvmRpc';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;

interface Started {
  /** What the host build measures through. */
  target: TvmRpcTarget;
  /** D's server as the tracker hands it out, when jetbench started one: the check run goes there,
   * so the module is checked on the device it is installed on, and D's candidates are told apart. */
  device: { host: string; port: number } | null;
  /** Stops what jetbench started. */
  stop(): Promise<void>;
}

/** The RPC endpoint the host build measures through, with what jetbench started for it. */
async function rpcEndpoint(flag: RpcFlag, agent: DeviceConnection, local: AgentConnection, devicePython: string | null, note: (t: string) => void): Promise<Started> {
  if (flag.kind === 'server') return { target: flag, device: null, stop: async () => undefined };
  let where: { host: string; port: number; key: string };
  let stopTracker = async (): Promise<void> => undefined;
  if (flag.kind === 'device') {
    // --rpc device: the local agent runs the tracker (TVM's processes are the agents' to run).
    const info = await local.connection.sendRequest(TvmRpcTrackerStartRequest, { python: process.env.JETBENCH_PYTHON ?? null });
    stopTracker = async () => void (await local.connection.sendRequest(TvmRpcServerStopRequest, { id: info.id }));
    where = { host: info.host, port: info.port, key: 'jetbench' };
    note(`TVM RPC tracker on this machine at ${info.host}:${info.port}\n`);
  } else {
    where = { host: flag.host, port: flag.port, key: flag.key };
  }
  let server: DeviceRpcServer;
  try {
    note(`starting TVM's RPC server on ${agent.device.name} (registers with the tracker under key '${where.key}')\n`);
    server = await startDeviceRpcServer(agent, where, devicePython);
  } catch (e) {
    await stopTracker();
    throw e;
  }
  return {
    target: { kind: 'tracker', ...where },
    // startDeviceRpcServer reports D's server to the tracker as 127.0.0.1:PORT (this machine's
    // forward to it).
    device: { host: '127.0.0.1', port: server.port },
    stop: async () => {
      await server.stop();
      await stopTracker();
    },
  };
}

/** Who measured the tuning candidates, from the servers the tracker handed out (one RPC session
 * per candidate): D's by the address jetbench started it at, the others by theirs. */
export function candidatesText(device: string, deviceAddress: string | null, perServer: Record<string, number>): string {
  const plural = (n: number) => `${n} candidate${n === 1 ? '' : 's'}`;
  const entries = Object.entries(perServer).sort((a, b) => (a[0] === deviceAddress ? -1 : b[0] === deviceAddress ? 1 : a[0].localeCompare(b[0])));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const parts = entries.map(([server, n]) => (server === deviceAddress ? `${n} on ${device} (${server})` : `${n} on ${server}`));
  if (deviceAddress && !(deviceAddress in perServer)) parts.push(`0 on ${device} (${deviceAddress})`);
  return `tuning measured ${plural(total)} through TVM RPC: ${parts.join(', ')}`;
}

async function tuningFiles(dir: string | null): Promise<Array<{ local: string; name: string }>> {
  if (!dir) return [];
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  return names.map((n) => ({ local: path.join(dir, n), name: `tuning/${n}` }));
}

export async function buildThroughRpc(spec: RunSpec, flag: RpcFlag, opts: { json: boolean; quiet: boolean; acceptNewHostKey: boolean }, io: CliIo): Promise<number> {
  if (spec.backend !== 'tvm') throw new UsageError('--rpc applies to --backend tvm');
  if (spec.device === 'local') throw new UsageError('--rpc measures on another machine: give --device (an SSH device; its agent starts TVM\'s RPC server there)');
  const tvm = spec.tvm ?? TVM_DEFAULTS;
  if (tvm.target !== 'llvm') throw new UsageError('--rpc compiles for the device\'s CPU (--target llvm); a cuda module is built on the device itself (without --rpc)');
  if (flag.kind === 'server' && tvm.tuneTrials > 0) {
    throw new UsageError(`--tune-trials with --rpc ${flag.host}:${flag.port}: tuning goes through a tracker (MetaSchedule's RPC runner asks one for servers), not a single server: use --rpc tracker:HOST:PORT:KEY, or --rpc device (jetbench runs one), or build untuned`);
  }
  const note = (t: string) => !opts.quiet && io.err(t);
  const agent = await connectCliDevice(spec.device, io, { acceptNewHostKey: opts.acceptNewHostKey, quiet: opts.quiet });
  const cancel = new CancellationTokenSource();
  const onSigint = () => cancel.cancel();
  process.on('SIGINT', onSigint);
  let local: Awaited<ReturnType<typeof startLocalAgent>> | null = null;
  let started: Started | null = null;
  let work: string | null = null;
  try {
    const session = sshSessionOf(agent);
    if (!session) throw new UsageError('--rpc measures on another machine through SSH: give --device an SSH device');
    const info = await agent.connection.sendRequest(DeviceInfoRequest);
    const cross = crossTargetFor(info.arch, info.cpuCount);
    const deviceSpec: RunSpec = { ...withDeviceDefaults(spec, agent.device), tvm: { ...tvm, tuneTrials: 0, tuningLog: null, rpc: null, rpcDevice: null, cross: null } };
    // The device's model (a built-in as the device generated it), compiled here: the module is
    // for exactly the model the device's benchmarks load.
    const model = await agent.connection.sendRequest(ResolveModelRequest, { spec: deviceSpec });
    work = await mkdtemp(path.join(os.tmpdir(), 'jetbench-rpc-'));
    const localModel = path.join(work, path.posix.basename(model.path));
    note(`copying the device's model ${model.path} here (${(model.bytes / 1e6).toFixed(1)} MB)\n`);
    await downloadFromDevice(session, model.path, localModel);
    local = await startLocalAgent({ client: 'jetbench-cli', stderr: (t) => io.err(`local agent: ${t}`) });
    started = await rpcEndpoint(flag, agent, local, withDeviceDefaults(spec, agent.device).tvm?.python ?? null, note);
    note(`compiling on this machine for ${info.arch} (${cross.triple}, ${cross.cores} cores); measuring through TVM RPC\n`);
    // The host compiles with its own Python; the device's --python is for the device's server.
    const hostSpec: RunSpec = { ...spec, device: 'local', model: localModel, tvm: { ...tvm, python: process.env.JETBENCH_PYTHON ?? null, rpc: started.target, rpcDevice: started.device, cross } };
    const built = await requestBuild(local.connection, hostSpec, cancel.token, io, opts.quiet);
    if (!built) return EXIT_INTERRUPTED;
    const check = built.rpcCheck;
    const deviceAddress = started.device ? `${started.device.host}:${started.device.port}` : null;
    if (!check) throw new Error('the host build came back without its check run on the device');
    const a = built.artifact;
    const lines = [
      `built ${a.kind} for ${cross.triple} on this machine in ${(a.buildMs / 1000).toFixed(1)} s (tuning ${(Number(a.flags.tuneMs ?? 0) / 1000).toFixed(1)} s, compile ${(Number(a.flags.compileMs ?? 0) / 1000).toFixed(1)} s): ${a.path}`,
      ...(built.tuningLog ? [`  tuning log ${built.tuningLog} (build again with more --tune-trials to resume from it)`] : []),
      `  ran on ${deviceAddress && check.server === deviceAddress ? agent.device.name : 'the device'} through TVM RPC (${check.endpoint}${check.server ? `, server ${check.server}` : ''}): median ${check.medianMs.toFixed(2)} ms over ${check.repeats} calls`,
      `  outputs ${verificationText(check.verification)}`,
    ];
    if (built.rpcCandidates) lines.push(`  ${candidatesText(agent.device.name, deviceAddress, built.rpcCandidates)}`);
    await started.stop();
    started = null;
    if (!check.verification.passed) {
      io.out(lines.join('\n') + '\n');
      io.err('jetbench build: the module\'s outputs on the device do not match ONNX Runtime: not installed on the device\n');
      return EXIT_FAILURE;
    }
    // Into the device's cache, with the tuning log the module was built from.
    const files = [{ local: a.path, name: 'module.so' }, ...(await tuningFiles(built.tuningLog))];
    const staged = await uploadToDevice(session, files);
    let adopted: BuildResult;
    try {
      adopted = await agent.connection.sendRequest(TvmAdoptRequest, {
        spec: deviceSpec,
        module: path.posix.join(staged.dir, 'module.so'),
        tuningLog: files.length > 1 ? path.posix.join(staged.dir, 'tuning') : null,
        flags: a.flags,
        buildMs: a.buildMs,
        modelSha256: built.model.sha256,
      });
    } finally {
      await staged.remove();
    }
    lines.push(`installed on ${agent.device.name}: ${adopted.artifact.path}`);
    lines.push(`  run it there: jetbench bench --device ${spec.device} --backend tvm --model ${spec.model}${spec.precision !== 'fp32' ? ` --precision ${spec.precision}` : ''}${adopted.tuningLog ? ` --tuning-log ${adopted.tuningLog}` : ''}`);
    if (opts.json) io.out(JSON.stringify({ host: built, device: adopted }, null, 2) + '\n');
    else io.out(lines.join('\n') + '\n');
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSigint);
    await started?.stop().catch(() => null);
    await local?.dispose();
    await agent.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  }
}

const RPC_SERVER_OPTIONS = {
  device: { type: 'string' },
  rpc: { type: 'string' },
  python: { type: 'string' },
  'accept-new-host-key': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `jetbench rpc-server --device D --rpc tracker:HOST:PORT:KEY`: D's TVM RPC server registered
 * with the tracker until Ctrl-C, then how many sessions it served. */
export async function rpcServer(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, RPC_SERVER_OPTIONS, false);
  if (values.help) {
    io.out(HELP['rpc-server']);
    return EXIT_OK;
  }
  if (!values.device || values.device === 'local') throw new UsageError('rpc-server needs --device: the SSH device whose TVM serves');
  if (!values.rpc) throw new UsageError('rpc-server needs --rpc tracker:HOST:PORT:KEY (the tracker to register with)');
  const flag = parseRpcFlag(values.rpc);
  if (flag.kind !== 'tracker') throw new UsageError('rpc-server registers with a tracker: --rpc tracker:HOST:PORT:KEY');
  const agent = await connectCliDevice(values.device, io, { acceptNewHostKey: values['accept-new-host-key'], quiet: false });
  try {
    const server = await startDeviceRpcServer(agent, flag, values.python ?? null);
    io.out(`serving: TVM ${server.tvm} on ${agent.device.name}, registered with tracker ${flag.host}:${flag.port} under key '${flag.key}' (reached here at 127.0.0.1:${server.port}); Ctrl-C stops\n`);
    await new Promise<void>((resolve) => {
      const done = () => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        resolve();
      };
      process.on('SIGINT', done);
      process.on('SIGTERM', done);
      void agent.closed.then(done);
    });
    const sessions = await server.stop().catch(() => null);
    // jetbench's builds check their module on their own device's server: every session a build
    // opened here measured one tuning candidate.
    io.out(sessions === null ? 'stopped (the connection to the device had ended)\n' : `stopped: served ${sessions} RPC session${sessions === 1 ? '' : 's'} (a build through the tracker opens one per tuning candidate measured here)\n`);
    return EXIT_OK;
  } finally {
    await agent.dispose();
  }
}
