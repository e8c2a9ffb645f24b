// Bundles the deliverables with esbuild: the extension (cjs, `vscode` external; its agent client a
// bundle of its own, loaded on first connect), the device agent (one file for Node >= 18), the CLI, and the webview (browser). Usage: node scripts/build.mjs [--watch]
import * as esbuild from 'esbuild';
import { cpSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { __JETBENCH_VERSION__: JSON.stringify(pkg.version) };
// onnxruntime-node is native: it is loaded at run time from beside the agent, never bundled.
const nodeExternal = ['onnxruntime-node', 'onnxruntime-node/*'];

const common = { bundle: true, sourcemap: 'linked', logLevel: 'warning', define, legalComments: 'none' };
const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node18', external: ['vscode', ...nodeExternal] },
  // The extension's agent client (vscode-languageclient), loaded when a device first connects.
  { ...common, entryPoints: ['src/devices/agentClient.ts'], outfile: 'dist/agentClient.js', platform: 'node', format: 'cjs', target: 'node18', external: ['vscode', ...nodeExternal] },
  { ...common, entryPoints: ['device-agent/src/main.ts'], outfile: 'dist/agent.js', platform: 'node', format: 'cjs', target: 'node18', external: nodeExternal },
  { ...common, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node18', external: nodeExternal, banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: ['webview/src/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2022' },
];

// The agent's Python helpers (TVM) travel beside it: dist/python/.
cpSync('device-agent/python', 'dist/python', { recursive: true, filter: (src) => !src.includes('__pycache__') });
// The panels' stylesheet beside their bundle (webviews may load only from dist/).
cpSync('webview/styles.css', 'dist/webview.css');

if (process.argv.includes('--watch')) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
