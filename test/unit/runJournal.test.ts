// The device's persisted runs: a journal appended as samples are published, turned into the run
// file at the end; an interrupted journal (even with a torn last line) recovered as a failed run
// with its samples; followers of a live run get every batch once from their offsets on.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { RunRegistry } from '../../device-agent/src/liveRuns';
import type { RunFile, RunSpec, SamplesBatch } from '../../contract/protocol';
import type { PreparedRun } from '../../contract/protocol';
import { recoverInterruptedRuns } from '../../device-agent/src/runJournal';
import { StreamedSamples } from '../../src/core/runClient';

const spec: RunSpec = {
  device: 'd', model: 'tiny', backend: 'onnxruntime', precision: 'fp32', warmup: 2, warmupMs: 0,
  iterations: 5, durationS: 0, threads: 1, inputShape: null, opset: 13, label: null,
};

function prepared(id: string): PreparedRun {
  return {
    id, createdAt: '2026-01-01T00:00:00.000Z', spec,
    device: { hostname: 'h', platform: 'linux', osRelease: '6', distro: null, arch: 'x64', cpuModel: 'c', cpuCount: 2, memoryBytes: 1, gpus: [], jetson: null, cpuGovernor: null,
      versions: { agent: 'dev', node: '20', onnxruntime: '1.30.0', cuda: null, tensorrt: null, tvm: null } },
    versions: { agent: 'dev', node: '20', onnxruntime: '1.30.0', cuda: null, tensorrt: null, tvm: null },
    model: { builtin: 'tiny', path: '/m.onnx', sha256: 'a'.repeat(64), bytes: 10, opset: 13, precision: 'fp32', inputs: [], outputs: [] },
    artifact: null,
    timing: { clock: 'c', spans: 's', executionProvider: 'cpu', threads: 1 },
  };
}

const batch = (runId: string, phase: SamplesBatch['phase'], offset: number, latencyMs: number[]): SamplesBatch => ({ runId, phase, offset, latencyMs });

test('a finished run is persisted as one run file and its journal removed', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-runs-'));
  const registry = new RunRegistry(dir);
  const live = registry.begin('r1', spec);
  assert.deepEqual(registry.list().map((r) => [r.id, r.state]), [['r1', 'queued']]);
  registry.prepared(live, prepared('r1'));
  live.publish(batch('r1', 'warmup', 0, [5, 4]));
  live.publish(batch('r1', 'measure', 0, [1, 2, 3]));
  assert.ok(existsSync(path.join(dir, 'r1.jsonl')));
  assert.deepEqual(registry.list().map((r) => [r.id, r.state, r.measureCount]), [['r1', 'running', 3]]);
  const run = { ...prepared('r1'), schemaVersion: 1, finishedAt: 'x', samples: { latencyMs: [1, 2, 3], warmupLatencyMs: [5, 4] }, stats: null, status: 'ok' } as RunFile;
  registry.settle(live, { run });
  assert.deepEqual(await live.done, run);
  assert.deepEqual(readdirSync(dir), ['r1.json']);
  const known = new RunRegistry(dir).find('r1');
  assert.ok(known && 'finished' in known);
  assert.deepEqual(known.finished.samples, run.samples);
  assert.deepEqual(new RunRegistry(dir).list().map((r) => [r.id, r.state, r.measureCount]), [['r1', 'ok', 3]]);
});

test('an interrupted journal becomes a failed run with every sample, a torn last line ignored', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-runs-'));
  const registry = new RunRegistry(dir);
  const live = registry.begin('r2', spec);
  registry.prepared(live, prepared('r2'));
  live.publish(batch('r2', 'warmup', 0, [9]));
  live.publish(batch('r2', 'measure', 0, [1, 2]));
  live.publish(batch('r2', 'measure', 2, [3]));
  live.journal!.close();
  // The agent died in the middle of a write.
  appendFileSync(path.join(dir, 'r2.jsonl'), '{"t":"samples","phase":"measure","offset":3,"latencyMs":[4,');
  assert.deepEqual(recoverInterruptedRuns(dir, new Set()), ['r2']);
  const run = JSON.parse(readFileSync(path.join(dir, 'r2.json'), 'utf8')) as RunFile;
  assert.equal(run.status, 'failed');
  assert.deepEqual(run.samples, { latencyMs: [1, 2, 3], warmupLatencyMs: [9] });
  assert.equal(run.stats!.count, 3);
  assert.match(run.error!, /the agent \(process \d+\) stopped during the run.*1 warm-up and 3 measured samples taken before are kept/);
  assert.ok(!existsSync(path.join(dir, 'r2.jsonl')));
});

