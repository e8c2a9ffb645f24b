import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RUN_SCHEMA_VERSION, type ArtifactInfo, type BackendId, type Precision, type RunFile, type RunStatus } from '../../contract/protocol';
import { computeStats } from '../../contract/stats';
import { compareTable, formatBenchTable, formatCompareTable, formatReport, runNames } from '../../src/core/report';

interface RunOptions {
  id?: string;
  latencyMs: number[];
  backend?: BackendId;
  precision?: Precision;
  label?: string | null;
  builtin?: string | null;
  modelPath?: string;
  status?: RunStatus;
  error?: string;
  artifact?: ArtifactInfo | null;
}

/** A complete run file whose statistics come from its samples, as the agent computes them. */
function makeRun(o: RunOptions): RunFile {
  const builtin = o.builtin === undefined ? 'yolov5s' : o.builtin;
  const path = o.modelPath ?? `/home/nvidia/.cache/jetbench/models/${builtin ?? 'model'}.onnx`;
  const versions = { agent: '0.1.0', node: 'v20.11.0', onnxruntime: '1.18.0', cuda: '11.4', tensorrt: '8.5.2', tvm: null };
  return {
    schemaVersion: RUN_SCHEMA_VERSION,
    id: o.id ?? 'run-1',
    createdAt: '2024-05-01T10:00:00.000Z',
    finishedAt: '2024-05-01T10:01:00.000Z',
    spec: {
      device: 'xavier',
      model: builtin ?? path,
      backend: o.backend ?? 'tensorrt',
      precision: o.precision ?? 'fp16',
      warmup: 5,
      warmupMs: 0,
      iterations: o.latencyMs.length,
      durationS: 0,
      threads: null,
      inputShape: null,
      opset: 13,
      label: o.label ?? null,
    },
    device: {
      hostname: 'xavier-01',
      platform: 'linux',
      osRelease: '5.10.120-tegra',
      distro: 'Ubuntu 20.04.6 LTS',
      arch: 'arm64',
      cpuModel: 'ARMv8 Processor rev 0 (v8l)',
      cpuCount: 8,
      memoryBytes: 32e9,
      gpus: [{ name: 'Xavier', source: 'tegra', driverVersion: null, memoryBytes: null, computeCapability: '7.2' }],
      jetson: { model: 'NVIDIA Jetson AGX Xavier Developer Kit', l4t: 'R35 (release), REVISION: 4.1', jetpack: '5.1.2', powerMode: 'MODE_30W_ALL' },
      cpuGovernor: 'schedutil',
      versions,
    },
    versions,
    model: { builtin, path, sha256: 'ab'.repeat(32), bytes: 28_000_000, opset: 13, precision: 'fp32', inputs: [], outputs: [] },
    artifact: o.artifact ?? null,
    timing: { clock: 'host monotonic clock (performance.now), per iteration', spans: 'one inference call, host to host', executionProvider: 'cuda', threads: 4 },
    samples: { latencyMs: o.latencyMs, warmupLatencyMs: [40, 35, 31, 30, 29] },
    stats: computeStats(o.latencyMs),
    status: o.status ?? 'ok',
    ...(o.error !== undefined ? { error: o.error } : {}),
  };
}

/** n deterministic latencies around centreMs, spread +-spreadMs (a fixed LCG, no Math.random). */
function noisy(centreMs: number, spreadMs: number, n = 200, seed = 1): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return centreMs + spreadMs * (2 * (x / 2147483648) - 1);
  });
}

/** RFC 4180 parser, enough to read back what the report writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Cells of a Markdown table row: split on pipes not escaped by a backslash. */
const mdCells = (line: string) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/);

