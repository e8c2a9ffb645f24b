// What a user sees when an SSH device cannot be used, through the CLI against a real sshd: an
// unknown host key (refused, then accepted and recorded with --accept-new-host-key), a changed
// host key ("may be an attack"), a refused port, an unknown host name, a wrong user, a key the
// device does not accept, an encrypted key without a passphrase (and with one). Each is exit 1 with
// a message that names the problem and the fix, and nothing is left running.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { freePort, keygen, SSH_TEST_USER, sshUnavailableReason, sshWorkspace, TestSshd } from '../helpers/sshd';

const unavailable = sshUnavailableReason();
if (unavailable) console.log(`SKIPPED: ${unavailable}`);

describe('SSH errors seen from the CLI', { skip: unavailable ?? false }, () => {
  let sshd: TestSshd;
  let encryptedKey: string;
  before(async () => {
    sshd = await TestSshd.start();
    // One more authorised key, encrypted with a passphrase.
    encryptedKey = path.join(sshd.dir, 'client', 'id_encrypted');
    keygen(encryptedKey, { passphrase: 'correct horse' });
    await sshd.authorize(readFileSync(`${encryptedKey}.pub`, 'utf8').trim());
  });
  after(async () => {
    await sshd?.dispose();
  });

  const info = (device: string, ws: ReturnType<typeof sshWorkspace>, extra: string[] = [], env: Record<string, string> = {}) =>
    runCli(['info', '--device', device, '--json', ...extra], { cwd: ws.cwd, env: { ...ws.env, ...env } });

  test('an unknown host key is refused with its fingerprint, then accepted and recorded on request', async () => {
    const ws = sshWorkspace(sshd, { trustHost: false, devices: [{ name: 'board', host: 'jetbench-dev', agentIdleMinutes: 0.2 }] });
    const fingerprint = spawnSync('ssh-keygen', ['-lf', `${sshd.hostKeyFile}.pub`], { encoding: 'utf8' }).stdout.split(/\s+/)[1]!;
    const refused = await info('board', ws);
    assert.equal(refused.code, 1);
    assert.ok(refused.stderr.includes(`the host key of ${SSH_TEST_USER}@127.0.0.1:${sshd.port} is not known (ssh-ed25519 ${fingerprint})`), refused.stderr);
    assert.match(refused.stderr, /--accept-new-host-key/);

    const accepted = await info('board', ws, ['--accept-new-host-key']);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.ok(accepted.stderr.includes(`accepting the new host key of 127.0.0.1:${sshd.port}: ssh-ed25519 ${fingerprint}`));
    assert.ok((JSON.parse(accepted.stdout) as { device: { cpuCount: number } }).device.cpuCount > 0);
    // Recorded hashed, found by OpenSSH's own tool; the next connection needs no flag.
    const found = spawnSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', ws.knownHostsFile], { encoding: 'utf8' });
    assert.equal(found.status, 0);
    assert.match(found.stdout, /^\|1\|/m);
    assert.equal((await info('board', ws)).code, 0);
  });

  test('a changed host key is refused, saying it may be an attack, even with --accept-new-host-key', async () => {
    const ws = sshWorkspace(sshd, { trustHost: false, devices: [{ name: 'board', host: 'jetbench-dev' }] });
    const other = path.join(sshd.dir, 'impostor');
    keygen(other);
    const [type, blob] = readFileSync(`${other}.pub`, 'utf8').split(/\s+/);
    writeFileSync(ws.knownHostsFile, `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
    const r = await info('board', ws, ['--accept-new-host-key']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the host key of .* changed: it presented ssh-ed25519 SHA256:\S+, which is not the key recorded in .*known_hosts/);
    assert.match(r.stderr, /This may be an attack/);
    assert.match(r.stderr, new RegExp(`ssh-keygen -R '\\[127\\.0\\.0\\.1\\]:${sshd.port}'`));
    assert.equal(readFileSync(ws.knownHostsFile, 'utf8'), `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`, 'known_hosts untouched');
  });

  test('a refused port and an unknown host name', async () => {
    const ws = sshWorkspace(sshd);
    const closedPort = await freePort();
    const refused = await info(`ssh://${SSH_TEST_USER}@127.0.0.1:${closedPort}`, ws);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`connection refused by ${SSH_TEST_USER}@127\\.0\\.0\\.1:${closedPort}: is sshd running there and is the port \\(${closedPort}\\) right\\?`));
    const unknown = await info(`ssh://${SSH_TEST_USER}@no-such-device.invalid`, ws);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /host name 'no-such-device\.invalid' of device .* cannot be resolved: check the host/);
    const notConfigured = await info('not-a-device', ws);
    assert.equal(notConfigured.code, 2);
    assert.match(notConfigured.stderr, /device 'not-a-device' is not known: use 'local', a device of the jetbench.devices setting/);
  });

  test('a wrong user and a key the device does not accept', async () => {
    const stranger = path.join(sshd.dir, 'client', 'id_stranger');
    keygen(stranger);
    const ws = sshWorkspace(sshd, {
      devices: [
        { name: 'wrong-user', host: 'jetbench-dev', user: 'nobody-here' },
        { name: 'wrong-key', host: 'jetbench-dev', identityFile: stranger },
        { name: 'no-key-file', host: 'jetbench-dev', identityFile: path.join(sshd.dir, 'missing-key') },
      ],
    });
    const user = await info('wrong-user', ws);
    assert.equal(user.code, 1);
    assert.match(user.stderr, /authentication as 'nobody-here' on nobody-here@127\.0\.0\.1:\d+ failed \(tried .*id_ed25519: rejected by the server\): check the user and the identityFile/);
    const key = await info('wrong-key', ws);
    assert.equal(key.code, 1);
    assert.match(key.stderr, /authentication as 'jetbench-test' .* failed \(tried .*id_stranger: rejected by the server\)/);
    const missing = await info('no-key-file', ws);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /missing-key: cannot read it \(ENOENT\)/);
  });

  test('an encrypted key needs its passphrase: none is a clear failure, the right one connects', async () => {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'enc', host: 'jetbench-dev', identityFile: encryptedKey, agentIdleMinutes: 0.2 }] });
    const none = await info('enc', ws);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /id_encrypted: encrypted, and no passphrase was given \(set JETBENCH_SSH_PASSPHRASE, run in a terminal, or load it into ssh-agent\)/);
    const wrong = await info('enc', ws, [], { JETBENCH_SSH_PASSPHRASE: 'wrong' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /id_encrypted: the passphrase is wrong/);
    const right = await info('enc', ws, [], { JETBENCH_SSH_PASSPHRASE: 'correct horse' });
    assert.equal(right.code, 0, right.stderr);
    // The passphrase is never echoed.
    assert.doesNotMatch(right.stderr + right.stdout + wrong.stderr, /correct horse/);
  });
});
