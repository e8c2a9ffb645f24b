// Runs the extension-host suite inside real VS Code: code-server serves a fresh test workspace,
// Chromium opens the workbench with a development payload (extensionDevelopmentPath = this
// repository, extensionTestsPath = the bundled runner) exactly as @vscode/test-electron passes
// them on a desktop; the extension host runs the suite and writes its results, which this script
// prints. Exit code 0 only when every test passed.
//   npm run test:vscode            (builds the extension and the suite first)
//   JETBENCH_TEST_GREP=devices npm run test:vscode
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { SuiteResults } from './index';
import { ROOT, runInExtensionHost } from './codeServer';
import { makeTestWorkspace, TEST_CACHE_DIR } from './workspace';

const SUITE_TIMEOUT_MS = 15 * 60_000;
const OUTPUT_DIR = path.join(ROOT, 'test-output', 'vscode');

async function main(): Promise<number> {
  for (const script of ['scripts/build.mjs', 'test/vscode/build.mjs']) {
    const r = spawnSync(process.execPath, [script], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${script} failed`);
  }
  rmSync(OUTPUT_DIR, { recursive: true, force: true });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const workspace = makeTestWorkspace();
  const results = path.join(OUTPUT_DIR, 'results.json');
  const started = Date.now();
  const env: Record<string, string> = { JETBENCH_TEST_RESULTS: results, JETBENCH_CACHE_DIR: TEST_CACHE_DIR };
  if (process.env.JETBENCH_TEST_GREP) env.JETBENCH_TEST_GREP = process.env.JETBENCH_TEST_GREP;
  console.log(`workspace ${workspace}: the suite runs in code-server's extension host…`);
  try {
    await runInExtensionHost({
      testsPath: path.join(ROOT, 'out', 'test', 'vscode', 'index.js'),
      workspace,
      env,
      resultsFile: results,
      timeoutMs: SUITE_TIMEOUT_MS,
      screenshot: path.join(OUTPUT_DIR, 'workbench-after-suite.png'),
      consoleLog: path.join(OUTPUT_DIR, 'browser-console.log'),
    });
  } catch (e) {
    console.error((e as Error).message);
    if (existsSync(`${results}.log`)) console.error(`so far:\n${readFileSync(`${results}.log`, 'utf8')}`);
    return 1;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
  console.log(readFileSync(`${results}.log`, 'utf8'));
  const r = JSON.parse(readFileSync(results, 'utf8')) as SuiteResults;
  console.log(`extension-host suite in code-server: ${r.passed.length} passed, ${r.failed.length} failed, ${r.pending.length} skipped; ${((Date.now() - started) / 1000).toFixed(1)} s with start-up`);
  return r.failed.length === 0 && r.passed.length > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
