// Runs the extension-host suite inside real VS Code: code-server serves a fresh test workspace,
// Chromium opens the workbench with a development payload (extensionDevelopmentPath = this
// repository, extensionTestsPath = the bundled runner) exactly as @vscode/test-electron passes
// them on a desktop; the extension host runs the suite and writes its results, which this script
// prints. Exit code 0 only when every test passed.
//   npm run test:vscode            (builds the extension and the suite first)
//   JETBENCH_TEST_GREP=devices npm run test:vscode
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SuiteResults } from './index';
import { launchChromium, openWorkbench, ROOT, startCodeServer, workbenchUrl } from './codeServer';
import { makeTestWorkspace, TEST_CACHE_DIR } from './workspace';

const SUITE_TIMEOUT_MS = 15 * 60_000;
const OUTPUT_DIR = path.join(ROOT, 'test-output', 'vscode');

/** Resolves when `file` exists (the extension host writes it last, by rename). */
function whenFileExists(file: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const dir = path.dirname(file);
    const done = () => {
      if (!existsSync(file)) return;
      clearTimeout(timer);
      watcher.close();
      resolve();
    };
    const watcher = watch(dir, done);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`no results from the extension host within ${timeoutMs / 60_000} min`));
    }, timeoutMs);
    done();
  });
}

async function main(): Promise<number> {
  for (const step of [['node', 'scripts/build.mjs'], ['node', 'test/vscode/build.mjs']]) {
    const r = spawnSync(process.execPath, step.slice(1), { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${step.join(' ')} failed`);
  }
  rmSync(OUTPUT_DIR, { recursive: true, force: true });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const workspace = makeTestWorkspace();
  const results = path.join(OUTPUT_DIR, 'results.json');
  const server = await startCodeServer({ workspace, testPayload: true });
  const browser = await launchChromium();
  const started = Date.now();
  try {
    const remote = (p: string) => `vscode-remote://${server.authority}${p}`;
    const env: Record<string, string> = { JETBENCH_TEST_RESULTS: results, JETBENCH_CACHE_DIR: TEST_CACHE_DIR };
    if (process.env.JETBENCH_TEST_GREP) env.JETBENCH_TEST_GREP = process.env.JETBENCH_TEST_GREP;
    const url = workbenchUrl(server, workspace, [
      ['extensionDevelopmentPath', remote(ROOT)],
      ['extensionTestsPath', remote(path.join(ROOT, 'out', 'test', 'vscode', 'index.js'))],
      ['extensionEnvironment', JSON.stringify(env)],
    ]);
    const page = await openWorkbench(browser, url);
    // The webviews' and the workbench's errors, for a failing test's diagnosis.
    const consoleLog: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleLog.push(`[${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleLog.push(`[pageerror] ${e.message}`));
    const saveConsole = () => writeFileSync(path.join(OUTPUT_DIR, 'browser-console.log'), consoleLog.join('\n') + '\n');
    console.log(`code-server ${server.url}, workspace ${workspace}: the suite runs in the extension host…`);
    try {
      await whenFileExists(results, SUITE_TIMEOUT_MS);
    } finally {
      await page.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-after-suite.png') }).catch(() => undefined);
      saveConsole();
    }
    const log = existsSync(`${results}.log`) ? readFileSync(`${results}.log`, 'utf8') : '';
    console.log(log);
    const r = JSON.parse(readFileSync(results, 'utf8')) as SuiteResults;
    console.log(`extension-host suite in code-server: ${r.passed.length} passed, ${r.failed.length} failed, ${r.pending.length} skipped; ${((Date.now() - started) / 1000).toFixed(1)} s with start-up`);
    return r.failed.length === 0 && r.passed.length > 0 ? 0 : 1;
  } catch (e) {
    console.error((e as Error).message);
    const partial = `${results}.log`;
    if (existsSync(partial)) console.error(`so far:\n${readFileSync(partial, 'utf8')}`);
    console.error(`code-server log (tail):\n${server.log().slice(-4000)}`);
    return 1;
  } finally {
    await browser.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