test('an error after the run started keeps its samples in a failed run; before it, nothing is kept', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-runs-'));
  const registry = new RunRegistry(dir);
  const started = registry.begin('r3', spec);
  registry.prepared(started, prepared('r3'));
  started.publish(batch('r3', 'measure', 0, [7, 8]));
  registry.settle(started, { error: new Error('verification crashed') });
  const run = await started.done;
  assert.equal(run.status, 'failed');
  assert.deepEqual(run.samples.latencyMs, [7, 8]);
  assert.match(run.error!, /the run failed after it started: verification crashed/);
  const early = registry.begin('r4', spec);
  registry.settle(early, { error: new Error('model not found') });
  await assert.rejects(early.done, /model not found/);
  assert.deepEqual(readdirSync(dir).sort(), ['r3.json']);
  assert.throws(() => registry.begin('r3', spec), /already exists/);
  assert.throws(() => registry.begin('../escape', spec), /not usable as a file name/);
});

test('a follower gets what it misses, then live batches, each sample once', () => {
  const registry = new RunRegistry(null);
  const live = registry.begin('r5', spec);
  live.publish(batch('r5', 'warmup', 0, [10, 11]));
  live.publish(batch('r5', 'measure', 0, [1, 2, 3]));
  // A client that held 1 warm-up and 2 measured samples before its connection dropped.
  const client = new StreamedSamples();
  client.add(batch('r5', 'warmup', 0, [10]));
  client.add(batch('r5', 'measure', 0, [1, 2]));
  const received: SamplesBatch[] = [];
  live.follow({ warmupOffset: 1, measureOffset: 2 }, { samples: (b) => { received.push(b); client.add(b); } });
  live.publish(batch('r5', 'measure', 3, [4, 5]));
  assert.deepEqual(received.map((b) => [b.phase, b.offset, b.latencyMs]), [['warmup', 1, [11]], ['measure', 2, [3]], ['measure', 3, [4, 5]]]);
  assert.deepEqual(client.warmupMs, [10, 11]);
  assert.deepEqual(client.latencyMs, [1, 2, 3, 4, 5]);
  assert.equal(client.gaps, 0);
});

test('pipeline stage times travel with their frames: live, re-attach, journal recovery', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-runs-'));
  const registry = new RunRegistry(dir);
  const live = registry.begin('r6', spec);
  registry.prepared(live, prepared('r6'));
  const staged = (phase: SamplesBatch['phase'], offset: number, latencyMs: number[], pre: number[], infer: number[]): SamplesBatch => ({
    ...batch('r6', phase, offset, latencyMs),
    stagesMs: { preprocess: pre, inference: infer },
  });
  live.publish(staged('warmup', 0, [20], [5], [15]));
  live.publish(staged('measure', 0, [10, 11], [1, 2], [9, 9]));
  live.publish(staged('measure', 2, [12], [3], [9]));
  // A client that held the first measured frame re-attaches: the rest comes with its stages.
  const received: SamplesBatch[] = [];
  live.follow({ warmupOffset: 1, measureOffset: 1 }, { samples: (b) => received.push(b) });
  assert.deepEqual(received, [{ runId: 'r6', phase: 'measure', offset: 1, latencyMs: [11, 12], stagesMs: { preprocess: [2, 3], inference: [9, 9] } }]);
  // Warm-up frames' stages are not part of the run, as in the run file.
  assert.deepEqual(live.samples.toSamples(), { latencyMs: [10, 11, 12], warmupLatencyMs: [20], stagesMs: { preprocess: [1, 2, 3], inference: [9, 9, 9] } });
  live.journal!.close();
  assert.deepEqual(recoverInterruptedRuns(dir, new Set()), ['r6']);
  const run = JSON.parse(readFileSync(path.join(dir, 'r6.json'), 'utf8')) as RunFile;
  assert.deepEqual(run.samples.stagesMs, { preprocess: [1, 2, 3], inference: [9, 9, 9] });
});

test('a batch past a gap is dropped and counted, so the samples held stay a valid re-attach offset', () => {
  const s = new StreamedSamples();
  assert.equal(s.add(batch('r', 'measure', 0, [1, 2])), true);
  assert.equal(s.add(batch('r', 'measure', 3, [4])), false);
  assert.equal(s.gaps, 1);
  assert.deepEqual(s.latencyMs, [1, 2]);
  // A repeat overwrites the same places: nothing twice.
  assert.equal(s.add(batch('r', 'measure', 1, [2, 3])), true);
  assert.deepEqual(s.latencyMs, [1, 2, 3]);
  assert.deepEqual(s.batchesFrom('r', 0, 3), []);
});
