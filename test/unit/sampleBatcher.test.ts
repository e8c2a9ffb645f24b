// The one sample batcher (agent runs and native-worker pipeline runs), driven with explicit times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Phase } from '../../device-agent/src/measure';
import { SAMPLE_FLUSH_MS, SampleBatcher } from '../../device-agent/src/sampleBatcher';

type Batch = { phase: Phase; offset: number; values: number[] };

function batcher(): { b: SampleBatcher; sent: Batch[] } {
  const sent: Batch[] = [];
  const b = new SampleBatcher((phase, from, samples) => sent.push({ phase, offset: from, values: samples.slice(from) }), 0);
  return { b, sent };
}

test('samples go out at most every flush interval, contiguous, and the rest at the end', () => {
  const { b, sent } = batcher();
  const warmup: number[] = [];
  const measured: number[] = [];
  // 1 ms per sample: 3 warm-up samples, then 250 measured ones.
  let now = 0;
  for (let i = 0; i < 3; i++) {
    warmup.push(i);
    b.onSample('warmup', warmup, ++now);
  }
  for (let i = 0; i < 250; i++) {
    measured.push(1000 + i);
    b.onSample('measure', measured, ++now);
  }
  b.finish({ warmupMs: warmup, latencyMs: measured });

  // The warm-up went out when the phase changed, before any measured sample.
  assert.deepEqual(sent[0], { phase: 'warmup', offset: 0, values: [0, 1, 2] });
  const measure = sent.filter((s) => s.phase === 'measure');
  // Contiguous: each batch starts where the last stopped, and together they are every sample.
  let next = 0;
  for (const s of measure) {
    assert.equal(s.offset, next);
    next += s.values.length;
  }
  assert.deepEqual(measure.flatMap((s) => s.values), measured);
  // 253 ms of samples: flushes at 100 and 200 ms, then the end.
  assert.equal(measure.length, 3);
  assert.ok(measure.slice(0, -1).every((s) => s.values.length <= SAMPLE_FLUSH_MS), JSON.stringify(measure.map((s) => s.values.length)));
});

test('finish sends nothing twice and nothing for an empty phase', () => {
  const { b, sent } = batcher();
  const measured = [5, 6];
  b.onSample('measure', measured, 1);
  b.onSample('measure', measured, SAMPLE_FLUSH_MS + 1);
  b.finish({ warmupMs: [], latencyMs: measured });
  assert.deepEqual(sent, [{ phase: 'measure', offset: 0, values: [5, 6] }]);
});
