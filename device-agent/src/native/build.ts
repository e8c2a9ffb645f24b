// `node agent.js build-native`: builds the native addon from the sources beside the agent into the
// directory of their hash (<cache>/native/<hash>/), streaming the build log, and reuses an earlier
// build of the same sources. Uses cmake-js where it is installed (development, CI: Node-API headers
// from node-api-headers, no download), else CMake directly with the headers shipped in
// native/node-api/ (a device). CUDA and TensorRT are used where CMake finds them.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ADDON_FILE, NODE_API_DIR, nativeBuildDir, nativeSourceDir, nativeSourceHash } from '../../../contract/nativeSources';

export interface NativeBuildOptions {
  sourceDir?: string;
  /** Rebuild even when a build of these sources exists. */
  force?: boolean;
  /** CUDA architectures, e.g. "87" (default: the build machine's GPU, else CMake's choice). */
  cudaArchitectures?: string;
  log(line: string): void;
}

export interface NativeBuildResult {
  addonPath: string;
  hash: string;
  cached: boolean;
  /** CMake's summary line: what the build found (CUDA, TensorRT, ...). */
  found: string;
  logPath: string;
}

function run(cmd: string, args: string[], cwd: string, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const feed = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'ENOENT' ? `'${cmd}' was not found: install CMake (>= 3.18) and a C++17 compiler` : `cannot run ${cmd}: ${e.message}`)),
    );
    child.on('close', (code) => {
      if (partial) onLine(partial);
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(cmd)} ${args[0] ?? ''} failed with exit code ${code} (see the log above)`));
    });
  });
}

function cmakeJsCli(): string | null {
  try {
    return path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  } catch {
    return null;
  }
}

export async function buildNative(opts: NativeBuildOptions): Promise<NativeBuildResult> {
  const sourceDir = opts.sourceDir ?? nativeSourceDir();
  if (!sourceDir) throw new Error('the native sources were not found beside the agent (native/CMakeLists.txt): redeploy the agent with its native sources');
  const hash = await nativeSourceHash(sourceDir);
  const outDir = nativeBuildDir(hash);
  const addonPath = path.join(outDir, ADDON_FILE);
  const logPath = path.join(outDir, 'build.log');
  if (!opts.force && existsSync(addonPath)) {
    const manifest = JSON.parse(await readFile(path.join(outDir, 'build.json'), 'utf8').catch(() => '{}')) as { found?: string };
    opts.log(`native addon for sources ${hash} already built: ${addonPath}`);
    return { addonPath, hash, cached: true, found: manifest.found ?? '', logPath };
  }
  await mkdir(outDir, { recursive: true });
  const logFile = createWriteStream(logPath);
  let found = '';
  const onLine = (line: string) => {
    logFile.write(line + '\n');
    if (line.includes('jetbench native:')) found = line.replace(/^.*jetbench native:\s*/, '');
    opts.log(line);
  };
  const buildDir = path.join(outDir, 'build');
  const defines = [`JETBENCH_SOURCE_HASH=${hash}`, ...(opts.cudaArchitectures ? [`CMAKE_CUDA_ARCHITECTURES=${opts.cudaArchitectures}`] : [])];
  const jobs = String(Math.max(1, os.cpus().length));
  try {
    const cmakeJs = cmakeJsCli();
    if (cmakeJs) {
      onLine(`building with cmake-js (Node-API headers from node-api-headers) in ${buildDir}`);
      await run(process.execPath, [cmakeJs, 'compile', '-d', sourceDir, '-O', buildDir, '--parallel', jobs, ...defines.map((d) => `--CD${d}`)], sourceDir, onLine);
    } else {
      const headers = path.join(sourceDir, NODE_API_DIR);
      if (!existsSync(path.join(headers, 'include', 'node_api.h'))) {
        throw new Error(`the Node-API headers are missing (${headers}/include): redeploy the agent with its native sources`);
      }
      const inc = `${path.join(headers, 'include')};${path.join(headers, 'addon-api')}`;
      onLine(`building with CMake (Node-API headers from ${headers}) in ${buildDir}`);
      await run('cmake', ['-S', sourceDir, '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release', `-DCMAKE_JS_INC=${inc}`, ...defines.map((d) => `-D${d}`)], sourceDir, onLine);
      await run('cmake', ['--build', buildDir, '--target', 'jetbench_native', '--parallel', jobs], sourceDir, onLine);
    }
    const built = [path.join(buildDir, 'Release', ADDON_FILE), path.join(buildDir, ADDON_FILE)].find((p) => existsSync(p));
    if (!built) throw new Error(`the build finished but produced no ${ADDON_FILE} in ${buildDir}`);
    // Atomic: a loader never sees half an addon.
    await copyFile(built, `${addonPath}.tmp`);
    await rename(`${addonPath}.tmp`, addonPath);
    await writeFile(path.join(outDir, 'build.json'), JSON.stringify({ hash, builtAt: new Date().toISOString(), found, sourceDir }, null, 1) + '\n');
    onLine(`native addon built: ${addonPath}`);
    return { addonPath, hash, cached: false, found, logPath };
  } finally {
    await new Promise((r) => logFile.end(r));
  }
}

/** The `build-native` command: [--force] [--source DIR] [--cuda-arch 87]. */
export async function buildNativeCommand(argv: string[]): Promise<number> {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const known = new Set(['--force', '--source', '--cuda-arch']);
  const unknown = argv.filter((a, i) => a.startsWith('--') && !known.has(a) && !(i > 0 && ['--source', '--cuda-arch'].includes(argv[i - 1]!)));
  if (unknown.length) {
    process.stderr.write(`build-native: unknown option ${unknown[0]} (use --force, --source DIR, --cuda-arch NN)\n`);
    return 2;
  }
  try {
    const sourceDir = value('--source');
    const cudaArchitectures = value('--cuda-arch');
    const r = await buildNative({
      ...(sourceDir ? { sourceDir: path.resolve(sourceDir) } : {}),
      ...(cudaArchitectures ? { cudaArchitectures } : {}),
      force: argv.includes('--force'),
      log: (line) => process.stdout.write(line + '\n'),
    });
    process.stdout.write(`${r.cached ? 'reused' : 'built'} ${r.addonPath}${r.found ? ` (${r.found})` : ''}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`build-native: ${(e as Error).message}\n`);
    return 1;
  }
}
