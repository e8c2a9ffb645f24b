// Helpers of the extension-host suite: the extension's API, the test workspace, waiting on events.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import * as vscode from 'vscode';
import type { RunFile } from '../../../contract/protocol';
import type { JetbenchApi } from '../../../src/extension';
import type { SshSuiteConfig } from './sshConfig';

export const EXTENSION_ID = 'jetbench.jetbench';

export async function jetbench(): Promise<JetbenchApi> {
  const ext = vscode.extensions.getExtension<JetbenchApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this VS Code`);
  return ext.isActive ? ext.exports : ext.activate();
}

export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the suite needs a workspace folder (the runner opens one)');
  return folder.uri.fsPath;
}

export function runsDir(): string {
  return path.join(workspaceDir(), '.jetbench', 'runs');
}

/** Resolves once `ready()` holds, checking now and whenever `event` fires; a bound, not a sleep. */
export function until(event: vscode.Event<unknown>, ready: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  if (ready()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const sub = event(() => {
      if (!ready()) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);
let validate: ReturnType<typeof ajv.compile> | null = null;

/** Reads a run file and checks it against the shipped schema (schemas/run.schema.json). */
export function readRun(file: string): RunFile {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  validate ??= ajv.compile(JSON.parse(readFileSync(path.join(ext.extensionPath, 'schemas', 'run.schema.json'), 'utf8')));
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunFile;
  assert.ok(validate(run), `schema: ${ajv.errorsText(validate.errors)}`);
  return run;
}

/** Stops every run still going (a failed test must not leave the device busy for the next). */
export async function stopAllRuns(): Promise<void> {
  const api = await jetbench();
  for (const r of api.activeRuns.values()) r.cancel();
  await until(api.devices.onDidChange, () => api.activeRuns.size === 0, 'the runs to stop');
}

/** Makes `name` the workspace's one SSH device (`jetbench.devices`), at one of the runner's sshd
 * servers, and waits until the registry has it. */
export async function addSuiteDevice(name: string, cfg: SshSuiteConfig, extra: Record<string, unknown> = {}): Promise<void> {
  const api = await jetbench();
  const devices = [{ name, host: cfg.host, port: cfg.port, user: cfg.user, identityFile: cfg.identityFile, nativeBuild: 'never', ...extra }];
  await vscode.workspace.getConfiguration('jetbench').update('devices', devices, vscode.ConfigurationTarget.Workspace);
  await until(api.devices.onDidChange, () => api.devices.get(name) !== undefined, 'the device in the registry');
}

/** Undoes addSuiteDevice: runs stopped, the device disconnected, `restore` called (the suite's
 * prompt answers put back), the setting removed. */
export async function removeSuiteDevice(name: string, restore: () => void): Promise<void> {
  await stopAllRuns();
  const api = await jetbench();
  await api.devices.disconnect(name);
  restore();
  await vscode.workspace.getConfiguration('jetbench').update('devices', undefined, vscode.ConfigurationTarget.Workspace);
}
