// A real OpenSSH sshd on 127.0.0.1 for the SSH suites: its own host key, config, authorized_keys
// and a free high port, in the foreground (-D -e), stopped by the PID it was started with. Clients
// log in as the dedicated non-root test user made by scripts/setup-ssh.sh with a generated key.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SSH_TEST_USER = process.env.JETBENCH_SSH_TEST_USER ?? 'jetbench-test';
const SSHD = '/usr/sbin/sshd';

/** Why the SSH suites cannot run here, or null when they can. */
export function sshUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'the SSH suites need root (to run sshd for the test user); CI runs as root';
  if (!existsSync(SSHD)) return `${SSHD} is missing: run scripts/setup-ssh.sh`;
  if (spawnSync('id', [SSH_TEST_USER]).status !== 0) return `test user ${SSH_TEST_USER} is missing: run scripts/setup-ssh.sh`;
  return null;
}

/** Whether a process runs (a zombie does not: this machine's init may not reap orphans). */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function keygen(file: string, opts: { type?: 'ed25519' | 'rsa' | 'ecdsa'; passphrase?: string; comment?: string } = {}): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', opts.type ?? 'ed25519', '-N', opts.passphrase ?? '', '-C', opts.comment ?? 'jetbench-test', '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
}

/** The test user's home directory on the "device" (this machine). */
export function testUserHome(): string {
  const r = spawnSync('getent', ['passwd', SSH_TEST_USER], { encoding: 'utf8' });
  const home = r.stdout.trim().split(':')[5];
  if (!home) throw new Error(`no home for ${SSH_TEST_USER}`);
  return home;
}

