// Benchmarks on a real SSH device (OpenSSH sshd on loopback, a non-root test user): a run over SSH
// with paths that need quoting; the connection cut mid-run (sshd's session processes killed) and the
// run re-attached whole; the agent daemon killed mid-run (the run kept as failed with its samples);
// two clients at once on one queue; the daemon outliving its client, then exiting when idle; the
// stdio bridge when stream-local forwarding is off; a device behind a ProxyJump host.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AttachRunRequest,
  ListRunsRequest,
  QueueChangedNotification,
  SamplesNotification,
  type QueueState,
  type RunFile,
  type RunSpec,
} from '../../contract/protocol';
import { connectAgent, connectDeviceAgent, openDeviceStreams, type DeviceConnection } from '../../src/core/agentConnection';
import { resolveDevice, type SshDevice } from '../../src/core/devices';
import { runOnAgent, StreamedSamples } from '../../src/core/runClient';
import type { SshHooks } from '../../src/core/sshSession';
import { ROOT, runCli, scratchDir } from '../helpers/cli';
import { microModel } from '../helpers/convChain';
import { readRun } from '../helpers/runFile';
import { processRunning, SSH_TEST_USER, sshUnavailableReason, sshWorkspace, TestSshd } from '../helpers/sshd';

const unavailable = sshUnavailableReason();
if (unavailable) console.log(`SKIPPED: ${unavailable}`);

const spec: RunSpec = {
  device: 'board', model: 'tiny', backend: 'onnxruntime', precision: 'fp32', warmup: 3, warmupMs: 0,
  iterations: 40, durationS: 0, threads: 1, inputShape: null, opset: 13, label: 'ssh test',
};

const hooks: SshHooks = { verifyHostKey: async () => false, passphrase: async () => undefined };

function deviceRun(sshd: TestSshd, agentHome: string, runId: string): RunFile {
  return JSON.parse(readFileSync(path.join(sshd.deviceHome, agentHome, 'runs', `${runId}.json`), 'utf8')) as RunFile;
}

function runFileOf(cwd: string): RunFile {
  const dir = path.join(cwd, '.jetbench', 'runs');
  const [name] = readdirSync(dir);
  return readRun(path.join(dir, name!));
}

/** Resolves once `predicate` holds; checks whenever `check` is called and on a short timer,
 * failing after `timeoutMs` (for state on the device that sends no event: a process ending). */
function waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 100);
    };
    tick();
  });
}

