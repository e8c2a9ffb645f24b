// The built-in models' random weights come from arithmetic IEEE 754 rounds exactly on every
// machine: Math.log/sin/cos differ between Node on aarch64 and on x86-64 in the last bit, which
// gave the same built-in model another sha256 on a Jetson (the aarch64 suite compares the
// device's generated model with this machine's).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { detLog, detSin, mulberry32, normal, seedFrom, settled, sinCosTurns } from '../../models/src/prng';
import { DETECT_STATS } from '../../models/src/detectStats';
import { measureDetectStats } from '../../models/src/index';

test('detLog and sinCosTurns agree with Math to ~1e-15 over wide ranges, and at the exact points', () => {
  const u = mulberry32(7);
  let worstLog = 0;
  let worstTrig = 0;
  for (let i = 0; i < 200_000; i++) {
    const x = u() * 10 ** (u() * 40 - 20);
    worstLog = Math.max(worstLog, Math.abs(detLog(x) - Math.log(x)) / Math.max(1, Math.abs(Math.log(x))));
    const t = u() * 4 - 2;
    const [s, c] = sinCosTurns(t);
    worstTrig = Math.max(worstTrig, Math.abs(s - Math.sin(2 * Math.PI * t)), Math.abs(c - Math.cos(2 * Math.PI * t)));
  }
  assert.ok(worstLog < 1e-15, `log: ${worstLog}`);
  assert.ok(worstTrig < 3e-15, `sin/cos: ${worstTrig}`);
  assert.equal(detLog(1), 0);
  assert.equal(detLog(2), Math.LN2);
  assert.equal(detLog(5e-324), Math.log(5e-324), 'subnormals');
  assert.equal(detLog(0), -Infinity);
  assert.ok(Number.isNaN(detLog(-1)));
  assert.deepEqual(sinCosTurns(0), [0, 1]);
  assert.deepEqual(sinCosTurns(0.25), [1, -0]);
  assert.ok(Math.abs(detSin(Math.PI / 6) - 0.5) < 1e-15);
});

test('a model\'s weights are pinned: change the bits only with a new GENERATOR_VERSION', () => {
  const g = normal(mulberry32(seedFrom('tiny')));
  const a = new Float64Array(100_000);
  for (let i = 0; i < a.length; i++) a[i] = g();
  assert.equal(createHash('sha256').update(Buffer.from(a.buffer)).digest('hex'), '6a40ca0ea5c5701d615760ebbd241b62c9ad23bddb746e99df8597c15f34b19e');
});

test('settled statistics drop what differs between CPUs\' kernels, keep six digits', () => {
  assert.equal(settled(0.123456789), 0.123457);
  assert.equal(settled(1 / 3), 0.333333);
  assert.equal(settled(1 / 3 + 1e-16), 0.333333, 'a last-bit difference is gone');
  assert.equal(settled(12345678), 12345700);
});

test('the Detect statistics generation reads are what ONNX Runtime measures here now (npm run models:detect-stats)', async () => {
  const measured = await measureDetectStats('tiny');
  const kept = DETECT_STATS.tiny!;
  assert.equal(measured.length, kept.length);
  for (const [i, head] of measured.entries()) {
    assert.ok(Math.abs(head.std - kept[i]!.std) <= 1e-3 * kept[i]!.std, `head ${i} std ${head.std} vs ${kept[i]!.std}`);
    const scale = kept[i]!.std;
    for (const [c, m] of head.channelMean.entries()) assert.ok(Math.abs(m - kept[i]!.channelMean[c]!) <= 1e-3 * scale, `head ${i} channel ${c}`);
  }
});
