// `jetbench import trtexec LOG --times TIMES.json [--profile PROFILE.json]`: a run file from
// trtexec's outputs (issue 19 item 2), so folders of past trtexec experiments become runs that
// compare, report and the panels read like any other. The transformation is the contract's
// (contract/trtexecRun.ts); this reads and hashes the files and writes the run.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PRECISIONS, type ImportedFile, type RunFile } from '../../contract/protocol';
import { newRunId } from '../../contract/runId';
import { formatMs, trtexecSummaryCheck } from '../../contract/format';
import { parseTrtexecProfile, parseTrtexecTimes, readTrtexecLog, type TrtexecLayerProfile } from '../../contract/trtexec';
import { TRTEXEC_IMPORT_SPANS, trtexecRun } from '../../contract/trtexecRun';
import { formatBenchTable } from '../core/report';
import { resolveRunOutput, writeRunFile } from '../core/runStore';
import { oneOf, parse, UsageError } from './args';
import { HELP } from './help';
import type { CliIo } from './io';

async function readInput(cwd: string, given: string, role: ImportedFile['role']): Promise<{ text: string; file: ImportedFile }> {
  const file = path.resolve(cwd, given);
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : code === 'EACCES' ? 'not readable (permission denied)' : (e as Error).message;
    throw new Error(`cannot read the trtexec ${role} ${given}: ${why}`, { cause: e });
  }
  return { text: data.toString('utf8'), file: { role, path: file, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length } };
}

export function importCheckLine(run: RunFile): string | null {
  return trtexecSummaryCheck(run);
}

export async function importRun(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      times: { type: 'string' },
      profile: { type: 'string' },
      span: { type: 'string' },
      precision: { type: 'string' },
      label: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    io.out(HELP.import);
    return 0;
  }
  const [tool, logArg, ...extra] = positionals;
  if (tool !== 'trtexec') throw new UsageError(`import reads trtexec's outputs: jetbench import trtexec LOG --times TIMES.json${tool ? ` ('${tool}' is not a tool it reads)` : ''}`);
  if (!logArg || extra.length > 0) throw new UsageError('import trtexec needs exactly one LOG (the text trtexec printed) and --times FILE');
  const span = oneOf('span', values.span, TRTEXEC_IMPORT_SPANS, 'gpu-compute');
  const precision = values.precision === undefined ? undefined : oneOf('precision', values.precision, PRECISIONS, 'fp32');
  const logInput = await readInput(io.cwd, logArg, 'log');
  const log = readTrtexecLog(logInput.text, logArg);
  if (!values.times) {
    const s = log.summary;
    const said = s ? ` (its summary: GPU compute median ${formatMs(s.gpuCompute.medianMs)} ms, latency median ${formatMs(s.latency.medianMs)} ms)` : '';
    throw new UsageError(
      `import trtexec needs --times FILE, the per-query times trtexec writes with --exportTimes=FILE: jetbench's statistics, histogram, verdict and comparisons are computed from samples, and the log${said} holds none. Rerun trtexec with --exportTimes=times.json and import both`,
    );
  }
  const timesInput = await readInput(io.cwd, values.times, 'times');
  const times = parseTrtexecTimes(timesInput.text, values.times, { warmupQueries: log.warmup?.queries, measuredQueries: log.trace?.queries });
  const files = [logInput.file, timesInput.file];
  let profile: TrtexecLayerProfile | undefined = log.profile;
  if (values.profile) {
    const profileInput = await readInput(io.cwd, values.profile, 'profile');
    profile = parseTrtexecProfile(profileInput.text, values.profile);
    files.push(profileInput.file);
  }
  const importedAt = new Date();
  const probe = trtexecRun({ id: 'x', log, times, files, span, label: values.label ?? null, importedAt, ...(profile ? { profile } : {}), ...(precision ? { precision } : {}) });
  const id = newRunId({ model: probe.spec.model.replace(/\.(engine|trt|plan)$/i, ''), backend: 'tensorrt', precision: probe.spec.precision }, importedAt);
  const run: RunFile = { ...probe, id };
  const outFile = await resolveRunOutput(io.cwd, values.out ?? null, id);
  await writeRunFile(outFile, run);
  const shown = path.relative(io.cwd, outFile) || outFile;
  if (values.json) {
    io.out(JSON.stringify({ file: outFile, id, status: run.status, samples: run.samples.latencyMs.length, span: run.timing.span, reported: run.imported?.reported ?? null, stats: run.stats }, null, 2) + '\n');
  } else {
    io.out(formatBenchTable(run) + '\n');
    const line = importCheckLine(run);
    if (line) io.out(line + '\n');
    if (times.warmupDropped > 0) io.out(`(${times.warmupDropped} warm-up queries at the start of the times file were left out, as the log's "Warmup completed" says)\n`);
    io.out(`run file: ${shown}\n`);
  }
  return run.status === 'ok' ? 0 : 1;
}
