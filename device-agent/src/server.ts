// Wires the agent's JSON-RPC API (protocol.ts) onto a vscode-languageserver connection.
import { WorkDoneProgress, type Connection, type InitializeResult } from 'vscode-languageserver/node';
import type { Backend } from './backends/backend';
import { OnnxRuntimeBackend } from './backends/onnxruntime';
import { TvmBackend } from './backends/tvm';
import { TensorRtBackend } from './backends/tensorrt';
import { deviceInfo } from './deviceInfo';
import { toResponseError } from './errors';
import { JobQueue } from './jobQueue';
import {
  AgentErrorNotification,
  BuildRequest,
  DeviceInfoRequest,
  ListBackendsRequest,
  PROTOCOL_VERSION,
  RunRequest,
  SamplesNotification,
  type BackendId,
  type JetbenchInitializeResult,
  type SamplesBatch,
} from './protocol';
import { executePipeline } from './pipeline';
import { executeBuild, executeRun, newRunId } from './runner';
import { AGENT_VERSION } from './version';

export function defaultBackends(): Map<BackendId, Backend> {
  return new Map<BackendId, Backend>([
    ['onnxruntime', new OnnxRuntimeBackend()],
    ['tensorrt', new TensorRtBackend()],
    ['tvm', new TvmBackend()],
  ]);
}

export function serve(connection: Connection, backends = defaultBackends()): void {
  // The accelerator is exclusive: one measuring job at a time, the others wait in order.
  const queue = new JobQueue();

  connection.onInitialize((): InitializeResult & { jetbench: JetbenchInitializeResult } => ({
    capabilities: {},
    serverInfo: { name: 'jetbench-agent', version: AGENT_VERSION },
    jetbench: { protocolVersion: PROTOCOL_VERSION, agentVersion: AGENT_VERSION, pid: process.pid },
  }));

  connection.onRequest(DeviceInfoRequest, async () => {
    try {
      return await deviceInfo();
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(ListBackendsRequest, async () => {
    try {
      return { backends: await Promise.all([...backends.values()].map((b) => b.status())) };
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(RunRequest, async (params, token) => {
    const runId = params.runId ?? newRunId(params.spec);
    const progress = progressReporter(connection, params.workDoneToken, `jetbench run ${runId}`);
    progress('begin', queue.busy ? `queued behind ${queue.pending} job(s)` : 'starting');
    try {
      const sinks = {
        isCancelled: () => token.isCancellationRequested,
        samples: (batch: SamplesBatch) => void connection.sendNotification(SamplesNotification, batch),
        progress: (message: string, percentage?: number) => progress('report', message, percentage),
      };
      return await queue.run(() => (params.spec.pipeline ? executePipeline(params.spec, runId, sinks) : executeRun(params.spec, runId, backends, sinks)));
    } catch (e) {
      throw toResponseError(e);
    } finally {
      progress('end', 'done');
    }
  });

  connection.onRequest(BuildRequest, async (params, token) => {
    const progress = progressReporter(connection, params.workDoneToken, `jetbench build ${params.spec.backend} ${params.spec.model}`);
    progress('begin', queue.busy ? `queued behind ${queue.pending} job(s)` : 'starting');
    try {
      // Building measures too (tuning times kernels), so it takes its turn on the accelerator.
      return await queue.run(() =>
        executeBuild(params.spec, { isCancelled: () => token.isCancellationRequested, progress: (message) => progress('report', message) }),
      );
    } catch (e) {
      throw toResponseError(e);
    } finally {
      progress('end', 'done');
    }
  });
}

/** `$/progress` for one job, when the client gave a token (LSP work-done progress). */
function progressReporter(connection: Connection, token: string | number | undefined, title: string) {
  return (kind: 'begin' | 'report' | 'end', message: string, percentage?: number) => {
    if (token === undefined) return;
    const value =
      kind === 'begin'
        ? { kind, title, cancellable: true, message, percentage: 0 }
        : kind === 'report'
          ? { kind, message, ...(percentage !== undefined ? { percentage } : {}) }
          : { kind, message };
    void connection.sendProgress(WorkDoneProgress.type, token, value);
  };
}

/** Reports an error nobody awaited, then exits: a broken agent must not look healthy. */
export function reportFatal(connection: Connection, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  try {
    void connection.sendNotification(AgentErrorNotification, { message: err.message, ...(err.stack ? { stack: err.stack } : {}) });
  } finally {
    process.stderr.write(`jetbench agent: fatal: ${err.stack ?? err.message}\n`);
    setTimeout(() => process.exit(1), 100);
  }
}
