// Deploying the agent to a real SSH device (OpenSSH sshd on loopback, a non-root test user), as a
// user does it: `jetbench deploy --device NAME` with the device in .vscode/settings.json and the
// host in ~/.ssh/config. First deploy uploads the bundle atomically; a redeploy uploads nothing; Node
// is found on PATH, in ~/.vscode-server, or uploaded; a target that cannot take the upload fails
// with a message naming the fix.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DeployResult } from '../../src/core/deploy';
import { NODE_RUNTIME_VERSION } from '../../src/core/deployNode';
import { ROOT, runCli } from '../helpers/cli';
import { readRun } from '../helpers/runFile';
import { asTestUser, fileMtimes, SSH_TEST_USER, sshUnavailableReason, sshWorkspace, TestSshd } from '../helpers/sshd';

const unavailable = sshUnavailableReason();
if (unavailable) console.log(`SKIPPED: ${unavailable}`);

function deployJson(stdout: string): DeployResult {
  return JSON.parse(stdout) as DeployResult;
}

describe('deploy over SSH', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  before(async () => {
    sshd = await TestSshd.start();
  });
  after(async () => {
    await sshd?.dispose();
  });

  test('the first deploy uploads the bundle; a redeploy uploads nothing', async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'board', host: 'jetbench-dev', agentIdleMinutes: 0.5 }] });
    const first = await runCli(['deploy', '--device', 'board', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(first.code, 0, first.stderr);
    const d1 = deployJson(first.stdout);
    assert.equal(d1.uploaded, true);
    assert.equal(d1.agentHome, path.join(sshd.deviceHome, '.jetbench'));
    assert.equal(d1.agentDir, path.join(d1.agentHome, 'agent', d1.bundle.hash));
    assert.equal(d1.node.source, 'path');
    assert.equal(d1.node.path, '/usr/bin/node');
    // Owned by the device's user, in a 0700 home; only the device's architecture's binaries.
    const st = statSync(d1.agentHome);
    assert.equal(st.mode & 0o777, 0o700);
    assert.equal(st.uid, Number(spawnSync('id', ['-u', SSH_TEST_USER], { encoding: 'utf8' }).stdout.trim()));
    const bin = path.join(d1.agentDir, 'node_modules/onnxruntime-node/bin/napi-v6/linux');
    assert.deepEqual(readdirSync(bin), ['x64']);
    for (const helper of ['jetbench_tvm.py', 'jetbench_torch.py', 'jetbench_helper.py', 'jetbench_nvml.py']) assert.ok(existsSync(path.join(d1.agentDir, 'python', helper)), helper);
    // No temporary upload directory is left behind.
    assert.deepEqual(readdirSync(path.join(d1.agentHome, 'agent')), [d1.bundle.hash]);
    // The native sources travel with the agent and the device built them (CMake and g++ are there).
    assert.ok(existsSync(path.join(d1.agentDir, 'native', 'CMakeLists.txt')));
    assert.ok(existsSync(path.join(d1.agentDir, 'native', 'node-api', 'include', 'node_api.h')));
    assert.equal(d1.native.status, 'built', d1.native.detail);
    assert.ok(existsSync(path.join(sshd.deviceHome, '.cache', 'jetbench', 'native', d1.native.sourceHash!, 'jetbench_native.node')));
    // The deployed agent runs with the device's Node.
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(asTestUser(`/usr/bin/node ${d1.agentDir}/agent.js version`).trim(), version);

    const before = fileMtimes(d1.agentHome);
    const second = await runCli(['deploy', '--device', 'board', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(second.code, 0, second.stderr);
    const d2 = deployJson(second.stdout);
    assert.equal(d2.uploaded, false);
    assert.equal(d2.bundle.hash, d1.bundle.hash);
    assert.equal(d2.native.status, 'reused');
    assert.deepEqual(fileMtimes(d1.agentHome), before);

    const text = await runCli(['deploy', '--device', 'board'], { cwd: ws.cwd, env: ws.env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`agent ${d1.bundle.hash} is already on ${SSH_TEST_USER}@127.0.0.1:${sshd.port}`));
    assert.match(text.stdout, /node: \/usr\/bin\/node v\d+/);
    assert.match(text.stdout, new RegExp(`native addon: reused: built earlier for sources ${d1.native.sourceHash}`));
  });

  test('a pipeline on the device runs in its native worker, each stage timed, the run copied back', async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'board', host: 'jetbench-dev', agentIdleMinutes: 0.5 }] });
    const out = path.join(ws.cwd, 'pipeline.json');
    const r = await runCli(['pipeline', '--device', 'board', '--model', 'tiny', '--frames', '4', '--warmup', '1', '--frame-count', '2', '--threads', '1', '--quiet', '--out', out], { cwd: ws.cwd, env: ws.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Pipeline conventional, pageable memory/);
    const run = readRun(out);
    assert.equal(run.status, 'ok');
    assert.equal(run.samples.latencyMs.length, 4);
    assert.equal(run.pipeline!.mode, 'conventional');
    // Every stage the run names was timed for every measured frame, on the device.
    for (const stage of run.pipeline!.stages) assert.equal(run.samples.stagesMs![stage.name]!.length, 4, stage.name);
    assert.equal(run.device.hostname, readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    // The device keeps its own copy, with the same samples and stages.
    const kept = JSON.parse(asTestUser(`cat '${path.join(sshd.deviceHome, '.jetbench', 'runs', `${run.id}.json`)}'`)) as typeof run;
    assert.deepEqual(kept.samples, run.samples);
  });

  test('a device that opts out of the native build gets a working agent, and the pipeline says how to get the addon', async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'lean', host: 'jetbench-dev', agentHome: '.jetbench-lean', nativeBuild: 'never' }] });
    // A fresh cache: nothing built for these sources yet.
    asTestUser(`rm -rf '${path.join(sshd.deviceHome, '.cache', 'jetbench', 'native')}'`);
    const d = await runCli(['deploy', '--device', 'lean', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(d.code, 0, d.stderr);
    const result = deployJson(d.stdout);
    assert.equal(result.native.status, 'skipped');
    assert.match(result.native.detail, /nativeBuild is "never" for this device \(the pipeline and the TensorRT backend need it/);
    const r = await runCli(['pipeline', '--device', 'lean', '--model', 'tiny', '--frames', '2', '--warmup', '0', '--quiet', '--out', path.join(ws.cwd, 'p.json')], { cwd: ws.cwd, env: ws.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the native addon is not built .*build it on this device with 'node \S*\/agent\.js build-native'/);
    assert.ok(!existsSync(path.join(ws.cwd, 'p.json')), 'no run file for a run that could not start');
  });

  test('an agent home that cannot be written fails with the fix in the message', async () => {
    // A directory of root's, read-only for the test user.
    const readOnly = path.join(sshd.dir, 'root-owned');
    mkdirSync(readOnly, { mode: 0o755 });
    const ws = sshWorkspace(sshd, { devices: [{ name: 'ro', host: 'jetbench-dev', agentHome: `${readOnly}/jb` }] });
    const r = await runCli(['deploy', '--device', 'ro'], { cwd: ws.cwd, env: ws.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot create the agent home .*root-owned\/jb.*Permission denied.*set the device's agentHome to a writable directory/s);
  });

  test('a full file system is refused before uploading, naming the sizes', async (t) => {
    const small = path.join(sshd.dir, 'small-fs');
    mkdirSync(small);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=4m,uid=${SSH_TEST_USER},mode=0700`, 'tmpfs', small], { encoding: 'utf8' });
    if (mount.status !== 0) {
      // Only a machine that forbids mounts (not CI, which runs as root with mounts) lands here.
      console.log(`SKIPPED: cannot mount a small tmpfs here (${mount.stderr.trim()})`);
      t.skip('no tmpfs mount');
      return;
    }
    try {
      const ws = sshWorkspace(sshd, { devices: [{ name: 'full', host: 'jetbench-dev', agentHome: `${small}/jb` }] });
      const r = await runCli(['deploy', '--device', 'full'], { cwd: ws.cwd, env: ws.env });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not enough space on .* for the agent .* it needs [\d.]+ MB, [\d.]+ MB are free at .*small-fs\/jb: free space there or set the device's agentHome elsewhere/);
      // Refused before anything was written.
      assert.ok(!existsSync(path.join(small, 'jb')));
    } finally {
      spawnSync('umount', ['-l', small]);
    }
  });
});

describe('Node on a device without node on PATH', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  before(async () => {
    sshd = await TestSshd.start({ pathWithoutNode: true });
  });
  after(async () => {
    await sshd?.dispose();
  });

  test("VS Code Server's Node is used, else a Node runtime is uploaded", async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'bare', host: 'jetbench-dev', agentIdleMinutes: 0.5 }] });
    assert.ok(!existsSync(path.join(sshd.dir, 'bin-without-node', 'node')));

    // An old Node on PATH would not do; VS Code Server's Node >= 18 does.
    const server = path.join(sshd.deviceHome, '.vscode-server', 'bin', 'abc123');
    asTestUser(`mkdir -p '${server}' && ln -s /usr/bin/node '${server}/node'`);
    const viaServer = await runCli(['deploy', '--device', 'bare', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(viaServer.code, 0, viaServer.stderr);
    const d1 = deployJson(viaServer.stdout);
    assert.equal(d1.node.source, 'vscode-server');
    assert.equal(d1.node.path, `${server}/node`);

    asTestUser(`rm -rf '${path.join(sshd.deviceHome, '.vscode-server')}'`);
    const uploaded = await runCli(['deploy', '--device', 'bare', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(uploaded.code, 0, uploaded.stderr);
    const d2 = deployJson(uploaded.stdout);
    assert.equal(d2.node.source, 'uploaded');
    assert.equal(d2.nodeUploaded, true);
    assert.equal(d2.uploaded, false, 'the agent bundle itself was there already');
    assert.equal(d2.node.version, `v${NODE_RUNTIME_VERSION}`);
    assert.equal(d2.node.path, path.join(d2.agentHome, 'node', `v${NODE_RUNTIME_VERSION}-linux-x64`, 'bin', 'node'));

    // Next time the uploaded Node is found, and a benchmark runs with it.
    const again = await runCli(['deploy', '--device', 'bare', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(deployJson(again.stdout).node.source, 'uploaded');
    assert.equal(deployJson(again.stdout).nodeUploaded, false);
    const bench = await runCli(['bench', '--device', 'bare', '--model', 'tiny', '--warmup', '2', '--iterations', '10', '--threads', '1', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(bench.code, 0, bench.stderr);
    const summary = JSON.parse(bench.stdout) as { versions: { node: string }; status: string };
    assert.equal(summary.status, 'ok');
    assert.equal(`v${summary.versions.node}`, `v${NODE_RUNTIME_VERSION}`);
  });
});
