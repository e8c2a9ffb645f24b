// The logic under issue 18 item 8's faults, without processes: run ids from odd model names, the
// queue's withdraw and bounded updates, lock holders identified by start time, long timers,
// journal records checked on recovery, a failed pipeline's text.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { longTimeout } from '../../device-agent/src/daemon';
import { JobCancelledError } from '../../device-agent/src/errors';
import { JobQueue, QUEUE_JOBS_SENT, QUEUE_NOTIFY_MS } from '../../device-agent/src/jobQueue';
import { acquireMeasureLock, LockWaitAbandoned } from '../../device-agent/src/measureLock';
import { holderAlive, selfHolder, tryLock } from '../../device-agent/src/pidLock';
import type { QueueState, RunFile } from '../../contract/protocol';
import { newRunId } from '../../contract/runId';
import { recoverInterruptedRuns } from '../../device-agent/src/runJournal';
import { isSafeRunId } from '../../contract/runId';
import { formatPipelineTable } from '../../src/cli/pipeline';
import { fakeRun } from '../helpers/fakeRun';

const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), prefix));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('run ids from odd model file names are safe file names', () => {
  for (const model of ['a..b.onnx', '/models/..hidden..onnx', 'x/...onnx', 'weird name (v2)..final.onnx']) {
    const id = newRunId({ model, backend: 'onnxruntime', precision: 'fp32' });
    assert.ok(isSafeRunId(id), `${model} -> ${id}`);
  }
});

test('a queued job withdrawn never runs; the running one goes on', async () => {
  const queue = new JobQueue();
  let release: () => void = () => undefined;
  const ran: string[] = [];
  const first = queue.run(async () => {
    ran.push('first');
    await new Promise<void>((r) => (release = r));
  }, { kind: 'run', runId: 'a', title: 'a', client: 't' });
  const second = queue.run(async () => void ran.push('second'), { kind: 'run', runId: 'b', title: 'b', client: 't' });
  await sleep(10);
  assert.equal(queue.withdraw('a'), false, 'a running job is not withdrawn');
  assert.equal(queue.withdraw('b'), true);
  assert.deepEqual(queue.state().jobs.map((j) => j.runId), ['a']);
  release();
  await first;
  await assert.rejects(second, JobCancelledError);
  assert.deepEqual(ran, ['first']);
  assert.equal(queue.busy, false);
});

test('queue updates are coalesced and bounded, and the last state always arrives', async () => {
  const queue = new JobQueue();
  const updates: QueueState[] = [];
  queue.onChange((q) => updates.push(q));
  let release: () => void = () => undefined;
  const blocker = new Promise<void>((r) => (release = r));
  const jobs = Array.from({ length: 1000 }, (_, i) => queue.run(() => blocker, { kind: 'run', runId: `r${i}`, title: 't', client: 'c' }));
  await sleep(QUEUE_NOTIFY_MS * 2);
  assert.ok(updates.length <= 3, `${updates.length} updates for 1000 submissions`);
  assert.ok(updates.every((q) => q.jobs.length <= QUEUE_JOBS_SENT));
  assert.equal(updates[updates.length - 1]!.total, 1000);
  release();
  await Promise.all(jobs);
  await sleep(QUEUE_NOTIFY_MS * 2);
  assert.deepEqual(updates[updates.length - 1], { jobs: [], total: 0 });
});

test('a job waits for the machine, saying so; withdrawn while waiting, it ends at once', async () => {
  const file = path.join(tmp('jetbench-lock-'), 'measure.lock');
  const held = await acquireMeasureLock({ file });
  const queue = new JobQueue((o) => acquireMeasureLock({ file, onWait: o.onWait, isAbandoned: o.isAbandoned }));
  const waits: string[] = [];
  const job = queue.run(async () => 'ran', { kind: 'run', runId: 'w', title: 'w', client: 'c' }, (m) => waits.push(m));
  await sleep(150);
  assert.match(waits[0] ?? '', new RegExp(`waiting for another jetbench job measuring on this machine \\(process ${process.pid}`));
  assert.equal(queue.withdraw('w'), true);
  await assert.rejects(job, (e: Error) => e instanceof JobCancelledError && /waited for the machine/.test(e.message));
  // Released, the lock is free for the next job.
  held();
  const next = queue.run(async () => 'ran', { kind: 'run', runId: 'n', title: 'n', client: 'c' });
  assert.equal(await next, 'ran');
  await assert.rejects(acquireMeasureLock({ file, isAbandoned: () => true }), LockWaitAbandoned);
});

