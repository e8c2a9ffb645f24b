// The device probe is a shell script: run here by a real `sh` against a made-up home with Node
// candidates of several versions, it must find the first usable Node in the documented order,
// list deployed bundles, and report free space, whatever the paths contain.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { deviceArch, parseProbe, probeScript, unsafeAgentPaths } from '../../src/core/deploy';

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

test('the probe sees who may write the agent home and what each deployed agent.js holds', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'jetbench probe perms '));
  const bundleDir = path.join(home, '.jetbench', 'agent', 'abcdef0123456789');
  mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(bundleDir, 'agent.js'), 'console.log(1)\n');
  let p = probe(home, [], { agentHome: '.jetbench', nodePath: null });
  assert.equal(p.uid, process.getuid!());
  assert.deepEqual(p.agentSums.get('abcdef0123456789'), createHash('sha256').update('console.log(1)\n').digest('hex'));
  assert.deepEqual(unsafeAgentPaths(p), []);
  // A shared agent home (anyone may write): every path below it is refused, naming the mode.
  chmodSync(path.join(home, '.jetbench', 'agent'), 0o777);
  p = probe(home, [], { agentHome: '.jetbench', nodePath: null });
  assert.deepEqual(unsafeAgentPaths(p), [`${path.join(home, '.jetbench', 'agent')} (owner uid ${process.getuid!()}, mode 777)`]);
  // Owned by another user: refused too.
  assert.deepEqual(unsafeAgentPaths({ uid: 1000, perms: [{ path: '/srv/jb', uid: 0, mode: 0o755 }] }), ['/srv/jb (owner uid 0, mode 755)']);
});
