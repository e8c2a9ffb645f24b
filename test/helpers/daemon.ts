// A client of a real agent daemon: `agent.js attach --home HOME` starts the daemon of that home when
// needed and bridges the client's stdio to its socket, as an SSH device's exec bridge does.
import { spawn } from 'node:child_process';
import { connectAgent, type AgentConnection } from '../../src/core/agentConnection';
import { localAgentPath } from '../../src/core/deploy';
import { TEST_CACHE_DIR } from './cli';

/** `kill` drops the client as a lost network would: its socket to the daemon closes mid-request. */
export async function daemonClient(home: string, name: string, env: Record<string, string> = {}): Promise<AgentConnection & { kill(): void }> {
  const child = spawn(process.execPath, ['--no-deprecation', localAgentPath(), 'attach', '--home', home, '--idle-minutes', '1'], {
    // The daemon this starts inherits the environment (e.g. JETBENCH_DEVICE_ROOT for a fixture device).
    env: { ...process.env, JETBENCH_CACHE_DIR: TEST_CACHE_DIR, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // A write queued before a kill lands on a closed pipe: that is the drop being simulated.
  child.stdin.on('error', () => undefined);
  const conn = await connectAgent(
    {
      reader: child.stdout,
      writer: child.stdin,
      closed: exited,
      describe: `attach bridge (pid ${child.pid})`,
      close: async () => {
        child.stdin.end();
        await exited;
      },
    },
    { client: name },
  );
  return { ...conn, kill: () => child.kill('SIGKILL') };
}
