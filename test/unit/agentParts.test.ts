import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseL4tRelease, tvmVersion } from '../../device-agent/src/deviceInfo';
import { toFloat16Bits } from '../../device-agent/src/inputs';
import { JobQueue } from '../../device-agent/src/jobQueue';
import { measure } from '../../device-agent/src/measure';
import { concreteInputShape } from '../../device-agent/src/modelInfo';
import { BadInputError } from '../../device-agent/src/errors';
import { newRunId } from '../../contract/runId';
import { phaseProgress } from '../../device-agent/src/runner';
import { checkSpec } from '../../device-agent/src/requestChecks';
import type { RunSpec } from '../../contract/protocol';

const spec: RunSpec = {
  device: 'local', model: 'tiny', backend: 'onnxruntime', precision: 'fp32', warmup: 2, warmupMs: 0,
  iterations: 5, durationS: 0, threads: null, inputShape: null, opset: 13, label: null,
};

test('float16 conversion rounds to nearest even and handles the edges', () => {
  assert.equal(toFloat16Bits(1), 0x3c00);
  assert.equal(toFloat16Bits(-2), 0xc000);
  assert.equal(toFloat16Bits(0.5), 0x3800);
  assert.equal(toFloat16Bits(65504), 0x7bff);
  assert.equal(toFloat16Bits(1e6), 0x7c00); // overflow -> inf
  assert.equal(toFloat16Bits(5.960464477539063e-8), 0x0001); // smallest subnormal
  assert.equal(toFloat16Bits(0), 0);
  assert.equal(toFloat16Bits(1 / 255), 0x1c04); // numpy.float16(1/255).view(uint16)
});

test('L4T release line parses to a version', () => {
  assert.equal(parseL4tRelease('# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64'), '35.4.1');
  assert.equal(parseL4tRelease('garbage'), null);
});

test('dynamic input dimensions need a shape; fixed ones must agree', () => {
  const dyn = { name: 'images', dtype: 'float32', shape: ['batch', 3, 'h', 'w'] };
  assert.throws(() => concreteInputShape(dyn, null), (e: Error) => e instanceof BadInputError && /--input-shape 1,3,1,1/.test(e.message));
  assert.deepEqual(concreteInputShape(dyn, [1, 3, 320, 320]), [1, 3, 320, 320]);
  assert.throws(() => concreteInputShape(dyn, [1, 4, 320, 320]), /dimension 1 is fixed at 3/);
  assert.throws(() => concreteInputShape(dyn, [1, 3, 320]), /has 3 dimensions/);
  assert.deepEqual(concreteInputShape({ name: 'x', dtype: 'float32', shape: [1, 2] }, null), [1, 2]);
});

test('spec validation names the bad field', () => {
  assert.throws(() => checkSpec({ ...spec, iterations: 0 }), /spec\.iterations must be a whole number from 1 to/);
  assert.throws(() => checkSpec({ ...spec, backend: 'x' as RunSpec['backend'] }), /spec\.backend must be one of onnxruntime, tensorrt, tvm, pytorch \(got 'x'\)/);
  assert.throws(() => checkSpec({ ...spec, precision: 'int4' as RunSpec['precision'] }), /spec\.precision must be one of/);
  assert.throws(() => checkSpec({ ...spec, durationS: -1 }), /spec\.durationS must be a number in \[0, 86400\]/);
  checkSpec(spec);
});

test('run ids are file-name safe and unique', () => {
  const a = newRunId({ ...spec, model: '/tmp/my model $(x).onnx' });
  assert.match(a, /^[A-Za-z0-9_.-]+$/);
  assert.notEqual(a, newRunId(spec));
});

test('measure honours count and time minimums and keeps samples on cancel', async () => {
  let calls = 0;
  const infer = async () => {
    calls++;
  };
  const never = new AbortController().signal;
  const r = await measure(infer, { warmup: 3, warmupMs: 0, iterations: 7, durationS: 0 }, { signal: never, onSample: () => {} });
  assert.equal(r.warmupMs.length, 3);
  assert.equal(r.latencyMs.length, 7);
  assert.equal(calls, 10);
  const timed = await measure(infer, { warmup: 0, warmupMs: 0, iterations: 1, durationS: 0.05 }, { signal: never, onSample: () => {} });
  assert.ok(timed.latencyMs.length > 1, 'a time minimum adds iterations beyond the count');
  const stop = new AbortController();
  const cancelled = await measure(infer, { warmup: 0, warmupMs: 0, iterations: 1000, durationS: 0 }, { signal: stop.signal, onSample: (_, s) => s.length === 5 && stop.abort() });
  assert.equal(cancelled.cancelled, true);
  assert.equal(cancelled.latencyMs.length, 5);
  const failing = await measure(async () => { throw new Error('boom'); }, { warmup: 0, warmupMs: 0, iterations: 3, durationS: 0 }, { signal: never, onSample: () => {} });
  assert.equal(failing.error?.message, 'boom');
});