test("a lock holder is its pid and start time: a reused pid or a dead one is stale", async () => {
  const me = selfHolder();
  assert.ok(holderAlive(me));
  if (me.startTicks !== null) assert.equal(holderAlive({ pid: me.pid, startTicks: me.startTicks + 1 }), false, 'same pid, another start: another process');
  const dir = tmp('jetbench-lock-');
  const lock = path.join(dir, 'agent.lock');
  // An old-format lock (pid only) naming a live process that is not an agent daemon, and one with
  // a start time that does not match: both are taken over.
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await sleep(20);
    writeFileSync(lock, `${other.pid}\n`);
    assert.deepEqual(tryLock(lock), { held: true });
  } finally {
    other.kill();
  }
  assert.deepEqual(tryLock(lock), { held: false, holder: me }, 'a live holder keeps its lock');
  writeFileSync(lock, `${process.pid} 1\n`);
  assert.deepEqual(tryLock(lock), { held: true });
});

test('a timer longer than setTimeout allows does not fire at once', async () => {
  let fired = false;
  const cancel = longTimeout(() => (fired = true), 35_792 * 60_000);
  await sleep(30);
  cancel();
  assert.equal(fired, false);
  let short = false;
  longTimeout(() => (short = true), 5);
  await sleep(30);
  assert.equal(short, true);
});

test('journal records are checked on recovery: bad ones skipped, a foreign run id refused', () => {
  const dir = tmp('jetbench-runs-');
  const head = (id: string) => ({ t: 'prepared', pid: 4242, run: { ...fakeRun({ id, latencyMs: [] }), samples: undefined } });
  writeFileSync(
    path.join(dir, 'ok.jsonl'),
    [
      head('ok'),
      { t: 'samples', phase: 'measure', offset: 0, latencyMs: [1, 2] },
      { t: 'samples', phase: 'measure', offset: 2, latencyMs: 'xyz' },
      { t: 'samples', phase: 'measure', offset: -1, latencyMs: [9] },
      { t: 'samples', phase: 'sideways', offset: 2, latencyMs: [9] },
      { t: 'samples', phase: 'measure', offset: 2, latencyMs: [3] },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  // A journal whose header names another run would write that run's file (here outside runs/).
  writeFileSync(path.join(dir, 'esc.jsonl'), JSON.stringify(head('../escape')) + '\n');
  writeFileSync(path.join(dir, 'null.jsonl'), JSON.stringify({ t: 'prepared', pid: 1, run: null }) + '\n');
  assert.deepEqual(recoverInterruptedRuns(dir, new Set()), ['ok']);
  const run = JSON.parse(readFileSync(path.join(dir, 'ok.json'), 'utf8')) as RunFile;
  assert.deepEqual(run.samples.latencyMs, [1, 2, 3]);
  assert.match(run.error!, /3 damaged journal record\(s\) skipped/);
  assert.ok(!existsSync(path.join(path.dirname(dir), 'escape.json')));
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.json')), ['ok.json']);
});

test('a pipeline that failed after it started shows its error and what it measured', () => {
  const run: RunFile = { ...fakeRun({ id: 'p', latencyMs: [3, 4, 5], status: 'failed' }), error: 'the run failed after it started: the native worker crashed (SIGKILL)' };
  const text = formatPipelineTable(run);
  assert.doesNotMatch(text, /not a pipeline run/);
  assert.match(text, /failed/);
  assert.match(text, /FAILED: .*native worker crashed \(SIGKILL\)/);
  assert.match(text, /3 frame\(s\) measured before it ended/);
});

test('a request written to an agent that is gone: no unhandled rejection (the CLI would die with a raw ERR_STREAM_DESTROYED stack); the request is rejected when the connection is disposed', async () => {
  const { PassThrough } = await import('node:stream');
  const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = await import('vscode-jsonrpc/node');
  const { toleratingWriter } = await import('../../src/core/transport');
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const agentStdin = new PassThrough();
    agentStdin.on('error', () => undefined);
    agentStdin.destroy(); // the agent was killed: its stdin is destroyed
    const connection = createMessageConnection(new StreamMessageReader(new PassThrough()), new StreamMessageWriter(toleratingWriter(agentStdin)));
    connection.listen();
    const answer = connection.sendRequest('shutdown').then(
      () => 'answered',
      (e: Error) => e.message,
    );
    const notified = connection.sendNotification('exit').then(
      () => 'sent',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 50));
    connection.dispose();
    assert.match(await answer, /disposed/);
    assert.equal(await notified, 'sent');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
