// Packages the extension as a platform-specific .vsix with @vscode/vsce (tools/vscode).
//   npm run package                       this machine's platform (e.g. linux-x64)
//   npm run package -- --target linux-arm64
// ONNX Runtime is native: the .vsix carries onnxruntime-node at dist/node_modules/onnxruntime-node
// (found by the local agent from dist/agent.js, and by SSH deploy through require.resolve from
// the agent's directory) with the binaries of two platforms only: the target's (the local device)
// and linux-arm64 (every Jetson, for deploy). All five platforms would be ~290 MB unpacked.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(new URL('..', import.meta.url).pathname);
const VSCE = path.join(ROOT, 'tools', 'vscode', 'node_modules', '@vscode', 'vsce', 'vsce');

/** vsce targets with an ONNX Runtime build in onnxruntime-node (bin/napi-v6/<os>/<arch>). */
const ORT_DIRS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};
/** Jetsons are linux-arm64: deploy uploads these binaries whatever the editor's platform. */
const DEVICE_PLATFORM = 'linux-arm64';

const { values } = parseArgs({ options: { target: { type: 'string' }, out: { type: 'string' } } });
const target = values.target ?? `${process.platform}-${process.arch}`;
if (!(target in ORT_DIRS)) {
  console.error(`no ONNX Runtime binaries for target '${target}' in onnxruntime-node: use one of ${Object.keys(ORT_DIRS).join(', ')}`);
  process.exit(2);
}
if (!existsSync(VSCE)) {
  console.error('vsce is not installed: run bash scripts/setup-vscode.sh');
  process.exit(1);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function dirBytes(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, f) => n + dirBytes(path.join(p, f)), 0);
}

run(process.execPath, ['scripts/build.mjs']);

// onnxruntime-node and its one runtime dependency, trimmed to what loads at run time.
const modules = path.join(ROOT, 'dist', 'node_modules');
rmSync(modules, { recursive: true, force: true });
const ort = path.join(ROOT, 'node_modules', 'onnxruntime-node');
const common = path.join(ROOT, 'node_modules', 'onnxruntime-common');
const ortOut = path.join(modules, 'onnxruntime-node');
const noMaps = (src) => !src.endsWith('.map') && !src.endsWith('.d.ts');
for (const f of ['package.json', 'LICENSE', 'README.md']) if (existsSync(path.join(ort, f))) cpSync(path.join(ort, f), path.join(ortOut, f));
cpSync(path.join(ort, 'dist'), path.join(ortOut, 'dist'), { recursive: true, filter: noMaps });
for (const t of new Set([target, DEVICE_PLATFORM])) {
  const rel = path.join('bin', 'napi-v6', ORT_DIRS[t]);
  mkdirSync(path.join(ortOut, rel), { recursive: true });
  cpSync(path.join(ort, rel), path.join(ortOut, rel), { recursive: true });
}
const commonOut = path.join(modules, 'onnxruntime-common');
for (const f of ['package.json', 'LICENSE', 'README.md']) if (existsSync(path.join(common, f))) cpSync(path.join(common, f), path.join(commonOut, f));
cpSync(path.join(common, 'dist', 'cjs'), path.join(commonOut, 'dist', 'cjs'), { recursive: true, filter: noMaps });

const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
const out = path.resolve(values.out ?? `jetbench-${version}-${target}.vsix`);
run(process.execPath, [VSCE, 'package', '--no-dependencies', '--target', target, '--skip-license', '--allow-missing-repository', '--out', out]);

const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
console.log(`\n${path.relative(ROOT, out)}: ${mb(statSync(out).size)} (ONNX Runtime for ${[...new Set([target, DEVICE_PLATFORM])].join(' + ')}: ${mb(dirBytes(modules))} unpacked)`);
