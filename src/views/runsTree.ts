// The Runs view's shape: runs grouped by model, then by device, newest first; files that are not
// runs the extension can show go in a group of their own with their problem. Pure code, unit-tested.
import type { RunFile } from '../../contract/protocol';
import { formatMs, modelName } from '../../contract/format';
import type { RunListing } from '../core/runStore';

export interface RunLeaf {
  kind: 'run';
  file: string;
  run: RunFile;
  label: string;
  description: string;
}

export interface ProblemLeaf {
  kind: 'problem';
  file: string;
  label: string;
  description: string;
  message: string;
}

export interface DeviceGroup {
  kind: 'device';
  /** Unique within the tree: model + device. */
  key: string;
  label: string;
  description: string;
  runs: RunLeaf[];
}

export interface ModelGroup {
  kind: 'model';
  key: string;
  label: string;
  description: string;
  devices: DeviceGroup[];
}

export interface ProblemGroup {
  kind: 'problems';
  key: 'problems';
  label: string;
  description: string;
  files: ProblemLeaf[];
}

export type RunsTreeNode = ModelGroup | DeviceGroup | RunLeaf | ProblemGroup | ProblemLeaf;

function baseName(file: string): string {
  return file.split(/[/\\]/).pop() ?? file;
}

/** "fp32 onnxruntime · median 3.21 ms", or the user's label first. */
export function runLabel(run: RunFile): string {
  const what = `${run.spec.backend} ${run.spec.precision}`;
  const status = run.status === 'ok' ? '' : ` (${run.status})`;
  return `${run.spec.label ? `${run.spec.label} — ${what}` : what}${status}`;
}

function runDescription(run: RunFile): string {
  const median = run.stats ? `median ${formatMs(run.stats.medianMs)} ms` : 'no statistics';
  const when = run.createdAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
  // A run whose numbers should not be quoted says so where it is listed (the panel says why).
  const verdict = run.validity && run.validity.verdict !== 'ok' ? ` · ${run.validity.verdict}` : '';
  return `${median}${verdict} · ${when}`;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

export function buildRunsTree(listings: readonly RunListing[]): Array<ModelGroup | ProblemGroup> {
  const models = new Map<string, Map<string, RunLeaf[]>>();
  const problems: ProblemLeaf[] = [];
  for (const l of listings) {
    if (!l.run) {
      problems.push({
        kind: 'problem',
        file: l.file,
        label: baseName(l.file),
        description: l.problem?.kind === 'newer' ? 'newer jetbench' : (l.problem?.kind ?? 'unreadable'),
        message: l.problem?.message ?? 'unreadable',
      });
      continue;
    }
    const model = modelName(l.run);
    const device = l.run.spec.device;
    const byDevice = models.get(model) ?? new Map<string, RunLeaf[]>();
    models.set(model, byDevice);
    const leaves = byDevice.get(device) ?? [];
    byDevice.set(device, leaves);
    leaves.push({ kind: 'run', file: l.file, run: l.run, label: runLabel(l.run), description: runDescription(l.run) });
  }
  const newestFirst = (a: RunLeaf, b: RunLeaf) => b.run.createdAt.localeCompare(a.run.createdAt) || a.file.localeCompare(b.file);
  const groups: Array<ModelGroup | ProblemGroup> = [...models.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, byDevice]): ModelGroup => {
      const devices = [...byDevice.entries()]
        .sort(([a], [b]) => (a === 'local' ? -1 : b === 'local' ? 1 : a.localeCompare(b)))
        .map(([device, runs]): DeviceGroup => {
          const hosts = [...new Set(runs.map((r) => r.run.device.hostname))];
          return {
            kind: 'device',
            key: `${model}\u0000${device}`,
            label: device,
            description: `${hosts.join(', ')} · ${plural(runs.length, 'run')}`,
            runs: runs.sort(newestFirst),
          };
        });
      const count = devices.reduce((n, d) => n + d.runs.length, 0);
      return { kind: 'model', key: model, label: model, description: `${plural(count, 'run')} on ${plural(devices.length, 'device')}`, devices };
    });
  if (problems.length > 0) {
    groups.push({
      kind: 'problems',
      key: 'problems',
      label: 'Files that are not runs',
      description: plural(problems.length, 'file'),
      files: problems.sort((a, b) => a.label.localeCompare(b.label)),
    });
  }
  return groups;
}
