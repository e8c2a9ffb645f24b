// `jetbench bench ... --vs FLAGS`: configurations measured interleaved (issue 13). Each round
// measures one trial of every configuration in turn (A B A B ...), so a machine that drifts (clocks,
// other load, a VM's neighbours) moves every configuration alike instead of whichever ran last.
// Every trial is a one-trial run through the same client as `bench` (on a local device a fresh
// agent process each, as `--trials` gives); each configuration's trials are then joined into one
// run file of K trials (contract/trialMerge.ts) and the runs are compared.
import { fidelityLines } from '../../contract/format';
import path from 'node:path';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc';
import { AgentErrorCode, type RunFile, type RunSpec } from '../../contract/protocol';
import { newRunId } from '../../contract/runId';
import { mergeTrialRuns } from '../../contract/trialMerge';
import { formatBenchTable, formatCompareTable } from '../core/report';
import { resolveRunOutput, saveRunFile } from '../core/runStore';
import { UsageError, type BenchArgs } from './args';
import type { CliIo } from './io';
import { EXIT_INTERRUPTED, interruptHandler, measureOnDevice, runSummaryJson } from './measureOnDevice';

/** Trials each configuration gets when `--vs` is given without `--trials`: enough for compare to
 * judge from the spread between trials (a Welch interval on 5 + 5 trial medians). */
export const VS_DEFAULT_TRIALS = 5;

const EXIT_OK = 0;
const EXIT_FAILURE = 1;

/** What tells the configurations apart, as a label for those the user did not label:
 * "precision fp16, threads 1". */
export function configurationLabels(specs: readonly RunSpec[]): string[] {
  const keys = [...new Set(specs.flatMap((s) => Object.keys(s)))].filter((k) => k !== 'label' && k !== 'trials');
  const value = (s: RunSpec, k: string) => JSON.stringify((s as unknown as Record<string, unknown>)[k] ?? null);
  const varying = keys.filter((k) => specs.some((s) => value(s, k) !== value(specs[0]!, k)));
  const shown = (k: string, v: unknown) =>
    v === undefined || v === null ? 'default' : typeof v === 'object' ? JSON.stringify(v) : k === 'model' ? path.basename(String(v)) : String(v);
  return specs.map((s) => s.label ?? varying.map((k) => `${k} ${shown(k, (s as unknown as Record<string, unknown>)[k])}`).join(', '));
}

