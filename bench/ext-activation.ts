// Benchmark: the extension's activation time (goal < 100 ms), cold, in real VS Code (code-server):
// each round opens a fresh window on an empty folder (no activation event fires on its own), then
// a probe in the extension host calls activate() and times it: loading dist/extension.js plus
// activate(). Also prints the bundle and .vsix sizes.
//   npm run bench:ext-activation -- [--rounds 3]
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { ROOT, runInExtensionHost } from '../test/vscode/codeServer';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });

async function main(): Promise<void> {
  const probe = path.join(ROOT, 'out', 'bench', 'extActivationProbe.js');
  await esbuild.build({ entryPoints: [path.join(ROOT, 'bench', 'extActivationProbe.ts')], outfile: probe, bundle: true, platform: 'node', format: 'cjs', external: ['vscode'], logLevel: 'warning' });
  const rounds: Array<{ wasActive: boolean; activateMs: number; activateBodyMs: number }> = [];
  for (let i = 0; i < Number(values.rounds); i++) {
    const workspace = mkdtempSync(path.join(os.tmpdir(), 'jetbench-bench-activation-'));
    const results = path.join(workspace, '..', `${path.basename(workspace)}.json`);
    try {
      await runInExtensionHost({ testsPath: probe, workspace, env: { JETBENCH_BENCH_RESULTS: results }, resultsFile: results, timeoutMs: 180_000 });
      rounds.push(JSON.parse(readFileSync(results, 'utf8')) as (typeof rounds)[number]);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
      rmSync(results, { force: true });
    }
  }
  if (rounds.some((r) => r.wasActive)) throw new Error('the extension was active before the probe: an activation event fired on start-up');
  const ms = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
  console.log(`activation in code-server (cold, ${rounds.length} fresh windows):`);
  console.log(`  extension.activate() incl. loading dist/extension.js: ${ms(rounds.map((r) => r.activateMs))} ms (goal < 100 ms)`);
  console.log(`  activate() body alone: ${ms(rounds.map((r) => r.activateBodyMs))} ms`);
  const kb = (f: string) => `${(statSync(path.join(ROOT, f)).size / 1024).toFixed(0)} KiB`;
  console.log(`bundles: dist/extension.js ${kb('dist/extension.js')}, dist/webview.js ${kb('dist/webview.js')}, dist/agent.js ${kb('dist/agent.js')}`);
  const vsix = readdirSync(ROOT).filter((f) => f.endsWith('.vsix'));
  for (const v of vsix) console.log(`${v}: ${(statSync(path.join(ROOT, v)).size / 1e6).toFixed(1)} MB`);
  if (vsix.length === 0) console.log('(no .vsix here: npm run package makes one)');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
