// Power mode, CPU governor and clocks are read at the start of every run, not once per agent: one
// daemon (the agent a device keeps across runs) measures twice, and between the two runs the
// device's settings change (here in a fixture tree laid out like a Jetson's sysfs, the daemon's
// JETBENCH_DEVICE_ROOT). Each run file records the settings it ran under.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { DeviceInfoRequest, StopDaemonRequest, type DeviceState, type RunFile, type RunSpec } from '../../contract/protocol';
import { connectAgent, type AgentConnection } from '../../src/core/agentConnection';
import { runOnAgent } from '../../src/core/runClient';
import { ROOT, TEST_CACHE_DIR } from '../helpers/cli';
import { validRun } from '../helpers/runFile';

const AGENT = path.join(ROOT, 'dist', 'agent.js');
const spec: RunSpec = {
  device: 'local', model: 'tiny', backend: 'onnxruntime', precision: 'fp32', warmup: 1, warmupMs: 0,
  iterations: 5, durationS: 0, threads: 1, inputShape: null, opset: 13, label: 'device state',
};

let work: string;
let fixture: string;
let agent: AgentConnection;
let daemonPid: number;

function put(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(fixture, file)), { recursive: true });
  writeFileSync(path.join(fixture, file), text);
}

/** Sets every CPU's governor and minimum clock, the nvpmodel mode and the GPU clock, as
 * `cpufreq-set`, `nvpmodel -m` and `jetson_clocks` would. */
function setDevice(o: { governor: string; minKHz: number; pmode: number; gpuHz: number }): void {
  for (const cpu of [0, 1]) {
    const dir = `sys/devices/system/cpu/cpu${cpu}/cpufreq`;
    put(`${dir}/scaling_governor`, `${o.governor}\n`);
    put(`${dir}/scaling_min_freq`, `${o.minKHz}\n`);
    put(`${dir}/scaling_max_freq`, '2201600\n');
    put(`${dir}/scaling_cur_freq`, `${Math.max(o.minKHz, 729600)}\n`);
  }
  put('var/lib/nvpmodel/status', `pmode:${String(o.pmode).padStart(4, '0')}\n`);
  put('sys/class/devfreq/17000000.gpu/cur_freq', `${o.gpuHz}\n`);
}

before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'jetbench-devstate-'));
  fixture = path.join(work, 'root');
  put('etc/nvpmodel.conf', '< POWER_MODEL ID=0 NAME=MAXN >\n< POWER_MODEL ID=2 NAME=MODE_30W >\n< PM_CONFIG DEFAULT=2 >\n');
  put('sys/class/devfreq/17000000.gpu/device/of_node/name', 'gpu\0');
  put('sys/class/devfreq/17000000.gpu/min_freq', '306000000\n');
  put('sys/class/devfreq/17000000.gpu/max_freq', '816000000\n');
  setDevice({ governor: 'schedutil', minKHz: 115200, pmode: 2, gpuHz: 306_000_000 });
  // The daemon as a device runs it: started detached by `daemon --ensure`, serving a unix socket.
  const home = path.join(work, 'home');
  const { stdout } = await promisify(execFile)(process.execPath, [AGENT, 'daemon', '--ensure', '--home', home, '--idle-minutes', '2'], {
    env: { ...process.env, JETBENCH_DEVICE_ROOT: fixture, JETBENCH_CACHE_DIR: TEST_CACHE_DIR },
  });
  const status = JSON.parse(stdout) as { pid: number; socket: string };
  daemonPid = status.pid;
  const socket = net.createConnection(status.socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  agent = await connectAgent(
    { reader: socket, writer: socket, closed, describe: 'test daemon socket', close: async () => void socket.end() },
    { client: 'deviceState test' },
  );
});

after(async () => {
  if (agent) {
    await agent.connection.sendRequest(StopDaemonRequest).catch(() => undefined);
    await agent.dispose().catch(() => undefined);
  }
  if (daemonPid) {
    try {
      process.kill(daemonPid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  rmSync(work, { recursive: true, force: true });
});

/** One run; its file must be valid and record the device state. */
async function measure(): Promise<{ run: RunFile; state: DeviceState }> {
  const { run } = await runOnAgent(agent.rpc, spec, {});
  assert.equal(run.status, 'ok', run.error);
  validRun(run);
  assert.ok(run.deviceState, 'the run file records the device state');
  return { run, state: run.deviceState };
}

test('a governor, nvpmodel and clock change between two runs of one daemon is recorded by the second run', async () => {
  const first = await measure();
  setDevice({ governor: 'performance', minKHz: 2201600, pmode: 0, gpuHz: 816_000_000 });
  const second = await measure();

  assert.equal(first.state.cpus.length, 2);
  assert.ok(first.state.cpus.every((c) => c.governor === 'schedutil' && c.minKHz === 115200));
  assert.deepEqual(first.state.powerMode, { id: 2, name: 'MODE_30W', source: 'status-file' });
  assert.equal(first.state.gpuClock?.curHz, 306_000_000);
  assert.equal(first.run.device.cpuGovernor, 'schedutil');

  assert.equal(second.state.cpus.length, 2);
  assert.ok(second.state.cpus.every((c) => c.governor === 'performance' && c.minKHz === c.maxKHz), JSON.stringify(second.state.cpus));
  assert.deepEqual(second.state.powerMode, { id: 0, name: 'MAXN', source: 'status-file' });
  assert.equal(second.state.gpuClock?.curHz, 816_000_000);
  assert.equal(second.run.device.cpuGovernor, 'performance');
  assert.ok(Date.parse(second.state.readAt) >= Date.parse(first.state.readAt));

  // The device description a client asks for reads the settings now, too.
  setDevice({ governor: 'powersave', minKHz: 115200, pmode: 2, gpuHz: 306_000_000 });
  const info = await agent.connection.sendRequest(DeviceInfoRequest);
  assert.equal(info.cpuGovernor, 'powersave');
});
