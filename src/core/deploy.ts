// Deploys the agent to an SSH device: one probe (architecture, home, free space, deployed bundles,
// Node candidates), then — only when this bundle's content hash is not there yet — an SFTP upload to
// `<agent home>/agent/.tmp-<hash>-<random>/` renamed to `<agent home>/agent/<hash>/` (atomic: a
// bundle directory is complete or absent). Node on the device: the configured nodePath, a `node`
// >= 18 on PATH, VS Code Server's Node >= 18, else a Node runtime uploaded from the npm package
// node-linux-<arch> (see deployNode.ts). Then the native addon: its sources travel in the bundle
// (native/) and the device builds them once per source hash (agent.js build-native, the log
// streamed), where it has CMake and a C++ compiler; ONNX Runtime and TVM runs need no addon, so a
// device that cannot build it still gets a working agent, and the deploy says why it has none.
// The extension's Deploy command calls deployAgent too.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { describeDevice, type SshDevice } from './devices';
import { ADDON_FILE, nativeSourceHash } from '../../contract/nativeSources';
import { oneLine } from '../../contract/untrustedText';
import { ensureNodeRuntime, NODE_RUNTIME_VERSION, nodeRuntimeArchs, type DeviceArch } from './deployNode';
import { shellCommand, shellHomePath, shellQuote } from './sshQuote';
import { SshError, SshSession, type SshHooks } from './sshSession';

export type { DeviceArch } from './deployNode';

/** The bundled agent beside this file (dist/agent.js), or $JETBENCH_AGENT. */
export function localAgentPath(): string {
  const candidates = [process.env.JETBENCH_AGENT, path.join(__dirname, 'agent.js'), path.resolve(__dirname, '../../dist/agent.js')];
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error(`the jetbench agent bundle was not found (looked for ${candidates.filter(Boolean).join(', ')}); run npm run build`);
  return found;
}

/** The oldest Node the agent runs on. */
export const MIN_NODE_MAJOR = 18;

/** `uname -m` to the npm/Node architecture name; null for one jetbench cannot serve. */
export function deviceArch(unameM: string): DeviceArch | null {
  const m = unameM.trim();
  if (m === 'x86_64' || m === 'amd64') return 'x64';
  if (m === 'aarch64' || m === 'arm64') return 'arm64';
  return null;
}

/** One file of the bundle: where it is here, and its path inside the bundle directory. */
export interface BundleFile {
  local: string;
  remote: string;
  bytes: number;
}

export interface BundleContext {
  arch: DeviceArch;
  /** The local agent script (dist/agent.js); the other parts are found beside it. */
  agentPath: string;
}

/** A named group of files in the agent bundle (the agent, its Node modules, native sources...). */
export interface BundlePart {
  name: string;
  files(ctx: BundleContext): Promise<BundleFile[]>;
}

async function filesUnder(root: string, remoteRoot: string, keep: (rel: string) => boolean): Promise<BundleFile[]> {
  const out: BundleFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full).split(path.sep).join('/');
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && keep(rel)) out.push({ local: full, remote: `${remoteRoot}/${rel}`, bytes: (await stat(full)).size });
    }
  };
  await walk(root);
  return out;
}

const noSourceMaps = (rel: string) => !rel.endsWith('.map') && !rel.endsWith('.d.ts') && !rel.includes('__pycache__');

/** A package's directory as `require` from `from` finds it (its exports may hide package.json). */
function packageDir(name: string, from: string): string {
  const main = require.resolve(name, { paths: [from] });
  const marker = `${path.sep}node_modules${path.sep}${name}${path.sep}`;
  const at = main.lastIndexOf(marker);
  if (at < 0) throw new Error(`cannot locate the ${name} package from ${main}`);
  return main.slice(0, at + marker.length - 1);
}

/** The agent script. */
const agentPart: BundlePart = {
  name: 'agent',
  files: async ({ agentPath }) => [{ local: agentPath, remote: 'agent.js', bytes: (await stat(agentPath)).size }],
};

/** The Python helpers (TVM, PyTorch, NVML, and what they share), beside the agent as in dist/python/. */
const pythonPart: BundlePart = {
  name: 'python helpers',
  files: ({ agentPath }) => filesUnder(path.join(path.dirname(agentPath), 'python'), 'python', noSourceMaps),
};

/** The agent's worker-thread scripts (the telemetry sampler), beside it as in dist/workers/. */
const workersPart: BundlePart = {
  name: 'worker scripts',
  // An agent without them still runs (telemetry then samples between inferences and says so).
  files: async ({ agentPath }) => {
    const dir = path.join(path.dirname(agentPath), 'workers');
    return existsSync(dir) ? filesUnder(dir, 'workers', noSourceMaps) : [];
  },
};