export async function benchInterleaved(parsed: BenchArgs, io: CliIo): Promise<number> {
  const specs = [parsed.spec, ...parsed.vs.map((v) => v.spec)];
  const labels = configurationLabels(specs);
  const same = labels.findIndex((l, i) => l === '' && i > 0);
  if (same >= 0) throw new UsageError(`--vs '${parsed.vs[same - 1]!.flags}' gives the same configuration as the command's own flags: change a setting (e.g. --precision, --threads, --model)`);
  const { trialsGiven } = parsed;
  const rounds = trialsGiven ? Math.max(...specs.map((s) => s.trials ?? 1)) : VS_DEFAULT_TRIALS;
  const configs = specs.map((s, i) => ({ spec: { ...s, label: labels[i]!, trials: 1 }, trials: trialsGiven ? (s.trials ?? 1) : VS_DEFAULT_TRIALS }));
  if (parsed.out !== null && /\.json$/i.test(parsed.out)) throw new UsageError(`--out ${parsed.out}: with --vs every configuration gets its own run file: give a directory`);
  // Before measuring anything: where each joined run goes (checked now, written at the end).
  const ids = configs.map((c) => newRunId(c.spec));
  // A trailing separator makes --out a directory that must exist (resolveRunOutput says so).
  const dir = parsed.out === null ? null : parsed.out.replace(/[\\/]*$/, '/');
  const files = await Promise.all(ids.map((id) => resolveRunOutput(io.cwd, dir, id)));
  const parts: RunFile[][] = configs.map(() => []);
  let stopped: 'cancelled' | 'failed' | null = null;
  let failure: string | null = null;
  // One Ctrl-C handler for the whole series: between two trials too (while the next trial's agent
  // starts) a Ctrl-C stops the series and keeps every trial measured.
  const interrupt = new CancellationTokenSource();
  const onSigint = interruptHandler(io, 'stopping the series and saving every trial measured so far', () => interrupt.cancel());
  process.on('SIGINT', onSigint);
  if (!parsed.quiet) io.err(`${configs.length} configurations, ${rounds} round${rounds > 1 ? 's' : ''} interleaved (${configs.map((_, i) => String.fromCharCode(65 + i)).join(' ')} ...): ${configs.map((c, i) => `${String.fromCharCode(65 + i)} = ${c.spec.label}`).join('; ')}\n`);
  try {
    for (let round = 0; round < rounds && !stopped; round++) {
      for (let i = 0; i < configs.length && !stopped; i++) {
        const c = configs[i]!;
        if (round >= c.trials) continue;
        if (interrupt.token.isCancellationRequested) {
          stopped = 'cancelled';
          break;
        }
        const title = `[${round + 1}/${rounds}] ${String.fromCharCode(65 + i)} ${c.spec.label}`;
        try {
          // A fidelity check (deterministic: the same frames, the same models) runs once, in the
          // configuration's last trial, not in every one.
          const { fidelity, ...rest } = c.spec;
          const spec = fidelity && round === c.trials - 1 ? c.spec : rest;
          const { run } = await measureOnDevice(spec, io, { out: null, quiet: parsed.quiet, acceptNewHostKey: parsed.acceptNewHostKey, title, store: false, token: interrupt.token });
          parts[i]!.push(run);
          if (run.status !== 'ok') stopped = run.status === 'cancelled' ? 'cancelled' : 'failed';
        } catch (e) {
          // A trial that ends without a run (cancelled before it measured anything, a device that
          // cannot be reached, an agent that fails to start) stops the series; the trials already
          // measured are still joined and saved below. With nothing measured, the error is the answer.
          if (e instanceof UsageError || parts.every((p) => p.length === 0)) throw e;
          const cancelled = e instanceof ResponseError && e.code === AgentErrorCode.Cancelled;
          stopped = cancelled ? 'cancelled' : 'failed';
          failure = `${title}: ${cancelled ? 'cancelled before it measured anything' : (e as Error).message}`;
        }
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  // Every configuration that measured anything is stored, the interrupted round included.
  const measured = configs.map((_, i) => i).filter((i) => parts[i]!.length > 0);
  const joined = measured.map((i) => mergeTrialRuns(parts[i]!, ids[i]!, { runs: measured.map((m) => ids[m]!), position: measured.indexOf(i), rounds: Math.max(...measured.map((m) => parts[m]!.length)) }));
  const stored: Array<{ run: RunFile; file: string }> = [];
  for (const [k, run] of joined.entries()) {
    const saved = await saveRunFile(files[measured[k]!]!, run);
    if (saved.fallbackReason) io.err(`jetbench: ${saved.fallbackReason}; the run is saved in ${saved.file} instead: move it where you want it\n`);
    stored.push({ run, file: saved.file });
  }
  if (parsed.json) {
    io.out(`[${stored.map((s) => runSummaryJson(s.run, s.file).trimEnd()).join(',\n')}]\n`);
  } else {
    for (const s of stored) {
      const fidelity = s.run.fidelity ? `${fidelityLines(s.run.fidelity).join('\n')}\n` : '';
      io.out(`${formatBenchTable(s.run)}\n${fidelity}run file: ${path.relative(io.cwd, s.file) || s.file}\n\n`);
    }
    if (stored.length > 1) io.out(`${formatCompareTable(stored.map((s) => s.run), 0, 'text')}\n`);
  }
  if (failure) io.err(`jetbench bench: ${failure}; the trials measured before it are saved\n`);
  if (stopped === 'cancelled') return EXIT_INTERRUPTED;
  if (stopped === 'failed') return EXIT_FAILURE;
  if (stored.some((s) => s.run.verification && !s.run.verification.passed)) {
    io.err('jetbench bench: the outputs of a configuration do not match onnxruntime (see Verification)\n');
    return EXIT_FAILURE;
  }
  if (parsed.strict && stored.some((s) => s.run.validity?.verdict === 'unreliable')) {
    io.err(`jetbench bench: a configuration's verdict is unreliable (--strict): ${stored.filter((s) => s.run.validity?.verdict === 'unreliable').map((s) => s.run.spec.label).join(', ')}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}
