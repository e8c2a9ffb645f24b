import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROTOCOL_VERSION } from '../../contract/protocol';
import { checkAgentProtocol, ProtocolMismatchError } from '../../src/core/protocolCheck';

const agent = { protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0', pid: 1, mode: 'stdio' };
const opts = { agent: "the agent on 'board'", fix: 'deploy the agent again' };

test('the protocol check passes this version and names the agent, both versions and the fix otherwise', () => {
  assert.deepEqual(checkAgentProtocol({ jetbench: agent }, opts), agent);
  const other = { jetbench: { ...agent, protocolVersion: PROTOCOL_VERSION + 1 } };
  assert.throws(
    () => checkAgentProtocol(other, opts),
    (e: unknown) => e instanceof ProtocolMismatchError && e.message === `the agent on 'board' speaks protocol ${PROTOCOL_VERSION + 1} but this jetbench speaks ${PROTOCOL_VERSION}: deploy the agent again`,
  );
  // Replacing an agent of another deploy: any version passes, a result without jetbench's never.
  assert.equal(checkAgentProtocol(other, { ...opts, acceptOtherVersion: true }).protocolVersion, PROTOCOL_VERSION + 1);
  for (const bad of [undefined, null, {}, { jetbench: { protocolVersion: '2' } }]) {
    assert.throws(() => checkAgentProtocol(bad, { ...opts, acceptOtherVersion: true }), (e: unknown) => e instanceof ProtocolMismatchError && /speaks protocol unknown/.test((e as Error).message));
  }
});
