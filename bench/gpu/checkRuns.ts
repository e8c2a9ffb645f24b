// Checks run files brought back from the GPU machine against the run-file schema and prints what
// each says (issue 15: the whole agent on the GPU machine, its run files checked here).
//   node --import tsx bench/gpu/checkRuns.ts DIR
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunFile } from '../../contract/protocol';
import { runFileProblems } from '../../contract/runFileCheck';

const dir = process.argv[2];
if (!dir) throw new Error('usage: checkRuns.ts DIR');
let bad = 0;
for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
  const data = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunFile;
  const problems = runFileProblems(data);
  if (problems.length) bad++;
  const t = data.telemetry;
  const v = data.verification;
  const fields = [
    data.status,
    data.stats ? `median ${data.stats.medianMs.toFixed(3)} ms, CoV ${data.stats.covPercent.toFixed(1)}%` : 'no stats',
    data.trials ? `trial medians ${data.trials.map((x) => x.stats?.medianMs.toFixed(2)).join(' ')}` : null,
    v ? `verify ${v.passed ? 'passed' : 'FAILED'} (max |diff| ${v.maxAbsDiff.toPrecision(3)}, ${v.mismatches} of ${v.elements} outside)` : null,
    t ? `energy/inf ${t.energyPerInferenceMj ?? '-'} mJ, above idle ${t.energyPerInferenceAboveIdleMj ?? '-'} mJ, phases ${t.phases.map((p) => `${p.phase} ${p.meanPowerW ?? '-'} W`).join(', ')}` : null,
    data.timing.executionProvider,
    problems.length ? `SCHEMA: ${problems.join('; ')}` : 'schema ok',
  ].filter(Boolean);
  console.log(`${f}: ${fields.join(' | ')}`);
}
process.exitCode = bad ? 1 : 0;
