// What the device is: everything a reader needs to reproduce a measurement. Probes that fail
// (no nvidia-smi, no Jetson files, no Python) give null, never an error. Static facts are probed
// once per agent process; what a user can change between two runs (power mode, governor, clocks)
// comes from deviceState.ts on every call.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readDeviceState } from './deviceState';
import { deviceRoot } from './sysfs';
import type { DeviceInfo, DeviceState, GpuInfo, JetsonInfo, Versions } from '../../contract/protocol';
import { loadOnnxRuntime } from './backends/onnxruntime';
import { AGENT_VERSION } from '../../contract/version';

function run(cmd: string, args: string[], timeoutMs = 5000): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => resolve(err ? null : stdout.trim()));
  });
}

async function readText(path: string): Promise<string | null> {
  try {
    // Device-tree strings end with NUL.
    return (await readFile(path, 'utf8')).replace(/\0/g, '').trim();
  } catch {
    return null;
  }
}

async function nvidiaSmiGpus(): Promise<GpuInfo[]> {
  const out = await run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,compute_cap', '--format=csv,noheader,nounits']);
  if (!out) return [];
  return out.split('\n').filter(Boolean).map((line) => {
    const [name, driver, memMiB, cc] = line.split(',').map((s) => s.trim());
    const mem = Number(memMiB);
    return {
      name: name ?? 'NVIDIA GPU',
      source: 'nvidia-smi' as const,
      driverVersion: driver || null,
      memoryBytes: Number.isFinite(mem) ? mem * 1024 * 1024 : null,
      computeCapability: cc && cc !== '[N/A]' ? cc : null,
    };
  });
}

/** L4T release -> JetPack, for the releases jetbench knows (NVIDIA's JetPack archive). */
const JETPACK_BY_L4T: Record<string, string> = {
  '32.7.1': '4.6.1', '32.7.2': '4.6.2', '32.7.3': '4.6.3', '32.7.4': '4.6.4', '32.7.5': '4.6.5', '32.7.6': '4.6.6',
  '35.1.0': '5.0.2', '35.2.1': '5.1', '35.3.1': '5.1.1', '35.4.1': '5.1.2', '35.5.0': '5.1.3', '35.6.0': '5.1.4',
  '36.2.0': '6.0 DP', '36.3.0': '6.0', '36.4.0': '6.1', '36.4.3': '6.2',
};

/** Parses /etc/nv_tegra_release: "# R35 (release), REVISION: 4.1, GCID: ..." -> "35.4.1". */
export function parseL4tRelease(text: string): string | null {
  const m = /R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)/.exec(text);
  return m ? `${m[1]}.${m[2]}` : null;
}

/** The Jetson's static facts; powerMode is filled from the device state when one is read. */
async function jetsonInfo(root: string): Promise<JetsonInfo | null> {
  const release = await readText(path.join(root, 'etc/nv_tegra_release'));
  const model = await readText(path.join(root, 'proc/device-tree/model'));
  if (!release && !(model && /jetson|tegra/i.test(model))) return null;
  const l4t = release ? parseL4tRelease(release) : null;
  return { model, l4t, jetpack: l4t ? (JETPACK_BY_L4T[l4t] ?? null) : null, powerMode: null };
}

async function cudaVersion(): Promise<string | null> {
  const json = await readText('/usr/local/cuda/version.json');
  if (json) {
    try {
      const v = (JSON.parse(json) as { cuda?: { version?: string } }).cuda?.version;
      if (v) return v;
    } catch {
      /* fall through to nvcc */
    }
  }
  const txt = await readText('/usr/local/cuda/version.txt');
  const fromTxt = txt ? /(\d+\.\d+(\.\d+)?)/.exec(txt)?.[1] : undefined;
  if (fromTxt) return fromTxt;
  const nvcc = (await run('nvcc', ['--version'])) ?? (await run('/usr/local/cuda/bin/nvcc', ['--version']));
  return nvcc ? (/release (\d+\.\d+)/.exec(nvcc)?.[1] ?? null) : null;
}

