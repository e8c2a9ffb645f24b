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
import { SSH_TEST_USER, sshUnavailableReason, TestSshd } from '../helpers/sshd';
import { aarch64Unavailable, releaseBinfmt, startAarch64Sshd } from '../helpers/aarch64Device';
import { sshTestEnv, sshTestSkipEnv, type SshSuiteConfig } from './suite/sshConfig';

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
  // The SSH device suite: a real sshd on loopback, the extension host's HOME a fresh one (its
  // ~/.ssh/known_hosts starts empty, so the host key is unknown at first).
  const sshReason = sshUnavailableReason();
  let sshd: TestSshd | null = null;
  let aarch64: TestSshd | null = null;
  const mounted = { binfmt: false };
  if (sshReason) {
    console.log(`SKIPPED: the SSH device tests of the extension-host suite: ${sshReason}`);
    Object.assign(env, sshTestSkipEnv(sshReason), sshTestSkipEnv(sshReason, 'aarch64'));
  } else {
    sshd = await TestSshd.start();
    const home = path.join(sshd.dir, 'vscode-home');
    mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
    const config: SshSuiteConfig = { host: '127.0.0.1', port: sshd.port, user: SSH_TEST_USER, identityFile: sshd.clientKeyFile, hostKeyLine: sshd.hostPublicKey(), home, sshdPid: sshd.pid! };
    Object.assign(env, sshTestEnv(config));
    // The emulated aarch64 device (a Jetson's architecture; test/helpers/aarch64Device.ts), which
    // CI's set-up builds: missing there is a failure, as in the aarch64 suite.
    const aarch64Reason = aarch64Unavailable(mounted);
    if (aarch64Reason && process.env.CI) throw new Error(`the extension's aarch64 device tests cannot run in CI: ${aarch64Reason}`);
    if (aarch64Reason) {
      console.log(`SKIPPED: the emulated aarch64 device tests of the extension-host suite: ${aarch64Reason}`);
      Object.assign(env, sshTestSkipEnv(aarch64Reason, 'aarch64'));
    } else {
      aarch64 = await startAarch64Sshd();
      const a: SshSuiteConfig = { host: '127.0.0.1', port: aarch64.port, user: aarch64.user, identityFile: aarch64.clientKeyFile, hostKeyLine: aarch64.hostPublicKey(), home, sshdPid: aarch64.pid! };
      Object.assign(env, sshTestEnv(a, 'aarch64'));
    }
  }
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
    await sshd?.dispose();
    await aarch64?.dispose();
    releaseBinfmt(mounted);
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
