// How often does compare call identical configurations different, and how often does it catch a
// real slowdown? Measures, through the local agent, runs of --trials K each:
//   identical  R runs of one configuration, every pair compared: the false-positive rate;
//   10%        R interleaved pairs (A B A B ...) of a conv chain of L layers and one of 1.1 L: the
//              detection rate of a known ~10% slowdown (the measured ratio is printed too);
//   2x         R interleaved pairs of L and 2 L layers: should be detected every time.
// Every comparison is report.ts's (the table's "Different?" column), so this measures what users see.
// Usage: npm run bench:compare -- [--model yolov5n] [--runs 5] [--pairs 5] [--trials 5]
//          [--iterations 20] [--warmup 5] [--threads 1] [--layers 20] [--only identical,10%,2x]
//          [--agent-per-run]   (each identical run in a new agent process, as separate CLI runs are)
//          [--interleave]      (measure through `jetbench bench --vs`: the identical runs, and each
//                               pair, trial by trial A B A B ..., every trial in a fresh process)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunFile, RunSpec } from '../contract/protocol';
import { compareTrials, computeStats, trialMedians } from '../contract/stats';
import { startLocalAgent } from '../src/core/agentConnection';
import { runOnAgent } from '../src/core/runClient';
import { compareTable } from '../src/core/report';
import { convChain } from '../test/helpers/convChain';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'yolov5n' },
    runs: { type: 'string', default: '5' },
    pairs: { type: 'string', default: '5' },
    trials: { type: 'string', default: '5' },
    iterations: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    layers: { type: 'string', default: '20' },
    only: { type: 'string', default: 'identical,10%,2x' },
    'agent-per-run': { type: 'boolean', default: false },
    interleave: { type: 'boolean', default: false },
  },
});
const n = (k: 'runs' | 'pairs' | 'trials' | 'iterations' | 'warmup' | 'threads' | 'layers') => Number(values[k]);

type Agent = Awaited<ReturnType<typeof startLocalAgent>>;

async function measure(agent: Agent, model: string, label: string): Promise<RunFile> {
  const spec: RunSpec = {
    device: 'local', model, backend: 'onnxruntime', precision: 'fp32', warmup: n('warmup'), warmupMs: 0, iterations: n('iterations'),
    durationS: 0, trials: n('trials'), threads: n('threads'), inputShape: null, opset: 13, label,
  };
  const { run } = await runOnAgent(agent.rpc, spec, {});
  if (run.status !== 'ok') throw new Error(`${label}: ${run.status} ${run.error ?? ''}`);
  return run;
}

