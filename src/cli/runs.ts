// `jetbench runs --device D`: the runs the device's agent knows (live and persisted);
// `jetbench fetch --device D RUN_ID`: copies one into the workspace's run store.
import path from 'node:path';
import { AttachRunRequest, GetRunRequest, ListRunsRequest, type RunFile, type RunSummary } from '../../contract/protocol';
import { resolveRunOutput, writeRunFile } from '../core/runStore';
import { parse, UsageError } from './args';
import { HELP } from './help';
import { connectCliDevice } from './sshHooks';
import type { CliIo } from './io';

const DEVICE_OPTIONS = {
  device: { type: 'string' },
  'accept-new-host-key': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function formatRuns(list: RunSummary[]): string {
  if (list.length === 0) return 'no runs on this device';
  const rows = [
    ['Run', 'State', 'Created', 'Model', 'Backend', 'Prec.', 'Samples', 'Median (ms)'],
    ...list.map((r) => [
      r.id,
      r.state,
      r.createdAt.replace('T', ' ').replace(/\..*$/, ''),
      r.model.length > 30 ? `...${r.model.slice(-27)}` : r.model,
      r.backend,
      r.precision,
      `${r.measureCount}${r.warmupCount ? ` (+${r.warmupCount} warm-up)` : ''}`,
      r.medianMs === null ? '-' : r.medianMs.toFixed(2),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export async function runs(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, DEVICE_OPTIONS, false);
  if (values.help) {
    io.out(HELP.runs);
    return 0;
  }
  if (!values.device) throw new UsageError('runs needs --device NAME');
  const agent = await connectCliDevice(values.device, io, { acceptNewHostKey: values['accept-new-host-key'], quiet: values.json });
  try {
    const { runs: list } = await agent.connection.sendRequest(ListRunsRequest);
    io.out((values.json ? JSON.stringify(list, null, 2) : formatRuns(list)) + '\n');
    return 0;
  } finally {
    await agent.dispose();
  }
}

export async function fetchRun(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...DEVICE_OPTIONS, out: { type: 'string' }, wait: { type: 'boolean', default: false } }, true);
  if (values.help) {
    io.out(HELP.fetch);
    return 0;
  }
  if (!values.device) throw new UsageError('fetch needs --device NAME');
  if (positionals.length !== 1) throw new UsageError('fetch needs exactly one RUN_ID (see jetbench runs --device ...)');
  const runId = positionals[0]!;
  const outFile = await resolveRunOutput(io.cwd, values.out ?? null, runId);
  const agent = await connectCliDevice(values.device, io, { acceptNewHostKey: values['accept-new-host-key'], quiet: values.json });
  let run: RunFile;
  try {
    run = values.wait
      ? await agent.connection.sendRequest(AttachRunRequest, { runId, warmupOffset: 0, measureOffset: 0 })
      : await agent.connection.sendRequest(GetRunRequest, { runId });
  } finally {
    await agent.dispose();
  }
  await writeRunFile(outFile, run);
  if (values.json) io.out(JSON.stringify({ file: outFile, id: run.id, status: run.status, samples: run.samples.latencyMs.length }, null, 2) + '\n');
  else io.out(`fetched run ${run.id} (${run.status}, ${run.samples.latencyMs.length} samples) to ${path.relative(io.cwd, outFile) || outFile}\n`);
  return 0;
}
