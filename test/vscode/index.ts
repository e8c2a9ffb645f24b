// The extension-host test runner: VS Code loads this file as `extensionTestsPath` (through
// @vscode/test-electron on a desktop, through the workbench's development payload in code-server)
// and calls run() inside the extension host. Mocha runs the suite files beside it; with
// JETBENCH_TEST_RESULTS set, the outcome is also written there (JSON, plus a .log of every line)
// for a runner that cannot see the extension host's exit code.
import { appendFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export interface SuiteResults {
  passed: string[];
  failed: Array<{ title: string; error: string }>;
  pending: string[];
  durationMs: number;
}

export async function run(): Promise<void> {
  const resultsFile = process.env.JETBENCH_TEST_RESULTS;
  const logFile = resultsFile ? `${resultsFile}.log` : null;
  const log = (line: string) => {
    console.log(line);
    if (logFile) appendFileSync(logFile, `${line}\n`);
  };
  const mocha = new Mocha({ ui: 'bdd', timeout: 180_000, color: false, reporter: 'base' });
  if (process.env.JETBENCH_TEST_GREP) mocha.grep(process.env.JETBENCH_TEST_GREP);
  const suiteDir = path.join(__dirname, 'suite');
  for (const f of readdirSync(suiteDir).filter((n) => n.endsWith('.test.js')).sort()) mocha.addFile(path.join(suiteDir, f));
  const results: SuiteResults = { passed: [], failed: [], pending: [], durationMs: 0 };
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('suite', (s: Mocha.Suite) => {
      if (s.title) log(`${'  '.repeat(depth(s) - 1)}${s.title}`);
    });
    runner.on('pass', (t: Mocha.Test) => {
      results.passed.push(t.fullTitle());
      log(`${'  '.repeat(depth(t.parent!))}✔ ${t.title} (${t.duration ?? 0} ms)`);
    });
    runner.on('fail', (t: Mocha.Test, err: Error) => {
      results.failed.push({ title: t.fullTitle(), error: err.stack ?? err.message });
      log(`${'  '.repeat(depth(t.parent ?? null))}✖ ${t.title}\n${indent(err.stack ?? err.message)}`);
    });
    runner.on('pending', (t: Mocha.Test) => {
      results.pending.push(t.fullTitle());
      log(`${'  '.repeat(depth(t.parent!))}- SKIPPED: ${t.title}`);
    });
  });
  results.durationMs = Date.now() - started;
  log(`${results.passed.length} passed, ${results.failed.length} failed, ${results.pending.length} skipped in ${(results.durationMs / 1000).toFixed(1)} s`);
  if (resultsFile) {
    writeFileSync(`${resultsFile}.tmp`, JSON.stringify(results, null, 1));
    renameSync(`${resultsFile}.tmp`, resultsFile);
  }
  if (results.failed.length > 0) throw new Error(`${results.failed.length} extension-host test(s) failed`);
}

function depth(s: Mocha.Suite | null): number {
  let d = 0;
  for (let x = s; x && !x.root; x = x.parent ?? null) d++;
  return d;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}
