// The one protocol check of a client (the CLI's connection and the extension's LanguageClient): the
// agent's `initialize` result must carry jetbench's fields and this client's protocol version.
import { PROTOCOL_VERSION, type JetbenchInitializeResult } from '../../contract/protocol';

/** The agent speaks another protocol version (or none): a rebuild or a redeploy fixes it. */
export class ProtocolMismatchError extends Error {
  override name = 'ProtocolMismatchError';
}

function isJetbenchInit(value: unknown): value is JetbenchInitializeResult {
  const v = value as Partial<JetbenchInitializeResult> | null;
  return typeof v === 'object' && v !== null && typeof v.protocolVersion === 'number' && typeof v.agentVersion === 'string';
}

/** The jetbench part of an `initialize` result; with `acceptOtherVersion` any version passes (the
 * caller replaces an agent of another deploy), never a result without jetbench's fields.
 * `agent` names the agent in the message, `fix` says what to do. */
export function checkAgentProtocol(
  initializeResult: unknown,
  opts: { agent: string; fix: string; acceptOtherVersion?: boolean },
): JetbenchInitializeResult {
  const init = (initializeResult as { jetbench?: unknown } | null | undefined)?.jetbench;
  if (isJetbenchInit(init) && (init.protocolVersion === PROTOCOL_VERSION || opts.acceptOtherVersion)) return init;
  const theirs = isJetbenchInit(init) ? init.protocolVersion : 'unknown';
  throw new ProtocolMismatchError(`${opts.agent} speaks protocol ${theirs} but this jetbench speaks ${PROTOCOL_VERSION}: ${opts.fix}`);
}