describe('benchmarks over SSH', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  before(async () => {
    sshd = await TestSshd.start();
  });
  after(async () => {
    await sshd?.dispose();
  });

  test('a model path and an agent home with spaces, quotes, $() and non-ASCII work, and nothing runs', async () => {
    const agentHome = `.jetbench odd 'q' "d" $(touch PWNED1) \`touch PWNED2\` ü`;
    const ws = sshWorkspace(sshd, { devices: [{ name: 'odd', host: 'jetbench-dev', agentHome, agentIdleMinutes: 0.5 }] });
    const local = path.join(scratchDir(), 'tiny.onnx');
    assert.equal((await runCli(['models', 'generate', 'tiny', '--out', local])).code, 0);
    const modelDir = path.join(sshd.deviceHome, `models it's "x" $(touch PWNED3) ü`);
    const model = path.join(modelDir, 'tiny `touch PWNED4` ;$HOME.onnx');
    mkdirSync(modelDir);
    writeFileSync(model, readFileSync(local));
    spawnSync('chown', ['-R', `${SSH_TEST_USER}:`, modelDir]);

    const r = await runCli(['bench', '--device', 'odd', '--model', model, '--warmup', '2', '--iterations', '30', '--threads', '1'], { cwd: ws.cwd, env: ws.env });
    assert.equal(r.code, 0, r.stderr);
    const run = runFileOf(ws.cwd);
    assert.equal(run.status, 'ok');
    assert.equal(run.model.path, model);
    assert.equal(run.samples.latencyMs.length, 30);
    assert.ok(existsSync(path.join(sshd.deviceHome, agentHome, 'agent.sock')), 'the daemon runs in the odd agent home');
    const pwned = spawnSync('find', [sshd.dir, '-name', 'PWNED*'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(pwned, '', 'no part of a path was run by a shell');

    // The device kept the run: listed, and fetched back identical.
    const list = await runCli(['runs', '--device', 'odd', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(list.code, 0, list.stderr);
    const runs = JSON.parse(list.stdout) as Array<{ id: string; state: string; measureCount: number }>;
    assert.deepEqual(runs.map((x) => [x.id, x.state, x.measureCount]), [[run.id, 'ok', 30]]);
    const table = await runCli(['runs', '--device', 'odd'], { cwd: ws.cwd, env: ws.env });
    assert.match(table.stdout, new RegExp(`${run.id}\\s+ok`));
    const out = path.join(scratchDir(), 'fetched.json');
    const fetched = await runCli(['fetch', '--device', 'odd', run.id, '--out', out], { cwd: ws.cwd, env: ws.env });
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.deepEqual(readRun(out).samples, run.samples);
    const missing = await runCli(['fetch', '--device', 'odd', 'no-such-run'], { cwd: ws.cwd, env: ws.env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /run 'no-such-run' is not on this device/);
  });

  test('a connection cut mid-run is re-established and the whole run arrives, nothing twice', async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'board', host: 'jetbench-dev', agentHome: '.jb-cut', agentIdleMinutes: 0.5 }] });
    let cutAt = -1;
    const r = await runCli(['bench', '--device', 'board', '--model', 'tiny', '--warmup', '3', '--iterations', '400', '--threads', '1'], {
      cwd: ws.cwd,
      env: ws.env,
      onStderr: (text) => {
        const m = /measuring: (\d+)\/400/.exec(text);
        if (cutAt < 0 && m && Number(m[1]) >= 40) {
          cutAt = Number(m[1]);
          // Kill the SSH server's processes of this session: the TCP connection drops.
          for (const pid of sshd.sessionPids()) process.kill(pid, 'SIGKILL');
        }
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(cutAt >= 40, 'the connection was cut during the measurement');
    assert.match(r.stderr, /connection to board lost .*reconnecting \(attempt 1\)/);
    const held = /re-attached to run \S+: (\d+) warm-up and (\d+) measured samples held/.exec(r.stderr);
    assert.ok(held, r.stderr);
    assert.ok(Number(held[2]) > 0 && Number(held[2]) < 400, `held ${held[2]} after a cut at ${cutAt}`);
    const run = runFileOf(ws.cwd);
    assert.equal(run.status, 'ok');
    assert.equal(run.samples.latencyMs.length, 400);
    assert.equal(run.samples.warmupLatencyMs.length, 3);
    // What the client wrote is exactly what the device measured and kept.
    assert.deepEqual(run.samples, deviceRun(sshd, '.jb-cut', run.id).samples);
  });

  test('a million-sample run survives a cut connection and a fetch --wait that joins mid-run', async () => {
    // A microsecond model: a million samples in seconds. Joining late means receiving the samples
    // so far as one batch (hundreds of thousands), which once overflowed the stack (issue 18 item 5).
    const ws = sshWorkspace(sshd, { devices: [{ name: 'board', host: 'jetbench-dev', agentHome: '.jb-big', agentIdleMinutes: 0.5 }] });
    const model = path.join(sshd.deviceHome, 'micro.onnx');
    microModel(model);
    spawnSync('chown', [`${SSH_TEST_USER}:`, model]);
    const n = 1_000_000;
    let cutAt = -1;
    let fetchedLate: Promise<Awaited<ReturnType<typeof runCli>>> | null = null;
    const fetchedFile = path.join(scratchDir(), 'fetched-big.json');
    const r = await runCli(['bench', '--device', 'board', '--model', model, '--warmup', '1', '--iterations', String(n), '--threads', '1'], {
      cwd: ws.cwd,
      env: ws.env,
      onStderr: (text, child) => {
        const m = /measuring: (\d+)\/1000000/.exec(text);
        if (cutAt < 0 && m && Number(m[1]) >= 200_000) {
          cutAt = Number(m[1]);
          for (const pid of sshd.sessionPids()) process.kill(pid, 'SIGKILL');
          // The client stays away for 3 s while the device measures on (~100k samples a second
          // here): its re-attach is sent the samples it missed as one batch of 100,000s.
          process.kill(child.pid!, 'SIGSTOP');
          setTimeout(() => process.kill(child.pid!, 'SIGCONT'), 3000);
          // A second client joins the run while it goes on: it is sent every sample so far at once.
          fetchedLate = (async () => {
            const list = await runCli(['runs', '--device', 'board', '--json'], { cwd: ws.cwd, env: ws.env });
            const live = (JSON.parse(list.stdout) as Array<{ id: string; state: string }>).find((x) => x.state === 'running');
            assert.ok(live, `a running run is listed: ${list.stdout}${list.stderr}`);
            return runCli(['fetch', '--device', 'board', live.id, '--wait', '--out', fetchedFile], { cwd: ws.cwd, env: ws.env });
          })();
        }
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(cutAt >= 200_000, 'the connection was cut during the measurement');
    const held = /re-attached to run \S+: (\d+) warm-up and (\d+) measured samples held/.exec(r.stderr);
    // The client holds what had streamed to it (a little behind the device's progress line):
    // well past the ~125k where spreading arrays overflowed the stack.
    assert.ok(held && Number(held[2]) >= 150_000 && Number(held[2]) < n, r.stderr);
    const run = runFileOf(ws.cwd);
    assert.equal(run.status, 'ok');
    assert.equal(run.samples.latencyMs.length, n);
    assert.equal(run.stats!.count, n);
    assert.deepEqual(run.samples, deviceRun(sshd, '.jb-big', run.id).samples);
    const fetched = await fetchedLate!;
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.deepEqual(readRun(fetchedFile).samples, run.samples);
    // Attaching to the finished run cuts its million samples back into batches on the device.
    const again = await runCli(['fetch', '--device', 'board', run.id, '--wait', '--out', fetchedFile], { cwd: ws.cwd, env: ws.env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(readRun(fetchedFile).samples, run.samples);
  });

  test('the agent killed mid-run: the run is kept as failed with the samples measured', async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'board', host: 'jetbench-dev', agentHome: '.jb-kill', agentIdleMinutes: 0.5 }] });
    let killedAt = -1;
    let killed = 0;
    const r = await runCli(['bench', '--device', 'board', '--model', 'tiny', '--warmup', '3', '--iterations', '100000', '--threads', '1'], {
      cwd: ws.cwd,
      env: ws.env,
      onStderr: (text) => {
        if (process.env.JETBENCH_TEST_DEBUG) process.stderr.write(text);
        const m = /measuring: (\d+)\/100000/.exec(text);
        if (killedAt < 0 && m && Number(m[1]) >= 30) {
          killedAt = Number(m[1]);
          const daemons = sshd.daemonPids().filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('.jb-kill'));
          for (const pid of daemons) process.kill(pid, 'SIGKILL');
          killed = daemons.length;
        }
      },
    });
    assert.equal(killed, 1, 'one daemon served the agent home');
    assert.equal(r.code, 1, r.stderr);
    const run = runFileOf(ws.cwd);
    assert.equal(run.status, 'failed');
    assert.match(run.error!, /the agent \(process \d+\) stopped during the run.* measured samples taken before are kept/);
    // The client re-attached holding the samples streamed before the kill; the device kept at
    // least those (it journals a batch before sending it).
    const held = /re-attached to run \S+: (\d+) warm-up and (\d+) measured samples held/.exec(r.stderr);
    assert.ok(held, r.stderr);
    assert.ok(Number(held[2]) > 0 && run.samples.latencyMs.length >= Number(held[2]), `${run.samples.latencyMs.length} kept, ${held[2]} held`);
    assert.match(r.stdout + r.stderr, /failed/);
    assert.equal(run.stats!.count, run.samples.latencyMs.length);
    assert.deepEqual(run.samples, deviceRun(sshd, '.jb-kill', run.id).samples);
  });
});

describe('the agent daemon', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  let ws: ReturnType<typeof sshWorkspace>;
  before(async () => {
    sshd = await TestSshd.start();
    ws = sshWorkspace(sshd, {
      devices: [
        { name: 'shared', host: 'jetbench-dev', agentHome: '.jb-shared', agentIdleMinutes: 5 },
        { name: 'brief', host: 'jetbench-dev', agentHome: '.jb-brief', agentIdleMinutes: 0.05 },
      ],
    });
  });
  after(async () => {
    await sshd?.dispose();
  });

  const connect = (name: string, client: string, sshConfigFile = ws.sshConfigFile) =>
    connectDeviceAgent(name, { cwd: ws.cwd, sshConfigFile, client, hooks, ssh: { knownHostsFiles: [ws.knownHostsFile], agentSocket: null, sshConfigFile } });

  test('two clients at once: both see the queue and both get the results', async () => {
    const a = await connect('shared', 'client-a');
    const b = await connect('shared', 'client-b');
    try {
      assert.equal(a.agent.pid, b.agent.pid, 'one daemon serves both');
      const seenByA: QueueState[] = [];
      const seenByB: QueueState[] = [];
      a.connection.onNotification(QueueChangedNotification, (q) => seenByA.push(q));
      let bSawEmpty: () => void = () => undefined;
      const bSawEmptyQueue = new Promise<void>((resolve) => (bSawEmpty = resolve));
      const bSawA = new Promise<void>((resolve) =>
        b.connection.onNotification(QueueChangedNotification, (q) => {
          seenByB.push(q);
          if (q.jobs.some((j) => j.runId === 'run-a' && j.state === 'running' && j.client === 'client-a')) resolve();
          if (q.jobs.length === 0 && seenByB.some((x) => x.jobs.some((j) => j.runId === 'run-b'))) bSawEmpty();
        }),
      );
      const runA = runOnAgent(a.resumable(), { ...spec, iterations: 250 }, { runId: 'run-a' });
      await bSawA;
      // B follows A's run from the start, and queues a run of its own behind it.
      const followed = new StreamedSamples();
      b.rpc.follow(SamplesNotification, (batch) => {
        if (batch.runId === 'run-a') followed.add(batch);
      });
      const attached = b.connection.sendRequest(AttachRunRequest, { runId: 'run-a', warmupOffset: 0, measureOffset: 0 });
      const runB = runOnAgent(b.resumable(), { ...spec, iterations: 20 }, { runId: 'run-b' });
      const [ra, rb, viaB] = await Promise.all([runA, runB, attached]);
      assert.equal(ra.run.status, 'ok');
      assert.equal(rb.run.status, 'ok');
      assert.deepEqual(viaB.samples, ra.run.samples);
      assert.deepEqual(followed.latencyMs, ra.run.samples.latencyMs);
      assert.equal(followed.gaps, 0);
      // A saw B's run wait behind its own.
      assert.ok(
        seenByA.some((q) => q.jobs.length === 2 && q.jobs[0]!.runId === 'run-a' && q.jobs[1]!.runId === 'run-b' && q.jobs[1]!.state === 'queued' && q.jobs[1]!.client === 'client-b'),
        JSON.stringify(seenByA),
      );
      assert.ok(Date.parse(rb.run.createdAt) >= Date.parse(ra.run.createdAt));
      assert.ok(Date.parse(rb.run.finishedAt) >= Date.parse(ra.run.finishedAt));
      // And B is told when the queue is empty again.
      await bSawEmptyQueue;
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  test('the daemon outlives its client, then exits when idle', async () => {
    const conn = await connect('brief', 'client');
    const pid = conn.agent.pid;
    const { run } = await runOnAgent(conn.resumable(), { ...spec, iterations: 10 }, {});
    assert.equal(run.status, 'ok');
    await conn.dispose();
    // The SSH connection that started the daemon is gone; the daemon is not.
    assert.ok(processRunning(pid), 'the daemon outlives the client and its SSH connection');
    const home = path.join(sshd.deviceHome, '.jb-brief');
    assert.ok(existsSync(path.join(home, 'agent.sock')));
    await waitFor(() => !processRunning(pid), 'the idle daemon to exit');
    const log = readFileSync(path.join(home, 'logs', 'agent.log'), 'utf8');
    assert.match(log, /stopping: idle for 0.05 min/);
    assert.ok(!existsSync(path.join(home, 'agent.sock')) && !existsSync(path.join(home, 'agent.lock')), 'socket and lock removed');
    // Its run stays on the device; a new daemon starts on the next connection and lists it.
    const again = await connect('brief', 'client');
    try {
      assert.notEqual(again.agent.pid, pid);
      const list = await runCli(['runs', '--device', 'brief', '--json'], { cwd: ws.cwd, env: ws.env });
      assert.deepEqual((JSON.parse(list.stdout) as Array<{ id: string }>).map((x) => x.id), [run.id]);
    } finally {
      await again.dispose();
    }
  });

  test('an idle daemon of another deploy is replaced by the new bundle\'s', async () => {
    const first = await connect('shared', 'old');
    const oldPid = first.agent.pid;
    const oldDir = first.agent.agentDir;
    await first.dispose();
    // A rebuilt agent: other bytes, so another content hash and bundle directory.
    const copy = path.join(scratchDir(), 'dist');
    mkdirSync(copy);
    writeFileSync(path.join(copy, 'agent.js'), readFileSync(path.join(ROOT, 'dist', 'agent.js'), 'utf8') + '\n// rebuilt\n');
    spawnSync('cp', ['-r', path.join(ROOT, 'dist', 'python'), copy]);
    spawnSync('cp', ['-r', path.join(ROOT, 'dist', 'workers'), copy]);
    const linkedModules = path.join(path.dirname(copy), 'node_modules');
    spawnSync('ln', ['-s', path.join(ROOT, 'node_modules'), linkedModules]);
    process.env.JETBENCH_AGENT = path.join(copy, 'agent.js');
    try {
      const second = await connect('shared', 'new');
      try {
        assert.notEqual(second.agent.agentDir, oldDir);
        assert.equal(second.agent.agentDir, second.deploy!.agentDir);
        assert.notEqual(second.agent.pid, oldPid);
        // It let go of the lock on its way out; it is gone a moment later.
        await waitFor(() => !processRunning(oldPid), 'the old daemon to exit');
      } finally {
        await second.dispose();
      }
    } finally {
      delete process.env.JETBENCH_AGENT;
    }
  });

  test("streams for the extension's LanguageClient: checked daemon, then the client's own initialize", async () => {
    const device = resolveDevice('shared', { cwd: ws.cwd, sshConfigFile: ws.sshConfigFile });
    const streams = await openDeviceStreams(device, { client: 'vscode', hooks, ssh: { knownHostsFiles: [ws.knownHostsFile], agentSocket: null } });
    // What vscode-languageclient does with a StreamInfo: initialize on it, then speak the protocol.
    const conn = await connectAgent(streams, { client: 'languageclient' });
    try {
      assert.equal(conn.agent.mode, 'daemon');
      const { runs } = await conn.connection.sendRequest(ListRunsRequest);
      assert.ok(runs.some((r) => r.id === 'run-a'), 'the runs of the earlier clients are listed');
    } finally {
      await conn.dispose();
    }
    await streams.closed;
  });

  test('a device behind a ProxyJump host', async () => {
    const jumpConfig = path.join(ws.home, '.ssh', 'config-jump');
    writeFileSync(
      jumpConfig,
      `Host hop\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${SSH_TEST_USER}\n  IdentityFile ${sshd.clientKeyFile}\n` +
        `Host behind\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${SSH_TEST_USER}\n  IdentityFile ${sshd.clientKeyFile}\n  ProxyJump hop\n`,
    );
    const device = resolveDevice('behind', { cwd: ws.cwd, sshConfigFile: jumpConfig }) as SshDevice;
    const logins = () => sshd.logText.match(/Accepted publickey for /g)?.length ?? 0;
    const loginsBefore = logins();
    assert.equal(device.proxyJump, 'hop');
    const conn: DeviceConnection = await connectDeviceAgent({ ...device, agentHome: '.jb-jump', agentIdleMinutes: 0.5 }, {
      cwd: ws.cwd, client: 'jump', hooks, ssh: { knownHostsFiles: [ws.knownHostsFile], agentSocket: null, sshConfigFile: jumpConfig },
    });
    try {
      const { run } = await runOnAgent(conn.rpc, { ...spec, iterations: 5 }, {});
      assert.equal(run.status, 'ok');
    } finally {
      await conn.dispose();
    }
    // Two logins for one connection: the jump host's, then the device's through it.
    assert.equal(logins() - loginsBefore, 2);
  });
});

describe('without stream-local forwarding', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  before(async () => {
    sshd = await TestSshd.start({ extraConfig: ['AllowStreamLocalForwarding no'] });
  });
  after(async () => {
    await sshd?.dispose();
  });

  test("the agent is reached through its stdio bridge (exec 'agent attach')", async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'board', host: 'jetbench-dev', agentIdleMinutes: 0.5 }] });
    const conn = await connectDeviceAgent('board', { cwd: ws.cwd, sshConfigFile: ws.sshConfigFile, client: 'bridge', hooks, ssh: { knownHostsFiles: [ws.knownHostsFile], agentSocket: null } });
    try {
      assert.match(conn.streams.describe, /via ssh \(exec bridge\)/);
      assert.equal(conn.agent.mode, 'daemon');
      const { run } = await runOnAgent(conn.resumable(), { ...spec, iterations: 10 }, {});
      assert.equal(run.status, 'ok');
    } finally {
      await conn.dispose();
    }
  });
});
