// What a live run's progress says about where it stands, and the quick-pick memory of Run
// Benchmark. Pure code, unit-tested.
import type { BackendId, Precision } from '../../contract/protocol';
import type { LivePhase } from '../../contract/panelMessages';

/** The agent's first progress message of a job that waits says "queued behind N job(s)"
 * (device-agent/src/server.ts); every later message means the job has the device. */
export function phaseFromProgress(message: string): LivePhase {
  return /^queued\b/i.test(message.trim()) ? 'queued' : 'running';
}

/** The choices Run Benchmark remembers per workspace. */
export interface LastChoices {
  device: string;
  model: string;
  backend: BackendId;
  precision: Precision;
  iterations: number;
}

/** Sanitises what workspace state held (another version may have stored something else). */
export function readLastChoices(raw: unknown): Partial<LastChoices> {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const out: Partial<LastChoices> = {};
  if (typeof r.device === 'string') out.device = r.device;
  if (typeof r.model === 'string') out.model = r.model;
  if (r.backend === 'onnxruntime' || r.backend === 'tensorrt' || r.backend === 'tvm' || r.backend === 'pytorch') out.backend = r.backend;
  if (r.precision === 'fp32' || r.precision === 'fp16' || r.precision === 'int8') out.precision = r.precision;
  if (typeof r.iterations === 'number' && Number.isInteger(r.iterations) && r.iterations >= 1) out.iterations = r.iterations;
  return out;
}

/** Puts the last choice first and marks it, keeping the others' order. */
export function lastFirst<T extends { value: string; description?: string }>(items: T[], last: string | undefined): T[] {
  const i = last === undefined ? -1 : items.findIndex((x) => x.value === last);
  if (i < 0) return items;
  const chosen = { ...items[i]!, description: items[i]!.description ? `${items[i]!.description} · last used` : 'last used' };
  return [chosen, ...items.slice(0, i), ...items.slice(i + 1)];
}