test('the job queue runs one job at a time in order', async () => {
  const q = new JobQueue();
  const order: string[] = [];
  let running = 0;
  const job = (name: string, ms: number) => async () => {
    running++;
    assert.equal(running, 1);
    order.push(`start ${name}`);
    await new Promise((r) => setTimeout(r, ms));
    order.push(`end ${name}`);
    running--;
    return name;
  };
  const failing = assert.rejects(q.run(async () => { throw new Error('x'); }), /x/);
  const results = await Promise.all([q.run(job('a', 20)), q.run(job('b', 1))]);
  await failing;
  assert.deepEqual(results, ['a', 'b']);
  assert.deepEqual(order, ['start a', 'end a', 'start b', 'end b']);
  assert.equal(q.busy, false);
});

test('progress: warm-up counts too, timed phases say their time, the overall percentage only grows', () => {
  const spec = { warmup: 20, warmupMs: 0, iterations: 100, durationS: 0 };
  assert.deepEqual(phaseProgress('warmup', 10, 5, spec), ['warm-up: 10/20 iterations', 5]);
  assert.deepEqual(phaseProgress('warmup', 20, 9, spec), ['warm-up: 20/20 iterations', 10]);
  assert.deepEqual(phaseProgress('measure', 50, 100, spec), ['measuring: 50/100 iterations', 55]);
  const timed = { warmup: 2, warmupMs: 0, iterations: 1, durationS: 2 };
  assert.deepEqual(phaseProgress('measure', 45, 500, timed), ['measuring: 45 iterations, 0.5 of 2 s', 32]);
  assert.deepEqual(phaseProgress('measure', 900, 2000, timed), ['measuring: 900 iterations, 2.0 of 2 s', 100]);
});

test("TVM's version: a pip install's without importing TVM, a source tree's by asking it, none when absent", async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const python = process.env.JETBENCH_PYTHON || 'python3';
  // Whatever this machine has (CI installs apache-tvm): the same answer `import tvm` gives, or none.
  let imported: string | null;
  try {
    imported = execFileSync(python, ['-c', 'import importlib.metadata as m; print(m.version("apache-tvm"))'], { encoding: 'utf8' }).trim();
  } catch {
    imported = null;
  }
  assert.equal(await tvmVersion(python), imported);
  // A source build on PYTHONPATH shadows it: its own __version__, found by importing it.
  const tree = mkdtempSync(path.join(os.tmpdir(), 'jetbench-tvm-src-'));
  mkdirSync(path.join(tree, 'tvm'));
  writeFileSync(path.join(tree, 'tvm', '__init__.py'), "__version__ = '0.99.dev0+source'\n");
  const saved = process.env.PYTHONPATH;
  process.env.PYTHONPATH = tree;
  try {
    assert.equal(await tvmVersion(python), '0.99.dev0+source');
  } finally {
    if (saved === undefined) delete process.env.PYTHONPATH;
    else process.env.PYTHONPATH = saved;
  }
  assert.equal(await tvmVersion(path.join(tree, 'no-such-python')), null);
});

test('jetbench/detectFrames params: a live switching run needs a low spec and a sound policy; each problem is named', async () => {
  const { checkDetectFramesParams } = await import('../../device-agent/src/requestChecks');
  const base = { spec: checkSpec({ ...spec, model: 'nanodet-g' }), frames: { frames: 5, source: 'vtest' } };
  const policy = { signal: 'detections', enter: 9, leave: 7, minDwell: 1 };
  const low = { ...base.spec, precision: 'int8' };
  assert.doesNotThrow(() => checkDetectFramesParams({ ...base, switching: { low, policy } }));
  assert.throws(() => checkDetectFramesParams({ ...base, switching: { low, policy: { ...policy, signal: 'colour' } } }), /switching\.policy "signal" must be one of detections, small-boxes, uncertain-share, frame-diff/);
  assert.throws(() => checkDetectFramesParams({ ...base, switching: { low, policy: { ...policy, leave: 9 } } }), /"leave" must be below "enter" \(hysteresis\)/);
  assert.throws(() => checkDetectFramesParams({ ...base, switching: { low, policy: { ...policy, minDwell: 0 } } }), /"minDwell" must be a whole number from 1 to 100000/);
  assert.throws(() => checkDetectFramesParams({ ...base, switching: { low: { ...low, precision: 'int4' }, policy } }), /spec\.precision/);
  assert.throws(() => checkDetectFramesParams({ ...base, switching: { low, policy, extra: 1 } }), /unknown param "extra"/);
});
