// One build request from the CLI: its progress on stderr as it comes, Ctrl-C turned into the
// protocol's cancel, and a cancelled build said (the agent's message says what it kept).
import { ResponseError, type CancellationToken, type MessageConnection } from 'vscode-jsonrpc';
import { WorkDoneProgress } from 'vscode-languageserver-protocol';
import { AgentErrorCode, BuildRequest, type BuildResult, type RunSpec } from '../../contract/protocol';
import type { CliIo } from './io';

let sent = 0;

/** The build's result, or null when it was cancelled (already said on stderr). */
export async function requestBuild(connection: MessageConnection, spec: RunSpec, cancel: CancellationToken, io: CliIo, quiet: boolean): Promise<BuildResult | null> {
  const token = `build-${process.pid}-${++sent}`;
  const sub = connection.onProgress(WorkDoneProgress.type, token, (p) => {
    if (p.kind !== 'end' && p.message && !quiet) io.err(`${p.message}\n`);
  });
  try {
    return await connection.sendRequest(BuildRequest, { spec, workDoneToken: token }, cancel);
  } catch (e) {
    if (e instanceof ResponseError && e.code === AgentErrorCode.Cancelled) {
      io.err(`jetbench build: ${e.message}\n`);
      return null;
    }
    throw e;
  } finally {
    sub.dispose();
  }
}
