// The C++ side on its own: the GoogleTest suite of the CPU references (built with CMake, run by
// CTest), and the compile check of everything CI cannot run: every .cu file with nvcc, the CUDA-side
// C++, and the TensorRT runner against the TensorRT headers where they were fetched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli';
import { NATIVE_DIR } from './helpers';

const BUILD = path.join(ROOT, 'test-output', 'native-ctest');

function sh(cmd: string, args: string[], cwd = ROOT) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

test('CPU references: the GoogleTest suite passes (CTest)', () => {
  const configure = sh('cmake', ['-S', NATIVE_DIR, '-B', BUILD, '-DJETBENCH_CUDA=OFF', '-DCMAKE_BUILD_TYPE=Release']);
  assert.equal(configure.code, 0, configure.out);
  assert.match(configure.out, /jetbench native: .*GoogleTest: (TRUE|1)/, 'GoogleTest must be found (apt-get install libgtest-dev)');
  const build = sh('cmake', ['--build', BUILD, '--target', 'jetbench_tests', '--parallel', '2']);
  assert.equal(build.code, 0, build.out);
  const ctest = sh('ctest', ['--test-dir', BUILD, '--output-on-failure']);
  assert.equal(ctest.code, 0, ctest.out);
  assert.match(ctest.out, /100% tests passed/);
  const detail = sh(path.join(BUILD, 'jetbench_tests'), ['--gtest_brief=1']);
  assert.match(detail.out, /PASSED\s+\] \d+ tests/);
});

test('every .cu file compiles with nvcc; the TensorRT runner compiles against the fetched headers', (t) => {
  const toolkit = path.join(ROOT, '.cache', 'cuda-toolkit', 'nvidia', 'cu13', 'bin', 'nvcc');
  const onPath = sh('sh', ['-c', 'command -v nvcc']).code === 0;
  if (!onPath && !existsSync(toolkit)) {
    // CI installs it (scripts/setup-native.sh); a developer machine may not have it.
    console.log('SKIPPED: nvcc not found (neither on PATH nor in .cache/cuda-toolkit): run scripts/setup-native.sh');
    t.skip('nvcc not installed');
    return;
  }
  const r = sh('bash', [path.join(NATIVE_DIR, 'scripts', 'compile-check.sh')]);
  assert.equal(r.code, 0, r.out);
  for (const file of ['src/cuda/detect.cu', 'src/cuda/letterbox.cu']) assert.match(r.out, new RegExp(`ok +nvcc .*${file.replace('.', '\\.')}`));
  assert.match(r.out, /ok +g\+\+ \(CUDA\) src\/pipeline\.cpp/);
  if (/SKIPPED: TensorRT/.test(r.out)) console.log(r.out.match(/SKIPPED: TensorRT.*/)![0]);
  console.log(r.out.trim());
});
