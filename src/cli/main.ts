// `jetbench`: the command-line face of the same agent, run store and reports as the extension.
// Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (the run is saved as cancelled).
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc';
import { AgentErrorCode, DeviceInfoRequest, ListBackendsRequest } from '../../contract/protocol';
import { BUILTIN_MODEL_NAMES, describeBuiltinModels, generateModel } from '../../models/src/index';
import { DeviceError, withDeviceDefaults } from '../core/devices';
import { formatBenchTable, formatCompareTable, formatOperators, formatReport, formatVerification } from '../core/report';
import { checkOutputPath, listRuns, readRunFile, RUNS_DIR } from '../core/runStore';
import { fidelityLines, formatDeviceInfo } from '../../contract/format';
import { oneOf, parse, parseBenchArgs, UsageError, wholeNumber } from './args';
import { FIDELITY_DEFAULTS } from '../../contract/runSpec';
import { HELP } from './help';
import { closest } from './suggest';
import { pipeline } from './pipeline';
import { adaptive } from './adaptive';
import { AGENT_VERSION } from '../../contract/version';
import { connectCliDevice } from './sshHooks';
import type { CliIo } from './io';
import { EXIT_INTERRUPTED, measureOnDevice, runSummaryJson } from './measureOnDevice';
import { deploy } from './deploy';
import { fetchRun, runs } from './runs';
import { importRun } from './importRun';
import { benchInterleaved } from './interleave';
import { buildThroughRpc, rpcServer } from './buildRpc';
import { requestBuild } from './buildRequest';
import { takeRpcFlag } from './tvmRpc';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

/** What a new user can do with the run they just measured (stderr: the table stays clean). */
export function nextSteps(file: string): string {
  const f = /^[\w./-]+$/.test(file) ? file : `'${file.replace(/'/g, "'\\''")}'`;
  return [
    'next:',
    `  jetbench report ${f}                  a Markdown report (--format csv|json)`,
    `  jetbench compare ${f} <another run>   ratio and difference against a baseline`,
    '  in VS Code: the Jetbench view lists .jetbench/runs; Open Run shows histograms and percentiles',
    '',
  ].join('\n');
}

async function bench(args: string[], io: CliIo): Promise<number> {
  const parsed = parseBenchArgs(args);
  if (parsed === 'help') {
    io.out(HELP.bench);
    return EXIT_OK;
  }
  if (parsed.vs.length > 0) {
    return benchInterleaved(parsed, io);
  }
  const { spec } = parsed;
  const { run, outFile } = await measureOnDevice(spec, io, { ...parsed, title: `${spec.model} ${spec.backend} ${spec.precision}` });
  if (parsed.json) {
    io.out(runSummaryJson(run, outFile));
  } else {
    io.out(formatBenchTable(run) + '\n');
    if (run.verification) io.out(`Verification: ${formatVerification(run)}\n`);
    if (run.fidelity) io.out(`${fidelityLines(run.fidelity).join('\n')}\n`);
    if (run.operators?.length) io.out(`\n${formatOperators(run, 10, 'text')}\n`);
    const file = path.relative(io.cwd, outFile) || outFile;
    io.out(`run file: ${file}\n`);
    if (!parsed.quiet && run.status === 'ok') io.err(nextSteps(file));
  }
  if (run.status === 'cancelled') return EXIT_INTERRUPTED;
  // Outputs that disagree with the reference make the run's numbers worthless: say so by the exit code.
  if (run.verification && !run.verification.passed) {
    io.err(`jetbench bench: the outputs do not match onnxruntime (${formatVerification(run)})\n`);
    return EXIT_FAILURE;
  }
  if (parsed.strict && run.validity?.verdict === 'unreliable') {
    io.err(`jetbench bench: the run's verdict is unreliable (--strict): ${run.validity.findings.filter((f) => f.severity === 'unreliable').map((f) => f.code).join(', ')}\n`);
    return EXIT_FAILURE;
  }
  return run.status === 'ok' ? EXIT_OK : EXIT_FAILURE;
}

/** `jetbench fidelity`'s arguments as `bench`'s: --frames N and --source S are --fidelity N and
 * --fidelity-source S; without a model, nanodet-g in int8 (against its fp32); a short measurement
 * (20 iterations after 3 warm-up) unless told otherwise: the point is the accuracy. */
