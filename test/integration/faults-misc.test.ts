// What must hold under the smaller faults of issue 18 item 8, on the real CLI, agent and daemon:
// two local runs never measure at once; a queued run cancels at once; queue updates stay small
// whatever the queue's length; the daemon's lock survives a reused pid, its start-up race, a home
// path too long for a unix socket and a huge idle time; odd model names run; a folder of run files
// with other JSON in it is reported.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc';
import {
  AgentErrorCode,
  CancelRunRequest,
  QueueChangedNotification,
  RunRequest,
  type QueueState,
  type RunFile,
  type RunSpec,
} from '../../contract/protocol';
import { connectAgent, type AgentConnection } from '../../src/core/agentConnection';
import { ctrlC, ROOT, runCli, scratchDir, TEST_CACHE_DIR } from '../helpers/cli';
import { fakeRun } from '../helpers/fakeRun';

const AGENT = path.join(ROOT, 'dist', 'agent.js');

const spec: RunSpec = {
  device: 'local', model: 'tiny', backend: 'onnxruntime', precision: 'fp32', warmup: 2, warmupMs: 0,
  iterations: 5, durationS: 0, threads: 1, inputShape: null, opset: 13, label: null,
};

/** Every test gets its own runtime directory: the machine-wide measuring lock lives there, and
 * nothing outside this file's processes should wait on (or for) it. */
function isolatedEnv(): Record<string, string> {
  const runtime = scratchDir('jetbench-runtime-');
  return { XDG_RUNTIME_DIR: runtime, JETBENCH_CACHE_DIR: TEST_CACHE_DIR };
}

const daemonPids = new Set<number>();
after(() => {
  for (const pid of daemonPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

interface DaemonStatus {
  state: 'started' | 'running';
  pid: number;
  socket: string;
}

/** `agent.js daemon --ensure`: what it printed and its stderr, after it exits. */
function ensureDaemon(home: string, env: Record<string, string>, idleMinutes = 5): Promise<{ status: DaemonStatus; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT, 'daemon', '--ensure', '--home', home, '--idle-minutes', String(idleMinutes)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const status = JSON.parse(out.trim().split('\n').pop() ?? '') as DaemonStatus;
        daemonPids.add(status.pid);
        resolve({ status, stderr: err, code });
      } catch {
        reject(new Error(`daemon --ensure printed no status (exit ${code}): ${out}${err}`));
      }
    });
  });
}

