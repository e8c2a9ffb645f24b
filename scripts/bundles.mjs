// The esbuild configurations of every bundle, shared by the build (scripts/build.mjs) and the test
// that checks the import boundaries over the bundles' metafiles (test/unit/boundaries.test.ts).
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { __JETBENCH_VERSION__: JSON.stringify(pkg.version) };
// onnxruntime-node is native: it is loaded at run time from beside the agent, never bundled.
// ssh2's optional native speed-ups (its sshcrypto.node, cpu-features) stay out of the bundles: ssh2
// catches their absence and uses its pure-JavaScript code, the same on every machine.
const nodeExternal = ['onnxruntime-node', 'onnxruntime-node/*', 'cpu-features', '*.node'];

const common = { bundle: true, sourcemap: 'linked', logLevel: 'warning', define, legalComments: 'none' };

/** @type {import('esbuild').BuildOptions[]} */
export const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node18', external: ['vscode', ...nodeExternal] },
  // The extension's agent client (vscode-languageclient), loaded when a device first connects.
  { ...common, entryPoints: ['src/devices/agentClient.ts'], outfile: 'dist/agentClient.js', platform: 'node', format: 'cjs', target: 'node18', external: ['vscode', ...nodeExternal] },
  { ...common, entryPoints: ['device-agent/src/main.ts'], outfile: 'dist/agent.js', platform: 'node', format: 'cjs', target: 'node18', external: nodeExternal },
  { ...common, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node18', external: nodeExternal, banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: ['webview/src/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2022' },
];
