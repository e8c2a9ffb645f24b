// One completeSpec/specProblems for every face: defaults in one place, bounds that refuse typos,
// and nothing given is silently coerced (a mistyped TVM target used to become llvm in spec files).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completeSpec, FIDELITY_DEFAULTS, PYTORCH_DEFAULTS, SPEC_DEFAULTS, specProblems, TENSORRT_DEFAULTS, TVM_DEFAULTS } from '../../contract/runSpec';
import { parseBenchArgs } from '../../src/cli/args';
import { parseSpecFile } from '../../src/specs/specFile';
import { DEFAULT_SETTINGS } from '../../src/vscode/settingsModel';

const fields = (p: ReturnType<typeof specProblems>) => p.map((x) => x.field);

test('the defaults are the same for the CLI, spec files and the extension settings', () => {
  const cli = parseBenchArgs([]);
  assert.notEqual(cli, 'help');
  if (cli === 'help') return;
  const file = parseSpecFile('{"runs": [{"model": "yolov5s"}]}', {}).runs[0]!.spec!;
  assert.deepEqual(file, cli.spec);
  assert.equal(cli.spec.warmup, SPEC_DEFAULTS.warmup);
  assert.equal(cli.spec.iterations, SPEC_DEFAULTS.iterations);
  assert.equal(DEFAULT_SETTINGS.warmup, SPEC_DEFAULTS.warmup);
  assert.equal(DEFAULT_SETTINGS.iterations, SPEC_DEFAULTS.iterations);
});

test('a spec file no longer turns a mistyped TVM target into llvm, nor tuneTrials -1 into 0', () => {
  const run = parseSpecFile('{"runs": [{"model": "tiny", "backend": "tvm", "tvm": {"target": "lvm", "tuneTrials": -1}}]}', {}).runs[0]!;
  assert.equal(run.spec, null);
  assert.deepEqual(run.problems, ['"tvm.target" must be one of llvm, cuda (got \'lvm\')', '"tvm.tuneTrials" must be a whole number from 0 to 100000 (got -1)']);
  const ok = parseSpecFile('{"runs": [{"model": "tiny", "backend": "tvm", "tvm": {"tuneTrials": 8}}]}', {}).runs[0]!;
  assert.deepEqual(ok.spec?.tvm, { ...TVM_DEFAULTS, tuneTrials: 8 });
});

