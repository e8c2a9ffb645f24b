// Bundles the deliverables with esbuild: the extension (cjs, `vscode` external; its agent client a
// bundle of its own, loaded on first connect), the device agent (one file for Node >= 18), the CLI, and the webview (browser). Usage: node scripts/build.mjs [--watch]
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { __JETBENCH_VERSION__: JSON.stringify(pkg.version) };
// onnxruntime-node is native: it is loaded at run time from beside the agent, never bundled.
// ssh2's optional native speed-ups (its sshcrypto.node, cpu-features) stay out of the bundles: ssh2
// catches their absence and uses its pure-JavaScript code, the same on every machine.
const nodeExternal = ['onnxruntime-node', 'onnxruntime-node/*', 'cpu-features', '*.node'];

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

// The native addon's sources travel beside the agent too (dist/native/): deploy uploads them and
// the device builds them (agent.js build-native). Build outputs and fetched headers stay behind.
// The Node-API headers go with them (native/node-api/), so a device builds with CMake alone.
rmSync('dist/native', { recursive: true, force: true });
cpSync('native', 'dist/native', { recursive: true, filter: (src) => !/^native[\\/](build|\.deps|node-api)([\\/]|$)/.test(src) });
const require = createRequire(import.meta.url);
const headerDirs = [
  [require('node-api-headers').include_dir, 'dist/native/node-api/include'],
  [path.dirname(require.resolve('node-addon-api/package.json')), 'dist/native/node-api/addon-api'],
];
for (const [from, to] of headerDirs) {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).filter((n) => n.endsWith('.h'))) cpSync(path.join(from, name), path.join(to, name));
}

if (process.argv.includes('--watch')) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
