// Bundles the deliverables with esbuild: the extension (cjs, `vscode` external; its agent client a
// bundle of its own, loaded on first connect), the device agent (one file for Node >= 18), the CLI, and the webview (browser). Usage: node scripts/build.mjs [--watch]
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { builds } from './bundles.mjs';

// The agent's Python helpers (TVM) travel beside it: dist/python/.
cpSync('device-agent/python', 'dist/python', { recursive: true, filter: (src) => !src.includes('__pycache__') });
// The telemetry sampler's worker thread (plain CommonJS, read by path): dist/workers/.
cpSync('device-agent/workers', 'dist/workers', { recursive: true });
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
