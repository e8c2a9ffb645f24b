// Run ids: sortable by time, readable, unique. Its own module (no agent code): clients make ids
// too, and the extension's bundle must not pull in the agent's model generator to get one.
import { randomBytes } from 'node:crypto';
import type { RunSpec } from './protocol';

export function newRunId(spec: Pick<RunSpec, 'model' | 'backend' | 'precision'>, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  // Run ids become file names on the device and in the workspace: no '..' (a path's parent), only
  // the characters isSafeRunId accepts, whatever the model's file is called.
  const model = (spec.model.split(/[\\/]/).pop() ?? 'model').replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/\.{2,}/g, '_').slice(0, 40);
  return `${stamp}-${model}-${spec.backend}-${spec.precision}-${randomBytes(3).toString('hex')}`;
}

/** Run ids become file names: only what newRunId produces (and client-chosen ids like it). */
export function isSafeRunId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/.test(id) && !id.includes('..');
}