/** onnxruntime-node's JavaScript and ONLY the device's linux/<arch> binaries (the package ships
 * every platform, ~290 MB), plus onnxruntime-common. Found from the agent's directory, so it works
 * from the repository (node_modules) and from a packaged extension (dist/node_modules). */
const onnxRuntimePart: BundlePart = {
  name: 'onnxruntime-node',
  files: async ({ agentPath, arch }) => {
    const ortDir = path.dirname(require.resolve('onnxruntime-node/package.json', { paths: [path.dirname(agentPath)] }));
    const commonDir = packageDir('onnxruntime-common', ortDir);
    const binaries = `bin/napi-v6/linux/${arch}/`;
    const ort = await filesUnder(ortDir, 'node_modules/onnxruntime-node', (rel) => rel === 'package.json' || (rel.startsWith('dist/') && noSourceMaps(rel)) || rel.startsWith(binaries));
    if (!ort.some((f) => f.remote.includes(binaries))) {
      throw new Error(`onnxruntime-node at ${ortDir} has no binaries for linux/${arch} (${binaries}): reinstall it (npm ci)`);
    }
    const common = await filesUnder(commonDir, 'node_modules/onnxruntime-common', (rel) => rel === 'package.json' || (rel.startsWith('dist/cjs/') && noSourceMaps(rel)));
    return [...ort, ...common];
  },
};

/** The native addon's sources and Node-API headers (dist/native/, made by the build), built on
 * the device after the deploy (see ensureNativeAddon). */
const nativePart: BundlePart = {
  name: 'native sources',
  files: async ({ agentPath }) => {
    const dir = nativeBundleDir(agentPath);
    return existsSync(dir) ? filesUnder(dir, NATIVE_BUNDLE_DIR, () => true) : [];
  },
};

const NATIVE_BUNDLE_DIR = 'native';

function nativeBundleDir(agentPath: string): string {
  return path.join(path.dirname(agentPath), NATIVE_BUNDLE_DIR);
}

export const BUNDLE_PARTS: readonly BundlePart[] = [agentPart, pythonPart, workersPart, onnxRuntimePart, nativePart];

export interface AgentBundle {
  arch: DeviceArch;
  /** Content hash (hex, 16 chars) of every file's bundle path and bytes: the bundle directory name. */
  hash: string;
  files: BundleFile[];
  bytes: number;
  parts: readonly BundlePart[];
  agentPath: string;
}

/** File hashes of this process, keyed by path, size and mtime (the bundle is hashed on every connect). */
const fileHashes = new Map<string, string>();

async function fileSha256(file: string): Promise<string> {
  const st = await stat(file);
  const key = `${file}\0${st.size}\0${st.mtimeMs}`;
  const hit = fileHashes.get(key);
  if (hit) return hit;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  fileHashes.set(key, digest);
  return digest;
}

