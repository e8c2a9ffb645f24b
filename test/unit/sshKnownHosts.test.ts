// known_hosts as OpenSSH writes and reads it: entries hashed by ssh-keygen -H are matched, the ones
// jetbench records are found by ssh-keygen -F, wildcards, negations and @revoked behave as in ssh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addKnownHost, checkHostKey, fingerprintSha256, hostFieldMatches, keyTypeOf, recordedKeyTypes } from '../../src/core/sshKnownHosts';

function newKey(dir: string, name: string, type = 'ed25519'): { line: string; blob: Buffer; type: string } {
  const file = path.join(dir, name);
  assert.equal(spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]).status, 0);
  const [keyType, b64] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  return { line: `${keyType} ${b64}`, blob: Buffer.from(b64!, 'base64'), type: keyType! };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-kh-'));
const a = newKey(dir, 'a');
const b = newKey(dir, 'b');
const rsa = newKey(dir, 'r', 'rsa');

test('fingerprints and key types match ssh-keygen', () => {
  const printed = spawnSync('ssh-keygen', ['-lf', path.join(dir, 'a.pub')], { encoding: 'utf8' }).stdout.split(/\s+/)[1];
  assert.equal(fingerprintSha256(a.blob), printed);
  assert.equal(keyTypeOf(a.blob), 'ssh-ed25519');
  assert.equal(keyTypeOf(rsa.blob), 'ssh-rsa');
});

test('entries hashed by ssh-keygen -H are matched by host and port', async () => {
  const file = path.join(dir, 'hashed');
  writeFileSync(file, `device.lan ${a.line}\n[10.0.0.5]:2222 ${b.line}\n`);
  assert.equal(spawnSync('ssh-keygen', ['-H', '-f', file]).status, 0);
  assert.doesNotMatch(readFileSync(file, 'utf8'), /device\.lan|10\.0\.0\.5/);
  assert.equal(await checkHostKey([file], 'device.lan', 22, a.blob), 'known');
  assert.equal(await checkHostKey([file], '10.0.0.5', 2222, b.blob), 'known');
  assert.equal(await checkHostKey([file], '10.0.0.5', 22, b.blob), 'unknown', 'another port is another host');
  assert.equal(await checkHostKey([file], 'device.lan', 22, b.blob), 'mismatch');
  assert.equal(await checkHostKey([file], 'other', 22, a.blob), 'unknown');
});

test('a host with a recorded key of another type that shows a new type is a mismatch', async () => {
  const file = path.join(dir, 'types');
  writeFileSync(file, `jet ${rsa.line}\n`);
  assert.equal(await checkHostKey([file], 'jet', 22, a.blob), 'mismatch');
  assert.deepEqual(await recordedKeyTypes([file], 'jet', 22), ['ssh-rsa']);
});

test('patterns, negations, comments, @revoked, several files', async () => {
  const f1 = path.join(dir, 'f1');
  const f2 = path.join(dir, 'f2');
  writeFileSync(f1, `# comment\n\n*.lab,!bad.lab ${a.line}\n@revoked * ${b.line}\n`);
  writeFileSync(f2, `other ${b.line}\n`);
  assert.ok(hostFieldMatches('*.lab,!bad.lab', 'jet.lab'));
  assert.ok(!hostFieldMatches('*.lab,!bad.lab', 'bad.lab'));
  assert.ok(hostFieldMatches('jet?', 'JET1'));
  assert.equal(await checkHostKey([f1, f2], 'jet.lab', 22, a.blob), 'known');
  assert.equal(await checkHostKey([f1, f2], 'bad.lab', 22, a.blob), 'unknown');
  assert.equal(await checkHostKey([f1, f2], 'other', 22, b.blob), 'revoked');
  assert.equal(await checkHostKey([path.join(dir, 'missing'), f2], 'nobody', 22, a.blob), 'unknown');
});

test('a recorded key is hashed, found by ssh-keygen -F, and the file is private', async () => {
  const file = path.join(dir, 'new', '.ssh', 'known_hosts');
  await addKnownHost(file, '127.0.0.1', 2200, a.blob);
  await addKnownHost(file, 'jet.local', 22, b.blob);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^\|1\|[^ ]+ ssh-ed25519 /m);
  assert.doesNotMatch(text, /127\.0\.0\.1|jet\.local/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.equal(spawnSync('ssh-keygen', ['-F', '[127.0.0.1]:2200', '-f', file]).status, 0);
  assert.equal(spawnSync('ssh-keygen', ['-F', 'jet.local', '-f', file]).status, 0);
  assert.equal(await checkHostKey([file], '127.0.0.1', 2200, a.blob), 'known');
  assert.equal(await checkHostKey([file], 'jet.local', 22, b.blob), 'known');
});
