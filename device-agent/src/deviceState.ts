// What a device is set to right now: the settings that change a measurement and can change
// between two runs without a reboot (`sudo nvpmodel -m N`, `cpufreq-set -g performance`,
// `jetson_clocks`). Read at the start of every run, never cached. Files come from sysfs under a
// root that is `/` on a device; JETBENCH_DEVICE_ROOT points it at a fixture tree of the same
// layout (tests, a Jetson's tree on a machine that is not one). Anything unreadable is null.
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { CpuFreqState, DeviceState, GpuClockState, PowerModeState } from '../../contract/protocol';
import { deviceRoot, listDir, readNumber, readText } from './sysfs';

/** cpufreq of every CPU that has it (kHz, as sysfs gives them), in CPU order. An offline core
 * has no cpufreq directory and is left out. */
export async function readCpuFreq(root: string): Promise<CpuFreqState[]> {
  const base = path.join(root, 'sys/devices/system/cpu');
  const cpus = (await listDir(base))
    .map((name) => /^cpu(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const states = await Promise.all(
    cpus.map(async (cpu): Promise<CpuFreqState | null> => {
      const dir = path.join(base, `cpu${cpu}`, 'cpufreq');
      const [governor, curKHz, minKHz, maxKHz] = await Promise.all([
        readText(path.join(dir, 'scaling_governor')),
        readNumber(path.join(dir, 'scaling_cur_freq')),
        readNumber(path.join(dir, 'scaling_min_freq')),
        readNumber(path.join(dir, 'scaling_max_freq')),
      ]);
      if (governor === null && curKHz === null) return null;
      return { cpu, governor, curKHz, minKHz, maxKHz };
    }),
  );
  return states.filter((s): s is CpuFreqState => s !== null);
}

/** Device-tree names of Jetson integrated GPUs (jtop's KNOWN_GPU_DEVICE_NAMES). */
const JETSON_GPU_NAMES = new Set(['gp10b', 'gv11b', 'ga10b', 'gb10b', 'gpu']);

/** The integrated GPU's devfreq clocks (Hz): the devfreq device whose of_node is a known GPU. */
export async function readGpuClock(root: string): Promise<GpuClockState | null> {
  const base = path.join(root, 'sys/class/devfreq');
  for (const name of (await listDir(base)).sort()) {
    const dir = path.join(base, name);
    const node = await readText(path.join(dir, 'device/of_node/name'));
    if (!(node && JETSON_GPU_NAMES.has(node))) continue;
    const [curHz, minHz, maxHz, governor] = await Promise.all([
      readNumber(path.join(dir, 'cur_freq')),
      readNumber(path.join(dir, 'min_freq')),
      readNumber(path.join(dir, 'max_freq')),
      readText(path.join(dir, 'governor')),
    ]);
    return { device: name, curHz, minHz, maxHz, governor };
  }
  return null;
}

/** `nvpmodel -q`: warning lines, then `NV Power Mode: <NAME>`, then the numeric id on the next line. */
export function parseNvpmodelQuery(text: string): PowerModeState | null {
  const lines = text.split('\n').map((l) => l.trim());
  const at = lines.findIndex((l) => /^NV Power Mode:/.test(l));
  if (at < 0) return null;
  const name = /^NV Power Mode:\s*(\S+)/.exec(lines[at]!)?.[1] ?? null;
  const id = /^\d+$/.test(lines[at + 1] ?? '') ? Number(lines[at + 1]) : null;
  return { id, name, source: 'nvpmodel' };
}

/** Mode names by id from /etc/nvpmodel.conf (`< POWER_MODEL ID=2 NAME=10W >`). */
export function parseNvpmodelConf(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const m of text.matchAll(/<\s*POWER_MODEL\s+ID=(\d+)\s+NAME=(\S+?)\s*>/g)) names.set(Number(m[1]), m[2]!);
  return names;
}

function runNvpmodel(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('nvpmodel', ['-q'], { timeout: 5000, encoding: 'utf8' }, (err, stdout) => resolve(err ? null : stdout));
  });
}

/** The Jetson power mode: `nvpmodel -q` on the device itself, else the mode nvpmodel persisted
 * (/var/lib/nvpmodel/status, `pmode:0002`) named from /etc/nvpmodel.conf. Null off a Jetson. */
export async function readPowerMode(root: string): Promise<PowerModeState | null> {
  if (root === '/') {
    const queried = await runNvpmodel();
    const parsed = queried ? parseNvpmodelQuery(queried) : null;
    if (parsed) return parsed;
  }
  const status = await readText(path.join(root, 'var/lib/nvpmodel/status'));
  const id = status ? /pmode:(\d+)/.exec(status)?.[1] : undefined;
  if (id === undefined) return null;
  const conf = await readText(path.join(root, 'etc/nvpmodel.conf'));
  return { id: Number(id), name: conf ? (parseNvpmodelConf(conf).get(Number(id)) ?? null) : null, source: 'status-file' };
}

/** Power mode, CPU governors and clocks now. */
export async function readDeviceState(root: string = deviceRoot()): Promise<DeviceState> {
  const readAt = new Date().toISOString();
  const [cpus, gpuClock, powerMode] = await Promise.all([readCpuFreq(root), readGpuClock(root), readPowerMode(root)]);
  return { readAt, powerMode, cpus, gpuClock };
}