export async function agentBundle(arch: DeviceArch, opts: { agentPath?: string; parts?: readonly BundlePart[] } = {}): Promise<AgentBundle> {
  const agentPath = opts.agentPath ?? localAgentPath();
  const parts = opts.parts ?? BUNDLE_PARTS;
  const ctx: BundleContext = { arch, agentPath };
  const files = (await Promise.all(parts.map((p) => p.files(ctx)))).flat().sort((a, b) => a.remote.localeCompare(b.remote));
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.remote}\0${await fileSha256(f.local)}\n`);
  return { arch, hash: hash.digest('hex').slice(0, 16), files, bytes: files.reduce((n, f) => n + f.bytes, 0), parts, agentPath };
}

/** How a deployed bundle's files differ from the bundle's: `changed X`, `missing X`, `extra X`.
 * `expected`: SHA-256 by path inside the bundle; `sums`: `sha256sum` output for `./path` names
 * (a name sha256sum had to escape, with a backslash, is never one of ours). */
export function bundleDifferences(expected: ReadonlyMap<string, string>, sums: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const line of sums.split('\n')) {
    if (!line) continue;
    const m = /^([0-9a-f]{64}) [ *]\.\/(.+)$/.exec(line);
    if (!m) {
      out.push(`extra ${oneLine(line).slice(0, 120)}`);
      continue;
    }
    const [, sum, file] = m as unknown as [string, string, string];
    seen.add(file);
    const want = expected.get(file);
    if (want === undefined) out.push(`extra ${oneLine(file)}`);
    else if (want !== sum) out.push(`changed ${file}`);
  }
  for (const file of expected.keys()) if (!seen.has(file)) out.push(`missing ${file}`);
  return out;
}

/** Hashes every file of the deployed bundle on the device (Python's __pycache__, which running the
 * helpers writes, aside) and compares them with this bundle's. */
async function deployedBundleDifferences(session: SshSession, agentDir: string, bundle: AgentBundle): Promise<string[]> {
  const r = await session.exec(`cd ${shellQuote(agentDir)} && find . -type f ! -path '*/__pycache__/*' -exec sha256sum {} +`);
  if (r.code !== 0) return [`unreadable (exit ${r.code}: ${oneLine(r.stderr.trim()).slice(0, 200)})`];
  const expected = new Map<string, string>();
  for (const f of bundle.files) expected.set(f.remote, await fileSha256(f.local));
  return bundleDifferences(expected, r.stdout);
}

/** What the probe learned about the device. */
export interface DeviceProbe {
  home: string;
  unameM: string;
  /** Absolute agent home on the device. */
  agentHome: string;
  /** Bundle hashes present under <agent home>/agent/. */
  deployed: string[];
  /** Free bytes on the agent home's file system (or its nearest existing parent); null if unknown. */
  freeBytes: number | null;
  node: NodeChoice | null;
  /** Node candidates seen, with their versions, for the message when none fits. */
  nodesSeen: string[];
  /** The addon of the probed native source hash is built on the device. */
  nativeBuilt: boolean;
  /** Build tools found on the device's PATH (cmake, c++, g++). */
  tools: string[];
  /** The login's uid on the device; null if `id` failed. */
  uid: number | null;
  /** Owner uid and octal mode of the agent home, its agent/ and node/ folders and each bundle. */
  perms: PathPerm[];
  /** Owner uid and octal mode of every folder above the agent home, and of the chosen Node binary
   * and every folder above it (symbolic links resolved). */
  chain: PathPerm[];
}

export interface PathPerm {
  path: string;
  uid: number;
  /** Octal mode with the sticky bit (0o1000). */
  mode: number;
}

/** Paths another user could have written, so code run from them would be theirs, run as the login
 * (a planted agent.js, a swapped node): the agent home, its agent/ and node/ folders and bundles
 * must be the login's and not writable by group or others; the folders above the home and the Node
 * binary with the folders above it may also be root's, and may be writable by others only with the
 * sticky bit (as /tmp: nobody can rename what another user made there). */
export function unsafeAgentPaths(probe: Pick<DeviceProbe, 'uid' | 'perms' | 'chain'>): string[] {
  const otherOwner = (p: PathPerm, rootToo: boolean) => probe.uid !== null && p.uid !== probe.uid && !(rootToo && p.uid === 0);
  const groupOrOthersWrite = (p: PathPerm) => (p.mode & 0o022) !== 0;
  const bad = [
    ...probe.perms.filter((p) => otherOwner(p, false) || groupOrOthersWrite(p)),
    ...probe.chain.filter((p) => otherOwner(p, true) || (groupOrOthersWrite(p) && (p.mode & 0o1000) === 0)),
  ];
  return [...new Set(bad.map((p) => `${p.path} (owner uid ${p.uid}, mode ${p.mode.toString(8)})`))];
}

export interface NodeChoice {
  path: string;
  version: string;
  source: 'configured' | 'path' | 'vscode-server' | 'uploaded';
}

/** The probe script: prints key=value lines; every path built from user input is quoted.
 * `nativeHash`: the bundle's native source hash, to learn whether the device has built it. */
export function probeScript(device: Pick<SshDevice, 'agentHome' | 'nodePath'>, nativeHash: string | null = null): string {
  const home = shellHomePath(device.agentHome);
  const candidates = [
    ...(device.nodePath ? [`configured ${shellHomePath(device.nodePath)}`] : []),
    'path "$(command -v node 2>/dev/null)"',
    'vscode-server "$HOME"/.vscode-server/bin/*/node',
    'vscode-server "$HOME"/.vscode-server/cli/servers/*/server/node',
    `uploaded ${home}/node/*/bin/node`,
  ];
  return [
    `H=${home}`,
    'printf "home=%s\\n" "$HOME"',
    'printf "uname=%s\\n" "$(uname -m)"',
    'printf "agenthome=%s\\n" "$H"',
    'for d in "$H"/agent/*/agent.js; do [ -f "$d" ] && printf "deployed=%s\\n" "$(basename "$(dirname "$d")")"; done',
    // Who may write where code will run from (a shared agent home runs another user's bundle as
    // you; a folder above it that others may write lets them swap the home; the same for Node).
    'printf "uid=%s\\n" "$(id -u 2>/dev/null)"',
    'for p in "$H" "$H"/agent "$H"/node "$H"/agent/*; do [ -e "$p" ] || continue; s=$(stat -L -c "%u %a" "$p" 2>/dev/null) || continue; printf "perm=%s\\t%s\\n" "$s" "$p"; done',
    'chain() { c=$1; while :; do s=$(stat -L -c "%u %a" "$c" 2>/dev/null) && printf "chain=%s\\t%s\\n" "$s" "$c"; if [ "$c" = / ] || [ "$c" = . ]; then break; fi; c=$(dirname "$c"); done; }',
    // Free space where the upload will go: the agent home, or the nearest parent that exists.
    'p="$H"; while [ ! -d "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done',
    'printf "freekb=%s\\n" "$(df -Pk "$p" 2>/dev/null | awk \'NR==2{print $4}\')"',
    // The folders above the home (it exists), or above where it will be made (it does not yet).
    'if [ -d "$H" ]; then r=$(cd "$H" && pwd -P) && chain "$(dirname "$r")"; else r=$(cd "$p" && pwd -P) && chain "$r"; fi',
    // The native addon: built for these sources already (the agent's cache dir, models/src cacheDir),
    // else can it be built here (CMake and a C++ compiler)?
    ...(nativeHash
      ? [
          'C="${JETBENCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jetbench}"',
          `[ -f "$C"/native/${shellQuote(nativeHash)}/${ADDON_FILE} ] && printf "nativebuilt=1\\n"`,
          'for t in cmake c++ g++; do command -v "$t" >/dev/null 2>&1 && printf "tool=%s\\n" "$t"; done',
        ]
      : []),
    // Each candidate: its version; the first >= MIN_NODE_MAJOR wins.
    `check() { src=$1; shift; for n in "$@"; do [ -n "$n" ] && [ -x "$n" ] || continue; v=$("$n" -v 2>/dev/null) || continue; printf "seen=%s\\t%s\\n" "$n" "$v"; m=\${v#v}; m=\${m%%.*}; if [ "$m" -ge ${MIN_NODE_MAJOR} ] 2>/dev/null; then printf "node=%s\\t%s\\t%s\\n" "$src" "$n" "$v"; r=$(readlink -f "$n" 2>/dev/null) || r=$n; chain "$r"; exit 0; fi; done; }`,
    ...candidates.map((c) => `check ${c}`),
    'exit 0',
  ].join('\n');
}

