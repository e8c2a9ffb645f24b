// Device state (power mode, CPU governors and clocks, GPU devfreq) read from fixture trees laid out
// like a Jetson's sysfs, and the versions a run records from the session that ran it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { withState } from '../../device-agent/src/deviceInfo';
import { parseNvpmodelConf, parseNvpmodelQuery, readDeviceState } from '../../device-agent/src/deviceState';
import type { DeviceInfo, Versions } from '../../contract/protocol';
import { runVersions } from '../../device-agent/src/runVersions';
import { formatReport } from '../../src/core/report';
import { fakeRun } from '../helpers/fakeRun';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function put(root: string, file: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

/** An Orin-like tree: 4 CPUs (cpu2 offline: no cpufreq), nvpmodel's persisted mode and catalogue,
 * the GPU's devfreq node next to one that is not a GPU. */
function jetsonTree(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'jetbench-devroot-'));
  roots.push(root);
  for (const cpu of [0, 1, 3]) {
    const dir = `sys/devices/system/cpu/cpu${cpu}/cpufreq`;
    put(root, `${dir}/scaling_governor`, 'schedutil\n');
    put(root, `${dir}/scaling_cur_freq`, `${729600 + cpu * 1000}\n`);
    put(root, `${dir}/scaling_min_freq`, '115200\n');
    put(root, `${dir}/scaling_max_freq`, '2201600\n');
  }
  mkdirSync(path.join(root, 'sys/devices/system/cpu/cpu2'), { recursive: true });
  put(root, 'sys/devices/system/cpu/cpufreq/policy0/scaling_governor', 'schedutil\n'); // not a cpuN directory
  put(root, 'var/lib/nvpmodel/status', 'pmode:0002\n');
  put(root, 'etc/nvpmodel.conf', '< POWER_MODEL ID=0 NAME=MAXN >\nCPU_ONLINE CORE_0 1\n< POWER_MODEL ID=2 NAME=MODE_30W >\nGPU MAX_FREQ 816000000\n< PM_CONFIG DEFAULT=2 >\n');
  put(root, 'sys/class/devfreq/15340000.vic/device/of_node/name', 'vic\0');
  put(root, 'sys/class/devfreq/15340000.vic/cur_freq', '115200000\n');
  put(root, 'sys/class/devfreq/17000000.gpu/device/of_node/name', 'gpu\0');
  put(root, 'sys/class/devfreq/17000000.gpu/cur_freq', '306000000\n');
  put(root, 'sys/class/devfreq/17000000.gpu/min_freq', '306000000\n');
  put(root, 'sys/class/devfreq/17000000.gpu/max_freq', '816000000\n');
  put(root, 'sys/class/devfreq/17000000.gpu/governor', 'nvhost_podgov\n');
  return root;
}

test('a Jetson tree: power mode by name and id, every online CPU, the GPU devfreq node only', async () => {
  const state = await readDeviceState(jetsonTree());
  assert.deepEqual(state.powerMode, { id: 2, name: 'MODE_30W', source: 'status-file' });
  assert.deepEqual(state.cpus.map((c) => c.cpu), [0, 1, 3]);
  assert.deepEqual(state.cpus[2], { cpu: 3, governor: 'schedutil', curKHz: 732600, minKHz: 115200, maxKHz: 2201600 });
  assert.deepEqual(state.gpuClock, { device: '17000000.gpu', curHz: 306e6, minHz: 306e6, maxHz: 816e6, governor: 'nvhost_podgov' });
  assert.ok(Date.parse(state.readAt) > 0);
});

test('each read sees the settings now: a governor, clock or nvpmodel change between two reads', async () => {
  const root = jetsonTree();
  const before = await readDeviceState(root);
  for (const cpu of [0, 1, 3]) {
    put(root, `sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_governor`, 'performance\n');
    put(root, `sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_min_freq`, '2201600\n');
  }
  put(root, 'var/lib/nvpmodel/status', 'pmode:0000\n');
  put(root, 'sys/class/devfreq/17000000.gpu/cur_freq', '816000000\n');
  const now = await readDeviceState(root);
  assert.ok(before.cpus.every((c) => c.governor === 'schedutil'));
  assert.ok(now.cpus.every((c) => c.governor === 'performance' && c.minKHz === c.maxKHz));
  assert.equal(now.powerMode?.name, 'MAXN');
  assert.equal(now.gpuClock?.curHz, 816e6);
});

