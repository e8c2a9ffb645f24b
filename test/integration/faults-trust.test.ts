// What must hold when the device, a shared directory or a run file is hostile (issue 18 items 6, 7
// and the SSH/deploy part of 8), on the real CLI, agent and an OpenSSH sshd on loopback: no code
// another user could have written runs as the user (a planted bundle in a shared agent home, a home
// whose parent others may write, a Node in a folder anyone may write); a deployed bundle is trusted
// by its content, file by file; old bundles are pruned; SSH logs in where `ssh` does (IdentitiesOnly
// with a crowded ssh-agent), says what of the ssh config it ignores, refuses a control character in
// a setting; and text from run files reaches the terminal, Markdown and CSV as data.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentBundle, type DeployResult } from '../../src/core/deploy';
import { ROOT, runCli, scratchDir } from '../helpers/cli';
import { controlIn, hostileRuns } from '../helpers/hostileRuns';
import { validRun } from '../helpers/runFile';
import { asTestUser, keygen, sshUnavailableReason, sshWorkspace, TestSshd } from '../helpers/sshd';

const unavailable = sshUnavailableReason();
if (unavailable) console.log(`SKIPPED: ${unavailable}`);

const AGENT = path.join(ROOT, 'dist', 'agent.js');
const ARCH = os.arch() === 'arm64' ? 'arm64' : 'x64';

/** A directory made here (as root: "another user" to the device's login), removed at the end. */
const made: string[] = [];
function sharedDir(prefix: string, mode: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, mode);
  made.push(dir);
  return dir;
}
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function deployJson(stdout: string): DeployResult {
  return JSON.parse(stdout) as DeployResult;
}

