// What the runner tells the extension host about the suite's sshd (through extensionEnvironment).
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

const VAR = 'JETBENCH_TEST_SSH';

export function sshTestEnv(config: SshSuiteConfig): Record<string, string> {
  return { [VAR]: JSON.stringify(config), HOME: config.home, SSH_AUTH_SOCK: '' };
}

/** The config, or the reason the runner gave for having none. */
export function sshTestConfig(): SshSuiteConfig | { skip: string } {
  const raw = process.env[VAR];
  if (!raw) return { skip: process.env.JETBENCH_TEST_SSH_SKIP ?? 'the runner started no sshd' };
  return JSON.parse(raw) as SshSuiteConfig;
}
