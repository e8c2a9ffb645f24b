// Runs the same extension-host suite in VS Code desktop through @vscode/test-electron, which
// downloads VS Code (stable, or $VSCODE_TEST_VERSION) at test time: for machines with internet and
// a display (or xvfb-run). CI runs the suite in code-server instead (runInCodeServer.ts).
//   npm run test:vscode:electron
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ROOT } from './codeServer';
import { makeTestWorkspace, TEST_CACHE_DIR } from './workspace';

async function main(): Promise<void> {
  for (const script of ['scripts/build.mjs', 'test/vscode/build.mjs']) {
    const r = spawnSync(process.execPath, [script], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${script} failed`);
  }
  const workspace = makeTestWorkspace();
  try {
    await runTests({
      ...(process.env.VSCODE_TEST_VERSION ? { version: process.env.VSCODE_TEST_VERSION } : {}),
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: path.join(ROOT, 'out', 'test', 'vscode', 'index.js'),
      extensionTestsEnv: { JETBENCH_CACHE_DIR: TEST_CACHE_DIR, ...(process.env.JETBENCH_TEST_GREP ? { JETBENCH_TEST_GREP: process.env.JETBENCH_TEST_GREP } : {}) },
      launchArgs: [workspace, '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