/** Runs a shell command as the test user (to prepare or inspect the device side). */
export function asTestUser(command: string): string {
  const r = spawnSync('runuser', ['-u', SSH_TEST_USER, '--', 'sh', '-c', command], { encoding: 'utf8', cwd: '/' });
  if (r.status !== 0) throw new Error(`as ${SSH_TEST_USER}: '${command}' failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The processes an sshd (`sshdPid`) runs for its connections, children first-level and below. */
export function sshdSessionPids(sshdPid: number): number[] {
  const out: number[] = [];
  const walk = (parent: number) => {
    const r = spawnSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' });
    for (const pid of r.stdout.split('\n').filter(Boolean).map(Number)) {
      out.push(pid);
      walk(pid);
    }
  };
  walk(sshdPid);
  return out;
}

export interface SshdOptions {
  /** sshd_config lines added to the defaults (e.g. `AllowStreamLocalForwarding no`). */
  extraConfig?: string[];
  /** The device's PATH has no `node` (every other program of /usr/bin and /bin is there). */
  pathWithoutNode?: boolean;
  /** Extra public keys to authorise besides the generated client key. */
  authorizedKeys?: string[];
  /** Run sshd under emulation inside this root filesystem (test/helpers/aarch64Device.ts): a
   * chroot with private mounts of /dev and /proc, logins as its own `user`. */
  emulated?: EmulatedRoot;
}

export interface EmulatedRoot {
  /** The root filesystem's directory on this machine. */
  root: string;
  /** The device's non-root login user (a user of the root filesystem). */
  user: string;
  /** Environment for everything that runs there (QEMU_CPU: the CPU that QEMU emulates). */
  env: Record<string, string>;
}

export class TestSshd {
  readonly dir: string;
  readonly hostKeyFile: string;
  readonly clientKeyFile: string;
  readonly knownHostsFile: string;
  /** The test user's HOME in this server's sessions: private to this server, so suites running
   * side by side never share an agent home, a daemon or a model cache. */
  readonly deviceHome: string;
  /** The user clients log in as. */
  readonly user: string;
  port = 0;
  private child: ChildProcess | null = null;
  private log = '';

  private constructor(private readonly opts: SshdOptions) {
    // Readable by the test user: sshd reads authorized_keys with the user's privileges. An emulated
    // device's sshd sees only its root filesystem: its files live there.
    this.dir = mkdtempSync(path.join(opts.emulated ? path.join(opts.emulated.root, 'tmp') : os.tmpdir(), 'jetbench-sshd-'));
    this.user = opts.emulated?.user ?? SSH_TEST_USER;
    chmodSync(this.dir, 0o755);
    this.hostKeyFile = path.join(this.dir, 'host_ed25519');
    this.clientKeyFile = path.join(this.dir, 'client', 'id_ed25519');
    this.knownHostsFile = path.join(this.dir, 'client', 'known_hosts');
    this.deviceHome = path.join(this.dir, 'home');
  }

  static async start(opts: SshdOptions = {}): Promise<TestSshd> {
    const sshd = new TestSshd(opts);
    keygen(sshd.hostKeyFile, { comment: 'jetbench-test-host' });
    mkdirSync(path.dirname(sshd.clientKeyFile), { mode: 0o700 });
    keygen(sshd.clientKeyFile);
    const authorized = [readFileSync(`${sshd.clientKeyFile}.pub`, 'utf8').trim(), ...(opts.authorizedKeys ?? [])];
    writeFileSync(path.join(sshd.dir, 'authorized_keys'), authorized.join('\n') + '\n', { mode: 0o644 });
    mkdirSync(path.join(opts.emulated?.root ?? '/', 'run/sshd'), { recursive: true });
    mkdirSync(sshd.deviceHome, { mode: 0o700 });
    if (opts.emulated) spawnSync('chroot', [opts.emulated.root, 'chown', `${sshd.user}:`, sshd.inside(sshd.deviceHome)], { env: { ...process.env, ...opts.emulated.env } });
    else spawnSync('chown', [`${SSH_TEST_USER}:`, sshd.deviceHome]);
    if (opts.pathWithoutNode) sshd.makeNodelessPath();
    await sshd.launch();
    return sshd;
  }

  /** A path of this machine as the device's processes see it (inside an emulated root). */
  inside(p: string): string {
    const root = this.opts.emulated?.root;
    return root ? p.slice(root.length) : p;
  }

  /** A path as the device's processes see it, on this machine (inside an emulated root). */
  outside(p: string): string {
    const root = this.opts.emulated?.root;
    return root ? path.join(root, p) : p;
  }

  /** Runs a shell command as the device's user on the device (to prepare or inspect its side). */
  asUser(command: string): string {
    const root = this.opts.emulated;
    if (!root) return asTestUser(command);
    const r = spawnSync('chroot', [root.root, 'runuser', '-u', this.user, '--', 'sh', '-c', command], { encoding: 'utf8', env: { ...process.env, ...root.env } });
    if (r.status !== 0) throw new Error(`as ${this.user} on the emulated device: '${command}' failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }

  /** Authorises one more public key (sshd reads authorized_keys at every login). */
  async authorize(publicKeyLine: string): Promise<void> {
    appendFileSync(path.join(this.dir, 'authorized_keys'), publicKeyLine + '\n');
  }

  /** A PATH directory with links to every program of /usr/bin and /bin except Node's. */
  private makeNodelessPath(): void {
    const bin = path.join(this.dir, 'bin-without-node');
    mkdirSync(bin, { mode: 0o755 });
    for (const dir of ['/usr/bin', '/bin']) {
      for (const name of readdirSync(dir)) {
        if (/^(node|nodejs|npm|npx|corepack)$/.test(name) || existsSync(path.join(bin, name))) continue;
        symlinkSync(path.join(dir, name), path.join(bin, name));
      }
    }
    this.nodelessPath = bin;
  }

  private nodelessPath: string | null = null;

  /** The host's public key line (`ssh-ed25519 AAAA...`). */
  hostPublicKey(): string {
    return readFileSync(`${this.hostKeyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  }

  /** A known_hosts line that trusts this server (OpenSSH's `[host]:port` form). */
  knownHostsLine(): string {
    return `[127.0.0.1]:${this.port} ${this.hostPublicKey()}`;
  }

  private async launch(): Promise<void> {
    // A free port can be taken between the probe and sshd's bind: try a few.
    for (let attempt = 0; attempt < 5; attempt++) {
      this.port = await freePort();
      const config = [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${this.inside(this.hostKeyFile)}`,
        `PidFile ${this.inside(path.join(this.dir, 'sshd.pid'))}`,
        `AuthorizedKeysFile ${this.inside(path.join(this.dir, 'authorized_keys'))}`,
        `AllowUsers ${this.user}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'UsePAM no',
        // The key files live under /tmp (world-writable): StrictModes would refuse them.
        'StrictModes no',
        'Subsystem sftp internal-sftp',
        'LogLevel VERBOSE',
        `SetEnv HOME=${this.inside(this.deviceHome)}${this.nodelessPath ? ` PATH=${this.nodelessPath}` : ''}${Object.entries(this.opts.emulated?.env ?? {}).map(([k, v]) => ` ${k}=${v}`).join('')}`,
        ...(this.opts.extraConfig ?? []),
      ];
      const configFile = path.join(this.dir, 'sshd_config');
      writeFileSync(configFile, config.join('\n') + '\n');
      const child = this.spawnSshd(configFile);
      this.log = '';
      const listening = new Promise<boolean>((resolve) => {
        child.stderr!.setEncoding('utf8').on('data', (t: string) => {
          this.log += t;
          if (/Server listening on/.test(this.log)) resolve(true);
        });
        child.on('exit', () => resolve(false));
      });
      if (await listening) {
        this.child = child;
        // A test process that ends without dispose (a crash, a timeout) must not leave sshd and its
        // sessions running: they would outlive it, owned by init.
        const kill = () => {
          for (const pid of [...this.sessionPids(), child.pid!, ...this.daemonPids()]) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* gone */
            }
          }
        };
        process.once('exit', kill);
        child.once('exit', () => process.off('exit', kill));
        return;
      }
      if (!/Address already in use/.test(this.log)) throw new Error(`sshd did not start:\n${this.log}`);
    }
    throw new Error(`sshd could not bind a free port:\n${this.log}`);
  }

  /** sshd in the foreground; an emulated one in a mount namespace of its own, so the mounts its
   * chroot needs vanish with it (nothing to unmount, nothing left behind by a crash). unshare and sh
   * exec into chroot and chroot into sshd: the child's pid is sshd's. */
  private spawnSshd(configFile: string): ChildProcess {
    const emulated = this.opts.emulated;
    if (!emulated) return spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    const script = [
      'set -e',
      'mount --rbind /dev "$1/dev"',
      'mount -t proc proc "$1/proc"',
      // No /sys: with the host's /sys there, ONNX Runtime's cpuinfo (arm64) goes on to parse the
      // host's x86 /proc/cpuinfo and the agent dies of SIGSEGV at start (seen here, under QEMU 7.2).
      // Without it, cpuinfo gives up with a warning and ONNX Runtime runs its portable kernels.
      'exec chroot "$1" /usr/sbin/sshd -D -e -f "$2"',
    ].join('\n');
    return spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', emulated.root, this.inside(configFile)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...emulated.env },
    });
  }

  /** sshd's log so far (VERBOSE), for failure messages. */
  get logText(): string {
    return this.log;
  }

  /** Waits until sshd's log matches (e.g. a session's disconnect). */
  async waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    if (pattern.test(this.log)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd log never matched ${pattern}:\n${this.log}`)), timeoutMs);
      const onData = () => {
        if (pattern.test(this.log)) {
          clearTimeout(timer);
          this.child?.stderr?.off('data', onData);
          resolve();
        }
      };
      this.child?.stderr?.on('data', onData);
    });
  }

  /** PIDs of the processes sshd runs for its connections (the privileged monitor, the session
   * process that holds the TCP socket, and their children): killing them all drops every connection. */
  sessionPids(): number[] {
    return this.child?.pid ? sshdSessionPids(this.child.pid) : [];
  }

  /** The listening sshd's pid (null when stopped). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Stops listening (new connections are refused); existing sessions' children are killed too. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    for (const pid of this.sessionPids()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }

  /** Agent daemons started under this server's device home (by their lock files). */
  daemonPids(): number[] {
    const pids: number[] = [];
    const walk = (dir: string, depth: number) => {
      if (depth > 3) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full, depth + 1);
        else if (entry.name === 'agent.lock') pids.push(Number.parseInt(readFileSync(full, 'utf8'), 10));
      }
    };
    walk(this.deviceHome, 0);
    // A lock left by a killed daemon may name a pid reused since: only agents count.
    return pids.filter((p) => Number.isInteger(p) && p > 0 && processRunning(p) && readCmdline(p).includes('agent.js'));
  }

  async dispose(): Promise<void> {
    await this.stop();
    for (const pid of this.daemonPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    // The emulated root is cached between runs: leave its /tmp as it was found (the device user's
    // temporary files: the agent's, ONNX Runtime's empty mat-debug-<pid>.log files).
    const emulated = this.opts.emulated;
    if (emulated) {
      const uid = Number(readFileSync(path.join(emulated.root, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${this.user}:`))?.split(':')[2]);
      const tmp = path.join(emulated.root, 'tmp');
      for (const name of readdirSync(tmp)) {
        const p = path.join(tmp, name);
        if (statSync(p).uid === uid) rmSync(p, { recursive: true, force: true });
      }
    }
  }
}

/** A local user's world for the CLI: HOME with .ssh/config (Host `name` -> this server, the client
 * key) and known_hosts (unless told otherwise), and a workspace whose .vscode/settings.json
 * configures `devices`. Pass `env` to runCli. */
export function sshWorkspace(
  sshd: TestSshd,
  opts: { hostAlias?: string; trustHost?: boolean; devices?: Array<Record<string, unknown>>; sshConfigExtra?: string } = {},
): { home: string; cwd: string; env: Record<string, string>; sshConfigFile: string; knownHostsFile: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'jetbench-client-'));
  const home = path.join(root, 'home');
  const cwd = path.join(root, 'workspace');
  mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  mkdirSync(path.join(cwd, '.vscode'), { recursive: true });
  const sshConfigFile = path.join(home, '.ssh', 'config');
  const knownHostsFile = path.join(home, '.ssh', 'known_hosts');
  const alias = opts.hostAlias ?? 'jetbench-dev';
  writeFileSync(
    sshConfigFile,
    `# a comment, as users have\nHost ${alias}\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${sshd.clientKeyFile}\n${opts.sshConfigExtra ?? ''}\nHost *\n  ServerAliveInterval 30\n`,
  );
  if (opts.trustHost ?? true) writeFileSync(knownHostsFile, sshd.knownHostsLine() + '\n');
  writeFileSync(
    path.join(cwd, '.vscode', 'settings.json'),
    `{\n  // devices for the CLI, as VS Code keeps them\n  "jetbench.devices": ${JSON.stringify(opts.devices ?? [], null, 2)},\n}\n`,
  );
  return { home, cwd, env: { HOME: home, SSH_AUTH_SOCK: '' }, sshConfigFile, knownHostsFile };
}

/** Every file under a directory with its mtime, to prove a redeploy touched nothing. */
export function fileMtimes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.set(full, statSync(full).mtimeMs);
    }
  };
  walk(dir);
  return out;
}
