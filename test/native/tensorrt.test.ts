// TensorRT where the native addon has none (CI): the backend says TensorRT was not found and how to
// get it, for bench, build and info alike; the engine cache key separates what makes engines differ.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineKey } from '../../device-agent/src/backends/tensorrt';
import { runCli } from '../helpers/cli';
import { loadTestAddon } from './helpers';

test('without TensorRT: bench, build and info name what is missing and how to get it', async (t) => {
  if ((await loadTestAddon()).addon.buildInfo().tensorrt) {
    console.log('SKIPPED: this addon was built with TensorRT (the missing-TensorRT messages cannot occur here)');
    t.skip('TensorRT present');
    return;
  }
  const fix = /TensorRT was not found when the native addon was built on this device: TensorRT comes with JetPack on a Jetson .* rebuild the addon: node agent\.js build-native --force/;
  const bench = await runCli(['bench', '--backend', 'tensorrt', '--model', 'tiny', '--iterations', '2', '--quiet']);
  assert.equal(bench.code, 1);
  assert.match(bench.stderr, fix);
  const build = await runCli(['build', '--backend', 'tensorrt', '--model', 'tiny', '--precision', 'fp16', '--quiet']);
  assert.equal(build.code, 1);
  assert.match(build.stderr, fix);
  const info = await runCli(['info', '--json']);
  const trt = (JSON.parse(info.stdout) as { backends: Array<{ id: string; available: boolean; reason: string }> }).backends.find((b) => b.id === 'tensorrt')!;
  assert.equal(trt.available, false);
  assert.match(trt.reason, fix);
});

test('engine cache key: one engine per model, precision, workspace, TensorRT version and GPU', () => {
  const base = { modelSha256: 'a'.repeat(64), precision: 'fp16' as const, workspaceBytes: 1 << 30, tensorrt: '8.5.2', gpu: 'Xavier' };
  assert.equal(engineKey(base), engineKey({ ...base }));
  const variants = [{ precision: 'int8' as const }, { tensorrt: '10.3.0' }, { gpu: 'Orin' }, { modelSha256: 'b'.repeat(64) }, { workspaceBytes: 1 << 29 }];
  const keys = new Set([engineKey(base), ...variants.map((v) => engineKey({ ...base, ...v }))]);
  assert.equal(keys.size, variants.length + 1);
});