/** A client on the daemon's socket; `bytes` counts what the daemon sent it. */
async function connectSocket(socketPath: string, client: string): Promise<AgentConnection & { bytes(): number }> {
  const socket = net.createConnection(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const conn = await connectAgent({ reader: socket, writer: socket, close: async () => void socket.destroy(), closed, describe: `daemon at ${socketPath}` }, { client });
  return { ...conn, bytes: () => received };
}

function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('measuring on one machine', () => {
  test('two local benches at once measure one after the other; the second says whom it waits for', async () => {
    const cwd = scratchDir();
    const env = isolatedEnv();
    // The first measures long enough for the second CLI to start (agent, model) while it holds the
    // machine, even on a loaded 2-core CI runner.
    const args = (out: string, seconds: number) => ['bench', '--device', 'local', '--model', 'tiny', '--warmup', '2', '--iterations', '1', '--duration-s', String(seconds), '--threads', '1', '--out', out];
    let firstMeasuring: () => void = () => undefined;
    const measuring = new Promise<void>((resolve) => (firstMeasuring = resolve));
    const first = runCli(args('a.json', 8), { cwd, env, onStderr: (t) => /measuring/.test(t) && firstMeasuring() });
    await measuring;
    // A backend this machine cannot run is said at once, not after waiting behind the first.
    const noPython = await runCli([...args('c.json', 1), '--backend', 'tvm', '--python', path.join(cwd, 'no-such-python')], { cwd, env });
    assert.notEqual(noPython.code, 0);
    assert.match(noPython.stderr, /backend tvm is not available on this device/);
    assert.doesNotMatch(noPython.stderr, /waiting for another jetbench job/);
    const second = await runCli(args('b.json', 1), { cwd, env });
    const firstDone = await first;
    assert.equal(firstDone.code, 0, firstDone.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /waiting for another jetbench job measuring on this machine \(process \d+/);
    const a = JSON.parse(readFileSync(path.join(cwd, 'a.json'), 'utf8')) as RunFile;
    const b = JSON.parse(readFileSync(path.join(cwd, 'b.json'), 'utf8')) as RunFile;
    // The second run started (loaded its model, measured) only after the first had ended.
    assert.ok(Date.parse(b.createdAt) >= Date.parse(a.finishedAt), `overlap: a ${a.createdAt}..${a.finishedAt}, b ${b.createdAt}..${b.finishedAt}`);
  });

  test('Ctrl-C on a bench waiting for the machine ends it at once, nothing measured', async () => {
    const cwd = scratchDir();
    const env = isolatedEnv();
    const args = (out: string, seconds: string) => ['bench', '--device', 'local', '--model', 'tiny', '--warmup', '0', '--iterations', '1', '--duration-s', seconds, '--threads', '1', '--out', out];
    let firstMeasuring: () => void = () => undefined;
    const measuring = new Promise<void>((resolve) => (firstMeasuring = resolve));
    const first = runCli(args('a.json', '4'), { cwd, env, onStderr: (t) => /measuring/.test(t) && firstMeasuring() });
    await measuring;
    let interruptedAt = 0;
    const second = await runCli(args('b.json', '1'), {
      cwd,
      env,
      onStderr: (t, child) => {
        if (!interruptedAt && /waiting for another jetbench job/.test(t)) {
          interruptedAt = Date.now();
          ctrlC(child);
        }
      },
    });
    const waitedMs = Date.now() - interruptedAt;
    assert.equal(second.code, 130, second.stderr);
    assert.match(second.stderr, /cancelled.*nothing was measured/);
    assert.ok(waitedMs < 3000, `the cancelled bench took ${waitedMs} ms to end (the other measures for 4 s)`);
    assert.ok(!existsSync(path.join(cwd, 'b.json')));
    assert.equal((await first).code, 0);
  });
});

describe('the daemon', () => {
  test('a queued run cancels at once, while the running one goes on', async () => {
    const env = isolatedEnv();
    const { status } = await ensureDaemon(scratchDir('jetbench-home-'), env);
    const a = await connectSocket(status.socket, 'client-a');
    const b = await connectSocket(status.socket, 'client-b');
    try {
      const seen: QueueState[] = [];
      const queueShows = (ok: (q: QueueState) => boolean) =>
        new Promise<void>((resolve) => {
          const check = () => (seen.some(ok) ? resolve() : setTimeout(check, 20));
          check();
        });
      b.connection.onNotification(QueueChangedNotification, (q) => seen.push(q));
      const runA = a.connection.sendRequest(RunRequest, { spec: { ...spec, iterations: 1, durationS: 3 }, runId: 'q-a' });
      await queueShows((q) => q.jobs.some((j) => j.runId === 'q-a' && j.state === 'running'));
      const cancel = new CancellationTokenSource();
      const runB = b.connection.sendRequest(RunRequest, { spec, runId: 'q-b' }, cancel.token);
      // (vscode-jsonrpc drops a $/cancelRequest that arrives with its request, before dispatch.)
      await queueShows((q) => q.jobs.some((j) => j.runId === 'q-b' && j.state === 'queued'));
      const started = Date.now();
      cancel.cancel();
      await assert.rejects(runB, (e: unknown) => e instanceof ResponseError && e.code === AgentErrorCode.Cancelled && /before it started.*nothing was measured/.test(e.message));
      const tookMs = Date.now() - started;
      assert.ok(tookMs < 1500, `cancelling the queued run took ${tookMs} ms (it waited for the running one)`);
      assert.equal((await runA).status, 'ok');
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  test('queue updates stay small: 300 queued runs do not flood an idle client', async () => {
    const env = isolatedEnv();
    const { status } = await ensureDaemon(scratchDir('jetbench-home-'), env);
    const busy = await connectSocket(status.socket, 'busy');
    const idle = await connectSocket(status.socket, 'idle');
    const QUEUED = 300;
    try {
      const seen: QueueState[] = [];
      let all: () => void = () => undefined;
      const allQueued = new Promise<void>((resolve) => (all = resolve));
      idle.connection.onNotification(QueueChangedNotification, (q) => {
        seen.push(q);
        if ((q.total ?? q.jobs.length) === QUEUED + 1) all();
      });
      const bytesBefore = idle.bytes();
      const long = busy.connection.sendRequest(RunRequest, { spec: { ...spec, iterations: 1, durationS: 3 }, runId: 'flood-0' });
      const queued = Array.from({ length: QUEUED }, (_, i) => busy.connection.sendRequest(RunRequest, { spec, runId: `flood-${i + 1}` }).catch((e: unknown) => e));
      await allQueued;
      const bytes = idle.bytes() - bytesBefore;
      // Every job in every update would be ~QUEUED^2/2 jobs of ~200 bytes: megabytes.
      assert.ok(bytes < 300_000, `an idle client received ${bytes} bytes of queue updates for ${QUEUED} queued runs`);
      assert.ok(seen.every((q) => q.jobs.length <= 50), `updates carry at most 50 jobs (got ${Math.max(...seen.map((q) => q.jobs.length))})`);
      const last = seen[seen.length - 1]!;
      assert.equal(last.jobs[0]!.runId, 'flood-0', 'the running job comes first');
      // Withdrawing the queued runs is immediate too.
      await Promise.all(Array.from({ length: QUEUED }, (_, i) => busy.connection.sendRequest(CancelRunRequest, { runId: `flood-${i + 1}` })));
      const outcomes = await Promise.all(queued);
      assert.ok(outcomes.every((e) => e instanceof ResponseError && e.code === AgentErrorCode.Cancelled));
      assert.equal((await long).status, 'ok');
    } finally {
      await busy.dispose();
      await idle.dispose();
    }
  });

  test("a stale agent.lock whose pid now belongs to another process does not block the home", async () => {
    const env = isolatedEnv();
    const home = scratchDir('jetbench-home-');
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      // What a dead daemon leaves, its pid since given to an unrelated, live process.
      writeFileSync(path.join(home, 'agent.lock'), `${other.pid}\n`);
      const { status } = await ensureDaemon(home, env);
      assert.equal(status.state, 'started');
      assert.notEqual(status.pid, other.pid);
      const client = await connectSocket(status.socket, 'after-stale-lock');
      assert.equal(client.agent.pid, status.pid);
      await client.dispose();
    } finally {
      other.kill();
    }
  });

  test('starters racing a daemon that is still starting answer only once its socket is open', async () => {
    const env = isolatedEnv();
    const home = scratchDir('jetbench-home-');
    // A daemon recovering a big interrupted run takes a while between its lock and its socket.
    mkdirSync(path.join(home, 'runs'), { recursive: true, mode: 0o700 });
    const prepared = fakeRun({ id: 'slow-recovery', latencyMs: [] });
    const lines = [JSON.stringify({ t: 'prepared', pid: 999_999, run: prepared })];
    const chunk = Array.from({ length: 20_000 }, (_, i) => 1 + (i % 7) / 10);
    for (let i = 0; i < 100; i++) lines.push(JSON.stringify({ t: 'samples', phase: 'measure', offset: i * chunk.length, latencyMs: chunk }));
    writeFileSync(path.join(home, 'runs', 'slow-recovery.jsonl'), lines.join('\n') + '\n');
    const connectable = async (socketPath: string) =>
      new Promise<boolean>((resolve) => {
        const s = net.createConnection(socketPath);
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
    const results = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const { status } = await ensureDaemon(home, env);
        return { status, connectable: await connectable(status.socket) };
      }),
    );
    assert.equal(new Set(results.map((r) => r.status.pid)).size, 1, 'one daemon serves the home');
    assert.deepEqual(results.map((r) => r.connectable), [true, true, true, true], JSON.stringify(results.map((r) => r.status.state)));
  });

  test('an agent home too long for a unix socket gets a short socket, and says so', async () => {
    const env = isolatedEnv();
    const home = path.join(scratchDir('jetbench-home-'), 'a-rather-long-directory-name-for-an-agent-home'.repeat(2), 'jetbench');
    const inHome = path.join(home, 'agent.sock');
    assert.ok(Buffer.byteLength(inHome) > 107, inHome);
    const { status, stderr } = await ensureDaemon(home, env);
    assert.equal(status.state, 'started');
    assert.ok(Buffer.byteLength(status.socket) <= 107, status.socket);
    assert.match(stderr, /too long for a unix socket.*its socket is /);
    // Nothing bound where a cut-short path would have put it.
    assert.ok(!existsSync(Buffer.from(inHome).subarray(0, 107).toString()), 'no socket at the truncated path');
    const client = await connectSocket(status.socket, 'long-home');
    assert.equal(client.agent.pid, status.pid);
    await client.dispose();
    // The next starter finds the same daemon through the same short path.
    const again = await ensureDaemon(home, env);
    assert.deepEqual([again.status.state, again.status.pid, again.status.socket], ['running', status.pid, status.socket]);
  });

  test('an idle time beyond setTimeout\'s range keeps the daemon up', async () => {
    const env = isolatedEnv();
    const { status } = await ensureDaemon(scratchDir('jetbench-home-'), env, 40_000);
    assert.equal(status.state, 'started');
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(processRunning(status.pid), 'the daemon exited at once (idle timer overflowed)');
  });
});

describe('names and folders', () => {
  test('a model file named a..b.onnx runs', async () => {
    const cwd = scratchDir();
    const env = isolatedEnv();
    const gen = await runCli(['models', 'generate', 'tiny', '--out', 'a..b.onnx'], { cwd, env });
    assert.equal(gen.code, 0, gen.stderr);
    const r = await runCli(['bench', '--device', 'local', '--model', path.join(cwd, 'a..b.onnx'), '--warmup', '1', '--iterations', '3', '--json'], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { id: string; file: string; status: string };
    assert.equal(summary.status, 'ok');
    assert.ok(!summary.id.includes('..'), summary.id);
    assert.ok(existsSync(summary.file));
  });

  test('report and compare on a folder skip JSON that is not a run, and say so', async () => {
    const cwd = scratchDir();
    const dir = path.join(cwd, 'results');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify(fakeRun({ id: 'run-a', latencyMs: [1, 2, 3], label: 'first' })));
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify(fakeRun({ id: 'run-b', latencyMs: [2, 3, 4], label: 'second' })));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ editor: 'settings' }));
    const report = await runCli(['report', 'results', '--format', 'csv'], { cwd });
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /run-a/);
    assert.match(report.stdout, /run-b/);
    assert.match(report.stderr, /skipped results\/config\.json: .*not a jetbench run file/);
    const compare = await runCli(['compare', 'results'], { cwd });
    assert.equal(compare.code, 0, compare.stderr);
    assert.match(compare.stderr, /skipped results\/config\.json/);
    // A file named on the command line must be a run: that is still an error.
    const named = await runCli(['report', 'results/config.json'], { cwd });
    assert.equal(named.code, 1);
    assert.match(named.stderr, /not a jetbench run file/);
  });
});
