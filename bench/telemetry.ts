// What does sampling telemetry cost the measurement? Median latency with telemetry off, at 10 Hz
// and at 100 Hz, interleaved (off, 10, 100, off, 10, 100, ...) so drift hits every mode, each run
// a fresh CLI process as a user's would be. The sensors are an Orin Nano's sysfs tree
// (test/helpers/jetsonTrees.ts): the same files and reads as on a board; "off" points the agent at
// an empty root (no sensor, no sampling). Prints each mode's median of medians, its ratio to off,
// and the sampling rates achieved.
// Usage: npm run bench:telemetry -- [--model yolov5n] [--rounds 5] [--iterations 100] [--threads 1]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunFile } from '../contract/protocol';
import { computeStats } from '../contract/stats';
import { writeJetsonTree } from '../test/helpers/jetsonTrees';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'yolov5n' },
    rounds: { type: 'string', default: '5' },
    iterations: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '10' },
    threads: { type: 'string', default: '1' },
  },
});
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'jetbench-bench-telemetry-'));
const orin = writeJetsonTree(path.join(scratch, 'orin'), 'orin-nano-jp6');
const empty = mkdtempSync(path.join(scratch, 'empty-'));
const modes = [
  { name: 'off', env: { JETBENCH_DEVICE_ROOT: empty } },
  { name: '10 Hz', env: { JETBENCH_DEVICE_ROOT: orin, JETBENCH_TELEMETRY_HZ: '10', JETBENCH_TELEMETRY_IDLE_MS: '0' } },
  { name: '100 Hz', env: { JETBENCH_DEVICE_ROOT: orin, JETBENCH_TELEMETRY_HZ: '100', JETBENCH_TELEMETRY_IDLE_MS: '0' } },
];
const medians = new Map<string, number[]>(modes.map((m) => [m.name, []]));
const rates = new Map<string, number[]>(modes.map((m) => [m.name, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const mode of modes) {
    const out = path.join(scratch, `${round}-${mode.name.replace(' ', '')}.json`);
    const r = spawnSync(process.execPath, [cli, 'bench', '--model', values.model!, '--warmup', values.warmup!, '--iterations', values.iterations!, '--threads', values.threads!, '--quiet', '--out', out], {
      env: { ...process.env, ...mode.env },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${mode.name}: ${r.stderr}`);
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunFile;
    medians.get(mode.name)!.push(run.stats!.medianMs);
    if (run.telemetry) rates.get(mode.name)!.push(run.telemetry.achievedHz);
    process.stdout.write(`round ${round + 1} ${mode.name}: median ${run.stats!.medianMs.toFixed(3)} ms${run.telemetry ? `, ${run.telemetry.achievedHz} Hz achieved` : ''}\n`);
  }
}
const off = computeStats(medians.get('off')!)!.medianMs;
process.stdout.write(`\n${values.model}, ${values.iterations} iterations, ${values.threads} thread(s), ${values.rounds} rounds interleaved\n`);
for (const mode of modes) {
  const m = computeStats(medians.get(mode.name)!)!.medianMs;
  const hz = rates.get(mode.name)!;
  process.stdout.write(`${mode.name.padEnd(7)} median of medians ${m.toFixed(3)} ms, ratio to off ${(m / off).toFixed(3)}${hz.length ? `, achieved ${Math.min(...hz)}-${Math.max(...hz)} Hz` : ''}\n`);
}