test('bench table shows the statistics of a known sample set', () => {
  const run = makeRun({ latencyMs: [19, 10, 18, 11, 17, 12, 16, 13, 15, 14] });
  const text = formatBenchTable(run);
  // mean 14.5, P95 = 18 + 0.55 * (19 - 18) (linear interpolation), median 14.5, n = 10 -> CI ranks 2 and 9.
  assert.match(text, /^Model yolov5s, backend tensorrt, precision fp16, device xavier \(xavier-01\): ok$/m);
  assert.match(text, /^Mean\s+14\.50 ms$/m);
  assert.match(text, /^P95\s+18\.55 ms$/m);
  assert.match(text, /^Min\s+10\.00 ms$/m);
  assert.match(text, /^Max\s+19\.00 ms$/m);
  assert.match(text, /^FPS\s+69\.0$/m); // 1000 / 14.5 = 68.97
  assert.match(text, /^CI95 of median\s+\[11\.00, 18\.00\] ms$/m);
  assert.match(text, /^Samples \(n\)\s+10 measured, 5 warm-up$/m);
  assert.match(text, /^Model size\s+28\.00 MB$/m);
  for (const metric of ['Median', 'P99', 'Std']) assert.match(text, new RegExp(`^${metric}\\s+\\d`, 'm'));
  // Values line up in one column.
  const valueColumns = new Set(text.split('\n').filter((l) => / ms$/.test(l)).map((l) => /^\S.*?\s{2,}/.exec(l)![0].length));
  assert.equal(valueColumns.size, 1, text);
});

test('bench table: sub-millisecond values get 3 decimals, an engine its size, a file model its name', () => {
  const run = makeRun({
    latencyMs: [0.5, 0.6, 0.7],
    builtin: null,
    modelPath: '/data/models/best.onnx',
    artifact: { kind: 'tensorrt-engine', path: '/cache/x.engine', bytes: 14_500_000, buildMs: 60000, flags: { fp16: true } },
  });
  const text = formatBenchTable(run);
  assert.match(text, /^Model best\.onnx,/m);
  assert.match(text, /^Mean\s+0\.600 ms$/m);
  assert.match(text, /^Engine size\s+14\.50 MB$/m);
});

test('a cancelled run with no measured iteration renders everywhere and says so', () => {
  const run = makeRun({ latencyMs: [], status: 'cancelled', error: 'cancelled by the user during warm-up' });
  assert.equal(run.stats, null);
  const bench = formatBenchTable(run);
  assert.match(bench, /: cancelled$/m);
  assert.match(bench, /CANCELLED: cancelled by the user during warm-up/);
  assert.match(bench, /No measured iterations/);
  assert.match(bench, /before any iteration was measured/);
  // Cancelled after some iterations: the statistics say what they cover.
  const partial = formatBenchTable(makeRun({ latencyMs: [20, 21, 22], status: 'cancelled' }));
  assert.match(partial, /^CANCELLED \(statistics cover the 3 iterations measured before it stopped\)$/m);
  assert.match(partial, /^Mean\s+21\.00 ms$/m);
  const ok = makeRun({ id: 'run-0', latencyMs: noisy(28.88, 2) });
  const cmp = formatCompareTable([ok, run], 0, 'text');
  // Same model, same minute: the names differ by the run id's suffix; the status is said.
  const row = cmp.split('\n').find((l) => l.startsWith('yolov5s 10:00:00 #run-1 (cancelled)'));
  assert.ok(row, cmp);
  assert.match(row, /n\/a\s+n\/a\s+n\/a\s+n\/a\s+28\.00\s+n\/a\s+n\/a\s/);
  // A baseline without statistics makes every verdict n/a rather than throwing.
  assert.match(formatCompareTable([run, ok], 0, 'text'), /baseline/);
  const md = formatReport([ok, run], 'md');
  assert.match(md, /\*\*CANCELLED: cancelled by the user during warm-up/);
  assert.match(md, /No measured iterations/);
  const csv = parseCsv(formatReport([run], 'csv'));
  const header = csv[0]!;
  const cells = Object.fromEntries(header.map((h, i) => [h, csv[1]![i]]));
  assert.equal(cells.status, 'cancelled');
  assert.equal(cells.count, '0');
  assert.equal(cells.meanMs, '');
  assert.equal(cells.medianCi95HiMs, '');
  const json = JSON.parse(formatReport([run], 'json')) as Array<{ stats: unknown; error: string }>;
  assert.equal(json[0]!.stats, null);
  assert.equal(json[0]!.error, 'cancelled by the user during warm-up');
});