/** Removes agent bundles other than `keep` and the newest other one; prints `pruned=<hash>` each. */
export function pruneScript(agentHome: string, keep: string): string {
  return [
    `cd ${shellQuote(`${agentHome}/agent`)} || exit 0`,
    'n=0',
    'for d in $(ls -1t); do',
    `  case "$d" in ${shellQuote(keep)}) continue ;; esac`,
    // Only bundle directories (16 hex digits) are candidates; anything else is not ours to remove.
    '  printf "%s" "$d" | grep -Eq "^[0-9a-f]{16}$" || continue',
    '  n=$((n + 1)); [ "$n" -le 1 ] && continue',
    '  rm -rf -- "$d" && printf "pruned=%s\\n" "$d"',
    'done',
    'exit 0',
  ].join('\n');
}

export function parseProbe(stdout: string): DeviceProbe {
  const probe: DeviceProbe = { home: '', unameM: '', agentHome: '', deployed: [], freeBytes: null, node: null, nodesSeen: [], nativeBuilt: false, tools: [], uid: null, perms: [], chain: [] };
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
    if (key === 'home') probe.home = value;
    else if (key === 'uname') probe.unameM = value;
    else if (key === 'agenthome') probe.agentHome = value;
    else if (key === 'deployed') probe.deployed.push(value);
    else if (key === 'freekb' && /^\d+$/.test(value)) probe.freeBytes = Number(value) * 1024;
    else if (key === 'seen') probe.nodesSeen.push(value.replace('\t', ' '));
    else if (key === 'nativebuilt') probe.nativeBuilt = value === '1';
    else if (key === 'tool') probe.tools.push(value);
    else if (key === 'uid' && /^\d+$/.test(value)) probe.uid = Number(value);
    else if (key === 'perm' || key === 'chain') {
      const m = /^(\d+) ([0-7]+)\t(.+)$/.exec(value);
      if (m) (key === 'perm' ? probe.perms : probe.chain).push({ uid: Number(m[1]), mode: parseInt(m[2]!, 8), path: m[3]! });
    }
    else if (key === 'node') {
      const [source, p, version] = value.split('\t');
      probe.node = { source: source as NodeChoice['source'], path: p!, version: version! };
    }
  }
  return probe;
}

