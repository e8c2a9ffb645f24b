// Authentication through a real ssh-agent (SSH_AUTH_SOCK): a key held only by the agent (its
// file is encrypted and no passphrase is given) logs in, and the CLI never asks for a passphrase.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { keygen, sshUnavailableReason, sshWorkspace, TestSshd } from '../helpers/sshd';

const unavailable = sshUnavailableReason();
if (unavailable) console.log(`SKIPPED: ${unavailable}`);

describe('ssh-agent', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  let agent: ChildProcess;
  let socket: string;
  let key: string;
  before(async () => {
    sshd = await TestSshd.start();
    key = path.join(sshd.dir, 'client', 'id_in_agent');
    keygen(key, { passphrase: 'only the agent knows' });
    await sshd.authorize(readFileSync(`${key}.pub`, 'utf8').trim());
    socket = path.join(sshd.dir, 'client', 'agent.sock');
    // -D: in the foreground, so it is stopped by the pid it was started with.
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      agent.stdout!.setEncoding('utf8').on('data', (t: string) => {
        if (t.includes('SSH_AUTH_SOCK')) resolve();
      });
      agent.on('exit', (code) => reject(new Error(`ssh-agent exited (${code})`)));
    });
    // ssh-add reads the passphrase from SSH_ASKPASS when it has no terminal.
    const askpass = path.join(sshd.dir, 'client', 'askpass.sh');
    spawnSync('sh', ['-c', `printf '#!/bin/sh\\necho "only the agent knows"\\n' > '${askpass}' && chmod 700 '${askpass}'`]);
    const added = spawnSync('ssh-add', [key], {
      env: { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    assert.equal(added.status, 0, added.stderr);
  });
  after(async () => {
    agent?.kill();
    await sshd?.dispose();
  });

  test('a key held by ssh-agent logs in without its passphrase', async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'viaagent', host: 'jetbench-dev', identityFile: key, agentIdleMinutes: 0.2 }] });
    const withAgent = await runCli(['info', '--device', 'viaagent', '--json'], { cwd: ws.cwd, env: { ...ws.env, SSH_AUTH_SOCK: socket } });
    assert.equal(withAgent.code, 0, withAgent.stderr);
    assert.ok((JSON.parse(withAgent.stdout) as { device: { cpuCount: number } }).device.cpuCount > 0);
    // Without the agent the same device needs the passphrase, and says so.
    const without = await runCli(['info', '--device', 'viaagent', '--json'], { cwd: ws.cwd, env: ws.env });
    assert.equal(without.code, 1);
    assert.match(without.stderr, /id_in_agent: encrypted, and no passphrase was given/);
  });

  test('a stale SSH_AUTH_SOCK (the agent of an old login) is skipped, not fatal: the key file logs in', async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'stale', host: 'jetbench-dev', identityFile: key, agentIdleMinutes: 0.2 }] });
    const stale = path.join(sshd.dir, 'client', 'gone-agent.sock');
    const r = await runCli(['info', '--device', 'stale', '--json'], {
      cwd: ws.cwd,
      env: { ...ws.env, SSH_AUTH_SOCK: stale, JETBENCH_SSH_PASSPHRASE: 'only the agent knows' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { device: { cpuCount: number } }).device.cpuCount > 0);
  });
});
