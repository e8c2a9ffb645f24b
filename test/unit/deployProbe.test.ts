// The device probe is a shell script: run here by a real `sh` against a made-up home with Node
// candidates of several versions, it must find the first usable Node in the documented order,
// list deployed bundles, and report free space, whatever the paths contain.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { bundleDifferences, deviceArch, parseProbe, probeScript, pruneScript, unsafeAgentPaths, type PathPerm, nativeFeatures } from '../../src/core/deploy';

/** A fake `node` that prints a version. */
function fakeNode(file: string, version: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\necho ${version}\n`);
  chmodSync(file, 0o755);
  return file;
}

function probe(home: string, pathDirs: string[], device: { agentHome: string; nodePath: string | null }) {
  const r = spawnSync('sh', ['-c', probeScript(device)], {
    encoding: 'utf8',
    env: { HOME: home, PATH: [...pathDirs, '/usr/bin', '/bin'].join(':') },
  });
  assert.equal(r.status, 0, r.stderr);
  return parseProbe(r.stdout);
}

test('Node: configured, then PATH, then VS Code Server, then uploaded; old ones are skipped', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), "jetbench probe 'home' "));
  const oldBin = path.join(home, 'old bin');
  fakeNode(path.join(oldBin, 'node'), 'v16.20.0');
  const server = fakeNode(path.join(home, '.vscode-server', 'bin', 'c0ffee', 'node'), 'v20.11.1');
  const agentHome = `.jb $(touch PWNED) 'x'`;
  const uploaded = fakeNode(path.join(home, agentHome, 'node', 'v22.23.3-linux-x64', 'bin', 'node'), 'v22.23.3');

  let p = probe(home, [oldBin], { agentHome, nodePath: null });
  assert.deepEqual(p.node, { source: 'vscode-server', path: server, version: 'v20.11.1' });
  assert.deepEqual(p.nodesSeen, [`${oldBin}/node v16.20.0`, `${server} v20.11.1`]);
  assert.equal(p.home, home);
  assert.equal(p.agentHome, `${home}/${agentHome}`);
  assert.ok(p.freeBytes !== null && p.freeBytes > 0);

  const configured = fakeNode(path.join(home, 'my node', 'node'), 'v18.0.0');
  p = probe(home, [oldBin], { agentHome, nodePath: '~/my node/node' });
  assert.deepEqual(p.node, { source: 'configured', path: configured, version: 'v18.0.0' });

  spawnSync('rm', ['-rf', path.join(home, '.vscode-server')]);
  p = probe(home, [oldBin], { agentHome, nodePath: null });
  assert.deepEqual(p.node, { source: 'uploaded', path: uploaded, version: 'v22.23.3' });

  const newBin = path.join(home, 'new');
  const onPath = fakeNode(path.join(newBin, 'node'), 'v21.0.0');
  p = probe(home, [newBin], { agentHome, nodePath: null });
  assert.deepEqual(p.node, { source: 'path', path: onPath, version: 'v21.0.0' });

  spawnSync('rm', ['-rf', path.join(home, agentHome)]);
  p = probe(home, [oldBin], { agentHome, nodePath: null });
  assert.equal(p.node, null);
  assert.deepEqual(p.nodesSeen, [`${oldBin}/node v16.20.0`]);
  assert.equal(spawnSync('find', [home, '-name', 'PWNED']).stdout.toString(), '');
});

test('deployed bundles are listed; the architecture maps to what can be served', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'jetbench-probe-'));
  for (const hash of ['aaaa', 'bbbb']) {
    mkdirSync(path.join(home, '.jetbench', 'agent', hash), { recursive: true });
    writeFileSync(path.join(home, '.jetbench', 'agent', hash, 'agent.js'), '');
  }
  // An upload that never finished has no complete directory under its hash name.
  mkdirSync(path.join(home, '.jetbench', 'agent', '.tmp-cccc-1234'), { recursive: true });
  const p = probe(home, [], { agentHome: '.jetbench', nodePath: null });
  assert.deepEqual(p.deployed.sort(), ['aaaa', 'bbbb']);
  assert.equal(p.unameM, spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim());
  assert.equal(deviceArch('x86_64'), 'x64');
  assert.equal(deviceArch('aarch64'), 'arm64');
  assert.equal(deviceArch('armv7l'), null);
});

test('native addon: built for these sources, and the build tools on PATH', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'jetbench-probe-'));
  const tools = path.join(home, 'tools');
  fakeNode(path.join(tools, 'cmake'), 'cmake');
  // A PATH with the probe's own utilities and a cmake, but no compiler.
  for (const util of ['sh', 'uname', 'df', 'awk', 'basename', 'dirname']) symlinkSync(spawnSync('sh', ['-c', `command -v ${util}`], { encoding: 'utf8' }).stdout.trim(), path.join(tools, util));
  const run = (env: Record<string, string>) => {
    const r = spawnSync(path.join(tools, 'sh'), ['-c', probeScript({ agentHome: '.jetbench', nodePath: null }, 'abc123')], { encoding: 'utf8', env: { HOME: home, PATH: tools, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return parseProbe(r.stdout);
  };
  let p = run({});
  assert.equal(p.nativeBuilt, false);
  assert.deepEqual(p.tools, ['cmake']);
  mkdirSync(path.join(home, '.cache', 'jetbench', 'native', 'abc123'), { recursive: true });
  writeFileSync(path.join(home, '.cache', 'jetbench', 'native', 'abc123', 'jetbench_native.node'), '');
  assert.equal(run({}).nativeBuilt, true);
  // The agent's cache dir follows $JETBENCH_CACHE_DIR, as models/src cacheDir() does.
  p = run({ JETBENCH_CACHE_DIR: path.join(home, 'elsewhere') });
  assert.equal(p.nativeBuilt, false);
});

test('the probe sees who may write the agent home, the folders above it and the Node it runs', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'jetbench probe perms '));
  const bundleDir = path.join(home, '.jetbench', 'agent', 'abcdef0123456789');
  mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(bundleDir, 'agent.js'), 'console.log(1)\n');
  const bin = path.join(home, 'bin');
  const node = fakeNode(path.join(bin, 'node'), 'v20.0.0');
  let p = probe(home, [bin], { agentHome: '.jetbench', nodePath: null });
  assert.equal(p.uid, process.getuid!());
  assert.deepEqual(unsafeAgentPaths(p), []);
  // Every folder above the home is seen, up to /, and the Node binary with the folders above it.
  const chain = p.chain.map((c) => c.path);
  for (const above of [home, path.dirname(home), '/']) assert.ok(chain.includes(above), `${above} in ${chain.join(', ')}`);
  for (const n of [node, bin]) assert.ok(chain.includes(n), `${n} in ${chain.join(', ')}`);
  // A shared agent home (anyone may write): every path below it is refused, naming the mode.
  chmodSync(path.join(home, '.jetbench', 'agent'), 0o777);
  p = probe(home, [bin], { agentHome: '.jetbench', nodePath: null });
  assert.deepEqual(unsafeAgentPaths(p), [`${path.join(home, '.jetbench', 'agent')} (owner uid ${process.getuid!()}, mode 777)`]);
  chmodSync(path.join(home, '.jetbench', 'agent'), 0o700);
  // A Node in a folder anyone may write: someone else could swap it.
  chmodSync(bin, 0o777);
  p = probe(home, [bin], { agentHome: '.jetbench', nodePath: null });
  assert.deepEqual(unsafeAgentPaths(p), [`${bin} (owner uid ${process.getuid!()}, mode 777)`]);
  // The agent home's own folders must be the login's; above them root's is fine, and a folder that
  // others may write is fine only with the sticky bit (as /tmp).
  const rule = (perms: PathPerm[], chain: PathPerm[]) => unsafeAgentPaths({ uid: 1000, perms, chain });
  assert.deepEqual(rule([{ path: '/srv/jb', uid: 0, mode: 0o755 }], []), ['/srv/jb (owner uid 0, mode 755)']);
  assert.deepEqual(rule([], [{ path: '/usr/bin', uid: 0, mode: 0o755 }, { path: '/tmp', uid: 0, mode: 0o1777 }, { path: '/home/me', uid: 1000, mode: 0o750 }]), []);
  assert.deepEqual(rule([], [{ path: '/srv/shared', uid: 0, mode: 0o777 }]), ['/srv/shared (owner uid 0, mode 777)']);
  assert.deepEqual(rule([], [{ path: '/home/other', uid: 1002, mode: 0o755 }]), ['/home/other (owner uid 1002, mode 755)']);
});

test('a deployed bundle is compared with this one file by file', () => {
  const sum = (text: string) => createHash('sha256').update(text).digest('hex');
  const expected = new Map([
    ['agent.js', sum('agent')],
    ['node_modules/onnxruntime-node/dist/index.js', sum('ort')],
    ['python/jetbench_tvm.py', sum('py')],
  ]);
  const line = (file: string, text: string) => `${sum(text)}  ./${file}`;
  const same = [line('agent.js', 'agent'), line('node_modules/onnxruntime-node/dist/index.js', 'ort'), line('python/jetbench_tvm.py', 'py')];
  assert.deepEqual(bundleDifferences(expected, same.join('\n') + '\n'), []);
  const tampered = [line('agent.js', 'agent'), line('node_modules/onnxruntime-node/dist/index.js', 'planted'), line('python/tvm.py', 'shadow'), `\\${sum('x')}  ./odd\\nname`];
  const found = bundleDifferences(expected, tampered.join('\n'));
  assert.deepEqual(found.slice(0, 2), ['changed node_modules/onnxruntime-node/dist/index.js', 'extra python/tvm.py']);
  // A name sha256sum escaped (a backslash or newline in it) is never one of the bundle's.
  assert.match(found[2]!, /^extra .*odd/);
  assert.deepEqual(found.slice(3), ['missing python/jetbench_tvm.py']);
});

test('old agent bundles are pruned: this one and the newest other stay, nothing else is touched', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), "jetbench prune 'home' "));
  const agent = path.join(home, 'agent');
  const names = ['0000000000000001', '0000000000000002', '0000000000000003', 'aaaaaaaaaaaaaaaa'];
  names.forEach((n, i) => {
    mkdirSync(path.join(agent, n), { recursive: true });
    writeFileSync(path.join(agent, n, 'agent.js'), '');
    // Oldest first: 1, 2, 3, then the current one.
    utimesSync(path.join(agent, n), 1_700_000_000 + i * 100, 1_700_000_000 + i * 100);
  });
  mkdirSync(path.join(agent, 'not-a-bundle'));
  const r = spawnSync('sh', ['-c', pruneScript(home, 'aaaaaaaaaaaaaaaa')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['pruned=0000000000000001', 'pruned=0000000000000002']);
  assert.deepEqual(readdirSync(agent).sort(), ['0000000000000003', 'aaaaaaaaaaaaaaaa', 'not-a-bundle']);
});

test("a device build's CMake summary in words: what it was built with, or CPU only", () => {
  assert.equal(nativeFeatures('CUDA 0 (architectures: ), TensorRT 0 , PyTorch 0 , Node-API addon: /a;/b, GoogleTest: FALSE'), 'CPU only (no CUDA, TensorRT or PyTorch found)');
  assert.equal(nativeFeatures('CUDA 1 (architectures: 87), TensorRT 1 10.3.0, PyTorch 0 , Node-API addon: /a, GoogleTest: TRUE'), 'with CUDA (87), TensorRT 10.3.0');
  assert.equal(nativeFeatures('CUDA 1 (architectures: 72;87), TensorRT 0 , PyTorch 1 2.5.0+cu124, Node-API addon: /a, GoogleTest: FALSE'), 'with CUDA (72;87), PyTorch 2.5.0+cu124');
});
