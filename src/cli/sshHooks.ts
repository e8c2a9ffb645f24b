// How the CLI answers SSH's questions: an unknown host key is refused unless
// --accept-new-host-key (then recorded in ~/.ssh/known_hosts); a changed key is always refused (the
// core does that); a key's passphrase comes from $JETBENCH_SSH_PASSPHRASE, else a prompt on the
// terminal, else the key is skipped with a message. Also the one place the CLI connects to a device.
import { connectDeviceAgent, type DeviceConnection } from '../core/agentConnection';
import type { SshHooks } from '../core/sshSession';
import type { CliIo } from './io';

export const PASSPHRASE_ENV = 'JETBENCH_SSH_PASSPHRASE';

/** Reads a line from the terminal without echo. */
function promptHidden(question: string): Promise<string | undefined> {
  const stdin = process.stdin;
  if (!stdin.isTTY || !process.stderr.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    process.stderr.write(question);
    let answer = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (value: string | undefined) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(answer);
        if (ch === '\u0003' || ch === '\u0004') return done(undefined);
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export function cliSshHooks(io: CliIo, opts: { acceptNewHostKey: boolean; quiet: boolean }): SshHooks {
  return {
    verifyHostKey: async (info) => {
      if (!opts.acceptNewHostKey) return false;
      io.err(`accepting the new host key of ${info.host}:${info.port}: ${info.keyType} ${info.fingerprintSha256} (recorded in ~/.ssh/known_hosts)\n`);
      return true;
    },
    passphrase: async (keyPath) => {
      const fromEnv = process.env[PASSPHRASE_ENV];
      if (fromEnv !== undefined) return fromEnv;
      return promptHidden(`passphrase for ${keyPath}: `);
    },
    progress: (message) => {
      if (!opts.quiet) io.err(`${message}\n`);
    },
    log: (line) => {
      if (process.env.JETBENCH_VERBOSE) io.err(`${line}\n`);
    },
    // Shown with --quiet and --json too: these are not progress but something to fix or know.
    warn: (message) => io.err(`jetbench: warning: ${message}\n`),
  };
}

/** Connects to `--device` (local, configured, ssh config Host, ssh:// URL) with the CLI's hooks. */
export function connectCliDevice(device: string, io: CliIo, opts: { acceptNewHostKey: boolean; quiet: boolean }): Promise<DeviceConnection> {
  return connectDeviceAgent(device, {
    cwd: io.cwd,
    client: 'jetbench-cli',
    hooks: cliSshHooks(io, opts),
    stderr: (t) => io.err(`agent: ${t}`),
  });
}
