// Bundles the extension-host suite for VS Code to load: the runner (index.js) and each suite file,
// with `vscode` and `mocha` left to the extension host and node_modules. Output: out/test/vscode/.
import { readdirSync, rmSync } from 'node:fs';
import * as esbuild from 'esbuild';

const suite = readdirSync('test/vscode/suite').filter((f) => f.endsWith('.test.ts')).map((f) => `test/vscode/suite/${f}`);
rmSync('out/test/vscode', { recursive: true, force: true });
await esbuild.build({
  entryPoints: ['test/vscode/index.ts', ...suite],
  outdir: 'out/test/vscode',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  sourcemap: 'inline',
  // As in the product's bundles (scripts/bundles.mjs): ssh2's optional native parts stay out.
  external: ['vscode', 'mocha', 'cpu-features', '*.node'],
  logLevel: 'warning',
});