test('a machine without cpufreq, nvpmodel or devfreq (a VM) reads as empty, not as an error', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'jetbench-devroot-'));
  roots.push(root);
  put(root, 'var/lib/nvpmodel/status', 'garbage\n');
  assert.deepEqual({ ...(await readDeviceState(root)), readAt: '' }, { readAt: '', powerMode: null, cpus: [], gpuClock: null });
});

test('nvpmodel -q: the mode line after any warnings, the id on the next line', () => {
  assert.deepEqual(parseNvpmodelQuery('NVPM WARN: fan mode is not set!\nNV Power Mode: MODE_30W_ALL\n3\n'), { id: 3, name: 'MODE_30W_ALL', source: 'nvpmodel' });
  assert.deepEqual(parseNvpmodelQuery('NV Power Mode: 5W\n1'), { id: 1, name: '5W', source: 'nvpmodel' });
  assert.deepEqual(parseNvpmodelQuery('NV Power Mode: MAXN\n'), { id: null, name: 'MAXN', source: 'nvpmodel' });
  assert.equal(parseNvpmodelQuery('command not found'), null);
  assert.deepEqual([...parseNvpmodelConf('< POWER_MODEL ID=1 NAME=10W >\n<POWER_MODEL ID=2 NAME=MAXN_SUPER>')], [[1, '10W'], [2, 'MAXN_SUPER']]);
});

test('the device record carries the governor and power mode of the state it was made with', async () => {
  const state = await readDeviceState(jetsonTree());
  const stale = { cpuGovernor: 'ondemand', jetson: { model: 'NVIDIA Jetson AGX Orin', l4t: '36.4.0', jetpack: '6.1', powerMode: 'MAXN' } } as Partial<DeviceInfo>;
  const device = withState(stale as DeviceInfo, state);
  assert.equal(device.cpuGovernor, 'schedutil');
  assert.equal(device.jetson?.powerMode, 'MODE_30W');
  assert.equal(device.jetson?.model, 'NVIDIA Jetson AGX Orin');
  assert.equal(withState({ cpuGovernor: 'x', jetson: null } as DeviceInfo, state).jetson, null);
});

test('run versions: the runtime that ran reports its own version, and the Python that ran it', () => {
  const installed: Versions = { agent: '0.1.0', node: '20.20.2', onnxruntime: '1.30.0', cuda: '12.6', tensorrt: '10.3.0', tvm: '0.19.0' };
  const tvm = runVersions(installed, 'tvm', { runtimeVersion: '0.27.0.post1', python: { path: '/venv/bin/python3', version: '3.11.7' } });
  assert.equal(tvm.tvm, '0.27.0.post1');
  assert.deepEqual(tvm.python, { path: '/venv/bin/python3', version: '3.11.7' });
  assert.equal(tvm.onnxruntime, '1.30.0');
  const trt = runVersions(installed, 'tensorrt', { runtimeVersion: '10.3.1' });
  assert.equal(trt.tensorrt, '10.3.1');
  assert.equal('python' in trt, false);
  // A session that cannot tell says so; the probe of another install does not stand in for it.
  assert.equal(runVersions(installed, 'onnxruntime', { runtimeVersion: null }).onnxruntime, null);
  assert.equal(installed.tvm, '0.19.0');
});

test('the Markdown report says which settings a run measured under', async () => {
  const root = jetsonTree();
  const run = { ...fakeRun({ latencyMs: [5, 6, 7] }), deviceState: await readDeviceState(root) };
  const line = formatReport([run], 'md').split('\n').find((l) => l.startsWith('- Device state'));
  assert.ok(line, 'a device state line');
  for (const part of ['MODE_30W', 'id 2', 'schedutil', '3 CPUs', 'not locked', 'GPU at 306 MHz']) assert.ok(line.includes(part), `${part} in ${line}`);
  for (const cpu of [0, 1, 3]) put(root, `sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_min_freq`, '2201600\n');
  const locked = formatReport([{ ...run, deviceState: await readDeviceState(root) }], 'md');
  assert.ok(locked.split('\n').some((l) => l.startsWith('- Device state') && l.includes('clocks locked')), locked);
  // Older run files have no device state: no line, no error.
  assert.ok(!formatReport([fakeRun({ latencyMs: [5] })], 'md').includes('- Device state'));
});
