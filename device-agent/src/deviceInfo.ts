// What the device is: everything a reader needs to reproduce a measurement. Probes that fail
// (no nvidia-smi, no Jetson files, no Python) give null, never an error.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { DeviceInfo, GpuInfo, JetsonInfo, Versions } from './protocol';
import { loadOnnxRuntime } from './backends/onnxruntime';
import { AGENT_VERSION } from './version';

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

async function jetsonInfo(): Promise<JetsonInfo | null> {
  const release = await readText('/etc/nv_tegra_release');
  const model = await readText('/proc/device-tree/model');
  if (!release && !(model && /jetson|tegra/i.test(model))) return null;
  const l4t = release ? parseL4tRelease(release) : null;
  const pm = await run('nvpmodel', ['-q']);
  const powerMode = pm ? (/NV Power Mode:\s*(\S+)/.exec(pm)?.[1] ?? null) : null;
  return { model, l4t, jetpack: l4t ? (JETPACK_BY_L4T[l4t] ?? null) : null, powerMode };
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

/** TVM as the device's Python sees it (python3, or $JETBENCH_PYTHON). */
export async function tvmVersion(python = process.env.JETBENCH_PYTHON || 'python3'): Promise<string | null> {
  return run(python, ['-c', 'import tvm; print(tvm.__version__)'], 20000);
}

async function distro(): Promise<string | null> {
  const text = await readText('/etc/os-release');
  return text ? (/^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? null) : null;
}

let cached: Promise<DeviceInfo> | undefined;

/** Collected once per agent process: nothing in it changes while the agent runs, except clocks. */
export function deviceInfo(): Promise<DeviceInfo> {
  cached ??= collect();
  return cached;
}

async function collect(): Promise<DeviceInfo> {
  const ort = loadOnnxRuntime();
  const [gpus, jetson, cuda, tensorrt, tvm, distroName, governor] = await Promise.all([
    nvidiaSmiGpus(),
    jetsonInfo(),
    cudaVersion(),
    tensorrtVersion(),
    tvmVersion(),
    distro(),
    readText('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor'),
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
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryBytes: os.totalmem(),
    gpus,
    jetson,
    cpuGovernor: governor,
    versions,
  };
}
