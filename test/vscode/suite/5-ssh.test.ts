// An SSH device from the editor, against the runner's real sshd on loopback: the unknown host key
// asked about with its SHA256 fingerprint (the test answers the modal it cannot click), Connect
// deploying the agent and attaching to its daemon, Deploy Agent as a no-op, a benchmark on the
// device producing a run file and a panel, a changed host key refused as a possible attack.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { DeployOutcome } from '../../../src/commands/devices';
import { checkHostKey } from '../../../src/core/sshKnownHosts';
import type { HostKeyInfo } from '../../../src/core/sshKnownHosts';
import type { RunOutcome } from '../../../src/runs/runSession';
import type { SshPromptDeps } from '../../../src/devices/sshPrompts';
import { sshdSessionPids } from '../../helpers/sshd';
import { sshTestConfig, type SshSuiteConfig } from './sshConfig';
import { addSuiteDevice, jetbench, readRun, removeSuiteDevice, runsDir } from './util';

const DEVICE = 'loopback';

describe('SSH device', function () {
  let cfg: SshSuiteConfig;
  let original: SshPromptDeps['confirmHostKey'];
  const asked: HostKeyInfo[] = [];
  let answer = false;

  before(async function () {
    const c = sshTestConfig();
    if ('skip' in c) {
      console.log(`SKIPPED: SSH device tests: ${c.skip}`);
      this.skip();
    }
    cfg = c;
    const api = await jetbench();
    original = api.sshPrompts.confirmHostKey;
    api.sshPrompts.confirmHostKey = async (_device, info) => {
      asked.push(info);
      return answer;
    };
    await addSuiteDevice(DEVICE, cfg);
  });

  after(async function () {
    if (!cfg) return;
    const api = await jetbench();
    await removeSuiteDevice(DEVICE, () => (api.sshPrompts.confirmHostKey = original));
  });

  const knownHosts = () => path.join(cfg.home, '.ssh', 'known_hosts');
  const expectedFingerprint = () => `SHA256:${createHash('sha256').update(Buffer.from(cfg.hostKeyLine.split(' ')[1]!, 'base64')).digest('base64').replace(/=+$/, '')}`;

  it('asks about the unknown host key with its SHA256 fingerprint; refused, nothing is recorded and the device is not connected', async () => {
    const api = await jetbench();
    answer = false;
    const state = await vscode.commands.executeCommand<string>('jetbench.connectDevice', DEVICE);
    assert.equal(state, 'failed');
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.fingerprintSha256, expectedFingerprint());
    assert.equal(asked[0]!.port, cfg.port);
    assert.equal(existsSync(knownHosts()), false, 'a refused key must not be recorded');
    assert.match(api.devices.client(DEVICE).lastError ?? '', /host key/i);
  });

  it('trusted, the key is recorded; Connect deploys the agent, starts its daemon and describes the device', async () => {
    const api = await jetbench();
    answer = true;
    const state = await vscode.commands.executeCommand<string>('jetbench.connectDevice', DEVICE);
    assert.equal(state, 'connected', api.devices.client(DEVICE).lastError ?? '');
    assert.equal(asked.length, 2);
    // Recorded as ssh does with HashKnownHosts (a hashed host field), and found again by the check.
    assert.match(readFileSync(knownHosts(), 'utf8'), /^\|1\|\S+ ssh-ed25519 /);
    assert.equal(await checkHostKey([knownHosts()], cfg.host, cfg.port, Buffer.from(cfg.hostKeyLine.split(' ')[1]!, 'base64')), 'known');
    const client = api.devices.client(DEVICE);
    assert.ok(client.agent && client.agent.pid > 0);
    // The agent runs from the deployed bundle in the device user's home, not from this extension.
    assert.match(client.agent.agentDir ?? '', /\.jetbench\/agent\/[0-9a-f]+$/);
    assert.equal(client.info?.cpuCount !== undefined && client.info.cpuCount > 0, true);
    assert.equal(client.backends?.find((b) => b.id === 'onnxruntime')?.available, true, JSON.stringify(client.backends));
  });

  it('Deploy Agent on the connected device is a no-op: the bundle is there already', async () => {
    const outcome = await vscode.commands.executeCommand<DeployOutcome>('jetbench.deployAgent', DEVICE);
    assert.ok(outcome.result, outcome.reason);
    assert.equal(outcome.deployed, false);
    assert.equal(outcome.result.uploaded, false);
    assert.equal(outcome.result.native.status, 'skipped');
    assert.match(outcome.reason, /already on/);
    assert.equal(asked.length, 2, 'a recorded key is not asked about again');
  });

  it('Run Benchmark on the SSH device writes a run file measured there, and a panel', async () => {
    const api = await jetbench();
    const outcome = await vscode.commands.executeCommand<RunOutcome | undefined>('jetbench.runBenchmark', { device: DEVICE, model: 'tiny', iterations: 40, warmup: 3 });
    assert.ok(outcome);
    assert.equal(outcome.status, 'ok', outcome.error ?? '');
    assert.ok(outcome.file && outcome.file.startsWith(runsDir()));
    const run = readRun(outcome.file);
    assert.equal(run.spec.device, DEVICE);
    assert.equal(run.samples.latencyMs.length, 40);
    const panel = api.panels.resultPanel(outcome.runId);
    assert.ok(panel);
    const drawn = await panel.waitForRender((r) => r.final);
    assert.equal(drawn.samples, 40);
  });

  it('the connection cut mid-run: the run goes on on the device, the client re-attaches and gets all of it', async () => {
    const api = await jetbench();
    const iterations = 1500;
    const pending = vscode.commands.executeCommand<RunOutcome | undefined>('jetbench.runBenchmark', { device: DEVICE, model: 'tiny', iterations, warmup: 3 });
    // Once samples stream, kill sshd's session processes: the TCP connection dies as on a network
    // cut; the agent daemon (detached on the device) measures on.
    const panel = await new Promise<NonNullable<ReturnType<typeof api.panels.resultPanel>>>((resolve) => {
      const sub = api.panels.onDidCreate((p) => {
        if (!('onDidUpdate' in p)) return;
        const s2 = p.onDidUpdate(() => {
          if (p.liveSampleCount < 30) return;
          s2.dispose();
          sub.dispose();
          resolve(p);
        });
      });
    });
    const heldAtCut = panel.liveSampleCount;
    for (const pid of sshdSessionPids(cfg.sshdPid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    const outcome = await pending;
    assert.ok(outcome);
    assert.equal(outcome.status, 'ok', outcome.error ?? '');
    const run = readRun(outcome.file!);
    assert.equal(run.samples.latencyMs.length, iterations, 'every sample of the run, none lost or repeated');
    assert.ok(heldAtCut < iterations, `the cut came mid-run (${heldAtCut} samples held)`);
    const phases = panel.phases.join(' -> ');
    assert.ok(panel.phases.includes('disconnected'), phases);
    assert.ok(panel.phases.lastIndexOf('running') > panel.phases.indexOf('disconnected'), phases);
    const drawn = await panel.waitForRender((r) => r.final);
    assert.equal(drawn.samples, iterations);
  });

  it('a changed host key is refused without asking, naming a possible attack', async () => {
    const api = await jetbench();
    await api.devices.disconnect(DEVICE);
    // Another ed25519 key recorded for this host:port (the real one with its last byte changed):
    // the server's key no longer matches.
    const blob = Buffer.from(cfg.hostKeyLine.split(' ')[1]!, 'base64');
    blob[blob.length - 1] ^= 0xff;
    const forged = `[127.0.0.1]:${cfg.port} ssh-ed25519 ${blob.toString('base64')}\n`;
    const before = readFileSync(knownHosts(), 'utf8');
    writeFileSync(knownHosts(), forged);
    try {
      const state = await vscode.commands.executeCommand<string>('jetbench.connectDevice', DEVICE);
      assert.equal(state, 'failed');
      assert.match(api.devices.client(DEVICE).lastError ?? '', /attack/);
      assert.equal(asked.length, 2, 'a mismatch is never offered for trust');
      assert.equal(readFileSync(knownHosts(), 'utf8'), forged, 'known_hosts is left as it was');
    } finally {
      writeFileSync(knownHosts(), before);
    }
  });
});
