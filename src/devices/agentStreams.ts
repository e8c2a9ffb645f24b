// The byte streams to a device's agent that the extension's LanguageClient speaks over. Shaped like
// the SSH devices issue's `AgentStreams` (src/core/transport.ts on that branch), so its SSH
// transport plugs into DeviceRegistry as one more opener; until then the local agent's child
// process is the only transport.
import { spawn } from 'node:child_process';
import { localAgentPath } from '../core/agentConnection';

export interface AgentStreams {
  /** Bytes from the agent. */
  reader: NodeJS.ReadableStream;
  /** Bytes to the agent. */
  writer: NodeJS.WritableStream;
  /** Ends this transport (a local agent then exits). */
  close(): Promise<void>;
  /** Resolves when the transport has ended, from either side. */
  closed: Promise<void>;
  /** In words, for messages: "local agent (pid 123)". */
  describe: string;
}

/** Starts the local agent (`node agent.js stdio`) as a child process. */
export function openLocalAgentStreams(opts: { agentPath?: string; stderr: (text: string) => void }): AgentStreams & { pid: number | undefined } {
  // Inside VS Code process.execPath is Electron: ELECTRON_RUN_AS_NODE makes it a plain Node (in
  // code-server it is Node already and the variable is ignored). --no-deprecation: protobufjs 6
  // (under onnx-proto) calls Buffer(), whose warning would fill the output on every generation.
  const child = spawn(process.execPath, ['--no-deprecation', opts.agentPath ?? localAgentPath(), 'stdio'], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: signals meant for the editor do not reach the agent mid-run; when
    // the extension host goes, the agent's stdin closes and it exits.
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (e) => {
      opts.stderr(`the local agent could not start: ${e.message}\n`);
      resolve(null);
    });
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => opts.stderr(text));
  return {
    reader: child.stdout!,
    writer: child.stdin!,
    pid: child.pid,
    closed: exited.then(() => undefined),
    describe: `local agent (pid ${child.pid ?? 'none'})`,
    close: async () => {
      child.stdin!.end();
      // The agent exits when its stdin closes; a hung one is killed.
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