export async function probeDevice(session: SshSession, device: SshDevice, nativeHash: string | null = null): Promise<DeviceProbe> {
  const r = await session.exec(probeScript(device, nativeHash));
  const probe = parseProbe(r.stdout);
  if (r.code !== 0 || !probe.home || !probe.agentHome) {
    throw new SshError('remote', `cannot inspect ${session.describe} (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim() || 'no output'}: is its login shell a POSIX shell?`);
  }
  return probe;
}

export interface DeployResult {
  /** Absolute paths on the device. */
  agentHome: string;
  agentDir: string;
  agentScript: string;
  node: NodeChoice;
  bundle: { hash: string; bytes: number; files: number };
  /** False when the bundle was already there (a no-op deploy). */
  uploaded: boolean;
  nodeUploaded: boolean;
  native: NativeDeployStatus;
  ms: number;
}

/** The native addon on the device after a deploy. */
export interface NativeDeployStatus {
  /** `built` now; `reused`: built earlier for the same sources; `skipped`: not built (`detail`
   * says why and how to get it); `failed`: the build failed (`detail` ends with its log's tail);
   * `absent`: this bundle carries no native sources. */
  status: 'built' | 'reused' | 'skipped' | 'failed' | 'absent';
  /** Hash of the native sources (the build directory's name on the device), null when absent. */
  sourceHash: string | null;
  detail: string;
}

export interface DeployOptions {
  /** The bundle's parts (default BUNDLE_PARTS). */
  parts?: readonly BundlePart[];
  agentPath?: string;
}

/** Connects, deploys, disconnects: `jetbench deploy` and the extension's Deploy Agent command. */
export async function connectAndDeploy(device: SshDevice, hooks: SshHooks, opts: DeployOptions = {}): Promise<DeployResult> {
  const session = await SshSession.connect(device, hooks);
  try {
    return await deployAgent(session, device, hooks, opts);
  } finally {
    session.close();
  }
}

/** A deploy's outcome in words, one line per fact (the CLI prints it, the extension logs it). */
export function deploySummary(device: SshDevice, result: DeployResult): string[] {
  const size = `${result.bundle.files} files, ${(result.bundle.bytes / 1e6).toFixed(1)} MB`;
  return [
    (result.uploaded
      ? `deployed agent ${result.bundle.hash} (${size}) to ${describeDevice(device)}:${result.agentDir}`
      : `agent ${result.bundle.hash} is already on ${describeDevice(device)}:${result.agentDir} (nothing uploaded)`) + ` in ${(result.ms / 1000).toFixed(2)} s`,
    `node: ${result.node.path} ${result.node.version} (${result.node.source}${result.nodeUploaded ? ', uploaded now' : ''})`,
    `native addon: ${result.native.status}: ${result.native.detail}`,
  ];
}

