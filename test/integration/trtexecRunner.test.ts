// The trtexec runner (issue 19 item 1) through the CLI and a real agent, against a STAND-IN trtexec
// (test/helpers/trtexec-standin.mjs): no TensorRT can be installed on these machines, so what is
// tested here is jetbench's side of it: finding trtexec, its version from the banner, the flags
// per TensorRT version (the span stated), the engine built into the cache and reused, the samples
// from --exportTimes, layers from --exportProfile, trtexec's warnings in the verdict, errors,
// trials and Ctrl-C. The parsers are tested on real trtexec logs (test/unit/trtexec*.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, ctrlC, runCli, scratchDir } from '../helpers/cli';
import { readRun } from '../helpers/runFile';

const STANDIN = path.join(ROOT, 'test', 'helpers', 'trtexec-standin.mjs');

/** A scratch dir with the stand-in installed as `bin/trtexec`, its own cache, and its argv log. */
function setup(env: Record<string, string> = {}) {
  const dir = scratchDir('jetbench-trtexec-');
  mkdirSync(path.join(dir, 'bin'));
  const trtexec = path.join(dir, 'bin', 'trtexec');
  copyFileSync(STANDIN, trtexec);
  const argvLog = path.join(dir, 'argv.jsonl');
  return {
    dir,
    trtexec,
    env: { JETBENCH_CACHE_DIR: path.join(dir, 'cache'), TRTEXEC_STANDIN_ARGV: argvLog, JETBENCH_TRTEXEC: trtexec, ...env },
    /** Every trtexec invocation's argv, --help probes left out. */
    calls: (): string[][] => (existsSync(argvLog) ? readFileSync(argvLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]) : []).filter((a) => a[0] !== '--help'),
  };
}

const bench = (out: string, ...extra: string[]) => ['bench', '--backend', 'tensorrt', '--runner', 'trtexec', '--model', 'tiny', '--iterations', '40', '--quiet', '--out', out, ...extra];

