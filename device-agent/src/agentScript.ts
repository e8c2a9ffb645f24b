// Where this agent's own bundle is, for the processes it forks from itself (the native worker,
// trial processes): this bundle (dist/agent.js), or $JETBENCH_AGENT.
import { existsSync } from 'node:fs';
import path from 'node:path';

export function agentScript(): string {
  const candidates = [process.env.JETBENCH_AGENT, path.join(__dirname, 'agent.js'), path.resolve(__dirname, '../../dist/agent.js')];
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error(`the agent bundle was not found for a worker process (looked for ${candidates.filter(Boolean).join(', ')}): run npm run build`);
  return found;
}