/** Makes the agent runnable on the device; a no-op (one probe) when this bundle is deployed. */
export async function deployAgent(session: SshSession, device: SshDevice, hooks: Pick<SshHooks, 'progress' | 'log' | 'warn'>, opts: DeployOptions = {}): Promise<DeployResult> {
  const started = performance.now();
  hooks.progress?.(`checking ${session.describe}`);
  const agentPath = opts.agentPath ?? localAgentPath();
  const nativeDir = nativeBundleDir(agentPath);
  const nativeHash = existsSync(path.join(nativeDir, 'CMakeLists.txt')) ? await nativeSourceHash(nativeDir) : null;
  const probe = await probeDevice(session, device, nativeHash);
  const arch = deviceArch(probe.unameM);
  if (!arch) {
    const nodeNote = probe.node ? '' : ' and it has no Node >= 18';
    throw new SshError('remote', `${session.describe} is ${probe.unameM}${nodeNote}: jetbench deploys to linux x86_64 and aarch64 only (onnxruntime-node and Node runtimes exist for those)`);
  }
  const unsafe = unsafeAgentPaths(probe);
  if (unsafe.length > 0) {
    throw new SshError(
      'remote',
      `jetbench will not run the agent from ${unsafe.join(', ')} on ${session.describe}: another user could have put code there. Use an agent home and a Node only you (or root) can write: chmod go-w them and the folders above them, or set the device's agentHome (and nodePath) to places you own`,
    );
  }
  const bundle = await agentBundle(arch, { ...opts, agentPath });
  const agentDir = `${probe.agentHome}/agent/${bundle.hash}`;
  // A bundle is trusted by its content, not by its folder's name: every file is checked before the
  // agent runs from it, and a bundle that differs is uploaded again.
  if (probe.deployed.includes(bundle.hash)) {
    const differences = await deployedBundleDifferences(session, agentDir, bundle);
    if (differences.length > 0) {
      const shown = differences.slice(0, 5).join(', ') + (differences.length > 5 ? ` and ${differences.length - 5} more` : '');
      (hooks.warn ?? hooks.progress)?.(`the agent under ${agentDir} is not this bundle's content (${shown}): uploading it again`);
      await session.exec(shellCommand(['rm', '-rf', '--', agentDir]));
      probe.deployed = probe.deployed.filter((h) => h !== bundle.hash);
    }
  }
  let uploaded = false;
  let node = probe.node;
  let nodeUploaded = false;
  const needNode = !node;
  if (!probe.deployed.includes(bundle.hash) || needNode) {
    const sftp = await session.sftp();
    if (needNode) {
      node = await uploadNodeRuntime(session, sftp, probe, arch, hooks);
      nodeUploaded = true;
    }
    if (!probe.deployed.includes(bundle.hash)) {
      await uploadBundle(session, sftp, probe, bundle, hooks);
      uploaded = true;
      // Each bundle is ~46 MB: keep this one and the newest other (a daemon of the previous deploy
      // may still be finishing a run from it), remove the older ones.
      const pruned = await session.exec(pruneScript(probe.agentHome, bundle.hash)).catch(() => null);
      const names = (pruned?.stdout ?? '').split('\n').filter((l) => l.startsWith('pruned=')).map((l) => l.slice(7));
      if (names.length > 0) hooks.log?.(`deploy: removed ${names.length} old agent bundle(s) from ${probe.agentHome}/agent: ${names.join(', ')}`);
    }
  }
  const native = await ensureNativeAddon(session, device, probe, nativeHash, { agentDir, node: node!.path }, hooks);
  const ms = performance.now() - started;
  hooks.log?.(`deploy: ${uploaded ? 'uploaded' : 'found'} agent ${bundle.hash} on ${session.describe}, node ${node!.path} ${node!.version} (${node!.source}), native addon ${native.status}, ${ms.toFixed(0)} ms`);
  return {
    agentHome: probe.agentHome,
    agentDir,
    agentScript: `${agentDir}/agent.js`,
    node: node!,
    bundle: { hash: bundle.hash, bytes: bundle.bytes, files: bundle.files.length },
    uploaded,
    nodeUploaded,
    native,
    ms,
  };
}

/** Lines of a failed build's log kept in the message. */
const BUILD_LOG_TAIL_LINES = 12;

/** Builds the native addon of the deployed sources on the device unless it is built already, the
 * device opts out (`nativeBuild: never`), or it has no CMake and C++ compiler. Never fails the
 * deploy: the agent runs ONNX Runtime and TVM without the addon, and the status says why. */
async function ensureNativeAddon(
  session: SshSession,
  device: SshDevice,
  probe: DeviceProbe,
  sourceHash: string | null,
  at: { agentDir: string; node: string },
  hooks: Pick<SshHooks, 'progress' | 'log'>,
): Promise<NativeDeployStatus> {
  if (!sourceHash) return { status: 'absent', sourceHash, detail: 'this jetbench carries no native sources (dist/native): rebuild it with npm run build' };
  if (probe.nativeBuilt) return { status: 'reused', sourceHash, detail: `built earlier for sources ${sourceHash}` };
  const needs = 'the pipeline and the TensorRT backend need it; ONNX Runtime and TVM runs do not';
  if (device.nativeBuild === 'never') return { status: 'skipped', sourceHash, detail: `nativeBuild is "never" for this device (${needs})` };
  const compiler = probe.tools.includes('c++') || probe.tools.includes('g++');
  if (!probe.tools.includes('cmake') || !compiler) {
    const missing = [...(probe.tools.includes('cmake') ? [] : ['cmake']), ...(compiler ? [] : ['g++'])];
    return {
      status: 'skipped',
      sourceHash,
      detail: `${missing.join(' and ')} not found on the device, so the native addon was not built (${needs}): install them (e.g. sudo apt install ${missing.join(' ')}) and deploy again`,
    };
  }
  hooks.progress?.(`building the native addon on the device (sources ${sourceHash})`);
  const tail: string[] = [];
  const r = await session.exec(`cd ${shellQuote(at.agentDir)} && ${shellCommand([at.node, 'agent.js', 'build-native'])}`, {
    onLine: (line) => {
      hooks.log?.(`native build: ${line}`);
      tail.push(line);
      if (tail.length > BUILD_LOG_TAIL_LINES) tail.shift();
      // Compiler lines as progress: a device build takes minutes.
      if (/^\s*\[\s*\d+%\]|Building|Linking/.test(line)) hooks.progress?.(`building the native addon: ${line.trim()}`);
    },
  });
  if (r.code !== 0) {
    return {
      status: 'failed',
      sourceHash,
      detail: `the native addon's build on the device failed (exit ${r.code}; ${needs}); its log is in the device's jetbench cache under native/${sourceHash}/build.log; last lines:\n${tail.join('\n')}`,
    };
  }
  const found = /\((.*)\)\s*$/.exec(r.stdout.trim().split('\n').pop() ?? '')?.[1];
  return { status: 'built', sourceHash, detail: found ? nativeFeatures(found) : 'built' };
}