describe('code another user could have written never runs', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  before(async () => {
    sshd = await TestSshd.start();
  });
  after(async () => {
    await sshd?.dispose();
  });

  test("an agent home in a shared directory holding another user's planted bundle is refused; the planted agent never runs", async () => {
    // /tmp-like: anyone may create here. Another user (root here) made the agent home first and
    // planted a bundle under the very hash this jetbench deploys.
    const shared = sharedDir('jetbench-shared-', 0o1777);
    const home = path.join(shared, 'jetbench');
    const marker = path.join(shared, 'planted-agent-ran');
    const { hash } = await agentBundle(ARCH, { agentPath: AGENT });
    mkdirSync(path.join(home, 'agent', hash), { recursive: true, mode: 0o755 });
    writeFileSync(
      path.join(home, 'agent', hash, 'agent.js'),
      `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran as uid ' + process.getuid());\nconsole.log(JSON.stringify({ state: 'running', pid: 1, socket: '/nonexistent' }));\n`,
      { mode: 0o755 },
    );
    const ws = sshWorkspace(sshd, { devices: [{ name: 'shared', host: 'jetbench-dev', agentHome: home, nativeBuild: 'never', agentIdleMinutes: 0.2 }] });
    const r = await runCli(['info', '--device', 'shared'], { cwd: ws.cwd, env: ws.env });
    assert.equal(existsSync(marker), false, `the planted agent.js ran: ${existsSync(marker) ? readFileSync(marker, 'utf8') : ''}`);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /will not run the agent from/);
    assert.ok(r.stderr.includes(home), r.stderr);
    assert.match(r.stderr, /agentHome/, 'the message names the fix');
  });

  test('an agent home whose parent anyone may write (no sticky bit) is refused before anything is put there', async () => {
    const world = sharedDir('jetbench-world-', 0o777);
    const home = path.join(world, 'mine');
    asTestUser(`mkdir -m 700 '${home}'`);
    const ws = sshWorkspace(sshd, { devices: [{ name: 'world', host: 'jetbench-dev', agentHome: home, nativeBuild: 'never', agentIdleMinutes: 0.2 }] });
    const r = await runCli(['deploy', '--device', 'world'], { cwd: ws.cwd, env: ws.env });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, new RegExp(`will not run the agent from .*${world.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(owner uid 0, mode 777\\)`), r.stderr);
    assert.deepEqual(readdirSync(home), [], 'nothing was uploaded');
  });

  test('a Node in a folder anyone may write is refused (someone else could swap it)', async () => {
    const bin = sharedDir('jetbench-node-', 0o777);
    const node = path.join(bin, 'node');
    writeFileSync(node, `#!/bin/sh\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
    const ws = sshWorkspace(sshd, { devices: [{ name: 'swap', host: 'jetbench-dev', agentHome: '.jb-swap', nodePath: node, nativeBuild: 'never', agentIdleMinutes: 0.2 }] });
    const r = await runCli(['deploy', '--device', 'swap'], { cwd: ws.cwd, env: ws.env });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /will not run the agent from/);
    assert.ok(r.stderr.includes(`${bin} (owner uid 0, mode 777)`), r.stderr);
    assert.match(r.stderr, /nodePath/, 'the message names the fix');
  });

  test('old bundles are pruned at deploy (this one and the newest other kept); a bundle is trusted by its content, file by file', async () => {
    const agentDir = path.join(sshd.deviceHome, '.jetbench', 'agent');
    // Three bundles of earlier deploys (46 MB each in real life), oldest first, and a folder that
    // is not a bundle (never ours to remove).
    const old = ['0000000000000001', '0000000000000002', '0000000000000003'];
    asTestUser(
      [
        `mkdir -p -m 700 '${agentDir}'`,
        ...old.map((h, i) => `mkdir -m 700 '${agentDir}/${h}' && echo old > '${agentDir}/${h}/agent.js' && touch -d '${3 - i} hours ago' '${agentDir}/${h}'`),
        `mkdir -m 700 '${agentDir}/notes'`,
      ].join(' && '),
    );
    const ws = sshWorkspace(sshd, { devices: [{ name: 'board', host: 'jetbench-dev', nativeBuild: 'never', agentIdleMinutes: 0.2 }] });
    const deploy = async () => {
      const r = await runCli(['deploy', '--device', 'board', '--json'], { cwd: ws.cwd, env: ws.env });
      assert.equal(r.code, 0, r.stderr);
      return { result: deployJson(r.stdout), stderr: r.stderr };
    };
    const first = await deploy();
    assert.equal(first.result.uploaded, true);
    const hash = first.result.bundle.hash;
    assert.deepEqual(readdirSync(agentDir).sort(), [old[2]!, hash, 'notes'].sort());

    // Unchanged: nothing is uploaded (the content check finds no difference).
    assert.equal((await deploy()).result.uploaded, false);

    // A file deep in the bundle changed (not agent.js): found, said even with --json, uploaded again.
    const ortIndex = path.join(first.result.agentDir, 'node_modules', 'onnxruntime-common', 'dist', 'cjs', 'index.js');
    const original = readFileSync(ortIndex, 'utf8');
    asTestUser(`echo 'require("fs").writeFileSync("/tmp/owned", "x");' >> '${ortIndex}' && echo 'import os' > '${first.result.agentDir}/python/tvm.py'`);
    const second = await deploy();
    assert.equal(second.result.uploaded, true, second.stderr);
    assert.match(second.stderr, /warning: the agent under .* is not this bundle's content \(.*changed node_modules\/onnxruntime-common\/dist\/cjs\/index\.js/);
    assert.match(second.stderr, /extra python\/tvm\.py/);
    assert.equal(readFileSync(ortIndex, 'utf8'), original);
    assert.equal(existsSync(path.join(first.result.agentDir, 'python', 'tvm.py')), false);

    // The agent script itself.
    asTestUser(`echo '// planted' >> '${first.result.agentScript}'`);
    const third = await deploy();
    assert.equal(third.result.uploaded, true, third.stderr);
    assert.match(third.stderr, /changed agent\.js/);
    assert.equal((await deploy()).result.uploaded, false);
  });
});

describe('SSH logs in where ssh does, and says what it ignores', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  let agent: ChildProcess;
  let socket: string;
  before(async () => {
    sshd = await TestSshd.start();
    socket = path.join(sshd.dir, 'client', 'crowded-agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      agent.stdout!.setEncoding('utf8').on('data', (t: string) => {
        if (t.includes('SSH_AUTH_SOCK')) resolve();
      });
      agent.on('exit', (code) => reject(new Error(`ssh-agent exited (${code})`)));
    });
    // Ten keys this server does not know, as a developer's agent holds for other hosts: more than
    // sshd's MaxAuthTries (6), so offering them before the configured key ends the login.
    const keys = scratchDir('jetbench-keys-');
    for (let i = 0; i < 10; i++) {
      keygen(path.join(keys, `other_${i}`));
      const added = spawnSync('ssh-add', [path.join(keys, `other_${i}`)], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8' });
      assert.equal(added.status, 0, added.stderr);
    }
  });
  after(async () => {
    agent?.kill();
    await sshd?.dispose();
  });

  /** OpenSSH's own client with the same config, agent and known_hosts. */
  function opensshLogin(ws: ReturnType<typeof sshWorkspace>): number | null {
    return spawnSync('ssh', ['-F', ws.sshConfigFile, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${ws.knownHostsFile}`, 'jetbench-dev', 'true'], {
      env: { ...process.env, SSH_AUTH_SOCK: socket },
      encoding: 'utf8',
    }).status;
  }

  test('IdentitiesOnly yes with ten other keys in the ssh-agent: only the configured key is offered', async () => {
    const device = { name: 'crowded', host: 'jetbench-dev', agentHome: '.jb-crowded', nativeBuild: 'never', agentIdleMinutes: 0.2 };
    // The set-up is the fault: without IdentitiesOnly even ssh runs out of tries.
    assert.notEqual(opensshLogin(sshWorkspace(sshd, { devices: [device] })), 0, 'ten agent keys exhaust MaxAuthTries');
    const ws = sshWorkspace(sshd, { devices: [device], sshConfigExtra: '  IdentitiesOnly yes\n' });
    assert.equal(opensshLogin(ws), 0, 'ssh logs in with IdentitiesOnly');
    const r = await runCli(['info', '--device', 'crowded', '--json'], { cwd: ws.cwd, env: { ...ws.env, SSH_AUTH_SOCK: socket } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { device: { cpuCount: number } }).device.cpuCount > 0);
  });

  test('a ProxyCommand is not run, and that is said (with --json too); the device is reached directly', async () => {
    const marker = path.join(sshd.dir, 'client', 'proxy-command-ran');
    const ws = sshWorkspace(sshd, {
      devices: [{ name: 'proxied', host: 'jetbench-dev', agentHome: '.jb-crowded', nativeBuild: 'never', agentIdleMinutes: 0.2 }],
      sshConfigExtra: `  ProxyCommand sh -c 'touch ${marker}; exec nc %h %p'\n`,
    });
    const r = await runCli(['deploy', '--device', 'proxied', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*ProxyCommand .* is not supported and is ignored.*ProxyJump/);
    assert.equal(existsSync(marker), false);
  });

  test('a control character in a device setting is refused, naming the field; nothing connects', async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'nl', host: 'jetbench-dev', agentHome: '.jb\nagenthome=/tmp', agentIdleMinutes: 0.2 }] });
    const before = sshd.logText.length;
    const r = await runCli(['deploy', '--device', 'nl'], { cwd: ws.cwd, env: ws.env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"agentHome" contains a control character/);
    assert.equal(sshd.logText.slice(before).includes('Accepted'), false, 'no login happened');
  });
});