test('a failed run shows its error', () => {
  const run = makeRun({ latencyMs: [], status: 'failed', error: 'engine build failed: out of memory' });
  assert.match(formatBenchTable(run), /^FAILED: engine build failed: out of memory$/m);
});

test('compare table: ratio is the speed-up over the baseline, the difference judged against the noise and the meaningful threshold', () => {
  const base = noisy(28.88, 2, 200, 1);
  const runs = [
    makeRun({ id: 'a', latencyMs: base, label: 'TRT FP16' }),
    makeRun({ id: 'b', latencyMs: base.map((v) => v / 2), label: 'half' }),
    makeRun({ id: 'c', latencyMs: base.map((v) => v + 0.001), label: 'same' }),
    makeRun({ id: 'd', latencyMs: noisy(112.56, 5, 200, 7), backend: 'tvm', precision: 'fp32', label: 'TVM' }),
  ];
  const text = formatCompareTable(runs, 0, 'text');
  const lines = text.split('\n');
  assert.match(lines[0]!, /^Run\s+Framework\s+Precision\s+Mean \(ms\)\s+Median \(ms\)\s+P95 \(ms\)\s+FPS\s+Size \(MB\)\s+Ratio vs baseline\s+Different\?\s+Sample spans$/);
  const row = (label: string) => lines.find((l) => l.startsWith(label + ' '))!;
  assert.match(row('TRT FP16'), /\s1\.00x\s+baseline\s/);
  assert.match(row('half'), /\s2\.00x\s+faster \(1 trial\)\s/);
  assert.match(row('same'), /\s1\.00x\s+no \(< 5%\)\s/);
  assert.ok(!/\byes\b/.test(text), 'nothing is called significant across single-trial runs');
  assert.match(row('TVM'), /^TVM\s+tvm\s+fp32\s/);
  assert.match(row('TVM'), /slower \(1 trial\)\s/);
  assert.match(row('TRT FP16'), new RegExp(`\\s${runs[0]!.stats!.medianMs.toFixed(2).replace('.', '\\.')}\\s`));
  assert.match(text, /Ratio vs baseline = baseline median \/ run median/);
  assert.match(text, /95% confidence intervals of the two medians .* overlap/);
  assert.match(text, /with a single trial, .*the noise between runs .* is unknown: repeat both configurations with --trials 5/);
  // Aligned: every row is as wide as the rule under the header (right-aligned numbers end together).
  const ratioEnd = lines[0]!.indexOf('Ratio vs baseline') + 'Ratio vs baseline'.length;
  for (const l of lines.slice(2, 6)) assert.equal(l.indexOf('x ', ratioEnd - 6), ratioEnd - 1, l);
});

test('compare: a baseline other than the first, and size from the artifact', () => {
  const engine: ArtifactInfo = { kind: 'tensorrt-engine', path: '/e', bytes: 15_000_000, buildMs: 1, flags: {} };
  const runs = [makeRun({ id: 'a', latencyMs: noisy(14, 1), label: 'fast', artifact: engine }), makeRun({ id: 'b', latencyMs: noisy(28, 1), label: 'slow' })];
  const text = formatCompareTable(runs, 1, 'text');
  assert.match(text, /^fast\s.*\s15\.00\s+2\.00x\s+faster \(1 trial\)\s/m);
  assert.match(text, /^slow\s.*\s28\.00\s+1\.00x\s+baseline\s/m);
  assert.throws(() => formatCompareTable(runs, 2, 'text'), RangeError);
});