export function fidelityArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  const given = (flag: string) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^(--frames|--source)(?:=(.*))?$/s.exec(a);
    if (!m) {
      out.push(a);
      continue;
    }
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new UsageError(`${m[1]} needs a value`);
    out.push(m[1] === '--frames' ? '--fidelity' : '--fidelity-source', value);
  }
  if (!given('--frames') && !given('--fidelity')) out.push('--fidelity', String(FIDELITY_DEFAULTS.frames));
  if (!given('--model')) out.push('--model', 'nanodet-g', ...(given('--precision') ? [] : ['--precision', 'int8']));
  if (!given('--iterations')) out.push('--iterations', '20');
  if (!given('--warmup')) out.push('--warmup', '3');
  return out;
}

async function fidelityCommand(args: string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(HELP.fidelity);
    return EXIT_OK;
  }
  return bench(fidelityArgs(args), io);
}

async function build(args: string[], io: CliIo): Promise<number> {
  const { rest, rpc } = takeRpcFlag(args);
  const parsed = parseBenchArgs(rest);
  if (parsed === 'help') {
    io.out(HELP.build);
    return EXIT_OK;
  }
  if (rpc) return buildThroughRpc(parsed.spec, rpc, parsed, io);
  const agent = await connectCliDevice(parsed.spec.device, io, { acceptNewHostKey: parsed.acceptNewHostKey, quiet: parsed.quiet });
  const cancel = new CancellationTokenSource();
  const onSigint = () => cancel.cancel();
  process.on('SIGINT', onSigint);
  try {
    const result = await requestBuild(agent.connection, withDeviceDefaults(parsed.spec, agent.device), cancel.token, io, parsed.quiet);
    if (!result) return EXIT_INTERRUPTED;
    if (parsed.json) {
      io.out(JSON.stringify(result, null, 2) + '\n');
    } else {
      const a = result.artifact;
      io.out(
        `${result.cached ? 'reused' : 'built'} ${a.kind} ${a.path}\n` +
          `  size ${(a.bytes / 1e6).toFixed(2)} MB, build ${(a.buildMs / 1000).toFixed(1)} s, flags ${JSON.stringify(a.flags)}\n` +
          (result.tuningLog ? `  tuning log ${result.tuningLog}\n` : ''),
      );
    }
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSigint);
    await agent.dispose();
  }
}

/** A run argument is a file, a directory of run files, or a run id under .jetbench/runs. A file
 * named by the user must be a run; in a directory, a `.json` that is not one (a config, a damaged
 * file) is skipped and `note` says which and why. */
async function resolveRunArgs(items: string[], cwd: string, note: (text: string) => void): Promise<string[]> {
  const files: string[] = [];
  for (const item of items) {
    const p = path.resolve(cwd, item);
    const st = await stat(p).catch(() => null);
    if (st?.isDirectory()) {
      for (const listed of await listRuns(p)) {
        if (listed.run) files.push(listed.file);
        else note(`skipped ${path.relative(cwd, listed.file) || listed.file}: ${listed.problem?.message ?? 'not a run file'}\n`);
      }
    } else if (st) {
      files.push(p);
    } else {
      const byId = path.join(cwd, RUNS_DIR, `${item}.json`);
      if (await stat(byId).catch(() => null)) files.push(byId);
      else throw new Error(`run '${item}' not found: give a run file, a directory of run files, or a run id in ${RUNS_DIR}`);
    }
  }
  return files;
}

async function compare(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { baseline: { type: 'string' }, format: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    io.out(HELP.compare);
    return EXIT_OK;
  }
  const format = oneOf('format', values.format, ['text', 'md'] as const, 'text');
  const note = (text: string) => io.err(`jetbench compare: ${text}`);
  const files = await resolveRunArgs(positionals, io.cwd, note);
  let baselineIndex = 0;
  if (values.baseline !== undefined) {
    const [baseline] = await resolveRunArgs([values.baseline], io.cwd, note);
    if (baseline === undefined) throw new UsageError(`--baseline ${values.baseline} holds no run file`);
    baselineIndex = files.indexOf(baseline!);
    if (baselineIndex < 0) {
      files.unshift(baseline!);
      baselineIndex = 0;
    }
  }
  if (files.length < 2) throw new UsageError('compare needs at least two runs (files, directories or run ids)');
  const runs = await Promise.all(files.map(readRunFile));
  io.out(formatCompareTable(runs, baselineIndex, format) + '\n');
  return EXIT_OK;
}

