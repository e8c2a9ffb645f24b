// Host keys checked against OpenSSH known_hosts files, as `ssh` does: plain and hashed
// (`|1|salt|hmac`) host names, `[host]:port` for ports other than 22, wildcard patterns and
// negations, `@revoked` keys. New keys are recorded hashed (Debian's default HashKnownHosts).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A host key that known_hosts does not hold, shown to the user before trusting it. */
export interface HostKeyInfo {
  host: string;
  port: number;
  /** `SHA256:...` as `ssh` prints it. */
  fingerprintSha256: string;
  keyType: string;
  /** Always 'unknown': a key that differs from the recorded one is refused without asking. */
  known: 'unknown';
}

export type HostKeyVerdict = 'known' | 'unknown' | 'mismatch' | 'revoked';


/** ~/.ssh/known_hosts (recorded to), then the system-wide file (read only). */
export function defaultKnownHostsFiles(): string[] {
  return [path.join(os.homedir(), '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
}

/** The name known_hosts records for a host: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:...` as OpenSSH prints it (base64 without padding) for a public key blob. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Whether one known_hosts host field (comma-separated patterns, or one hashed entry) names `name`. */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const expected = Buffer.from(hash, 'base64');
    const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    if (globToRegExp(negated ? pattern.slice(1) : pattern).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

interface KnownHostsEntry {
  marker: '@revoked' | '@cert-authority' | null;
  hosts: string;
  keyType: string;
  key: Buffer;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0] === '@revoked' || fields[0] === '@cert-authority' ? (fields.shift() as KnownHostsEntry['marker']) : null;
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) continue;
    entries.push({ marker, hosts, keyType, key: Buffer.from(key, 'base64') });
  }
  return entries;
}

/** Checks a presented host key against the files (missing files count as empty). */
export async function checkHostKey(files: readonly string[], host: string, port: number, keyBlob: Buffer): Promise<HostKeyVerdict> {
  const name = knownHostsName(host, port);
  const keyType = keyTypeOf(keyBlob);
  let known = false;
  let otherKeys = false;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const entry of parseKnownHosts(text)) {
      if (entry.marker === '@cert-authority' || !hostFieldMatches(entry.hosts, name)) continue;
      const same = entry.key.equals(keyBlob);
      if (entry.marker === '@revoked') {
        if (same) return 'revoked';
        continue;
      }
      if (same && entry.keyType === keyType) known = true;
      else otherKeys = true;
    }
  }
  // A host with recorded keys that presents none of them is a mismatch, whatever its key type:
  // the key exchange prefers the recorded types, so a genuine host would have shown one of them.
  return known ? 'known' : otherKeys ? 'mismatch' : 'unknown';
}

/** Key types recorded for a host (to prefer them in the key exchange, as ssh does). */
export async function recordedKeyTypes(files: readonly string[], host: string, port: number): Promise<string[]> {
  const name = knownHostsName(host, port);
  const types = new Set<string>();
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const entry of parseKnownHosts(text)) {
      if (entry.marker === null && hostFieldMatches(entry.hosts, name)) types.add(entry.keyType);
    }
  }
  return [...types];
}

/** Records a host key (hashed host name) in the file, creating it and ~/.ssh with ssh's modes. */
export async function addKnownHost(file: string, host: string, port: number, keyBlob: Buffer): Promise<void> {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(knownHostsName(host, port)).digest();
  const line = `|1|${salt.toString('base64')}|${hash.toString('base64')} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}\n`;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const existing = await readFile(file, 'utf8');
    if (existing.length > 0 && !existing.endsWith('\n')) prefix = '\n';
  } catch {
    /* a new file */
  }
  await appendFile(file, prefix + line, { mode: 0o600 });
}

/** The question about an unknown host key, as the extension's modal asks it (the fingerprint
 * must be in it: comparing it is the user's only defence). */
export function hostKeyQuestion(device: string, info: HostKeyInfo): { message: string; detail: string } {
  return {
    message: `Jetbench: the host key of '${device}' is not known`,
    detail:
      `${info.host}:${info.port} offers this ${info.keyType} key:\n\n${info.fingerprintSha256}\n\n` +
      'Compare it with the device\'s own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the device) before trusting it. ' +
      'Trusting records it in ~/.ssh/known_hosts, as ssh does.',
  };
}
