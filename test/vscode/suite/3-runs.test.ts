// Runs from the editor on the local device with the tiny model and the real ONNX Runtime: the run
// file, the live panel (as the page itself reports drawing it), the Runs view, queueing, Stop,
// a device that disconnects mid-run.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { afterEach, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { formatMs } from '../../../contract/format';
import type { RunOutcome } from '../../../src/runs/runSession';
import { jetbench, readRun, runsDir, stopAllRuns, until } from './util';

async function run(spec: Record<string, unknown>): Promise<RunOutcome> {
  const outcome = await vscode.commands.executeCommand<RunOutcome | undefined>('jetbench.runBenchmark', spec);
  assert.ok(outcome, 'the command returned no outcome');
  return outcome;
}

describe('runs', () => {
  afterEach(stopAllRuns);

  it('Run Benchmark on local with the tiny model writes a run file and a panel that shows it', async () => {
    const api = await jetbench();
    const outcome = await run({ device: 'local', model: 'tiny', iterations: 60, warmup: 5, label: 'suite first run' });
    assert.equal(outcome.status, 'ok', outcome.error ?? '');
    assert.ok(outcome.file && outcome.file.startsWith(runsDir()), `${outcome.file}`);
    const file = readRun(outcome.file);
    assert.equal(file.id, outcome.runId);
    assert.equal(file.samples.latencyMs.length, 60);
    assert.equal(file.spec.label, 'suite first run');
    assert.equal(file.device.hostname.length > 0, true);

    const panel = api.panels.resultPanel(outcome.runId);
    assert.ok(panel, 'no result panel for the run');
    assert.deepEqual(panel.phases.slice(-1), ['finished']);
    const drawn = await panel.waitForRender((r) => r.final);
    assert.equal(drawn.p95Text, `${formatMs(file.stats!.p95Ms)} ms`);
    assert.equal(drawn.samples, 60);
    assert.ok(drawn.histogramPixels > 100, `histogram bars cover ${drawn.histogramPixels} pixels`);

    await until(api.catalog.onDidChange, () => api.runsTree.runLeaves().some((l) => l.file === outcome.file), 'the run in the Runs view');
  });

  it('a run with a fidelity check shows its accuracy against fp32 in the panel: the figures of the run file', async () => {
    const api = await jetbench();
    const outcome = await run({ device: 'local', model: 'nanodet-g-fp16', iterations: 5, warmup: 1, fidelity: { frames: 4 } });
    assert.equal(outcome.status, 'ok', outcome.error ?? '');
    const file = readRun(outcome.file!);
    const f = file.fidelity!;
    assert.ok(f, 'the run file has its fidelity check');
    assert.equal(f.frames, 4);
    const drawn = await api.panels.resultPanel(outcome.runId)!.waitForRender((r) => r.final);
    assert.ok(drawn.accuracy, 'the accuracy section is shown');
    assert.equal(drawn.accuracy.heading, 'Accuracy against nanodet-g (fp32)');
    const o = f.result.overall;
    assert.deepEqual(drawn.accuracy.all.slice(0, 5), ['all', '4', String(o.referenceBoxes), String(o.testBoxes), `${(100 * o.ap50!).toFixed(1)}%`]);
    // A run without one hides the section.
    const plain = await run({ device: 'local', model: 'tiny', iterations: 5, warmup: 1 });
    assert.equal((await api.panels.resultPanel(plain.runId)!.waitForRender((r) => r.final)).accuracy, null);
  });

  it('a second run on a busy device waits in the queue and says so', async () => {
    const api = await jetbench();
    const first = run({ device: 'local', model: 'tiny', iterations: 150, warmup: 2, label: 'queue A' });
    // The second is submitted once the first holds the device (two commands started together
    // reach the device in either order).
    await until(api.devices.onDidChange, () => api.devices.jobCount('local') === 1, 'the first run submitted');
    const second = run({ device: 'local', model: 'tiny', iterations: 20, warmup: 2, label: 'queue B' });
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.status, 'ok');
    assert.equal(b.status, 'ok');
    const phasesB = api.panels.resultPanel(b.runId)!.phases;
    assert.equal(phasesB[0], 'queued', phasesB.join(' -> '));
    assert.ok(phasesB.indexOf('running') > phasesB.indexOf('queued'), phasesB.join(' -> '));
    assert.equal(phasesB[phasesB.length - 1], 'finished');
    // The first run had the device to itself.
    assert.ok(!api.panels.resultPanel(a.runId)!.phases.includes('queued'));
  });

  it('runs on one connection leave no notification handler behind', async () => {
    const api = await jetbench();
    const first = await run({ device: 'local', model: 'tiny', iterations: 5, warmup: 1, label: 'handlers 0' });
    assert.equal(first.status, 'ok', first.error ?? '');
    const client = api.devices.client('local');
    const before = client.followerCount('jetbench/samples');
    for (let i = 1; i <= 3; i++) {
      const outcome = await run({ device: 'local', model: 'tiny', iterations: 5, warmup: 1, label: `handlers ${i}` });
      assert.equal(outcome.status, 'ok', outcome.error ?? '');
    }
    // Each run follows samples while it runs and leaves no follower when it ends.
    assert.equal(client.followerCount('jetbench/samples'), before);
    assert.equal(before, 0);
  });

  it('Stop cancels the run through the protocol; the file keeps the samples taken', async () => {
    const api = await jetbench();
    const pending = run({ device: 'local', model: 'tiny', iterations: 1_000_000, warmup: 1, label: 'stopped' });
    const runId = await new Promise<string>((resolve) => {
      const check = () => {
        const active = [...api.activeRuns.values()].find((r) => api.panels.resultPanel(r.runId)?.liveSampleCount);
        if (active) resolve(active.runId);
      };
      const sub = api.panels.onDidCreate((p) => {
        if ('onDidUpdate' in p) p.onDidUpdate(check);
      });
      void pending.finally(() => sub.dispose());
    });
    assert.equal(await vscode.commands.executeCommand('jetbench.stopRun', runId), runId);
    const outcome = await pending;
    assert.equal(outcome.status, 'cancelled');
    const file = readRun(outcome.file!);
    assert.equal(file.status, 'cancelled');
    assert.ok(file.samples.latencyMs.length > 0 && file.samples.latencyMs.length < 1_000_000);
    assert.equal(file.stats!.count, file.samples.latencyMs.length);
  });

  it('the local agent killed mid-run: a failed run file keeps the samples that arrived and says how the agent ended; the agent comes back', async () => {
    // Issue 18: this used to store nothing (the panel alone kept the samples until closed).
    const api = await jetbench();
    const client = api.devices.client('local');
    const pending = run({ device: 'local', model: 'tiny', iterations: 1_000_000, warmup: 1, label: 'dropped' });
    const received = await new Promise<number>((resolve) => {
      const sub = api.panels.onDidCreate((p) => {
        if (!('onDidUpdate' in p)) return;
        sub.dispose();
        p.onDidUpdate(() => {
          if (p.liveSampleCount >= 5) resolve(p.liveSampleCount);
        });
      });
    });
    const pid = client.agentPid!;
    process.kill(pid, 'SIGKILL');
    const outcome = await pending;
    assert.equal(outcome.status, 'failed', JSON.stringify(outcome));
    assert.match(outcome.error ?? '', /SIGKILL/);
    assert.ok(outcome.file && existsSync(outcome.file), 'the run file is written');
    const file = readRun(outcome.file);
    assert.equal(file.status, 'failed');
    assert.match(file.error ?? '', /killed by SIGKILL/);
    assert.ok(file.samples.latencyMs.length >= received, `${file.samples.latencyMs.length} measured samples kept (${received} seen by the panel)`);
    assert.equal(file.stats!.count, file.samples.latencyMs.length);
    await until(client.onDidChange, () => client.state === 'connected' && client.agentPid !== pid, 'the agent back after the drop');
  });

  it('a run the agent refuses fails with its message and stores nothing', async () => {
    const outcome = await run({ device: 'local', model: 'no-such-model.onnx', iterations: 5 });
    assert.equal(outcome.phase, 'failed');
    assert.match(outcome.error ?? '', /not found/);
    assert.equal(outcome.file, null);
  });
});
