// What the runner tells the extension host about the suite's sshd servers (through
// extensionEnvironment): the loopback one, and the emulated aarch64 device's.
export interface SshSuiteConfig {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  /** `ssh-ed25519 AAAA...` of the server. */
  hostKeyLine: string;
  /** The extension host's HOME: ~/.ssh/known_hosts lives there. */
  home: string;
  /** The listening sshd, whose session processes a test kills to cut the connection. */
  sshdPid: number;
}

/** Which server: the loopback sshd (`ssh`), or the emulated aarch64 device's (`aarch64`). */
export type SshSuiteServer = 'ssh' | 'aarch64';

const VARS: Record<SshSuiteServer, string> = { ssh: 'JETBENCH_TEST_SSH', aarch64: 'JETBENCH_TEST_AARCH64' };

export function sshTestEnv(config: SshSuiteConfig, server: SshSuiteServer = 'ssh'): Record<string, string> {
  return { [VARS[server]]: JSON.stringify(config), HOME: config.home, SSH_AUTH_SOCK: '' };
}

/** The reason a server's tests cannot run, for the runner to pass on. */
export function sshTestSkipEnv(reason: string, server: SshSuiteServer = 'ssh'): Record<string, string> {
  return { [`${VARS[server]}_SKIP`]: reason };
}

/** The config, or the reason the runner gave for having none. */
export function sshTestConfig(server: SshSuiteServer = 'ssh'): SshSuiteConfig | { skip: string } {
  const raw = process.env[VARS[server]];
  if (!raw) return { skip: process.env[`${VARS[server]}_SKIP`] ?? 'the runner started no sshd' };
  return JSON.parse(raw) as SshSuiteConfig;
}
