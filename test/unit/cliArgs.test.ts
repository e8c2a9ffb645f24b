import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchArgs, UsageError } from '../../src/cli/args';
import { cli, fidelityArgs } from '../../src/cli/main';
import { energySpreadLines, parseAdaptiveArgs } from '../../src/cli/adaptive';

function capture() {
  const io = { outText: '', errText: '', out: (t: string) => void (io.outText += t), err: (t: string) => void (io.errText += t), cwd: process.cwd(), isTty: false };
  return io;
}

test('bench defaults follow the issue: yolov5s, onnxruntime, fp32, 20 warm-up, 100 iterations', () => {
  const a = parseBenchArgs([]);
  assert.notEqual(a, 'help');
  if (a === 'help') return;
  assert.deepEqual(
    { ...a.spec },
    { device: 'local', model: 'yolov5s', backend: 'onnxruntime', precision: 'fp32', warmup: 20, warmupMs: 0, iterations: 100, durationS: 0, threads: null, inputShape: null, opset: 13, label: null },
  );
});

test('a suffixed built-in name implies its precision; options parse to numbers', () => {
  const a = parseBenchArgs(['--model', 'yolov5n-fp16', '--threads', '2', '--input-shape', '1,3,320,320', '--duration-s', '1.5', '--opset', '11']);
  if (a === 'help') throw new Error('unexpected help');
  assert.equal(a.spec.precision, 'fp16');
  assert.equal(a.spec.threads, 2);
  assert.deepEqual(a.spec.inputShape, [1, 3, 320, 320]);
  assert.equal(a.spec.durationS, 1.5);
  assert.equal(a.spec.opset, 11);
});

test('bad bench arguments are usage errors naming the option', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--iterations', '0'], /--iterations must be a whole number from 1 to 10000000 \(got 0\)/],
    [['--iterations=-5'], /--iterations must be a whole number from 1 to/],
    [['--iterations', '1e12'], /--iterations must be a whole number/],
    [['--iterations', '100000000'], /--iterations must be a whole number from 1 to 10000000/],
    [['--input-shape', '1x3x20000x20000'], /--input-shape 1x3x20000x20000 is 1\.20e\+9 values \(4\.8 GB as fp32\)/],
    [['--backend', 'tvm', '--target', 'lvm'], /--target must be one of llvm, cuda \(got 'lvm'\)/],
    [['--backend', 'tvm', '--tune-trials=-1'], /--tune-trials must be a whole number from 0 to/],
    [['--iterations', '2.5'], /--iterations/],
    [['--warmup', 'x'], /--warmup/],
    [['--backend', 'tflite'], /--backend must be one of onnxruntime, tensorrt, tvm, pytorch \(got 'tflite'\)/],
    [['--precision', 'int4'], /--precision must be one of fp32, fp16, bf16, int8/],
    [['--duration-s=-1'], /--duration-s must be a number in \[0, 86400\]/],
    [['--opset', '12'], /--opset must be 11 or 13/],
    [['--threads', '0'], /--threads must be null \(the backend's default\) or a whole number from 1 to/],
    [['--input-shape', '1,3,a'], /--input-shape/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['--iteratinos', '5'], /unknown option '--iteratinos': did you mean --iterations\?/],
    [['--iterations', '-5'], /--iterations must be a whole number from 1 to 10000000 \(got -5\)/],
    [['--iterations', '--warmup', '3'], /--iterations needs a value, but '--warmup' follows it/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseBenchArgs(args), (e: Error) => e instanceof UsageError && message.test(e.message), args.join(' '));
  }
});

test('the CLI exits 2 with a message for usage errors and unknown commands', async () => {
  for (const argv of [['bench', '--iterations', '0'], ['frob'], ['compare', 'only-one.json', '--format', 'html'], [], ['models', 'generate', 'yolov9']]) {
    const io = capture();
    assert.equal(await cli(argv, io), 2, argv.join(' '));
    assert.ok(io.errText.length + io.outText.length > 0);
  }
  const io = capture();
  assert.equal(await cli(['bench', '--device', 'jetson-1'], io), 2);
  assert.match(io.errText, /device 'jetson-1' is not known/);
});

test('help is printed with exit 0', async () => {
  const io = capture();
  assert.equal(await cli(['bench', '--help'], io), 0);
  assert.match(io.outText, /--iterations N/);
});