async function report(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { format: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    io.out(HELP.report);
    return EXIT_OK;
  }
  const format = oneOf('format', values.format, ['md', 'csv', 'json'] as const, 'md');
  if (positionals.length === 0) throw new UsageError('report needs at least one run (a file, a directory of run files, or a run id)');
  const files = await resolveRunArgs(positionals, io.cwd, (text) => io.err(`jetbench report: ${text}`));
  if (files.length === 0) throw new UsageError(`no run files in ${positionals.join(', ')}`);
  const runs = await Promise.all(files.map(readRunFile));
  const text = formatReport(runs, format);
  if (values.out) {
    const out = path.resolve(io.cwd, values.out);
    await checkOutputPath(out, false);
    await writeFile(out, text);
  } else {
    io.out(text.endsWith('\n') ? text : text + '\n');
  }
  return EXIT_OK;
}

async function models(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' }, opset: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    io.out(HELP.models);
    return EXIT_OK;
  }
  const [sub, name, ...rest] = positionals;
  if (sub === undefined) {
    const list = await describeBuiltinModels();
    if (values.json) io.out(JSON.stringify(list, null, 2) + '\n');
    else io.out(formatModelList(list) + '\n');
    return EXIT_OK;
  }
  if (sub !== 'generate') throw new UsageError(`unknown models subcommand '${sub}': use 'jetbench models' or 'jetbench models generate NAME --out FILE'`);
  if (!name || rest.length > 0) throw new UsageError('usage: jetbench models generate NAME --out FILE [--opset 11|13]');
  if (!BUILTIN_MODEL_NAMES.includes(name)) throw new UsageError(`unknown built-in model '${name}': use one of ${BUILTIN_MODEL_NAMES.join(', ')}`);
  if (!values.out) throw new UsageError('models generate needs --out FILE');
  const opset = wholeNumber('opset', values.opset, 13, 1);
  if (opset !== 11 && opset !== 13) throw new UsageError(`--opset must be 11 or 13 (got ${opset})`);
  const out = path.resolve(io.cwd, values.out);
  await checkOutputPath(out, false);
  const bytes = await generateModel(name, { opset });
  await writeFile(out, bytes);
  io.out(`wrote ${name} (opset ${opset}, ${(bytes.length / 1e6).toFixed(1)} MB) to ${out}\n`);
  return EXIT_OK;
}

function formatModelList(list: Awaited<ReturnType<typeof describeBuiltinModels>>): string {
  const rows = [['Model', 'Precision', 'Params (M)', 'GFLOPs'], ...list.map((m) => [m.name, m.precision, (m.params / 1e6).toFixed(2), m.gflops.toFixed(1)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function info(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    { device: { type: 'string', default: 'local' }, json: { type: 'boolean' }, 'accept-new-host-key': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    false,
  );
  if (values.help) {
    io.out(HELP.info);
    return EXIT_OK;
  }
  const agent = await connectCliDevice(values.device, io, { acceptNewHostKey: values['accept-new-host-key'], quiet: !!values.json });
  try {
    const device = await agent.connection.sendRequest(DeviceInfoRequest);
    const { backends } = await agent.connection.sendRequest(ListBackendsRequest);
    if (values.json) io.out(JSON.stringify({ device, backends }, null, 2) + '\n');
    else io.out(formatDeviceInfo(device, backends) + '\n');
  } finally {
    await agent.dispose();
  }
  return EXIT_OK;
}

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = { bench, build, compare, report, models, info, pipeline, adaptive, fidelity: fidelityCommand, deploy, runs, fetch: fetchRun, import: importRun, 'rpc-server': rpcServer };

export async function cli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(HELP.main);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (command === '--version') {
    io.out(`${AGENT_VERSION}\n`);
    return EXIT_OK;
  }
  const handler = COMMANDS[command];
  if (!handler) {
    const near = closest(command, Object.keys(COMMANDS));
    io.err(`jetbench: unknown command '${command}'${near ? `: did you mean 'jetbench ${near}'?` : ''}\n\n${HELP.main}`);
    return EXIT_USAGE;
  }
  try {
    return await handler(rest, io);
  } catch (e) {
    // A run cancelled (Ctrl-C) before it started: nothing was measured, nothing to save.
    if (e instanceof ResponseError && e.code === AgentErrorCode.Cancelled) {
      io.err(`jetbench ${command}: ${e.message}\n`);
      return EXIT_INTERRUPTED;
    }
    if (e instanceof UsageError || e instanceof DeviceError) {
      io.err(`jetbench ${command}: ${e.message}\n(see: jetbench ${command} --help)\n`);
      return EXIT_USAGE;
    }
    io.err(`jetbench ${command}: ${(e as Error).message}\n`);
    return EXIT_FAILURE;
  }
}
