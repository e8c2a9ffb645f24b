// One measured job from the command line, the same for `bench` and `pipeline`: check the output
// path before anything runs, connect to the device (deploying where needed), run through the one
// client core (an SSH device's run survives a dropped connection: reconnect and re-attach), let
// Ctrl-C cancel through the protocol, and write the run file, whatever the run's status.
import { CancellationTokenSource, type CancellationToken } from 'vscode-jsonrpc';
import type { RunFile, RunSpec } from '../../contract/protocol';
import { newRunId } from '../../contract/runId';
import { withDeviceDefaults } from '../core/devices';
import { AgentEndedError, runOnAgent } from '../core/runClient';
import { failedRun } from '../../contract/failedRun';
import { resolveRunOutput, saveRunFile } from '../core/runStore';
import { connectCliDevice } from './sshHooks';
import type { CliIo } from './io';

export const EXIT_INTERRUPTED = 130;

export interface MeasureOptions {
  /** Run file or directory (then <dir>/<id>.json) to write; null = .jetbench/runs/<id>.json. */
  out: string | null;
  quiet: boolean;
  acceptNewHostKey: boolean;
  /** What the progress line starts with, e.g. "yolov5s onnxruntime fp32". */
  title: string;
  /** The caller's Ctrl-C: given, the caller owns SIGINT (a series of trials, interleave.ts, holds
   * one handler across them, gaps included) and cancels this run through it. */
  token?: CancellationToken;
  /** False: return the run without writing it (a part the caller joins and stores: interleave.ts);
   * outFile is then ''. */
  store?: boolean;
}

export async function measureOnDevice(spec: RunSpec, io: CliIo, opts: MeasureOptions): Promise<{ run: RunFile; outFile: string }> {
  const runId = newRunId(spec);
  // Before connecting: a run that could not be stored must not be measured.
  const outFile = opts.store === false ? '' : await resolveRunOutput(io.cwd, opts.out, runId);

  const agent = await connectCliDevice(spec.device, io, { acceptNewHostKey: opts.acceptNewHostKey, quiet: opts.quiet });
  spec = withDeviceDefaults(spec, agent.device);
  const cancel = new CancellationTokenSource();
  const onSigint = interruptHandler(io, 'stopping the run and saving the samples so far', () => cancel.cancel());
  const external = opts.token?.onCancellationRequested(() => cancel.cancel());
  if (opts.token?.isCancellationRequested) cancel.cancel();
  if (!opts.token) process.on('SIGINT', onSigint);
  let lastLine = '';
  const progress = (message: string, pct: number | undefined) => {
    if (opts.quiet) return;
    const line = `${opts.title}: ${message}${pct !== undefined ? ` (${pct}%)` : ''}`;
    if (io.isTty) io.err(`\r\x1b[K${line}`);
    else if (line !== lastLine) io.err(`${line}\n`);
    lastLine = line;
  };
  let run: RunFile;
  try {
    // An SSH device's daemon goes on measuring if the connection drops: reconnect and re-attach.
    const target = agent.device.kind === 'ssh' ? agent.resumable() : agent.rpc;
    ({ run } = await runOnAgent(target, spec, {
      runId,
      agentEnded: agent.ended,
      token: cancel.token,
      observer: {
        onProgress: progress,
        onConnectionLost: (attempt, e) => io.err(`\nconnection to ${spec.device} lost (${e instanceof Error ? e.message : 'closed'}): reconnecting (attempt ${attempt})\n`),
        onReattached: (o) => io.err(`re-attached to run ${runId}: ${o.warmup} warm-up and ${o.measure} measured samples held, receiving the rest\n`),
      },
    }));
  } catch (e) {
    // The agent died mid-run (killed, out of memory, a crashed runtime): never success, and what
    // was measured is kept as a failed run.
    if (!(e instanceof AgentEndedError) || !e.prepared) throw e;
    run = failedRun(e.prepared, e.streamed, e.message);
  } finally {
    process.off('SIGINT', onSigint);
    external?.dispose();
    if (io.isTty && !opts.quiet) io.err('\r\x1b[K');
    await agent.dispose();
  }
  if (opts.store === false) return { run, outFile };
  const saved = await saveRunFile(outFile, run);
  if (saved.fallbackReason) io.err(`jetbench: ${saved.fallbackReason}; the run is saved in ${saved.file} instead: move it where you want it\n`);
  return { run, outFile: saved.file };
}

/** Ctrl-C while something is measured: the first says what happens and calls `stop`; a second
 * quits at once. */
export function interruptHandler(io: CliIo, what: string, stop: () => void): () => void {
  let interrupts = 0;
  return () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT_INTERRUPTED);
    io.err(`\ninterrupted: ${what} (Ctrl-C again to quit at once)\n`);
    stop();
  };
}

/** `--json`: the run without its samples, and where it was written. */
export function runSummaryJson(run: RunFile, outFile: string): string {
  const { samples: _samples, ...summary } = run;
  return JSON.stringify({ file: outFile, ...summary }, null, 2) + '\n';
}
