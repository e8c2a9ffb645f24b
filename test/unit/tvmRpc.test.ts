// `jetbench build --rpc` as the CLI and the agent read it: the --rpc forms, the triple for a
// device's architecture, the spec's rpc/cross checks, and the agent's checks of the RPC requests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { specProblems, TVM_DEFAULTS } from '../../contract/runSpec';
import { SPEC_DEFAULTS } from '../../contract/runSpec';
import { crossTargetFor, parseRpcFlag, takeRpcFlag } from '../../src/cli/tvmRpc';
import { buildThroughRpc, candidatesText } from '../../src/cli/buildRpc';
import { checkTvmAdoptParams, checkTvmRpcStartParams, checkTvmRpcStopParams } from '../../device-agent/src/requestChecks';

test('--rpc: device, a tracker with its key, or one server; anything else says the forms', () => {
  assert.deepEqual(parseRpcFlag('device'), { kind: 'device' });
  assert.deepEqual(parseRpcFlag('tracker:10.0.0.5:9190:orin'), { kind: 'tracker', host: '10.0.0.5', port: 9190, key: 'orin' });
  assert.deepEqual(parseRpcFlag('127.0.0.1:9090'), { kind: 'server', host: '127.0.0.1', port: 9090 });
  assert.throws(() => parseRpcFlag('tracker:host:9190'), /tracker:HOST:PORT:KEY/);
  assert.throws(() => parseRpcFlag('tracker:host:99999:k'), /'99999' is not a port number/);
  assert.throws(() => parseRpcFlag('jetson'), /is not device, HOST:PORT \(a TVM RPC server\) or tracker:HOST:PORT:KEY/);
  assert.throws(() => parseRpcFlag('host:port'), /'port' is not a port number/);
});

test('--rpc is taken off the build arguments in both spellings; a missing value is a usage error', () => {
  assert.deepEqual(takeRpcFlag(['--model', 'tiny', '--rpc', 'device', '--backend', 'tvm']), { rest: ['--model', 'tiny', '--backend', 'tvm'], rpc: { kind: 'device' } });
  assert.deepEqual(takeRpcFlag(['--rpc=1.2.3.4:9090']).rpc, { kind: 'server', host: '1.2.3.4', port: 9090 });
  assert.deepEqual(takeRpcFlag(['--model', 'tiny']), { rest: ['--model', 'tiny'], rpc: null });
  assert.throws(() => takeRpcFlag(['--rpc']), /--rpc needs a value/);
});

test('the LLVM triple follows the device\'s uname -m (older runs\' Node names too); an unknown one is refused', () => {
  assert.deepEqual(crossTargetFor('aarch64', 6), { triple: 'aarch64-linux-gnu', cores: 6 });
  assert.deepEqual(crossTargetFor('arm64', 4), { triple: 'aarch64-linux-gnu', cores: 4 });
  assert.deepEqual(crossTargetFor('x86_64', 0), { triple: 'x86_64-linux-gnu', cores: 1 });
  assert.throws(() => crossTargetFor('riscv64', 4), /architecture 'riscv64'/);
});

test('a spec\'s tvm.rpc and tvm.cross are checked like every other field', () => {
  const spec = (tvm: Record<string, unknown>) => ({ ...SPEC_DEFAULTS, device: 'local', model: 'tiny', backend: 'tvm', precision: 'fp32', tvm: { ...TVM_DEFAULTS, ...tvm } });
  assert.deepEqual(specProblems(spec({ rpc: { kind: 'tracker', host: '127.0.0.1', port: 9190, key: 'k' }, cross: { triple: 'aarch64-linux-gnu', cores: 4 } }), {}), []);
  assert.deepEqual(specProblems(spec({ rpc: null, cross: null }), {}), []);
  const bad = specProblems(spec({ rpc: { kind: 'tracker', host: '127.0.0.1', port: 9190 }, cross: { triple: 'aarch64 linux', cores: 0 } }), {});
  assert.deepEqual(bad.map((p) => p.field), ['tvm.rpc', 'tvm.cross']);
  assert.match(bad[0]!.message, /kind: 'tracker', host, port, key/);
  // The device's server among the tracker's: { host, port }, and only with a tracker.
  const tracker = { kind: 'tracker', host: '127.0.0.1', port: 9190, key: 'k' };
  assert.deepEqual(specProblems(spec({ rpc: tracker, rpcDevice: { host: '127.0.0.1', port: 9091 } }), {}), []);
  const device = specProblems(spec({ rpc: tracker, rpcDevice: { host: '', port: 9091 } }), {});
  assert.deepEqual(device.map((p) => p.field), ['tvm.rpcDevice']);
  const alone = specProblems(spec({ rpc: { kind: 'server', host: '127.0.0.1', port: 9090 }, rpcDevice: { host: '127.0.0.1', port: 9091 } }), {});
  assert.deepEqual(alone.map((p) => [p.field, p.message]), [['tvm.rpcDevice', "applies with a tracker in rpc only (it picks one of the tracker's servers)"]]);
});