describe('tensorrt --runner trtexec', () => {
  test('builds the engine into the cache with trtexec, then runs it: samples from --exportTimes, the span stated, layers, reuse', async () => {
    const s = setup();
    const first = await runCli(bench(path.join(s.dir, 'a.json')), { cwd: s.dir, env: s.env });
    assert.equal(first.code, 0, first.stderr);
    const [build, run] = s.calls();
    assert.ok(build && run, `two trtexec calls, got ${JSON.stringify(s.calls())}`);
    assert.ok(build.includes('--skipInference') && build.some((a) => a.startsWith('--onnx=')), `build: ${build.join(' ')}`);
    // TensorRT 10.3: the span is stated with 10.x's spellings (compute only, spin-wait, no graph).
    for (const flag of ['--noDataTransfers', '--useSpinWait', '--iterations=40', '--warmUp=200', '--separateProfileRun']) assert.ok(run.includes(flag), `${flag} in ${run.join(' ')}`);
    assert.ok(!run.includes('--useCudaGraph'));
    const a = readRun(path.join(s.dir, 'a.json'));
    assert.equal(a.status, 'ok');
    assert.equal(a.samples.latencyMs.length, 40);
    assert.equal(a.timing.span, 'trt-compute');
    assert.match(a.timing.spans, /GPU compute .* device-resident buffers/);
    assert.equal(a.versions.tensorrt ?? a.timing.executionProvider.match(/tensorrt (\S+)/)?.[1], '10.3.0');
    // The stand-in's made-up compute time (2.0 ms, +10% every 7th query) is what the samples hold.
    assert.ok(a.stats!.medianMs > 1.99 && a.stats!.medianMs < 2.03, `median ${a.stats!.medianMs}`);
    assert.equal(a.artifact?.flags.runner, 'trtexec');
    assert.equal(a.artifact?.flags.cached, false);
    assert.equal(a.artifact?.flags.profileIterations, 40);
    assert.deepEqual(a.operators?.map((o) => o.name), ['conv2', 'conv1', 'head', 'relu1']);
    const report = await runCli(['report', path.join(s.dir, 'a.json')], { cwd: s.dir, env: s.env });
    assert.match(report.stdout, /Layers \(trtexec's profile, average of 40 iterations/);
    // Again: the cached engine, no second build.
    const second = await runCli(bench(path.join(s.dir, 'b.json')), { cwd: s.dir, env: s.env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(s.calls().filter((c) => c.includes('--skipInference')).length, 1);
    assert.equal(readRun(path.join(s.dir, 'b.json')).artifact?.flags.cached, true);
    assert.deepEqual(readdirSync(path.join(s.dir, 'cache', 'artifacts', 'tensorrt')).filter((f) => f.includes('.partial')), []);
  });

  test('--trt-span latency includes the copies; --trials run one trtexec each; its warnings join the verdict', async () => {
    const s = setup({ TRTEXEC_STANDIN_MODE: 'warn' });
    const r = await runCli(bench(path.join(s.dir, 'l.json'), '--trt-span', 'latency', '--trials', '2', '--cuda-graph'), { cwd: s.dir, env: s.env });
    assert.equal(r.code, 0, r.stderr);
    const runs = s.calls().filter((c) => c.some((a) => a.startsWith('--loadEngine=')));
    assert.equal(runs.length, 2);
    for (const c of runs) {
      assert.ok(!c.includes('--noDataTransfers') && c.includes('--useCudaGraph'), c.join(' '));
    }
    const run = readRun(path.join(s.dir, 'l.json'));
    assert.equal(run.timing.span, 'trt-latency');
    assert.equal(run.samples.latencyMs.length, 80);
    assert.equal(run.trials?.length, 2);
    // H2D 0.2 + compute ~2.0 + D2H 0.1 ms.
    assert.ok(run.stats!.medianMs > 2.29 && run.stats!.medianMs < 2.33, `median ${run.stats!.medianMs}`);
    assert.ok(run.validity!.findings.some((f) => f.code === 'trtexec-unstable-gpu-compute'), JSON.stringify(run.validity!.findings.map((f) => f.code)));
  });

  test('TensorRT 11: the span flags are the "off" spellings; fp16 is refused with the reason', async () => {
    const s = setup({ TRTEXEC_STANDIN_VERSION: '110000' });
    const r = await runCli(bench(path.join(s.dir, 'e.json')), { cwd: s.dir, env: s.env });
    assert.equal(r.code, 0, r.stderr);
    const run = s.calls().find((c) => c.some((a) => a.startsWith('--loadEngine=')))!;
    assert.ok(run.includes('--noCudaGraph') && !run.includes('--noDataTransfers') && !run.includes('--includeDataTransfers') && !run.includes('--separateProfileRun'), run.join(' '));
    assert.equal(readRun(path.join(s.dir, 'e.json')).timing.span, 'trt-compute');
    const half = await runCli(bench(path.join(s.dir, 'h.json'), '--precision', 'fp16'), { cwd: s.dir, env: s.env });
    assert.notEqual(half.code, 0);
    assert.match(half.stderr, /11\.0 removed precision flags/);
  });

  test('no trtexec says where JetPack puts it; a model trtexec cannot parse names the op; nothing is cached', async () => {
    const s = setup();
    // jetbench info names the runner that works where the native one cannot run.
    const info = await runCli(['info'], { cwd: s.dir, env: s.env });
    assert.match(info.stdout, /tensorrt .*The trtexec runner works here: --runner trtexec \(TensorRT 10\.3\.0, \S+trtexec\)/);
    const missing = await runCli(bench(path.join(s.dir, 'm.json'), '--trtexec', path.join(s.dir, 'nowhere', 'trtexec')), { cwd: s.dir, env: s.env });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /trtexec was not found .*\/usr\/src\/tensorrt\/bin\/trtexec/);
    const bad = setup({ TRTEXEC_STANDIN_MODE: 'fail-build' });
    const r = await runCli(bench(path.join(bad.dir, 'f.json')), { cwd: bad.dir, env: bad.env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /trtexec could not build the engine .*No importer registered for op: StandInOp/);
    const engines = path.join(bad.dir, 'cache', 'artifacts', 'tensorrt');
    assert.deepEqual(existsSync(engines) ? readdirSync(engines).filter((f) => f.endsWith('.engine') || f.includes('.partial')) : [], []);
    // A trtexec that fails while running: a failed run naming trtexec's own error and keeping its log.
    const crash = setup({ TRTEXEC_STANDIN_MODE: 'fail-run' });
    const c = await runCli(bench(path.join(crash.dir, 'x.json')), { cwd: crash.dir, env: crash.env });
    assert.notEqual(c.code, 0);
    const failed = readRun(path.join(crash.dir, 'x.json'));
    assert.equal(failed.status, 'failed');
    assert.match(failed.error!, /trtexec failed \(exit 1; its log: (\S+trtexec\.log)\): Error\[1\]: .*illegal memory access/);
    assert.ok(existsSync(/its log: (\S+trtexec\.log)/.exec(failed.error!)![1]!));
  });

  test('Ctrl-C while trtexec runs stops it: exit 130, no trtexec left running', async () => {
    const s = setup({ TRTEXEC_STANDIN_MODE: 'hang-run' });
    let sent = false;
    const r = await runCli(bench(path.join(s.dir, 'c.json')).filter((a) => a !== '--quiet'), {
      cwd: s.dir,
      env: s.env,
      onStderr: (t, child) => {
        if (!sent && /trtexec warm-up/.test(t)) {
          sent = true;
          setTimeout(() => ctrlC(child), 300);
        }
      },
    });
    assert.ok(sent, r.stderr);
    assert.equal(r.code, 130, r.stderr);
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(s.trtexec));
    assert.deepEqual(left, []);
  });
});