test('bounds refuse typos: 1e12 iterations, a 20000 px input, 5000 threads on 8 cores', () => {
  const file = parseSpecFile('{"runs": [{"model": "tiny", "iterations": 1e12}]}', {}).runs[0]!;
  assert.deepEqual(file.problems, ['"iterations" must be a whole number from 1 to 10000000 (got 1000000000000)']);
  const { spec } = completeSpec({ model: 'tiny' });
  assert.ok(spec);
  const huge = specProblems({ ...spec, inputShape: [1, 3, 20000, 20000] }, { memoryBytes: 32e9 });
  assert.deepEqual(fields(huge), ['inputShape']);
  assert.match(huge[0]!.message, /4\.8 GB as fp32\): this device has 32\.0 GB of memory .* at most 4\.0 GB/);
  assert.deepEqual(specProblems({ ...spec, inputShape: [1, 3, 640, 640] }, { memoryBytes: 8e9 }), []);
  assert.match(specProblems({ ...spec, threads: 5000 }, { cpuCores: 8 })[0]!.message, /from 1 to 32 \(4 per core of this device's 8\)/);
  assert.deepEqual(specProblems({ ...spec, threads: 32 }, { cpuCores: 8 }), []);
});

test('every shape problem of a raw request is named, with the value it got', () => {
  assert.deepEqual(fields(specProblems(null)), ['spec']);
  const p = specProblems({ model: '', backend: 'x', precision: 'fp32', device: 'local', warmup: -1, warmupMs: 0, iterations: 1.5, durationS: Infinity, threads: null, inputShape: [0], opset: 12, label: 7, extra: true });
  assert.deepEqual(fields(p).sort(), ['backend', 'durationS', 'extra', 'inputShape', 'iterations', 'label', 'model', 'opset', 'warmup'].sort());
  assert.deepEqual(fields(specProblems({ ...completeSpec({ model: 'tiny' }).spec, tvm: TVM_DEFAULTS })), ['tvm'], 'tvm options need backend tvm');
  const pipe = specProblems({ ...completeSpec({ model: 'tiny' }).spec, pipeline: { mode: 'fast', memory: 'pinned', source: 'synthetic', frameCount: 0, objects: 12, confThreshold: 1, iouThreshold: 0.45, maxDetections: 300 } });
  assert.deepEqual(fields(pipe), ['pipeline.mode', 'pipeline.frameCount', 'pipeline.confThreshold']);
});

test('pytorch options: completed from PYTORCH_DEFAULTS, checked as given, only with backend pytorch; the CLI flags set them', () => {
  const ok = completeSpec({ model: 'tiny', backend: 'pytorch', pytorch: { device: 'cuda', mode: 'cuda-graph' } });
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.spec!.pytorch, { ...PYTORCH_DEFAULTS, device: 'cuda', mode: 'cuda-graph' });
  const problems = (fields: Record<string, unknown>) => completeSpec({ model: 'tiny', ...fields }).problems.map((p) => `${p.field} ${p.message}`);
  assert.match(problems({ backend: 'onnxruntime', pytorch: {} }).join(), /^pytorch applies to backend pytorch only/);
  assert.match(problems({ backend: 'pytorch', pytorch: { device: 'gpu' } }).join(), /pytorch\.device must be one of cuda, cpu/);
  assert.match(problems({ backend: 'pytorch', pytorch: { mode: 'jit' } }).join(), /pytorch\.mode must be one of eager, cuda-graph, compile/);
  assert.deepEqual(problems({ backend: 'pytorch', pytorch: { device: 'cpu', mode: 'compile' } }), []);
  assert.match(problems({ backend: 'pytorch', pytorch: { device: 'cpu', mode: 'cuda-graph' } }).join(), /pytorch\.mode cuda-graph needs device cuda/);
  assert.match(problems({ backend: 'pytorch', pytorch: { tf32: 'yes' } }).join(), /pytorch\.tf32 must be true or false/);
  assert.match(problems({ backend: 'pytorch', pytorch: { speed: 'max' } }).join(), /speed/);
  const cli = parseBenchArgs(['--backend', 'pytorch', '--model', 'tiny', '--torch-device', 'cpu', '--torch-span', 'host', '--tf32', '--python', '/opt/py/bin/python3']);
  assert.ok(cli !== 'help');
  assert.deepEqual(cli.spec.pytorch, { device: 'cpu', mode: 'eager', span: 'host', tf32: true, python: '/opt/py/bin/python3' });
  assert.throws(() => parseBenchArgs(['--model', 'tiny', '--torch-span', 'host']), /--torch-span applies to --backend pytorch only/);
  assert.throws(() => parseBenchArgs(['--model', 'tiny', '--python', 'python3']), /--python applies to --backend tvm or pytorch only/);
  assert.throws(() => parseBenchArgs(['--backend', 'pytorch', '--torch-mode', 'fast']), /--torch-mode must be one of eager, cuda-graph, compile/);
});

