// What does sampling telemetry cost the measurement? Median latency with telemetry off, at 10 Hz
// and at 100 Hz, interleaved in one run: one process, one ONNX Runtime session, blocks of
// inferences with the agent's own sampler (TelemetryWatch: its worker thread reading the sysfs
// files, the readings passed to the main thread, the live feed serialised twice a second as the
// daemon sends it) running or not. Each round runs one block per mode, the order rotated from
// round to round so no mode always goes first; a round's ratios (block median / the "off"
// block's median) pair blocks seconds apart, so the machine's drift between rounds cancels. The
// sensors are an Orin Nano's sysfs tree (test/helpers/jetsonTrees.ts): the same files and reads as
// on a board.
//
// Prints each mode's ratio to off (geometric mean of the rounds' ratios) with its 95% interval
// (Student's t on the log ratios), whether that interval shows the 1.01 bound, and the sampling
// rates achieved.
// Usage: npm run bench:telemetry -- [--model yolov5n] [--rounds 60] [--block 15] [--settle 12] [--threads 1 (0: ONNX Runtime's default, every core)]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { computeStats, studentTQuantile } from '../contract/stats';
import { TelemetryWatch } from '../device-agent/src/telemetry/watch';
import { resolveModel } from '../models/src/index';
import { writeJetsonTree } from '../test/helpers/jetsonTrees';
import { openBareSession } from './ortSession';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'yolov5n' },
    rounds: { type: 'string', default: '60' },
    block: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '20' },
    settle: { type: 'string', default: '12' },
    threads: { type: 'string', default: '1' },
  },
});
const rounds = Number(values.rounds);
const block = Number(values.block);
const BOUND = 1.01;

const modes = [{ name: 'off', hz: 0 }, { name: '10 Hz', hz: 10 }, { name: '100 Hz', hz: 100 }];

/** The rounds' ratios' geometric mean and its 95% interval (t on the logs; the point when one round). */
function ratioWithInterval(ratios: readonly number[]): { ratio: number; ci: [number, number] } {
  const logs = computeStats(ratios.map(Math.log))!;
  const half = ratios.length > 1 ? (studentTQuantile(0.975, ratios.length - 1) * logs.stdMs) / Math.sqrt(ratios.length) : 0;
  return { ratio: Math.exp(logs.meanMs), ci: [Math.exp(logs.meanMs - half), Math.exp(logs.meanMs + half)] };
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'jetbench-bench-telemetry-'));
  try {
    const orin = writeJetsonTree(path.join(scratch, 'orin'), 'orin-nano-jp6');
    const { path: modelPath } = await resolveModel(values.model!, { opset: 13 });
    const session = await openBareSession(modelPath, Number(values.threads));
    for (let i = 0; i < Number(values.warmup); i++) await session.timedRun();
    const ratios = new Map<string, number[]>(modes.map((m) => [m.name, []]));
    const rates = new Map<string, number[]>(modes.map((m) => [m.name, []]));
    let fedBytes = 0;
    for (let round = 0; round < rounds; round++) {
      const medians = new Map<string, number>();
      const order = modes.map((_, i) => modes[(i + round) % modes.length]!);
      for (const mode of order) {
        const watch = mode.hz > 0 ? await TelemetryWatch.open(orin, mode.hz) : null;
        if (mode.hz > 0 && !watch) throw new Error(`no sensor readable in ${orin}`);
        await watch?.start();
        watch?.mark('measure');
        // What the daemon does with each live batch: serialise it for the client.
        watch?.feed((batch) => (fedBytes += JSON.stringify(batch).length));
        // A run's sampler starts before its idle baseline and warm-up, so the worker thread's own
        // start (~0.5 s of a second core here) is over when measuring begins: untimed inferences
        // after it, in every mode alike (with 3, the blocks at 10 and 100 Hz both read ~1% slower
        // than off on a 2-core VM: the worker starting, not the sampling).
        for (let i = 0; i < Number(values.settle); i++) await session.timedRun();
        const samples: number[] = [];
        for (let i = 0; i < block; i++) samples.push(await session.timedRun());
        const telemetry = await watch?.finish(block);
        if (telemetry) rates.get(mode.name)!.push(telemetry.achievedHz);
        medians.set(mode.name, computeStats(samples)!.medianMs);
      }
      const off = medians.get('off')!;
      for (const mode of modes) ratios.get(mode.name)!.push(medians.get(mode.name)! / off);
      process.stdout.write(`round ${String(round + 1).padStart(2)} (${order.map((m) => m.name).join(', ')}): ${modes.map((m) => `${m.name} ${medians.get(m.name)!.toFixed(3)} ms`).join(', ')}\n`);
    }
    await session.release();
    process.stdout.write(`\n${values.model}, ${values.threads === '0' ? "ONNX Runtime's default threads" : `${values.threads} thread(s)`}, ${rounds} rounds of ${block} inferences per mode, CPU ${os.cpus()[0]?.model} x ${os.cpus().length}; ${(fedBytes / 1e6).toFixed(1)} MB of live batches serialised\n`);
    for (const mode of modes.slice(1)) {
      const { ratio, ci } = ratioWithInterval(ratios.get(mode.name)!);
      const hz = rates.get(mode.name)!;
      const verdict = ci[1] <= BOUND ? `within the ${BOUND} bound` : ci[0] > BOUND ? `over the ${BOUND} bound` : `not decided at this noise (the interval straddles ${BOUND})`;
      process.stdout.write(`${mode.name.padEnd(7)} ratio to off ${ratio.toFixed(4)} (95% ${ci[0].toFixed(4)}-${ci[1].toFixed(4)}): ${verdict}; achieved ${Math.min(...hz).toFixed(2)}-${Math.max(...hz).toFixed(2)} Hz\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
