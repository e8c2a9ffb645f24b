// One SSH connection to a device (ssh2): host key verified against known_hosts, ssh-agent and
// private keys (an encrypted key's passphrase asked through the hooks), keepalive, an optional
// ProxyJump hop, and every failure turned into a message that names the problem and the fix.
// The CLI and the extension differ only in their SshHooks.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { Client, utils, type AnyAuthMethod, type AuthHandlerMiddleware, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm, type SFTPWrapper } from 'ssh2';
import type { Duplex } from 'node:stream';
import { DeviceError, describeDevice, jumpHostDevice, type SshDevice } from './devices';
import { addKnownHost, checkHostKey, defaultKnownHostsFiles, fingerprintSha256, keyTypeOf, recordedKeyTypes, type HostKeyInfo } from './sshKnownHosts';

/** How the user is asked; the CLI answers from flags, a TTY and the environment, the extension
 * with a modal and SecretStorage. */
export interface SshHooks {
  /** Trust an unknown host key? True records it in known_hosts. */
  verifyHostKey(info: HostKeyInfo): Promise<boolean>;
  /** The passphrase of an encrypted private key, or undefined to skip that key. */
  passphrase(keyPath: string): Promise<string | undefined>;
  /** The passphrase given for `keyPath` did not open it (the extension forgets a stored one). */
  passphraseRejected?(keyPath: string): void;
  /** A step in words ("connecting to ...", "uploading ..."). */
  progress?(message: string): void;
  /** Diagnostics worth keeping in a log, never secrets. */
  log?(line: string): void;
  /** What the user must hear even when progress is not shown: an option of their ssh config that
   * is not applied, a deployed bundle that was not this one. Falls back to `progress`. */
  warn?(message: string): void;
}

export type SshErrorKind =
  | 'unknown-host-name'
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'host-key-unknown'
  | 'host-key-mismatch'
  | 'host-key-revoked'
  | 'proxy-jump'
  | 'closed'
  | 'remote';

function isSocket(p: string): boolean {
  try {
    return statSync(p).isSocket();
  } catch {
    return false;
  }
}

