// A Jetson-shaped device from the editor: the emulated aarch64 device (an arm64 Debian root
// filesystem under QEMU's user-mode emulation, its own aarch64 sshd on loopback; see
// test/helpers/aarch64Device.ts) added as any SSH device is. Connect deploys the agent there from
// scratch (Node for arm64 uploaded, ONNX Runtime's arm64 binary), the Devices view says aarch64,
// Deploy Agent is then a no-op, and Run Benchmark measures there and opens the panel.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { DeployOutcome } from '../../../src/commands/devices';
import { NODE_RUNTIME_VERSION } from '../../../src/core/deployNode';
import type { RunOutcome } from '../../../src/runs/runSession';
import type { SshPromptDeps } from '../../../src/devices/sshPrompts';
import { sshTestConfig, type SshSuiteConfig } from './sshConfig';
import { addSuiteDevice, jetbench, readRun, removeSuiteDevice, runsDir } from './util';

const DEVICE = 'orin-emulated';

describe('an emulated aarch64 device (SSH)', function () {
  // Everything on the device runs under emulation: Node starts in seconds, not milliseconds.
  this.timeout(300_000);
  let cfg: SshSuiteConfig;
  let original: SshPromptDeps['confirmHostKey'];
  let asked = 0;

  before(async function () {
    const c = sshTestConfig('aarch64');
    if ('skip' in c) {
      console.log(`SKIPPED: emulated aarch64 device tests: ${c.skip}`);
      this.skip();
    }
    cfg = c;
    const api = await jetbench();
    original = api.sshPrompts.confirmHostKey;
    api.sshPrompts.confirmHostKey = async () => {
      asked++;
      return true;
    };
    await addSuiteDevice(DEVICE, cfg, { agentIdleMinutes: 1 });
  });

  after(async function () {
    if (!cfg) return;
    const api = await jetbench();
    await removeSuiteDevice(DEVICE, () => (api.sshPrompts.confirmHostKey = original));
  });

  it('Connect deploys the agent from scratch (Node for arm64 uploaded); the Devices view says aarch64', async () => {
    const api = await jetbench();
    const state = await vscode.commands.executeCommand<string>('jetbench.connectDevice', DEVICE);
    assert.equal(state, 'connected', api.devices.client(DEVICE).lastError ?? '');
    assert.equal(asked, 1, 'the unknown host key was asked about once');
    const client = api.devices.client(DEVICE);
    assert.equal(client.info?.arch, 'aarch64');
    // The agent runs on the device's own arm64 Node, deployed with it.
    assert.match(client.agent?.agentDir ?? '', /\.jetbench\/agent\/[0-9a-f]+$/);
    assert.equal(client.backends?.find((b) => b.id === 'onnxruntime')?.available, true, JSON.stringify(client.backends));
    // What a person reads in the Devices view: the device's row and its Host line.
    const node = api.devicesTree.getChildren().find((n) => n.kind === 'device' && n.device.name === DEVICE);
    assert.ok(node, 'the device has a row in the Devices view');
    const row = api.devicesTree.getTreeItem(node);
    assert.match(String(row.description), /^connected · agent \S+ · aarch64 · /);
    const host = api.devicesTree.getChildren(node).map((n) => api.devicesTree.getTreeItem(n)).find((i) => i.label === 'Host');
    assert.ok(host, 'the connected device has a Host line');
    assert.match(String(host.description), /Debian GNU\/Linux 12 \(bookworm\) .*\(aarch64\)$/);
  });

  it('Deploy Agent on it is then a no-op', async () => {
    const outcome = await vscode.commands.executeCommand<DeployOutcome>('jetbench.deployAgent', DEVICE);
    assert.ok(outcome.result, outcome.reason);
    assert.equal(outcome.deployed, false);
    assert.equal(outcome.result.uploaded, false);
    assert.equal(outcome.result.nodeUploaded, false, 'the arm64 Node deployed by Connect is reused');
    assert.match(outcome.reason, /already on/);
  });

  it('Run Benchmark measures on it: a run file that says aarch64, and a panel with every sample', async () => {
    const api = await jetbench();
    const outcome = await vscode.commands.executeCommand<RunOutcome | undefined>('jetbench.runBenchmark', { device: DEVICE, model: 'tiny', iterations: 5, warmup: 1, threads: 2 });
    assert.ok(outcome);
    assert.equal(outcome.status, 'ok', outcome.error ?? '');
    assert.ok(outcome.file && outcome.file.startsWith(runsDir()));
    const run = readRun(outcome.file);
    assert.equal(run.spec.device, DEVICE);
    assert.equal(run.device.arch, 'aarch64');
    // Measured by the arm64 Node that Connect uploaded (the device has none of its own).
    assert.equal(run.device.versions.node, NODE_RUNTIME_VERSION);
    assert.ok(run.device.versions.onnxruntime, 'ONNX Runtime ran on the device');
    assert.equal(run.samples.latencyMs.length, 5);
    const panel = api.panels.resultPanel(outcome.runId);
    assert.ok(panel);
    const drawn = await panel.waitForRender((r) => r.final);
    assert.equal(drawn.samples, 5);
    assert.ok(drawn.histogramPixels > 0, 'the histogram was drawn');
  });
});
