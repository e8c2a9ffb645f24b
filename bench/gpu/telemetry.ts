// The agent's telemetry (TelemetryWatch with NVML) around a real GPU load, on the GPU machine
// (issue 14). Bundled with esbuild and run with a carried Node:
//   node telemetry.js light|heavy SECONDS   (prints the run file's telemetry summary as JSON)
// The load (bench/gpu/gpu_load.py) holds its CUDA context idle for 3 s (the idle phase), then runs;
// its iterations stand in for inferences.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { telemetryFindings, telemetryLines, telemetryNotChecked } from '../../contract/telemetry';
import { TelemetryWatch } from '../../device-agent/src/telemetry/watch';

async function main(): Promise<void> {
  const [kind = 'light', seconds = '10'] = process.argv.slice(2);
  const watch = await TelemetryWatch.open('/', Number(process.env.JETBENCH_TELEMETRY_HZ ?? 10), 'python3');
  if (!watch) throw new Error('no telemetry source on this machine');
  await watch.start();
  const load = spawn('python3', [path.join(process.env.JETBENCH_ROOT ?? '.', 'bench/gpu/gpu_load.py'), kind, seconds, '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let count = 0;
  for await (const line of createInterface({ input: load.stdout })) {
    if (line === 'context') watch.mark('idle');
    else if (line === 'start') watch.mark('measure');
    else if (line.startsWith('done')) count = Number(line.split(' ')[1]);
  }
  const t = await watch.finish(count);
  const { series, ...rest } = t;
  process.stdout.write(JSON.stringify({ kind, seconds: Number(seconds), iterations: count, lines: telemetryLines(t), findings: telemetryFindings(t).map((f) => ({ code: f.code, severity: f.severity, summary: f.summary })), notChecked: telemetryNotChecked(t), summary: rest, samples: series.tMs.length, series }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