test('who measured the tuning candidates: per server the tracker handed out, the device first by name', () => {
  assert.equal(candidatesText('orin', '127.0.0.1:9091', { '127.0.0.1:9092': 2, '127.0.0.1:9091': 1 }), 'tuning measured 3 candidates through TVM RPC: 1 on orin (127.0.0.1:9091), 2 on 127.0.0.1:9092');
  assert.equal(candidatesText('orin', '127.0.0.1:9091', { '127.0.0.1:9091': 1 }), 'tuning measured 1 candidate through TVM RPC: 1 on orin (127.0.0.1:9091)');
  // The device took none (the others were always free first): said, not left out.
  assert.equal(candidatesText('orin', '127.0.0.1:9091', { '10.0.0.7:9090': 4 }), 'tuning measured 4 candidates through TVM RPC: 4 on 10.0.0.7:9090, 0 on orin (127.0.0.1:9091)');
  // A tracker of the user's with servers jetbench did not start: addresses only.
  assert.equal(candidatesText('orin', null, { '10.0.0.7:9090': 2, '10.0.0.8:9090': 2 }), 'tuning measured 4 candidates through TVM RPC: 2 on 10.0.0.7:9090, 2 on 10.0.0.8:9090');
});

test('the agent checks the RPC requests before it starts anything', () => {
  assert.deepEqual(checkTvmRpcStartParams({ tracker: null, reportAddress: null, python: null }), { tracker: null, reportAddress: null, python: null });
  assert.throws(() => checkTvmRpcStartParams({ tracker: { host: '127.0.0.1', port: 0, key: 'k' }, reportAddress: null, python: null }), /"tracker.port" must be a port number/);
  assert.throws(() => checkTvmRpcStartParams({ tracker: null, reportAddress: null, python: null, shell: 'rm -rf /' }), /unknown param "shell"/);
  assert.throws(() => checkTvmRpcStopParams({ id: '' }), /"id" must be a non-empty string/);
  const adopt = {
    spec: { ...SPEC_DEFAULTS, device: 'local', model: 'tiny', backend: 'tvm', precision: 'fp32', tvm: TVM_DEFAULTS },
    module: '/tmp/x/module.so',
    tuningLog: null,
    flags: { tvm: '0.27.0.post1' },
    buildMs: 12,
    modelSha256: 'a'.repeat(64),
  };
  assert.equal(checkTvmAdoptParams(adopt).module, '/tmp/x/module.so');
  assert.throws(() => checkTvmAdoptParams({ ...adopt, modelSha256: 'abc' }), /"modelSha256" must be a sha256/);
  assert.throws(() => checkTvmAdoptParams({ ...adopt, flags: { tvm: { nested: 1 } } }), /flags.tvm must be a string, number or boolean/);
  assert.throws(() => checkTvmAdoptParams({ ...adopt, spec: { ...adopt.spec, backend: 'onnxruntime', tvm: undefined } }), /spec.backend must be tvm/);
});

test('build --rpc refuses what it cannot do before it connects: no device, a cuda target, tuning through one server', async () => {
  const io = { out: () => {}, err: () => {}, cwd: process.cwd(), isTty: false };
  const spec = (device: string, tvm: Partial<typeof TVM_DEFAULTS>) => ({ ...SPEC_DEFAULTS, device, model: 'tiny', backend: 'tvm' as const, precision: 'fp32' as const, tvm: { ...TVM_DEFAULTS, ...tvm } });
  const opts = { json: false, quiet: true, acceptNewHostKey: false };
  await assert.rejects(buildThroughRpc(spec('local', {}), { kind: 'device' }, opts, io), /--rpc measures on another machine: give --device/);
  await assert.rejects(buildThroughRpc(spec('ssh://j@127.0.0.1:1', { target: 'cuda' }), { kind: 'device' }, opts, io), /--target llvm/);
  await assert.rejects(
    buildThroughRpc(spec('ssh://j@127.0.0.1:1', { tuneTrials: 2 }), { kind: 'server', host: '127.0.0.1', port: 9090 }, opts, io),
    /--tune-trials with --rpc 127\.0\.0\.1:9090: tuning goes through a tracker/,
  );
});