async function tensorrtVersion(): Promise<string | null> {
  for (const dir of ['/usr/include/aarch64-linux-gnu', '/usr/include/x86_64-linux-gnu', '/usr/include', '/usr/local/TensorRT/include']) {
    const h = await readText(`${dir}/NvInferVersion.h`);
    if (!h) continue;
    const part = (k: string) => new RegExp(`#define\\s+(?:NV_TENSORRT_|TRT_)${k}(?:_ENTERPRISE)?\\s+(\\d+)`).exec(h)?.[1];
    const [maj, min, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')];
    if (maj) return [maj, min ?? '0', patch ?? '0'].join('.');
  }
  const dpkg = await run('dpkg-query', ['-W', '-f=${Version}', 'libnvinfer-dev']);
  return dpkg ? dpkg.replace(/-.*$/, '').replace(/\+.*$/, '') : null;
}

/** Where `import tvm` would load from, and the pip distribution installed there, without importing
 * TVM (that alone takes ~1.7 s on a 2-core VM, in every run's start); a TVM found elsewhere (a
 * source build on PYTHONPATH, as on many Jetsons) is imported to ask it. */
const TVM_VERSION_PY = `import importlib.util, importlib.metadata as md, os, sys
spec = importlib.util.find_spec('tvm')
if spec is None or not spec.submodule_search_locations: sys.exit(1)
where = os.path.realpath(list(spec.submodule_search_locations)[0])
for name in ('apache-tvm', 'tlcpack', 'tvm'):
    try: dist = md.distribution(name)
    except md.PackageNotFoundError: continue
    if os.path.realpath(str(dist.locate_file('tvm'))) == where: print(dist.version); sys.exit(0)
import tvm; print(tvm.__version__)`;

/** TVM as the device's default Python sees it (python3, or $JETBENCH_PYTHON): what is installed.
 * A TVM run records the version and Python its own helper reported (runVersions.ts). */
export async function tvmVersion(python = process.env.JETBENCH_PYTHON || 'python3'): Promise<string | null> {
  return run(python, ['-c', TVM_VERSION_PY], 20000);
}

async function distro(): Promise<string | null> {
  const text = await readText('/etc/os-release');
  return text ? (/^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? null) : null;
}

let cached: Promise<DeviceInfo> | undefined;

/** Starts probing the static facts now (nvidia-smi, Python's `import tvm`: ~2 s on a 2-core VM), so
 * that a run's model load overlaps them instead of waiting for them after it. Called when the agent
 * starts serving; a run still awaits the result before measuring, so nothing probes while it times. */
export function probeDeviceFacts(): void {
  cached ??= collect();
  cached.catch(() => undefined);
}

/** The device now: static facts (probed once per agent process) with the governor and power mode
 * of `state`, read now when not given. */
export async function deviceInfo(state?: DeviceState): Promise<DeviceInfo> {
  cached ??= collect();
  const [stable, now] = await Promise.all([cached, state ?? readDeviceState()]);
  return withState(stable, now);
}

/** A device record with the governor and power mode of `state`. */
export function withState(device: DeviceInfo, state: DeviceState): DeviceInfo {
  return {
    ...device,
    cpuGovernor: state.cpus[0]?.governor ?? null,
    jetson: device.jetson ? { ...device.jetson, powerMode: state.powerMode?.name ?? null } : null,
  };
}

async function collect(): Promise<DeviceInfo> {
  const ort = loadOnnxRuntime();
  const [gpus, jetson, cuda, tensorrt, tvm, distroName] = await Promise.all([
    nvidiaSmiGpus(),
    jetsonInfo(deviceRoot()),
    cudaVersion(),
    tensorrtVersion(),
    tvmVersion(),
    distro(),
  ]);
  if (jetson && gpus.length === 0) {
    gpus.push({ name: `${jetson.model ?? 'Jetson'} integrated GPU`, source: 'tegra', driverVersion: null, memoryBytes: null, computeCapability: null });
  }
  const versions: Versions = {
    agent: AGENT_VERSION,
    node: process.versions.node,
    onnxruntime: 'version' in ort ? ort.version : null,
    cuda,
    tensorrt,
    tvm,
  };
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    osRelease: os.release(),
    distro: distroName,
    // As `uname -m` prints it (aarch64 on a Jetson, x86_64), not Node's name for it (arm64, x64).
    arch: os.machine(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryBytes: os.totalmem(),
    gpus,
    jetson,
    cpuGovernor: null,
    versions,
  };
}
