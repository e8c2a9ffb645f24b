// Starts the local device's agent as a child process and speaks JSON-RPC (LSP framing) to it.
// The CLI uses this; the extension's LanguageClient reaches the same agent the same way.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { PROTOCOL_VERSION, type JetbenchInitializationOptions, type JetbenchInitializeResult } from '../../device-agent/src/protocol';

export interface AgentConnection {
  connection: MessageConnection;
  agent: JetbenchInitializeResult;
  /** Resolves with the agent's exit code when it exits. */
  exited: Promise<number | null>;
  /** Ends the session politely (shutdown/exit), then kills the process if it lingers. */
  dispose(): Promise<void>;
}

/** The bundled agent beside this file (dist/agent.js), or $JETBENCH_AGENT. */
export function localAgentPath(): string {
  const candidates = [process.env.JETBENCH_AGENT, path.join(__dirname, 'agent.js'), path.resolve(__dirname, '../../dist/agent.js')];
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error(`the jetbench agent bundle was not found (looked for ${candidates.filter(Boolean).join(', ')}); run npm run build`);
  return found;
}

export async function startLocalAgent(opts: { client: string; agentPath?: string; stderr?: (text: string) => void }): Promise<AgentConnection> {
  // Inside VS Code process.execPath is Electron: ELECTRON_RUN_AS_NODE makes it a plain Node.
  // --no-deprecation: protobufjs 6 (under onnx-proto) calls Buffer(), and its warning would
  // reach the user's terminal through the agent's stderr on every model generation.
  const child: ChildProcess = spawn(process.execPath, ['--no-deprecation', opts.agentPath ?? localAgentPath(), 'stdio'], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches the client, which cancels the job
    // through the protocol, instead of killing the agent (and its helpers) mid-run. When the
    // client goes, the agent's stdin closes and it exits.
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => opts.stderr?.(text));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.listen();
  const initializationOptions: JetbenchInitializationOptions = { protocolVersion: PROTOCOL_VERSION, client: opts.client };
  const init = (await Promise.race([
    connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions }),
    exited.then((code) => {
      throw new Error(`the jetbench agent exited during start-up (exit code ${code})`);
    }),
  ])) as { jetbench?: JetbenchInitializeResult };
  if (!init.jetbench || init.jetbench.protocolVersion !== PROTOCOL_VERSION) {
    child.kill();
    throw new Error(
      `the agent speaks protocol ${init.jetbench?.protocolVersion ?? 'unknown'} but this client speaks ${PROTOCOL_VERSION}: rebuild or redeploy the agent`,
    );
  }
  void connection.sendNotification('initialized', {});
  return {
    connection,
    agent: init.jetbench,
    exited,
    dispose: async () => {
      try {
        await Promise.race([connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 1000))]);
        void connection.sendNotification('exit');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
      connection.dispose();
    },
  };
}