test('Markdown compare table has the same number of columns in every row, pipes escaped', () => {
  const runs = [
    makeRun({ id: 'a', latencyMs: noisy(28.88, 2), label: 'fp16 | batch 1' }),
    makeRun({ id: 'b', latencyMs: noisy(63.37, 3), precision: 'fp32' }),
    makeRun({ id: 'c', latencyMs: [], status: 'cancelled' }),
  ];
  const md = formatCompareTable(runs, 0, 'md');
  const tableLines = md.split('\n').filter((l) => l.startsWith('|'));
  assert.equal(tableLines.length, 2 + runs.length);
  for (const l of tableLines) assert.equal(mdCells(l).length, 11, l);
  assert.match(tableLines[1]!, /^\| --- \| --- \| --- \| ---: \|/);
  assert.match(tableLines[2]!, /fp16 \\\| batch 1/);
  assert.match(md, /Different\? compares the medians/);
});

test('Markdown report: environment, metrics table per run, comparison for two or more runs', () => {
  const a = makeRun({ id: 'a', latencyMs: noisy(28.88, 2) });
  const b = makeRun({ id: 'b', latencyMs: noisy(63.37, 3), precision: 'fp32' });
  const md = formatReport([a, b], 'md');
  assert.match(md, /^## yolov5s: tensorrt fp16 on xavier-01$/m);
  assert.match(md, /Device: xavier-01 \(Ubuntu 20\.04\.6 LTS 5\.10\.120-tegra, arm64\)/);
  assert.match(md, /Jetson: NVIDIA Jetson AGX Xavier Developer Kit, L4T R35 \(release\), REVISION: 4\.1, JetPack 5\.1\.2, power mode MODE_30W_ALL/);
  assert.match(md, /Versions: agent 0\.1\.0, node v20\.11\.0, onnxruntime 1\.18\.0, CUDA 11\.4, TensorRT 8\.5\.2$/m);
  assert.doesNotMatch(md, /TVM null/);
  assert.match(md, new RegExp(`sha256 \`${'ab'.repeat(32)}\`, 28000000 bytes`));
  assert.match(md, /Spec: warm-up 5, iterations 200, duration 0 s, threads default \(4\)/);
  assert.match(md, /Timing: one inference call, host to host; host monotonic clock/);
  assert.match(md, new RegExp(`^\\| P95 \\| ${a.stats!.p95Ms.toFixed(2).replace('.', '\\.')} ms \\|$`, 'm'));
  const withEngine = formatReport([makeRun({ latencyMs: [1, 2], artifact: { kind: 'tensorrt-engine', path: '/e.engine', bytes: 5, buildMs: 61234, flags: { fp16: true, workspaceMiB: 1024 } } })], 'md');
  assert.match(withEngine, /Artifact: tensorrt-engine `\/e\.engine`, 5 bytes, built in 61\.2 s, flags `fp16=true workspaceMiB=1024`/);
  assert.match(md, /^## Comparison \(baseline: yolov5s 10:00:00 #[\w-]{1,6}\)$/m);
  for (const l of md.split('\n').filter((x) => x.startsWith('| Metric') || x.startsWith('| Mean |'))) assert.equal(mdCells(l).length, 2);
  assert.doesNotMatch(formatReport([a], 'md'), /Comparison/);
});

test('CSV: one header and one row per run, a model path with a comma and a quote round-trips', () => {
  const nasty = '/data/models/yolo, "v5s" final.onnx';
  const a = makeRun({ id: 'a', latencyMs: noisy(28.88, 2), builtin: null, modelPath: nasty });
  const b = makeRun({ id: 'b', latencyMs: [1, 2, 3, 4], artifact: { kind: 'tvm-module', path: '/m.so', bytes: 123, buildMs: 1, flags: {} } });
  const text = formatReport([a, b], 'csv');
  assert.ok(text.includes('"/data/models/yolo, ""v5s"" final.onnx"'), text);
  const rows = parseCsv(text);
  assert.equal(rows.length, 3);
  const header = rows[0]!;
  assert.deepEqual(header, [
    'id', 'createdAt', 'status', 'model', 'backend', 'precision', 'device', 'threads', 'count',
    'meanMs', 'stdMs', 'minMs', 'maxMs', 'medianMs', 'p90Ms', 'p95Ms', 'p99Ms', 'fps',
    'medianCi95LoMs', 'medianCi95HiMs', 'covPercent', 'modelSha256', 'modelBytes', 'artifactBytes',
    'energyPerInferenceMj', 'energyPerInferenceAboveIdleMj', 'measuringPowerW',
    'fidelityReference', 'fidelityFrames', 'fidelityAp50', 'fidelityPrecision', 'fidelityRecall', 'fidelityF1', 'fidelityMatchedIou',
  ]);
  for (const r of rows) assert.equal(r.length, header.length);
  const rec = (r: string[]) => Object.fromEntries(header.map((h, i) => [h, r[i]!]));
  const ra = rec(rows[1]!);
  assert.equal(ra.model, nasty);
  assert.equal(ra.device, 'xavier-01');
  assert.equal(ra.threads, '4');
  assert.equal(ra.count, '200');
  assert.ok(Math.abs(Number(ra.meanMs) - a.stats!.meanMs) <= 1e-5 * a.stats!.meanMs);
  assert.ok(Math.abs(Number(ra.p95Ms) - a.stats!.p95Ms) <= 1e-5 * a.stats!.p95Ms);
  assert.ok(ra.meanMs!.replace(/[.-]/g, '').replace(/^0+/, '').length <= 6, ra.meanMs);
  assert.equal(ra.artifactBytes, '');
  const rb = rec(rows[2]!);
  assert.equal(rb.model, 'yolov5s');
  assert.equal(rb.meanMs, '2.5');
  assert.equal(rb.medianCi95LoMs, '1'); // n < 6: [min, max]
  assert.equal(rb.medianCi95HiMs, '4');
  assert.equal(rb.modelBytes, '28000000');
  assert.equal(rb.artifactBytes, '123');
  assert.equal(rb.energyPerInferenceMj, '', 'no telemetry: empty, not 0');
});

test('energy per inference and measuring power: CSV columns, and compare columns only when a run has them', () => {
  const phases = [
    { phase: 'idle' as const, startMs: 0, endMs: 2000, samples: 20, energyJ: 10, meanPowerW: 5, maxPowerW: 5, cpuKHz: null, gpuHz: null, maxTempC: null, hottestZone: null },
    { phase: 'measure' as const, startMs: 2000, endMs: 6000, samples: 40, energyJ: 48, meanPowerW: 12, maxPowerW: 13, cpuKHz: null, gpuHz: null, maxTempC: null, hottestZone: null },
  ];
  const withPower = makeRun({ id: 'p', latencyMs: noisy(20, 1) });
  withPower.telemetry = { sources: ['ina3221-hwmon'], requestedHz: 10, achievedHz: 10, totalPowerRule: 'VDD_IN', series: { tMs: [] }, phases, energyPerInferenceMj: 240, energyPerInferenceAboveIdleMj: 140 };
  const without = makeRun({ id: 'q', latencyMs: noisy(20, 1) });
  const rows = parseCsv(formatReport([withPower], 'csv'));
  const rec = Object.fromEntries(rows[0]!.map((h, i) => [h, rows[1]![i]!]));
  assert.deepEqual([rec.energyPerInferenceMj, rec.energyPerInferenceAboveIdleMj, rec.measuringPowerW], ['240', '140', '12']);
  const both = compareTable([without, withPower], 0);
  const col = both.headers.indexOf('Energy/inf (mJ)');
  assert.ok(col > 0, both.headers.join('|'));
  assert.deepEqual(both.rows.map((r) => [r[col], r[col + 1]]), [['n/a', 'n/a'], ['240.0', '12.0']]);
  assert.equal(compareTable([without, without], 0).headers.includes('Energy/inf (mJ)'), false, 'no power anywhere: no energy columns');
});

test('JSON report parses back with the run files\' statistics', () => {
  const a = makeRun({ id: 'a', latencyMs: noisy(28.88, 2) });
  const parsed = JSON.parse(formatReport([a], 'json')) as Array<Record<string, unknown>>;
  assert.equal(parsed.length, 1);
  const item = parsed[0]!;
  assert.deepEqual(Object.keys(item), ['id', 'status', 'spec', 'model', 'stats', 'versions']);
  assert.deepEqual(item.stats, a.stats);
  assert.deepEqual(item.spec, a.spec);
  assert.deepEqual(item.model, { path: a.model.path, sha256: a.model.sha256, bytes: a.model.bytes });
  assert.deepEqual(item.versions, a.versions);
});

test('bench summary names the device as configured (local), the hostname only beside it', () => {
  const run = makeRun({ latencyMs: [10, 11, 12] });
  const local: RunFile = { ...run, spec: { ...run.spec, device: 'local' }, device: { ...run.device, hostname: 'vm' } };
  assert.match(formatBenchTable(local), /^Model .*, device local \(vm\): ok$/m);
  const same: RunFile = { ...run, spec: { ...run.spec, device: 'xavier-01' } };
  assert.match(formatBenchTable(same), /, device xavier-01: ok$/m);
});

test('runs shown together get distinct short names: the label, else model and time, else the id suffix; the backend is not repeated', () => {
  const at = (id: string, createdAt: string, label: string | null = null) => {
    const r = makeRun({ id, latencyMs: [1, 2, 3] });
    return { ...r, createdAt, spec: { ...r.spec, label } };
  };
  const runs = [at('x-aaaaaa', '2026-12-04T07:11:18.000Z'), at('x-bbbbbb', '2026-12-04T07:12:40.000Z'), at('x-cccccc', '2026-12-04T07:12:40.000Z'), at('x-dddddd', '2026-12-04T07:12:40.000Z', 'fp16 try')];
  assert.deepEqual(runNames(runs), ['yolov5s 07:11:18', 'yolov5s 07:12:40 #bbbbbb', 'yolov5s 07:12:40 #cccccc', 'fp16 try']);
  const rows = compareTable(runs, 0).rows.map((r) => r[0]);
  assert.equal(new Set(rows).size, rows.length, 'no two rows with the same name');
});

test('compare: one TensorRT engine through the native runner and trtexec is flagged as a harness difference, not an engine one', () => {
  const engine = (flags: ArtifactInfo['flags']): ArtifactInfo => ({ kind: 'tensorrt-engine', path: '/cache/artifacts/tensorrt/k1.engine', bytes: 1_000_000, buildMs: 0, flags });
  const native = makeRun({ id: 'n', backend: 'tensorrt', latencyMs: noisy(2.0, 0.05), label: 'native', artifact: engine({ cudaGraph: false }) });
  const trtexec = makeRun({ id: 't', backend: 'tensorrt', latencyMs: noisy(1.9, 0.05, 200, 2), label: 'trtexec', artifact: engine({ runner: 'trtexec', cudaGraph: false }) });
  const text = formatCompareTable([native, trtexec], 0, 'text');
  assert.match(text, /Same engine, different harness: native \(the native runner\), trtexec \(trtexec\) ran \/cache\/artifacts\/tensorrt\/k1\.engine/);
  // Same harness twice (two trtexec runs of the engine): nothing to flag.
  const again = makeRun({ id: 't2', backend: 'tensorrt', latencyMs: noisy(1.9, 0.05, 200, 3), label: 'trtexec again', artifact: engine({ runner: 'trtexec', cudaGraph: false }) });
  assert.doesNotMatch(formatCompareTable([trtexec, again], 0, 'text'), /Same engine/);
  // A CUDA graph is a harness difference too; another engine is not "the same engine".
  const graph = makeRun({ id: 'g', backend: 'tensorrt', latencyMs: noisy(1.7, 0.05, 200, 4), label: 'graph', artifact: engine({ runner: 'trtexec', cudaGraph: true }) });
  assert.match(formatCompareTable([trtexec, graph], 0, 'text'), /trtexec \(trtexec\), graph \(trtexec with a CUDA graph\)/);
  const other = makeRun({ id: 'o', backend: 'tensorrt', latencyMs: noisy(1.9, 0.05), label: 'other', artifact: { ...engine({ runner: 'trtexec' }), path: '/cache/artifacts/tensorrt/k2.engine' } });
  assert.doesNotMatch(formatCompareTable([native, other], 0, 'text'), /Same engine/);
});
