// The one client core above an agent connection: run a job, follow its samples and progress,
// return the run. The CLI drives it over vscode-jsonrpc; the extension over its LanguageClient.
import { WorkDoneProgress, type WorkDoneProgressBegin, type WorkDoneProgressEnd, type WorkDoneProgressReport } from 'vscode-languageserver-protocol';
import type { CancellationToken, Disposable, NotificationHandler, NotificationType, ProgressType, RequestType } from 'vscode-jsonrpc';
import { RunRequest, SamplesNotification, type RunFile, type RunSpec, type SamplesBatch } from '../../device-agent/src/protocol';
import { newRunId } from '../../device-agent/src/runId';

/** What the core needs of a connection; vscode-jsonrpc's MessageConnection and
 * vscode-languageclient's LanguageClient both provide it (only the typed overloads: the two
 * classes' full overload sets differ, so a Pick of one does not admit the other). */
export interface AgentRpc {
  sendRequest<P, R, E>(type: RequestType<P, R, E>, params: P, token?: CancellationToken): Promise<R>;
  onNotification<P>(type: NotificationType<P>, handler: NotificationHandler<P>): Disposable;
  onProgress<P>(type: ProgressType<P>, token: string | number, handler: NotificationHandler<P>): Disposable;
}

export interface RunObserver {
  onSamples?(batch: SamplesBatch): void;
  onProgress?(message: string, percentage: number | undefined): void;
}

/** Live copy of a run's samples as they stream; placed by offset so a repeat or gap is visible. */
export class StreamedSamples {
  readonly warmupMs: number[] = [];
  readonly latencyMs: number[] = [];
  gaps = 0;

  add(batch: SamplesBatch): void {
    const target = batch.phase === 'warmup' ? this.warmupMs : this.latencyMs;
    if (batch.offset > target.length) this.gaps++;
    batch.latencyMs.forEach((v, i) => {
      target[batch.offset + i] = v;
    });
  }
}

export async function runOnAgent(
  rpc: AgentRpc,
  spec: RunSpec,
  opts: { runId?: string; token?: CancellationToken; observer?: RunObserver },
): Promise<{ run: RunFile; streamed: StreamedSamples }> {
  const runId = opts.runId ?? newRunId(spec);
  const streamed = new StreamedSamples();
  const subscriptions: Disposable[] = [
    rpc.onNotification(SamplesNotification, (batch) => {
      if (batch.runId !== runId) return;
      streamed.add(batch);
      opts.observer?.onSamples?.(batch);
    }),
    rpc.onProgress(WorkDoneProgress.type, runId, (value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => {
      if (value.kind === 'end') return;
      opts.observer?.onProgress?.(value.message ?? '', value.percentage);
    }),
  ];
  try {
    const run = await rpc.sendRequest(RunRequest, { spec, runId, workDoneToken: runId }, opts.token);
    return { run, streamed };
  } finally {
    subscriptions.forEach((s) => s.dispose());
  }
}