test('jetbench adaptive: the base model for both precisions (the agent picks the stored variant or converts), the reference fp32 on onnxruntime, bad input named', () => {
  const a = parseAdaptiveArgs(['--backend', 'pytorch', '--torch-device', 'cuda', '--low', 'fp16', '--frames', '30', '--source', '/data/clip.mp4']);
  assert.ok(a !== 'help');
  assert.deepEqual([a.high.model, a.high.precision, a.high.backend], ['nanodet-g', 'fp32', 'pytorch']);
  assert.deepEqual([a.low.model, a.low.precision, a.low.pytorch?.device], ['nanodet-g', 'fp16', 'cuda']);
  assert.deepEqual([a.reference.model, a.reference.backend, a.reference.precision], ['nanodet-g', 'onnxruntime', 'fp32']);
  assert.deepEqual(a.frames, { frames: 30, source: '/data/clip.mp4' });
  assert.equal(a.rounds, 3);
  const d = parseAdaptiveArgs(['--model', 'nanodet-g-int8']);
  assert.ok(d !== 'help');
  assert.deepEqual([d.high.model, d.low.model, d.low.precision, d.frames.frames, d.frames.source], ['nanodet-g', 'nanodet-g', 'int8', 50, 'vtest']);
  assert.throws(() => parseAdaptiveArgs(['--high', 'fp16', '--low', 'fp16']), /--high and --low are both fp16/);
  assert.throws(() => parseAdaptiveArgs(['--rounds', '0']), /--rounds must be a whole number from 1 to 100 \(got 0\)/);
  assert.throws(() => parseAdaptiveArgs(['--torch-device', 'cuda']), /--torch-device applies to --backend pytorch only/);
  assert.throws(() => parseAdaptiveArgs(['--frames', '0']), /--frames must be a whole number from 1 to 10000 \(got 0\)/);
});

test('jetbench adaptive: static low with sensitive layers high is the built variant where the backend runs stored models, and says why where it cannot run', () => {
  const d = parseAdaptiveArgs([]);
  assert.ok(d !== 'help');
  assert.deepEqual([d.sensitive?.model, d.sensitive?.precision, d.sensitive?.backend, d.sensitive?.label], ['nanodet-g-int8-mixed', 'int8', 'onnxruntime', 'adaptive int8 (sensitive layers high)']);
  assert.equal(d.sensitiveMissing, null);
  const t = parseAdaptiveArgs(['--backend', 'pytorch', '--low', 'fp16']);
  assert.ok(t !== 'help');
  assert.equal(t.sensitive, null);
  assert.match(t.sensitiveMissing!, /no variant of nanodet-g in fp16 with its sensitive layers kept high is built \(nanodet-g-int8-mixed is, for int8\)/);
  const p = parseAdaptiveArgs(['--backend', 'pytorch', '--low', 'int8']);
  assert.ok(p !== 'help');
  assert.match(p.sensitiveMissing!, /pytorch converts the fp32 model to int8 itself, so a stored mixed-precision variant \(nanodet-g-int8-mixed\) cannot run there/);
  const n = parseAdaptiveArgs(['--sensitive', 'none']);
  assert.ok(n !== 'help');
  assert.deepEqual([n.sensitive, n.sensitiveMissing], [null, 'left out (--sensitive none)']);
  assert.throws(() => parseAdaptiveArgs(['--backend', 'tvm', '--sensitive', 'nanodet-g-int8-mixed']), /--sensitive nanodet-g-int8-mixed: tvm converts the fp32 model/);
});

test('jetbench adaptive: per-trial energies that overlap are called noise', () => {
  const noisy = energySpreadLines([840, 966, 943], [1198, 896, 1099], { highMj: 916, lowMj: 1065 }, 'fp32', 'fp16');
  assert.equal(noisy[0], 'Energy per inference, per trial: fp32 840, 966, 943 mJ; fp16 1198, 896, 1099 mJ (joined runs: 916 vs 1065)');
  assert.match(noisy[1]!, /the trials overlap \(fp32 840-966, fp16 896-1198 mJ\): the energy difference between the precisions is within this device's run-to-run noise/);
  const clear = energySpreadLines([900, 910, 905], [600, 620, null], { highMj: 905, lowMj: 610 }, 'fp32', 'int8');
  assert.equal(clear.length, 1, 'separated trials: no noise note');
  assert.match(clear[0]!, /int8 600, 620, \? mJ/);
});

test('jetbench fidelity is bench with its fidelity check first: --frames/--source translated, nanodet-g int8 and a short measurement by default, anything given kept', () => {
  assert.deepEqual(fidelityArgs([]), ['--fidelity', '50', '--model', 'nanodet-g', '--precision', 'int8', '--iterations', '20', '--warmup', '3']);
  assert.deepEqual(fidelityArgs(['--model', 'nanodet-g-fp16', '--frames=30', '--source', '/data/clip.mp4', '--iterations', '100']), [
    '--model', 'nanodet-g-fp16', '--fidelity', '30', '--fidelity-source', '/data/clip.mp4', '--iterations', '100', '--warmup', '3',
  ]);
  assert.deepEqual(fidelityArgs(['--precision', 'fp16']).slice(-6), ['--model', 'nanodet-g', '--iterations', '20', '--warmup', '3']);
  assert.throws(() => fidelityArgs(['--frames']), /--frames needs a value/);
  const parsed = parseBenchArgs(fidelityArgs(['--backend', 'pytorch', '--precision', 'bf16', '--frames', '8']));
  assert.ok(parsed !== 'help');
  assert.deepEqual([parsed.spec.model, parsed.spec.precision, parsed.spec.fidelity, parsed.spec.iterations], ['nanodet-g', 'bf16', { frames: 8, source: 'vtest' }, 20]);
});