let series = 0;
/** Configurations measured interleaved by the CLI (bench --vs), one run each, in their order. */
function measureInterleaved(configs: Array<{ model: string; label: string }>): RunFile[] {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'jetbench-compare-')), `series-${series++}`);
  mkdirSync(out);
  const [first, ...rest] = configs;
  const args = ['bench', '--model', first!.model, '--label', first!.label, '--trials', values.trials, '--warmup', values.warmup, '--iterations', values.iterations, '--threads', values.threads, '--quiet', '--out', out];
  for (const c of rest) args.push('--vs', `--model ${c.model} --label '${c.label}'`);
  execFileSync(process.execPath, [path.join(__dirname, '..', 'dist', 'cli.js'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const runs = readdirSync(out).map((f) => JSON.parse(readFileSync(path.join(out, f), 'utf8')) as RunFile);
  return runs.sort((a, b) => a.interleaved!.position - b.interleaved!.position);
}

/** The table's "Different?" cell for candidate against baseline, and the trials' ratio. */
function judge(baseline: RunFile, candidate: RunFile): { cell: string; different: boolean; ratio: number } {
  const cell = compareTable([baseline, candidate], 0).rows[1]![9]!;
  const c = compareTrials(trialMedians(baseline.trials), trialMedians(candidate.trials));
  return { cell, different: /^(faster|slower)/.test(cell), ratio: c?.ratio ?? candidate.stats!.medianMs / baseline.stats!.medianMs };
}

const verdicts = (runs: RunFile[]) => runs.map((r) => r.validity?.verdict ?? 'none').join(' ');

async function interleaved(agent: Agent, a: string, b: string, pairs: number, name: string) {
  const results: Array<ReturnType<typeof judge>> = [];
  const runsA: RunFile[] = [];
  const runsB: RunFile[] = [];
  for (let i = 0; i < pairs; i++) {
    if (values.interleave) {
      const [ra, rb] = measureInterleaved([{ model: a, label: `${name} A${i}` }, { model: b, label: `${name} B${i}` }]);
      runsA.push(ra!);
      runsB.push(rb!);
    } else {
      runsA.push(await measure(agent, a, `${name} A${i}`));
      runsB.push(await measure(agent, b, `${name} B${i}`));
    }
    const r = judge(runsA[i]!, runsB[i]!);
    results.push(r);
    console.log(`  pair ${i + 1}: ratio ${r.ratio.toFixed(3)} -> ${r.cell}`);
  }
  const all = (runs: RunFile[]) => computeStats(runs.flatMap((r) => trialMedians(r.trials)))!.medianMs;
  const detected = results.filter((r) => r.different && r.ratio > 1).length;
  console.log(`${name}: detected as slower in ${detected} of ${pairs} pairs; measured ratio (median of all trial medians) ${(all(runsB) / all(runsA)).toFixed(3)}; verdicts A: ${verdicts(runsA)}; B: ${verdicts(runsB)}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-compare-'));
  const only = new Set(values.only.split(','));
  const L = n('layers');
  console.log(`trials ${n('trials')} x (warm-up ${n('warmup')} + ${n('iterations')} iterations), threads ${n('threads')}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model})`);
  const agent = await startLocalAgent({ client: 'bench-compare' });
  try {
    if (only.has('identical')) {
      const runs: RunFile[] = values.interleave ? measureInterleaved(Array.from({ length: n('runs') }, (_, i) => ({ model: values.model, label: `identical ${i}` }))) : [];
      for (let i = 0; i < n('runs') && !values.interleave; i++) {
        if (!values['agent-per-run']) runs.push(await measure(agent, values.model, `identical ${i}`));
        else {
          const own = await startLocalAgent({ client: 'bench-compare' });
          try {
            runs.push(await measure(own, values.model, `identical ${i}`));
          } finally {
            await own.dispose();
          }
        }
      }
      let pairs = 0;
      let different = 0;
      for (let i = 0; i < runs.length; i++)
        for (let j = i + 1; j < runs.length; j++) {
          const r = judge(runs[i]!, runs[j]!);
          pairs++;
          if (r.different) different++;
          console.log(`  runs ${i + 1} vs ${j + 1}: ratio ${r.ratio.toFixed(3)} -> ${r.cell}`);
        }
      console.log(`identical (${values.model}${values.interleave ? ', interleaved by bench --vs' : values['agent-per-run'] ? ', a new agent per run' : ''}): reported different in ${different} of ${pairs} pairs (false-positive rate ${((100 * different) / pairs).toFixed(0)}%), "no meaningful difference" in ${pairs - different}; verdicts: ${verdicts(runs)}`);
    }
    const base = convChain(L, path.join(dir, `chain-${L}.onnx`));
    if (only.has('10%')) await interleaved(agent, base, convChain(Math.round(L * 1.1), path.join(dir, `chain-${Math.round(L * 1.1)}.onnx`)), n('pairs'), `10% (${L} vs ${Math.round(L * 1.1)} conv layers)`);
    if (only.has('2x')) await interleaved(agent, base, convChain(2 * L, path.join(dir, `chain-${2 * L}.onnx`)), n('pairs'), `2x (${L} vs ${2 * L} conv layers)`);
  } finally {
    await agent.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