/** What a device build found, in words, from CMake's summary line (`CUDA 1 (architectures: 87),
 * TensorRT 1 10.3.0, PyTorch 0 , Node-API addon: ..., GoogleTest: FALSE`): `with CUDA (87),
 * TensorRT 10.3.0` or `CPU only (no CUDA, TensorRT or PyTorch found)`. */
export function nativeFeatures(found: string): string {
  const cuda = /CUDA 1 \(architectures: ([^)]*)\)/.exec(found);
  const trt = /TensorRT 1 ?([\w.]*)/.exec(found);
  const torch = /PyTorch 1 ?([\w.+]*)/.exec(found);
  const parts = [
    ...(cuda ? [`CUDA${cuda[1] ? ` (${cuda[1]})` : ''}`] : []),
    ...(trt ? [`TensorRT${trt[1] ? ` ${trt[1]}` : ''}`] : []),
    ...(torch ? [`PyTorch${torch[1] ? ` ${torch[1]}` : ''}`] : []),
  ];
  return parts.length ? `with ${parts.join(', ')}` : 'CPU only (no CUDA, TensorRT or PyTorch found)';
}

function sftpCall<T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** An SFTP failure as what the user can do about it. */
function uploadError(e: Error & { code?: number }, target: string, session: SshSession): SshError {
  // SFTP status codes: 3 permission denied, 4 failure (OpenSSH's sftp-server reports a full disk
  // and a read-only file system as plain failure).
  const why =
    e.code === 3
      ? 'permission denied (a read-only file system, or a directory of another user)'
      : e.code === 4
        ? `${e.message} (is the device's disk full or the file system read-only? check df -h there)`
        : e.message;
  return new SshError('remote', `upload to ${target} on ${session.describe} failed: ${why}: free space there or set the device's agentHome to a writable directory`);
}

/** Refuses before uploading when the device's file system cannot hold `neededBytes`. */
function checkSpace(probe: DeviceProbe, neededBytes: number, what: string, session: SshSession): void {
  if (probe.freeBytes !== null && probe.freeBytes < neededBytes) {
    throw new SshError(
      'remote',
      `not enough space on ${session.describe} for ${what}: it needs ${(neededBytes / 1e6).toFixed(1)} MB, ${(probe.freeBytes / 1e6).toFixed(1)} MB are free at ${probe.agentHome}: free space there or set the device's agentHome elsewhere`,
    );
  }
}

async function mkdirs(sftp: SFTPWrapper, dirs: Iterable<string>): Promise<void> {
  for (const dir of dirs) {
    await sftpCall<void>((cb) => sftp.mkdir(dir, { mode: 0o700 }, cb)).catch(async (e: Error) => {
      // Already there is fine; anything else is reported by the write that follows, or here.
      const st = await sftpCall<{ isDirectory(): boolean }>((cb) => sftp.stat(dir, cb)).catch(() => null);
      if (!st?.isDirectory()) throw e;
    });
  }
}

async function ensureAgentHome(session: SshSession, probe: DeviceProbe): Promise<void> {
  // The agent home may be nested (agentHome a/b/c): mkdir -p it, mode 0700 for the parts we make.
  const r = await session.exec(`umask 077 && mkdir -p ${shellQuote(probe.agentHome)}/agent ${shellQuote(probe.agentHome)}/node`);
  if (r.code !== 0) {
    throw new SshError('remote', `cannot create the agent home ${probe.agentHome} on ${session.describe}: ${r.stderr.trim()}: set the device's agentHome to a writable directory`);
  }
}