export class SshError extends Error {
  override name = 'SshError';
  constructor(
    readonly kind: SshErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface SshConnectOptions {
  /** First one is where accepted keys are recorded (default ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts). */
  knownHostsFiles?: string[];
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  /** ssh-agent socket; default $SSH_AUTH_SOCK, null = do not use an agent. */
  agentSocket?: string | null;
  /** Where ProxyJump hosts are looked up (default ~/.ssh/config). */
  sshConfigFile?: string;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

const DEFAULT_READY_TIMEOUT_MS = 15_000;
const DEFAULT_KEEPALIVE_MS = 10_000;
const KEEPALIVE_COUNT_MAX = 3;

const SUPPORTED_HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

/** The host key algorithms for a recorded key type (ssh-rsa keys sign with three); types ssh2
 * cannot use (security keys, certificates) are left to the defaults. */
function hostKeyAlgorithms(keyType: string): ServerHostKeyAlgorithm[] {
  const names = keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
  return SUPPORTED_HOST_KEY_ALGORITHMS.filter((a) => names.includes(a));
}

interface AuthAttempt {
  what: string;
  outcome: string;
}

/** Builds the authentication sequence: ssh-agent, then each key file; records why each failed. */
function authSequence(device: SshDevice, hooks: SshHooks, agentSocket: string | null, attempts: AuthAttempt[]): AuthHandlerMiddleware {
  const steps: Array<() => Promise<AnyAuthMethod | null>> = [];
  if (agentSocket && !isSocket(agentSocket)) {
    // A stale SSH_AUTH_SOCK (the agent of an old login) would make ssh2 fail the whole connection.
    attempts.push({ what: 'ssh-agent', outcome: `SSH_AUTH_SOCK ${agentSocket} is not a live socket (a stale agent?): skipped` });
    hooks.log?.(`ssh-agent: SSH_AUTH_SOCK ${agentSocket} is not a live socket; skipping the agent`);
  } else if (agentSocket && device.identitiesOnly && device.identityFiles.length > 0) {
    // IdentitiesOnly: as ssh, offer only the configured keys, not every key the agent holds (ten
    // keys in an agent would exhaust the server's MaxAuthTries before the right one).
    hooks.log?.('ssh-agent: not offered (IdentitiesOnly yes: only the configured IdentityFile keys are tried)');
  } else if (agentSocket) {
    steps.push(async () => {
      attempts.push({ what: 'ssh-agent', outcome: 'no key accepted' });
      return { type: 'agent', username: device.user, agent: agentSocket };
    });
  }
  for (const file of device.identityFiles) {
    steps.push(async () => {
      const shown = file.startsWith(os.homedir()) ? `~${file.slice(os.homedir().length)}` : file;
      let data: Buffer;
      try {
        data = await readFile(file);
      } catch (e) {
        attempts.push({ what: shown, outcome: `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
        return null;
      }
      let parsed = utils.parseKey(data);
      if (parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message)) {
        const passphrase = await hooks.passphrase(file);
        if (passphrase === undefined) {
          attempts.push({ what: shown, outcome: 'encrypted, and no passphrase was given (set JETBENCH_SSH_PASSPHRASE, run in a terminal, or load it into ssh-agent)' });
          return null;
        }
        parsed = utils.parseKey(data, passphrase);
        if (parsed instanceof Error) {
          hooks.passphraseRejected?.(file);
          attempts.push({ what: shown, outcome: 'the passphrase is wrong' });
          return null;
        }
      }
      if (parsed instanceof Error) {
        attempts.push({ what: shown, outcome: `not a usable private key (${parsed.message})` });
        return null;
      }
      attempts.push({ what: shown, outcome: 'rejected by the server' });
      return { type: 'publickey', username: device.user, key: Array.isArray(parsed) ? parsed[0] : parsed };
    });
  }
  let next = 0;
  // ssh2 takes `false` for "no more methods" (its typings omit it).
  const noMore = false as unknown as AnyAuthMethod;
  return (_methodsLeft, _partial, callback) => {
    void (async () => {
      while (next < steps.length) {
        const method = await steps[next++]!();
        if (method) return callback(method);
      }
      callback(noMore);
    })().catch(() => callback(noMore));
  };
}

/** Turns ssh2's and the socket's errors into what happened and what to do. */
function explain(e: Error & { code?: string; level?: string }, device: SshDevice, where: string, attempts: AuthAttempt[]): SshError {
  const target = `${where}`;
  switch (e.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SshError('unknown-host-name', `host name '${device.host}' of device '${device.name}' cannot be resolved: check the host in the device's settings or your DNS`);
    case 'ECONNREFUSED':
      return new SshError('refused', `connection refused by ${target}: is sshd running there and is the port (${device.port}) right?`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new SshError('unreachable', `${target} is unreachable (${e.code}): check that the device is on and on your network`);
    case 'ETIMEDOUT':
      return new SshError('timeout', `no answer from ${target} (timed out): check that the device is on and reachable, and the port`);
    case 'ECONNRESET':
      return new SshError('closed', `${target} closed the connection during the handshake: is it an SSH server, and does it allow this client?`);
  }
  if (e.level === 'client-timeout') {
    return new SshError('timeout', `${target} did not complete the SSH handshake in time: check the host and port (is it an SSH server?) and the network`);
  }
  if (e.level === 'client-authentication') {
    const tried = attempts.length > 0 ? attempts.map((a) => `${a.what}: ${a.outcome}`).join('; ') : 'no key and no ssh-agent';
    return new SshError('auth', `authentication as '${device.user}' on ${target} failed (tried ${tried}): check the user and the identityFile of the device, or add your key to the device's ~/.ssh/authorized_keys`);
  }
  return new SshError('closed', `SSH connection to ${target} failed: ${e.message}`);
}

export class SshSession {
  private sftpChannel: Promise<SFTPWrapper> | null = null;
  /** Resolves (never rejects) when the connection ends, with the error that ended it, if any. */
  readonly closed: Promise<Error | null>;
  private ended = false;

  private constructor(
    readonly client: Client,
    readonly device: SshDevice,
    private readonly via: SshSession | null,
  ) {
    this.closed = new Promise((resolve) => {
      let lastError: Error | null = null;
      client.on('error', (e) => (lastError = e));
      client.on('close', () => {
        this.ended = true;
        resolve(lastError);
      });
    });
  }

  get describe(): string {
    return describeDevice(this.device);
  }

  get isClosed(): boolean {
    return this.ended;
  }

  static async connect(device: SshDevice, hooks: SshHooks, opts: SshConnectOptions = {}): Promise<SshSession> {
    // Said, not silently dropped: an option of the user's ssh config this connection does not apply.
    for (const note of device.ignoredSshOptions ?? []) (hooks.warn ?? hooks.progress)?.(`ssh config for ${device.name}: ${note}`);
    let via: SshSession | null = null;
    let sock: Duplex | undefined;
    if (device.proxyJump) {
      let jump: SshDevice;
      try {
        jump = jumpHostDevice(device.proxyJump, device, opts.sshConfigFile);
      } catch (e) {
        throw new SshError('proxy-jump', (e as DeviceError).message);
      }
      hooks.progress?.(`connecting to the jump host ${describeDevice(jump)}`);
      via = await SshSession.connect(jump, hooks, opts);
      try {
        sock = await new Promise<ClientChannel>((resolve, reject) =>
          via!.client.forwardOut('127.0.0.1', 0, device.host, device.port, (err, stream) => (err ? reject(err) : resolve(stream))),
        );
      } catch (e) {
        via.close();
        throw new SshError('proxy-jump', `the jump host ${describeDevice(jump)} could not reach ${device.host}:${device.port}: ${(e as Error).message}`);
      }
    }
    const knownHostsFiles = opts.knownHostsFiles ?? defaultKnownHostsFiles();
    const agentSocket = opts.agentSocket === undefined ? (process.env.SSH_AUTH_SOCK ?? null) : opts.agentSocket;
    const where = describeDevice(device);
    const attempts: AuthAttempt[] = [];
    // Set by the host key check when it refuses, so the connection error can say why.
    let refusal: SshError | null = null;
    // Prefer key types recorded for this host, as ssh does, so a genuine host shows a known key.
    // ssh2 applies these in key order and skips prepending names already listed: remove, then prepend.
    const preferred = (await recordedKeyTypes(knownHostsFiles, device.host, device.port)).flatMap(hostKeyAlgorithms);
    const client = new Client();
    const session = new SshSession(client, device, via);
    hooks.progress?.(`connecting to ${where}`);
    const config: ConnectConfig = {
      host: device.host,
      port: device.port,
      username: device.user,
      readyTimeout: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      keepaliveInterval: opts.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      ...(sock ? { sock } : {}),
      ...(preferred.length > 0 ? { algorithms: { serverHostKey: { remove: preferred, prepend: preferred, append: [] } } } : {}),
      authHandler: authSequence(device, hooks, agentSocket, attempts),
      hostVerifier: ((key: Buffer, verify: (ok: boolean) => void) => {
        void verifyHostKey(key, device, hooks, knownHostsFiles).then(
          (r) => {
            refusal = r;
            verify(r === null);
          },
          (e: Error) => {
            refusal = new SshError('host-key-unknown', `cannot check the host key of ${where}: ${e.message}`);
            verify(false);
          },
        );
      }) as ConnectConfig['hostVerifier'],
    };
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve());
        client.once('error', reject);
        // Without ssh2's optional native module each packet leaves in three writes; with Nagle on,
        // the peer's delayed ACK then costs ~40 ms per round trip (a file upload ~170 ms).
        client.once('connect', () => client.setNoDelay(true));
        client.connect(config);
      });
    } catch (e) {
      client.end();
      via?.close();
      if (refusal) throw refusal;
      throw explain(e as Error, device, where, attempts);
    }
    hooks.log?.(`ssh: connected to ${where}`);
    return session;
  }

  /** Runs a command line (build it with shellCommand) and collects its output; `onLine` also
   * gets each line of stdout and stderr as it arrives (a long build's log). */
  exec(command: string, opts: { stdin?: string | Buffer; onLine?: (line: string) => void } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(this.channelError(err, 'run a command'));
        let stdout = '';
        let stderr = '';
        stream.setEncoding('utf8');
        stream.stderr.setEncoding('utf8');
        const partial = { out: '', err: '' };
        const lines = (key: 'out' | 'err', text: string) => {
          if (!opts.onLine) return;
          const parts = (partial[key] + text).split('\n');
          partial[key] = parts.pop() ?? '';
          parts.forEach(opts.onLine);
        };
        stream.on('data', (t: string) => {
          stdout += t;
          lines('out', t);
        });
        stream.stderr.on('data', (t: string) => {
          stderr += t;
          lines('err', t);
        });
        let code: number | null = null;
        let signal: string | null = null;
        stream.on('exit', (c: number | null, s?: string) => {
          code = c;
          signal = s ?? null;
        });
        stream.on('close', () => {
          for (const rest of [partial.out, partial.err]) if (rest) opts.onLine?.(rest);
          resolve({ code, signal, stdout, stderr });
        });
        if (opts.stdin !== undefined) stream.end(opts.stdin);
        else stream.end();
      });
    });
  }

  /** A command whose stdin/stdout are the returned channel (e.g. the agent's stdio bridge). */
  execStream(command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => (err ? reject(this.channelError(err, 'run a command')) : resolve(stream)));
    });
  }

  /** A channel to a unix socket on the device (OpenSSH's direct-streamlocal). */
  forwardStreamLocal(socketPath: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => (err ? reject(err) : resolve(stream)));
    });
  }

  sftp(): Promise<SFTPWrapper> {
    this.sftpChannel ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((err, sftp) => (err ? reject(this.channelError(err, 'open SFTP')) : resolve(sftp)));
    });
    return this.sftpChannel;
  }

  close(): void {
    this.client.end();
    this.via?.close();
  }

  /** A TCP connection to `host:port` as the device sees it (the far end of a local forward,
   * `ssh -L`): reaches a server on the device's loopback with no port opened to the network. */
  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(this.channelError(err, `connect to ${host}:${port}`)) : resolve(stream)));
    });
  }

  /** A port on the device's loopback whose connections arrive here, at `onConnection` (a remote
   * forward, `ssh -R`): a server on the device can call back to this machine. */
  async forwardIn(onConnection: (stream: ClientChannel) => void): Promise<{ port: number; close(): Promise<void> }> {
    const port = await new Promise<number>((resolve, reject) => {
      this.client.forwardIn('127.0.0.1', 0, (err, bound) => (err ? reject(this.channelError(err, 'forward a port back to this machine (sshd: AllowTcpForwarding)')) : resolve(bound)));
    });
    const listener = (details: { destPort: number }, accept: () => ClientChannel) => {
      if (details.destPort === port) onConnection(accept());
    };
    this.client.on('tcp connection', listener);
    return {
      port,
      close: () =>
        new Promise<void>((resolve) => {
          this.client.off('tcp connection', listener);
          if (this.ended) return resolve();
          // sshd answers at once; a connection that is going may not answer at all.
          const timer = setTimeout(resolve, 5000);
          this.client.unforwardIn('127.0.0.1', port, () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    };
  }

  private channelError(err: Error, what: string): SshError {
    return this.ended
      ? new SshError('closed', `the SSH connection to ${this.describe} is closed`)
      : new SshError('remote', `cannot ${what} on ${this.describe}: ${err.message}`);
  }
}

/** Checks the presented key; null = trusted (known, or unknown and accepted, then recorded). */
async function verifyHostKey(key: Buffer, device: SshDevice, hooks: SshHooks, files: string[]): Promise<SshError | null> {
  const verdict = await checkHostKey(files, device.host, device.port, key);
  const fingerprint = fingerprintSha256(key);
  const where = describeDevice(device);
  if (verdict === 'known') return null;
  if (verdict === 'revoked') {
    return new SshError('host-key-revoked', `the host key of ${where} (${fingerprint}) is marked @revoked in known_hosts: refusing to connect`);
  }
  if (verdict === 'mismatch') {
    return new SshError(
      'host-key-mismatch',
      `the host key of ${where} changed: it presented ${keyTypeOf(key)} ${fingerprint}, which is not the key recorded in ${files[0]}. ` +
        `This may be an attack (someone intercepting the connection), or the device was reinstalled. ` +
        `If you know the device's key changed, remove the old one with: ssh-keygen -R '${device.port === 22 ? device.host : `[${device.host}]:${device.port}`}'`,
    );
  }
  const info: HostKeyInfo = { host: device.host, port: device.port, fingerprintSha256: fingerprint, keyType: keyTypeOf(key), known: 'unknown' };
  if (!(await hooks.verifyHostKey(info))) {
    return new SshError(
      'host-key-unknown',
      `the host key of ${where} is not known (${info.keyType} ${fingerprint}): check the fingerprint on the device ` +
        `(ssh-keygen -lf /etc/ssh/ssh_host_${info.keyType.replace(/^ssh-/, '').replace(/^ecdsa-.*/, 'ecdsa')}_key.pub), then accept it ` +
        `(jetbench: --accept-new-host-key) or connect once with ssh`,
    );
  }
  await addKnownHost(files[0]!, device.host, device.port, key);
  hooks.log?.(`ssh: recorded the host key of ${where} (${fingerprint}) in ${files[0]}`);
  return null;
}

