// One benchmark from the editor: connect the device, open a live result panel, run through the
// one client core (runOnAgent) with a cancellable progress notification, store the run through
// the run store, and settle the panel on it. A dropped connection leaves the panel with what it got.
import * as vscode from 'vscode';
import type { RunFile, RunSpec } from '../../contract/protocol';
import { newRunId } from '../../contract/runId';
import { withDeviceDefaults } from '../core/devices';
import { checkOutputPath, defaultRunPath, saveRunFile } from '../core/runStore';
import type { ResultPanel } from '../panels/resultPanel';
import type { JetbenchContext } from '../vscode/context';
import type { LivePhase } from '../../contract/panelMessages';
import { phaseFromProgress } from './livePhase';
import { progressReporter, showError, showWarning } from '../vscode/notify';

/** What a run command returns (plain data: commands' results may cross process boundaries). */
export interface RunOutcome {
  runId: string;
  /** The stored run file; null when the run could not start or its connection dropped. */
  file: string | null;
  status: RunFile['status'] | null;
  /** Where the panel ended: finished, disconnected or failed. */
  phase: LivePhase;
  error: string | null;
}

export async function runBenchmarkSession(ctx: JetbenchContext, given: RunSpec, folder: string): Promise<RunOutcome> {
  // TVM on an SSH device: the device's configured Python, as the CLI does. A device that cannot
  // be resolved fails at connect below, where the panel shows why.
  let spec = given;
  try {
    spec = withDeviceDefaults(given, ctx.devices.resolve(given.device));
  } catch {
    /* reported at connect */
  }
  const runId = newRunId(spec);
  const file = defaultRunPath(folder, runId);
  // Before measuring: a run that cannot be stored should not run.
  await checkOutputPath(file, true);

  const panel = ctx.panels.createLive(runId, spec);
  const ticket = ctx.devices.submitJob(spec.device);
  const cancel = new vscode.CancellationTokenSource();
  let lost: string | null = null;
  const setPhase = (phase: LivePhase, message: string) => panel.setPhase(phase, message);
  panel.startLive(
    spec,
    spec.device,
    ticket.ahead > 0 ? 'queued' : 'connecting',
    ticket.ahead > 0 ? `behind ${ticket.ahead} run${ticket.ahead === 1 ? '' : 's'} of this window` : `connecting to ${spec.device}`,
    ctx.settings.value.redrawIntervalMs,
  );
  panel.onCancel = () => cancel.cancel();
  ctx.activeRuns.set(runId, { runId, device: spec.device, cancel: () => cancel.cancel() });
  ctx.setRunning();
  const title = `Jetbench: ${spec.model.split(/[/\\]/).pop()} ${spec.backend} ${spec.precision} on ${spec.device}`;
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      // Cancel in the notification, the panel's Stop and Jetbench: Stop Run all end in
      // `$/cancelRequest` for the run request.
      token.onCancellationRequested(() => cancel.cancel());
      const report = progressReporter(progress);
      report('connecting…');
      let lastPct = 0;
      try {
        const client = await ctx.devices.connect(spec.device);
        const sub = client.onDidLoseConnection((why) => {
          lost = why;
          setPhase('disconnected', why);
        });
        let run: RunFile;
        try {
          run = await client.run(spec, {
            runId,
            token: cancel.token,
            observer: {
              onSamples: (batch) => panel.addSamples(batch),
              onTelemetry: (batch) => panel.addTelemetry(batch),
              // An SSH device's run goes on in its daemon: after the reconnect, the rest arrives.
              onConnectionLost: (attempt) => setPhase('disconnected', `${lost ?? 'the connection was lost'}; reconnecting (attempt ${attempt})`),
              onReattached: (o) => {
                lost = null;
                setPhase('running', `re-attached: ${o.measure} measured samples held, receiving the rest`);
              },
              onProgress: (message, pct) => {
                setPhase(phaseFromProgress(message), message);
                const increment = pct !== undefined && pct > lastPct ? pct - lastPct : undefined;
                if (pct !== undefined) lastPct = Math.max(lastPct, pct);
                report(message, increment);
              },
            },
          });
        } finally {
          sub.dispose();
        }
        const saved = await saveRunFile(file, run);
        if (saved.fallbackReason) void showWarning(`Jetbench: ${saved.fallbackReason}; the run is saved in ${saved.file} instead.`);
        panel.showRun(run, saved.file);
        void ctx.catalog.refresh();
        if (run.status === 'failed') void showError(`The run failed: ${run.error ?? 'no message'}. Its file keeps what was recorded.`);
        return { runId, file, status: run.status, phase: 'finished', error: run.error ?? null };
      } catch (e) {
        return failed(ctx, panel, runId, e, lost);
      }
    });
  } finally {
    ctx.activeRuns.delete(runId);
    ctx.setRunning();
    ticket.done();
    cancel.dispose();
  }
}

function failed(ctx: JetbenchContext, panel: ResultPanel, runId: string, e: unknown, lost: string | null): RunOutcome {
  const message = e instanceof Error ? e.message : String(e);
  // The agent answered with an error (bad model, backend unavailable): the run did not happen.
  // Anything else while the connection dropped: the device went away mid-run.
  const fromAgent = (e as { fromAgent?: unknown }).fromAgent === true;
  if (lost !== null && !fromAgent) {
    ctx.output.appendLine(`run ${runId}: connection lost (${lost}): ${message}`);
    panel.setPhase('disconnected', lost);
    void showWarning(`The device disconnected during the run (${lost}). The panel keeps the ${panel.liveSampleCount} samples it received; nothing was stored.`);
    return { runId, file: null, status: null, phase: 'disconnected', error: `${lost}: ${message}` };
  }
  ctx.output.appendLine(`run ${runId} failed: ${message}`);
  panel.setPhase('failed', message);
  void showError(`Jetbench: ${message}`, 'Show Log').then((pick) => {
    if (pick) ctx.output.show(true);
  });
  return { runId, file: null, status: null, phase: 'failed', error: message };
}