describe('text from run files is data on every face of the CLI', () => {
  let dir: string;
  let files: string[];
  before(() => {
    dir = scratchDir('jetbench-hostile-runs-');
    files = hostileRuns().map((run) => {
      const file = path.join(dir, `${run.id}.json`);
      writeFileSync(file, JSON.stringify(validRun(run), null, 2));
      return file;
    });
  });

  /** Every line the output shows, after checking that no raw control reached the terminal and
   * that both runs were read (each has a line naming its precision). */
  function shown(r: { code: number | null; stdout: string; stderr: string }, where: string): string[] {
    assert.equal(r.code, 0, `${where}: ${r.stderr}`);
    const bad = controlIn(r.stdout.replace(/\n/g, '')) ?? controlIn(r.stderr.replace(/\n/g, ''));
    assert.equal(bad, null, `${where}: raw control ${bad} reached the terminal`);
    assert.ok(r.stdout.split('\n').filter((l) => l.includes('fp32')).length >= 2, `${where}: both runs were read:\n${r.stdout}`);
    return r.stdout.split('\n');
  }

  test('report --format md: no forged line, no HTML, no live link, no escape sequence', async () => {
    const lines = shown(await runCli(['report', dir, '--format', 'md']), 'report md');
    // The hostile runs have no verification: any Verification line is forged.
    assert.deepEqual(lines.filter((l) => /^\W*Verification:/.test(l)), []);
    // Each run's bold lines are the report's own (status), none from a label: at most one per run.
    assert.ok(lines.filter((l) => l.startsWith('- **')).length <= 2, lines.join('\n'));
    const md = lines.join('\n');
    assert.doesNotMatch(md, /(?<!\\)<(img|script)/i, 'raw HTML');
    assert.doesNotMatch(md, /(?<!\\)\]\((javascript|https?):/i, 'a live Markdown link');
  });

  test('report --format csv: one line per run, no cell starts a formula', async () => {
    const lines = shown(await runCli(['report', dir, '--format', 'csv']), 'report csv').filter(Boolean);
    assert.equal(lines.length, 3, 'a header and one line per run');
    assert.ok(!lines.some((l) => /(^|,)"?[=+@]/.test(l)), lines.join('\n'));
  });

  test('compare (text and md) and report json on a terminal: controls shown as text, one line per run', async () => {
    const text = shown(await runCli(['compare', files[0]!, files[1]!]), 'compare text');
    assert.deepEqual(text.filter((l) => /^\W*Verification:/.test(l)), []);
    const md = shown(await runCli(['compare', files[0]!, files[1]!, '--format', 'md']), 'compare md');
    assert.deepEqual(md.filter((l) => /^\W*Verification:/.test(l)), []);
    shown(await runCli(['report', dir, '--format', 'json']), 'report json');
  });
});