async function uploadBundle(session: SshSession, sftp: SFTPWrapper, probe: DeviceProbe, bundle: AgentBundle, hooks: Pick<SshHooks, 'progress'>): Promise<void> {
  checkSpace(probe, bundle.bytes * 1.1, `the agent (${bundle.files.length} files)`, session);
  await ensureAgentHome(session, probe);
  const tmp = `${probe.agentHome}/agent/.tmp-${bundle.hash}-${randomBytes(4).toString('hex')}`;
  const final = `${probe.agentHome}/agent/${bundle.hash}`;
  try {
    const dirs = new Set<string>([tmp]);
    for (const f of bundle.files) {
      const parts = f.remote.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) dirs.add(`${tmp}/${parts.slice(0, i).join('/')}`);
    }
    await mkdirs(sftp, [...dirs].sort((a, b) => a.length - b.length));
    let done = 0;
    let reported = -1;
    for (const f of bundle.files) {
      // A line per tenth of the bytes, and per large file (the native libraries).
      const percent = Math.floor((100 * done) / bundle.bytes);
      if (f.bytes > 1e6 || Math.floor(percent / 10) > Math.floor(reported / 10)) {
        hooks.progress?.(`uploading the agent: ${percent}% of ${(bundle.bytes / 1e6).toFixed(1)} MB (${f.remote})`);
        reported = percent;
      }
      await sftpCall<void>((cb) => sftp.fastPut(f.local, `${tmp}/${f.remote}`, { mode: 0o600 }, cb)).catch((e: Error) => {
        throw uploadError(e, `${tmp}/${f.remote}`, session);
      });
      done += f.bytes;
    }
    hooks.progress?.('putting the agent in place');
    await sftpCall<void>((cb) => sftp.rename(tmp, final, cb)).catch(async (e: Error) => {
      // Another client deployed the same bundle meanwhile: theirs is as good as ours.
      const there = await sftpCall<unknown>((cb) => sftp.stat(`${final}/agent.js`, cb)).catch(() => null);
      if (!there) throw uploadError(e, final, session);
    });
  } finally {
    await session.exec(shellCommand(['rm', '-rf', '--', tmp])).catch(() => undefined);
  }
}

async function uploadNodeRuntime(session: SshSession, sftp: SFTPWrapper, probe: DeviceProbe, arch: DeviceArch, hooks: Pick<SshHooks, 'progress' | 'log'>): Promise<NodeChoice> {
  if (!nodeRuntimeArchs.includes(arch)) throw new SshError('remote', `no Node >= ${MIN_NODE_MAJOR} on ${session.describe} and no Node runtime for ${arch}: install Node there`);
  const seen = probe.nodesSeen.length > 0 ? ` (found: ${probe.nodesSeen.join(', ')})` : '';
  hooks.progress?.(`no Node >= ${MIN_NODE_MAJOR} on the device${seen}: uploading Node ${NODE_RUNTIME_VERSION} for linux-${arch}`);
  const tarball = await ensureNodeRuntime(arch, hooks);
  const size = (await stat(tarball)).size;
  // The tarball and its unpacked copy (about 4 times its size) are there at once.
  checkSpace(probe, size * 5, `Node ${NODE_RUNTIME_VERSION}`, session);
  await ensureAgentHome(session, probe);
  const name = `v${NODE_RUNTIME_VERSION}-linux-${arch}`;
  const tmpName = `.tmp-${name}-${randomBytes(4).toString('hex')}`;
  const nodeDir = `${probe.agentHome}/node`;
  const remoteTgz = `${nodeDir}/${tmpName}.tgz`;
  const tmpDir = `${nodeDir}/${tmpName}`;
  try {
    await sftpCall<void>((cb) => sftp.fastPut(tarball, remoteTgz, { mode: 0o600 }, cb)).catch((e: Error) => {
      throw uploadError(e, remoteTgz, session);
    });
    hooks.progress?.('unpacking Node on the device');
    // The npm package's layout: package/bin/node. Unpacked aside, then renamed into place.
    const final = `${nodeDir}/${name}`;
    const script = [
      shellCommand(['mkdir', '-p', tmpDir]),
      shellCommand(['tar', '-xzf', remoteTgz, '-C', tmpDir]),
      `{ [ -d ${shellQuote(final)} ] || mv ${shellQuote(`${tmpDir}/package`)} ${shellQuote(final)}; }`,
      shellCommand([`${final}/bin/node`, '-v']),
    ].join(' && ');
    const r = await session.exec(script);
    if (r.code !== 0) throw new SshError('remote', `unpacking Node on ${session.describe} failed (exit ${r.code}): ${r.stderr.trim()}: check free space and that tar and gzip are installed`);
    return { path: `${final}/bin/node`, version: r.stdout.trim(), source: 'uploaded' };
  } finally {
    await session.exec(shellCommand(['rm', '-rf', '--', tmpDir, remoteTgz])).catch(() => undefined);
  }
}
