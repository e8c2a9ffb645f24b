// How the extension answers SSH's questions (the core's SshHooks): an unknown host key is shown in
// a modal with its SHA256 fingerprint and recorded in ~/.ssh/known_hosts only when the user trusts
// it (a changed key is refused by the core without asking: it may be an attack); a key's
// passphrase is asked once and kept in VS Code's SecretStorage, forgotten when it stops working;
// progress and diagnostics go to the Jetbench output. Never a secret in a log.
import * as vscode from 'vscode';
import { hostKeyQuestion } from '../core/sshKnownHosts';
import type { HostKeyInfo } from '../core/sshKnownHosts';
import type { SshHooks } from '../core/sshSession';
import { askModal, showWarning } from '../vscode/notify';

const PASSPHRASE_KEY = (keyPath: string) => `jetbench.ssh.passphrase:${keyPath}`;
export const TRUST_HOST_KEY = 'Trust and Connect';

/** What the hooks need from VS Code; the extension-host tests replace `confirmHostKey` to answer
 * the modal they cannot click. */
export interface SshPromptDeps {
  secrets: vscode.SecretStorage;
  output: vscode.OutputChannel;
  confirmHostKey(device: string, info: HostKeyInfo): Promise<boolean>;
  askPassphrase(keyPath: string): Promise<string | undefined>;
}

export function defaultPromptDeps(secrets: vscode.SecretStorage, output: vscode.OutputChannel): SshPromptDeps {
  return {
    secrets,
    output,
    confirmHostKey: async (device, info) => {
      const q = hostKeyQuestion(device, info);
      return (await askModal(q.message, q.detail, TRUST_HOST_KEY)) === TRUST_HOST_KEY;
    },
    askPassphrase: (keyPath) =>
      Promise.resolve(
        vscode.window.showInputBox({
          title: 'Jetbench: key passphrase',
          prompt: `Passphrase of ${keyPath} (kept in VS Code's secret storage)`,
          password: true,
          ignoreFocusOut: true,
        }),
      ),
  };
}

/** The SshHooks for one device; `progress` also goes to `onProgress` (a notification's text). */
export function sshHooksFor(device: string, deps: SshPromptDeps, onProgress?: (message: string) => void): SshHooks {
  return {
    verifyHostKey: async (info) => {
      const trusted = await deps.confirmHostKey(device, info);
      deps.output.appendLine(`[${device}] host key ${info.keyType} ${info.fingerprintSha256} of ${info.host}:${info.port}: ${trusted ? 'trusted, recorded in known_hosts' : 'not trusted'}`);
      return trusted;
    },
    passphrase: async (keyPath) => {
      const stored = await deps.secrets.get(PASSPHRASE_KEY(keyPath));
      if (stored !== undefined) return stored;
      const given = await deps.askPassphrase(keyPath);
      if (given !== undefined && given !== '') await deps.secrets.store(PASSPHRASE_KEY(keyPath), given);
      return given || undefined;
    },
    passphraseRejected: (keyPath) => {
      deps.output.appendLine(`[${device}] the passphrase of ${keyPath} is wrong; it is forgotten and will be asked again`);
      void deps.secrets.delete(PASSPHRASE_KEY(keyPath));
    },
    progress: (message) => {
      deps.output.appendLine(`[${device}] ${message}`);
      onProgress?.(message);
    },
    log: (line) => deps.output.appendLine(`[${device}] ${line}`),
    warn: (message) => {
      deps.output.appendLine(`[${device}] warning: ${message}`);
      void showWarning(`Jetbench (${device}): ${message}`);
    },
  };
}