test('tensorrt options: the runner, trtexec path, span and CUDA graph, checked as given; trtexec flags imply the trtexec runner', () => {
  const ok = completeSpec({ model: 'tiny', backend: 'tensorrt', tensorrt: { runner: 'trtexec', span: 'latency' } });
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.spec!.tensorrt, { ...TENSORRT_DEFAULTS, runner: 'trtexec', span: 'latency' });
  const problems = (fields: Record<string, unknown>) => completeSpec({ model: 'tiny', ...fields }).problems.map((p) => `${p.field} ${p.message}`);
  assert.match(problems({ backend: 'onnxruntime', tensorrt: {} }).join(), /^tensorrt applies to backend tensorrt only/);
  assert.match(problems({ backend: 'tensorrt', tensorrt: { runner: 'polygraphy' } }).join(), /tensorrt\.runner must be one of native, trtexec/);
  assert.match(problems({ backend: 'tensorrt', tensorrt: { span: 'latency' } }).join(), /tensorrt\.span 'latency' \(copies included\) is measured by the trtexec runner/);
  assert.match(problems({ backend: 'tensorrt', tensorrt: { trtexec: '/x/trtexec' } }).join(), /tensorrt\.trtexec a trtexec path applies to runner 'trtexec' only/);
  assert.match(problems({ backend: 'tensorrt', tensorrt: { runner: 'trtexec', cudaGraph: 1 } }).join(), /tensorrt\.cudaGraph must be true or false/);
  const cli = parseBenchArgs(['--backend', 'tensorrt', '--model', 'tiny', '--trtexec', '/usr/src/tensorrt/bin/trtexec', '--cuda-graph']);
  assert.ok(cli !== 'help');
  assert.deepEqual(cli.spec.tensorrt, { runner: 'trtexec', trtexec: '/usr/src/tensorrt/bin/trtexec', span: 'gpu-compute', cudaGraph: true });
  const plain = parseBenchArgs(['--backend', 'tensorrt', '--model', 'tiny']);
  assert.ok(plain !== 'help');
  assert.equal(plain.spec.tensorrt, undefined, 'no flag: the native runner (or the device default)');
  assert.throws(() => parseBenchArgs(['--model', 'tiny', '--runner', 'trtexec']), /--runner applies to --backend tensorrt only/);
  assert.throws(() => parseBenchArgs(['--backend', 'tensorrt', '--runner', 'native', '--trt-span', 'latency']), /--trt-span 'latency'/);
});

test('fidelity options: --fidelity N and --fidelity-source complete from FIDELITY_DEFAULTS (50 frames of vtest), checked as given, not with a pipeline', () => {
  const only = parseBenchArgs(['--model', 'nanodet-g-fp16', '--fidelity', '20']);
  assert.ok(only !== 'help');
  assert.deepEqual(only.spec.fidelity, { frames: 20, source: 'vtest' });
  const src = parseBenchArgs(['--model', 'nanodet-g-fp16', '--fidelity-source', '/data/street.mp4']);
  assert.ok(src !== 'help');
  assert.deepEqual(src.spec.fidelity, { ...FIDELITY_DEFAULTS, source: '/data/street.mp4' });
  assert.equal(FIDELITY_DEFAULTS.frames, 50);
  const none = parseBenchArgs(['--model', 'tiny']);
  assert.ok(none !== 'help');
  assert.equal(none.spec.fidelity, undefined, 'no fidelity check unless asked');
  assert.throws(() => parseBenchArgs(['--fidelity', '0']), /--fidelity must be a whole number from 1 to 10000 \(got 0\)/);
  assert.throws(() => parseBenchArgs(['--fidelity', 'many']), /--fidelity must be a whole number \(got 'many'\)/);
  const problems = (fields: Record<string, unknown>) => completeSpec({ model: 'tiny', ...fields }).problems.map((p) => `${p.field} ${p.message}`);
  assert.match(problems({ fidelity: { frames: 5, source: '' } }).join(), /fidelity\.source must be/);
  assert.match(problems({ fidelity: { frames: 5, every: 2 } }).join(), /every/);
  assert.match(problems({ fidelity: 'yes' }).join(), /^fidelity must be an object of fidelity options/);
  assert.match(problems({ fidelity: { frames: 5 }, pipeline: {} }).join('\n'), /fidelity\.frames applies to a benchmark run/);
});
