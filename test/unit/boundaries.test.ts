// The house's rule, checked over what the bundler actually follows: the agent, the CLI, the
// extension and the pages are siblings over contract/ and never import each other's insides. Each
// bundle is built in memory with the build's own configuration (scripts/bundles.mjs) and every
// import edge of its esbuild metafile is checked against the allowed edges below.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as esbuild from 'esbuild';
import { builds } from '../../scripts/bundles.mjs';

type Part = 'contract' | 'models' | 'agent' | 'core' | 'cli' | 'extension' | 'pages' | 'npm';

export function partOf(file: string): Part | null {
  if (file.startsWith('node_modules/') || file.includes('/node_modules/')) return 'npm';
  if (file.startsWith('contract/')) return 'contract';
  if (file.startsWith('models/')) return 'models';
  if (file.startsWith('device-agent/')) return 'agent';
  if (file.startsWith('src/core/')) return 'core';
  if (file.startsWith('src/cli/')) return 'cli';
  if (file.startsWith('src/')) return 'extension';
  if (file.startsWith('webview/')) return 'pages';
  return null;
}

/** Who may import whom (besides itself and npm packages), and why. */
const ALLOWED: Record<Part, readonly Part[]> = {
  // The contracts import nothing of the parts that use them.
  contract: [],
  // The model generator names its precisions and caches its output where the contract says.
  models: ['contract'],
  // The agent resolves built-in models (generating them on first use) on the device.
  agent: ['contract', 'models'],
  // The client core (connect, deploy, run, store) is shared by the CLI and the extension.
  core: ['contract'],
  // `jetbench models` generates the built-in models on this machine.
  cli: ['contract', 'core', 'models'],
  extension: ['contract', 'core'],
  pages: ['contract'],
  npm: ['npm'],
};

interface Edge {
  from: string;
  to: string;
}

/** Every import edge between the repo's files in a metafile, with its parts. */
function crossings(meta: esbuild.Metafile): string[] {
  const bad: string[] = [];
  for (const [from, input] of Object.entries(meta.inputs)) {
    const a = partOf(from);
    if (!a) continue;
    for (const imp of input.imports as Array<{ path: string }>) {
      const b = partOf(imp.path);
      if (!b || b === a || b === 'npm') continue;
      if (!ALLOWED[a].includes(b)) bad.push(`${from} (${a}) imports ${imp.path} (${b})`);
    }
  }
  return bad;
}

const metafiles = new Map<string, esbuild.Metafile>();
async function metafile(outfile: string): Promise<esbuild.Metafile> {
  const known = metafiles.get(outfile);
  if (known) return known;
  const options = builds.find((b) => b.outfile === outfile);
  assert.ok(options, `no bundle ${outfile} in scripts/bundles.mjs`);
  const result = await esbuild.build({ ...options, write: false, metafile: true, sourcemap: false, logLevel: 'silent' });
  metafiles.set(outfile, result.metafile);
  return result.metafile;
}

test('no bundle imports across the parts (agent, CLI, extension, pages over contract/)', async () => {
  const bad: string[] = [];
  for (const b of builds) bad.push(...crossings(await metafile(b.outfile!)));
  assert.deepEqual([...new Set(bad)], []);
});

test("dist/agentClient.js carries no model generator (the deploy code needs only the cache dir's path)", async () => {
  const inputs = Object.keys((await metafile('dist/agentClient.js')).inputs);
  assert.deepEqual(inputs.filter((f) => f.startsWith('models/') || f.includes('node_modules/onnx-proto/') || f.includes('node_modules/protobufjs/')), []);
  assert.ok(inputs.includes('contract/cacheDir.ts'), 'the cache dir comes from the contract');
});

test('the check sees a crossing when there is one', () => {
  const edge: Edge = { from: 'src/commands/devices.ts', to: 'src/cli/info.ts' };
  const meta = { inputs: { [edge.from]: { bytes: 1, imports: [{ path: edge.to, kind: 'import-statement', original: '../cli/info' }] } }, outputs: {} } as unknown as esbuild.Metafile;
  assert.deepEqual(crossings(meta), ['src/commands/devices.ts (extension) imports src/cli/info.ts (cli)']);
  const toAgent = { inputs: { 'webview/src/resultPage.ts': { bytes: 1, imports: [{ path: 'device-agent/src/runner.ts', kind: 'import-statement' }] } }, outputs: {} } as unknown as esbuild.Metafile;
  assert.equal(crossings(toAgent).length, 1);
});
