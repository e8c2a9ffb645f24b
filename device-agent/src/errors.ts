// Errors the agent turns into JSON-RPC ResponseErrors with a stable code (protocol.ts AgentErrorCode).
import { ResponseError } from 'vscode-jsonrpc';
import { AgentErrorCode } from '../../contract/protocol';

/** The request's input is wrong; the message names the problem and the fix. */
export class BadInputError extends Error {
  override name = 'BadInputError';
}

/** A backend cannot run here; the message says why and how to get it. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

/** A build (tuning) was cancelled by the client; what it produced so far is kept. */
export class BuildCancelledError extends Error {
  override name = 'BuildCancelledError';
}

/** A queued job (a run, a build) was cancelled before it started: nothing was measured. */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError';
}

/** No run (or other named thing) with that id on the device. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export function toResponseError(e: unknown): ResponseError<void> {
  if (e instanceof ResponseError) return e as ResponseError<void>;
  if (e instanceof BadInputError) return new ResponseError(AgentErrorCode.BadInput, e.message);
  if (e instanceof BackendUnavailableError) return new ResponseError(AgentErrorCode.BackendUnavailable, e.message);
  if (e instanceof NotFoundError) return new ResponseError(AgentErrorCode.NotFound, e.message);
  if (e instanceof BuildCancelledError || e instanceof JobCancelledError) return new ResponseError(AgentErrorCode.Cancelled, e.message);
  const err = e instanceof Error ? e : new Error(String(e));
  return new ResponseError(AgentErrorCode.Internal, `agent error: ${err.message}`);
}
