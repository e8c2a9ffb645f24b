// Run files turned into text: the table a benchmark prints, the research report's comparison
// table, and whole reports as Markdown, CSV or JSON. Pure functions (no I/O, no Node APIs): the
// CLI prints what they return and the extension's export command writes it. Statistics come from
// the run file and device-agent's stats module; nothing here re-measures or re-derives them.
import type { DeviceState, RunFile, SampleSpan, Stats, Verification } from '../../contract/protocol';
import { measuringPowerW, telemetryLines } from '../../contract/telemetry';
import { MEANINGFUL_DIFFERENCE, compareMedians, compareTrials, trialMedians } from '../../contract/stats';
import { deviceLabel, formatMj, formatMs, interleavedText, modelName, operatorsHeading, trialMediansText, trtexecSummaryCheck, fidelityLines, formatShare } from '../../contract/format';
import { csvText, markdownCode, markdownText, oneLine } from '../../contract/untrustedText';
import type { Table } from '../../contract/panelMessages';
import type { Validity } from '../../contract/validity';

export type CompareFormat = 'text' | 'md';
export type ReportFormat = 'md' | 'csv' | 'json';

/** Sizes are decimal megabytes (10^6 bytes), as model zoos and the research report give them. */
const BYTES_PER_MB = 1e6;

const RATIO_NOTE =
  'Ratio vs baseline = baseline median / run median: above 1.00x the run is faster than the baseline (2.00x = half its median latency), below 1.00x slower.';
const MEANINGFUL_PERCENT = `${Math.round(MEANINGFUL_DIFFERENCE * 100)}%`;
const DIFFERENCE_NOTE =
  `Different? compares the medians. no (< ${MEANINGFUL_PERCENT}) = they differ by less than ${MEANINGFUL_PERCENT}, which we do not call a difference (identical configurations run back to back differed by 4-5% on an idle machine); ` +
  `where both runs have 2+ trials (--trials), the ratio is that of the trials' medians with its 95% interval (Welch's t on their logarithms): the spread between trials is the noise between runs, faster/slower = the whole interval is more than ${MEANINGFUL_PERCENT} away from 1.00x, no (within noise) = it is not; ` +
  'with a single trial, no (within noise) = the 95% confidence intervals of the two medians (distribution-free, from order statistics) overlap, and ' +
  'faster/slower (1 trial) = beyond the noise inside each run, but the noise between runs (process placement, caches, clocks, other load) is unknown: repeat both configurations with --trials 5 before quoting the difference.';
const UNRELIABLE_NOTE = 'unreliable run = the baseline or this run has an unreliable validity verdict (the run\'s verdict lists why and the fix): do not quote this comparison.';

/** What the comparison table's ratio and difference columns mean, printed under every rendering of it. */
export const COMPARE_NOTES: readonly string[] = [RATIO_NOTE, DIFFERENCE_NOTE];

// ---- number formatting -------------------------------------------------------------------------

/** Milliseconds with 2 decimals, 3 below 1 ms (sub-millisecond models would read as 0.xx). */

function formatFps(fps: number): string {
  return Number.isFinite(fps) ? fps.toFixed(1) : 'n/a';
}

function formatMb(bytes: number): string {
  const mb = bytes / BYTES_PER_MB;
  // Small test models would all read "0.00"; keep three significant digits below 1 MB.
  return mb > 0 && mb < 1 ? mb.toPrecision(3) : mb.toFixed(2);
}

/** Machine-readable number: up to 6 significant digits, no trailing zeros; '' when absent. */
function csvNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '';
  return String(Number(x.toPrecision(6)));
}

// ---- what a run is called ----------------------------------------------------------------------

/** Short names that tell runs shown together apart (compare rows, the panel's legend and baseline
 * picker, report headings): the label, else the model and the time the run was made (UTC); a name
 * two runs still share gets the run id's random suffix. Not the backend: it has its own column. */
export function runNames(runs: readonly RunFile[]): string[] {
  const base = runs.map((r) => r.spec.label ?? `${modelName(r)} ${r.createdAt.slice(11, 19)}`);
  const uses = new Map<string, number>();
  for (const n of base) uses.set(n, (uses.get(n) ?? 0) + 1);
  return runs.map((r, i) => {
    const name = (uses.get(base[i]!) ?? 0) > 1 ? `${base[i]} #${r.id.slice(-6)}` : base[i]!;
    return r.status === 'ok' ? name : `${name} (${r.status})`;
  });
}

// ---- what one sample spans ---------------------------------------------------------------------

/** Short names of what one latency sample spans, for table cells. */
export const SPAN_LABELS: Readonly<Record<SampleSpan, string>> = {
  'ort-call': 'ORT run() (host clock)',
  'trt-compute': 'TRT enqueue (CUDA events)',
  'trt-latency': 'TRT H2D+compute+D2H (trtexec)',
  'tvm-call': 'TVM call (Python helper)',
  'torch-forward': 'PyTorch forward (CUDA events)',
  'torch-host': 'PyTorch H2D+forward+D2H (host clock)',
  'pipeline-frame': 'whole frame (host clock)',
};

/** What a sample of each kind includes, for footnotes. */
const SPAN_MEANINGS: Readonly<Record<SampleSpan, string>> = {
  'ort-call': 'one ONNX Runtime session.run timed on the agent\'s host clock, input binding and the copy of outputs to JavaScript included',
  'trt-compute': 'one TensorRT enqueue timed by CUDA events on device-resident buffers, no host copies',
  'trt-latency': "one query's host-to-device copy, GPU compute and device-to-host copy, as trtexec's Latency (CUDA events)",
  'tvm-call': 'one TVM module call plus a device sync, timed inside the Python helper; inputs stay bound, outputs stay on the device',
  'torch-forward': 'one PyTorch forward pass on inputs already on the device, timed by CUDA events (on the CPU by the helper\'s host clock); outputs stay on the device',
  'torch-host': 'copying the inputs to the device, one PyTorch forward pass and copying the outputs back, on the Python helper\'s host clock',
  'pipeline-frame': 'one whole frame on the host clock: preprocess, copies, inference and postprocess',
};

/** What one latency sample of the run spans: as the run recorded it, else (run files made before
 * it was recorded) what its backend's samples always spanned. */
export function sampleSpan(run: RunFile): SampleSpan {
  if (run.timing.span) return run.timing.span;
  if (run.pipeline || run.spec.pipeline) return 'pipeline-frame';
  return ({ onnxruntime: 'ort-call', tensorrt: 'trt-compute', tvm: 'tvm-call', pytorch: 'torch-forward' } as const)[run.spec.backend];
}

/** Marks a ratio between runs whose samples span different work (footnote CROSS_SPAN_MARK). */
export const CROSS_SPAN_MARK = '†';

/** True when a ratio of the two runs would compare different work. */
export function crossesSpans(baseline: RunFile, run: RunFile): boolean {
  return sampleSpan(baseline) !== sampleSpan(run);
}

/** Bytes the deployed thing occupies: the built artifact where there is one, else the model. */
function deployedBytes(run: RunFile): number {
  return run.artifact ? run.artifact.bytes : run.model.bytes;
}

function statusLine(run: RunFile): string | null {
  const measured = run.samples.latencyMs.length;
  if (run.status === 'failed') return `FAILED: ${run.error ?? 'no error message recorded'}`;
  if (run.status === 'cancelled') {
    const why = run.error ? `: ${run.error}` : '';
    if (measured === 0) return `CANCELLED${why} (before any iteration was measured)`;
    return `CANCELLED${why} (statistics cover the ${measured} iteration${measured === 1 ? '' : 's'} measured before it stopped)`;
  }
  return null;
}

const NO_STATS = 'No measured iterations: no statistics.';

// ---- tables ------------------------------------------------------------------------------------

/** Aligned columns for a terminal: two spaces between columns, a dashed rule under the header. */
function renderText(table: Table): string {
  // A cell is one line of text whatever a run file holds (a label with newlines, escapes).
  const t: Table = { ...table, headers: table.headers.map(oneLine), rows: table.rows.map((r) => r.map(oneLine)) };
  const widths = t.headers.map((h, c) => Math.max(h.length, ...t.rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (t.align[c] === 'right' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(t.headers), line(widths.map((w) => '-'.repeat(w))), ...t.rows.map(line)].join('\n');
}

/** A Markdown cell: pipes escaped and line breaks flattened so a cell never splits the row. */
function mdCell(s: string): string {
  return markdownText(s);
}

function renderMd(t: Table): string {
  const row = (cells: string[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  const rule = `| ${t.align.map((a) => (a === 'right' ? '---:' : '---')).join(' | ')} |`;
  return [row(t.headers), rule, ...t.rows.map(row)].join('\n');
}

/** Metric / value rows of one run, shared by the terminal table and the Markdown report. */
function metricRows(run: RunFile, s: Stats): string[][] {
  const rows = [
    ['Mean', `${formatMs(s.meanMs)} ms`],
    ['Median', `${formatMs(s.medianMs)} ms`],
    ['P90', `${formatMs(s.p90Ms)} ms`],
    ['P95', `${formatMs(s.p95Ms)} ms`],
    ['P99', `${formatMs(s.p99Ms)} ms`],
    ['Min', `${formatMs(s.minMs)} ms`],
    ['Max', `${formatMs(s.maxMs)} ms`],
    ['Std', `${formatMs(s.stdMs)} ms (CoV ${s.covPercent.toFixed(1)}%)`],
    ['FPS', formatFps(s.fps)],
    ['CI95 of median', `[${formatMs(s.medianCi95Ms[0])}, ${formatMs(s.medianCi95Ms[1])}] ms`],
    ['Samples (n)', run.imported ? `${s.count} measured (imported from ${run.imported.tool} ${run.imported.toolVersion}; its warm-up queries not among them)` : `${s.count} measured, ${run.samples.warmupLatencyMs.length} warm-up`],
  ];
  // An imported run knows the model and engine by path only.
  if (!run.imported) rows.push(['Model size', `${formatMb(run.model.bytes)} MB`]);
  const medians = trialMedians(run.trials);
  if (medians.length > 0) rows.splice(10, 0, ['Trial medians', trialMediansText(medians)]);
  if (run.artifact && !run.imported) {
    // torch.compile leaves no file of its own (Inductor's cache is shared by every model): its
    // compile time is what a reader needs.
    if (run.artifact.kind === 'torch-compiled') rows.push(['Build (torch.compile)', `${(run.artifact.buildMs / 1000).toFixed(1)} s`]);
    else rows.push([run.artifact.kind === 'tensorrt-engine' ? 'Engine size' : 'Module size', `${formatMb(run.artifact.bytes)} MB`]);
  }
  return rows;
}

const METRIC_TABLE = { headers: ['Metric', 'Value'], align: ['left', 'left'] as Table['align'] };

// ---- public API --------------------------------------------------------------------------------

/** What `jetbench bench` prints: a header line, the status when not ok, one row per metric. */
export function formatBenchTable(run: RunFile): string {
  const label = run.spec.label ? ` "${run.spec.label}"` : '';
  const lines = [
    `Model ${modelName(run)}${label}, backend ${run.spec.backend}, precision ${run.spec.precision}, device ${deviceLabel(run)}: ${run.status}`,
  ];
  const status = statusLine(run);
  if (status) lines.push(status);
  if (run.interleaved) lines.push(`Interleaved: ${interleavedText(run.interleaved)}`);
  if (!run.stats) {
    lines.push(NO_STATS);
    return lines.join('\n');
  }
  lines.push('', renderText({ ...METRIC_TABLE, rows: metricRows(run, run.stats) }), '');
  lines.push(`Latency = ${run.timing.spans}; ${run.timing.clock}.`);
  if (run.telemetry) lines.push(...telemetryLines(run.telemetry).map(oneLine));
  if (run.validity) lines.push('', ...validityLines(run.validity));
  return lines.join('\n');
}

/** The verdict and each finding with its evidence and fix, as the CLI prints them after the stats. */
export function validityLines(v: Validity): string[] {
  const lines = [`Verdict: ${v.verdict}${v.findings.length ? ` (${v.findings.length} finding${v.findings.length > 1 ? 's' : ''})` : ''}`];
  for (const f of v.findings) {
    lines.push(`  ${f.severity} ${oneLine(f.code)}: ${oneLine(f.summary)}`, `    why: ${oneLine(f.why)}`, `    fix: ${oneLine(f.fix)}`);
  }
  if (v.notChecked?.length) lines.push(`  not checked: ${v.notChecked.map(oneLine).join('; ')}`);
  return lines;
}

/** Speed-up and difference cells of one run against the baseline: from the trials' medians where
 * both runs have several trials, else from the two medians and their within-run intervals. */
function verdict(baseline: RunFile, run: RunFile, isBaseline: boolean): [string, string] {
  if (isBaseline) return [run.stats ? '1.00x' : 'n/a', 'baseline'];
  if (!baseline.stats || !run.stats) return ['n/a', 'n/a'];
  const mark = crossesSpans(baseline, run) ? CROSS_SPAN_MARK : '';
  const unreliable = involvesUnreliable(baseline, run) ? '; unreliable run' : '';
  const trials = compareTrials(trialMedians(baseline.trials), trialMedians(run.trials));
  if (trials) {
    // Speed-up = baseline / run: the interval of the latency ratio, inverted.
    const [lo, hi] = trials.ratioCi95;
    const cell = `${mark}${(1 / trials.ratio).toFixed(2)}x (${(1 / hi).toFixed(2)}-${(1 / lo).toFixed(2)})`;
    const words = trials.finding === 'below-meaningful' ? `no (< ${MEANINGFUL_PERCENT})` : trials.finding === 'within-noise' ? 'no (within noise)' : trials.ratio < 1 ? 'faster' : 'slower';
    return [cell, `${words}${unreliable}`];
  }
  const cmp = compareMedians(baseline.stats, run.stats);
  const speedUp = 1 / cmp.ratio;
  // The mark leads, so the ratios' `x` stay aligned in a right-aligned column.
  const ratio = Number.isFinite(speedUp) && speedUp > 0 ? `${mark}${speedUp.toFixed(2)}x` : 'n/a';
  if (cmp.finding === 'below-meaningful') return [ratio, `no (< ${MEANINGFUL_PERCENT})${unreliable}`];
  if (cmp.finding === 'within-noise') return [ratio, `no (within noise)${unreliable}`];
  return [ratio, `${cmp.differenceMs < 0 ? 'faster (1 trial)' : 'slower (1 trial)'}${unreliable}`];
}

function involvesUnreliable(baseline: RunFile, run: RunFile): boolean {
  return baseline.validity?.verdict === 'unreliable' || run.validity?.verdict === 'unreliable';
}

/** The comparison table's cells, for renderers other than text and Markdown (the compare panel). */
export function compareTable(runs: RunFile[], baselineIndex: number): Table {
  const baseline = runs[baselineIndex];
  if (!baseline) throw new RangeError(`baseline index ${baselineIndex} is outside the ${runs.length} runs`);
  const ms = (s: Stats | null, k: 'meanMs' | 'medianMs' | 'p95Ms') => (s ? formatMs(s[k]) : 'n/a');
  // Energy columns only where some run measured power (telemetry), so most tables stay narrow.
  const names = runNames(runs);
  const energy = runs.some((r) => r.telemetry?.energyPerInferenceMj != null);
  const energyCells = (run: RunFile): string[] => {
    if (!energy) return [];
    const mj = run.telemetry?.energyPerInferenceMj;
    const w = measuringPowerW(run.telemetry);
    return [mj == null ? 'n/a' : formatMj(mj), w === null ? 'n/a' : w.toFixed(1)];
  };
  // Accuracy columns only where some run checked its fidelity against its fp32 reference.
  const accuracy = runs.some((r) => r.fidelity);
  const accuracyCells = (run: RunFile): string[] => {
    if (!accuracy) return [];
    const f = run.fidelity;
    if (!f) return ['n/a', 'n/a'];
    return [formatShare(f.result.overall.ap50), formatShare(f.result.overall.f1)];
  };
  return {
    headers: ['Run', 'Framework', 'Precision', 'Mean (ms)', 'Median (ms)', 'P95 (ms)', 'FPS', ...(energy ? ['Energy/inf (mJ)', 'Power (W)'] : []), ...(accuracy ? ['AP50 vs fp32', 'F1 vs fp32'] : []), 'Size (MB)', 'Ratio vs baseline', 'Different?', 'Sample spans'],
    align: ['left', 'left', 'left', 'right', 'right', 'right', 'right', ...(energy ? (['right', 'right'] as const) : []), ...(accuracy ? (['right', 'right'] as const) : []), 'right', 'right', 'left', 'left'],
    rows: runs.map((run, i) => [
      names[i]!,
      run.spec.backend,
      run.spec.precision,
      ms(run.stats, 'meanMs'),
      ms(run.stats, 'medianMs'),
      ms(run.stats, 'p95Ms'),
      run.stats ? formatFps(run.stats.fps) : 'n/a',
      ...energyCells(run),
      ...accuracyCells(run),
      formatMb(deployedBytes(run)),
      ...verdict(baseline, run, i === baselineIndex),
      SPAN_LABELS[sampleSpan(run)],
    ]),
  };
}

/** The notes printed under a comparison table: what ratio and significance mean, and, when a
 * ratio crosses spans, what the mark means and what each span involved includes. */
export function compareNotes(runs: RunFile[], baselineIndex: number): string[] {
  const baseline = runs[baselineIndex];
  if (!baseline) throw new RangeError(`baseline index ${baselineIndex} is outside the ${runs.length} runs`);
  const notes = [...COMPARE_NOTES];
  // Runs shown here that were measured interleaved with another run shown here.
  const together = runs.filter((r) => r.interleaved && runs.some((o) => o !== r && r.interleaved!.runs.includes(o.id)));
  if (together.length > 1) notes.push(`Interleaved: ${together.length} of these runs were measured together, one trial of each in turn (A B A B ..., ${Math.max(...together.map((r) => r.interleaved!.rounds))} rounds), so drift of the machine hit them alike.`);
  if (runs.some((run, i) => i !== baselineIndex && baseline.stats && run.stats && involvesUnreliable(baseline, run))) notes.push(UNRELIABLE_NOTE);
  notes.push(...sameEngineNotes(runs));
  const crossing = runs.some((run, i) => i !== baselineIndex && baseline.stats && run.stats && crossesSpans(baseline, run));
  if (!crossing) return notes;
  const spans = [...new Set(runs.map(sampleSpan))].map((s) => `${SPAN_LABELS[s]} = ${SPAN_MEANINGS[s]}`);
  const note = `${CROSS_SPAN_MARK} This run's samples span different work than the baseline's, so the ratio is not a speed-up of the same work: ${spans.join('; ')}.`;
  return [...notes, note];
}

/** How a TensorRT run ran its engine: the runner (native addon or trtexec) and whether replayed as
 * a CUDA graph. */
function engineHarness(run: RunFile): string {
  const f = run.artifact?.flags ?? {};
  return `${f.runner === 'trtexec' ? 'trtexec' : 'the native runner'}${f.cudaGraph === true ? ' with a CUDA graph' : ''}`;
}

/** Runs of one TensorRT engine (same cached file) measured by different harnesses: the native
 * runner and trtexec, or with and without a CUDA graph. Their spans have one name, but the timing
 * loop differs (trtexec spin-waits and overlaps its enqueues; the native runner synchronizes each
 * sample), so a difference between them is the harness's, not the engine's. */
function sameEngineNotes(runs: RunFile[]): string[] {
  const byEngine = new Map<string, RunFile[]>();
  for (const r of runs) {
    if (r.artifact?.kind !== 'tensorrt-engine' || !r.stats) continue;
    byEngine.set(r.artifact.path, [...(byEngine.get(r.artifact.path) ?? []), r]);
  }
  const notes: string[] = [];
  for (const [engine, same] of byEngine) {
    const harnesses = [...new Set(same.map(engineHarness))];
    if (harnesses.length < 2) continue;
    const names = runNames(runs);
    notes.push(
      `Same engine, different harness: ${same.map((r) => `${names[runs.indexOf(r)]} (${engineHarness(r)})`).join(', ')} ran ${engine}. Their samples are timed by different loops (trtexec spin-waits and keeps queries in flight; the native runner synchronizes each enqueue; a CUDA graph removes launch overhead), so a difference between them measures the harness, not the engine: compare runs of one harness for engine changes.`,
    );
  }
  return notes;
}

/** The research report's comparison table, noise-aware, with footnotes saying what ratio and
 * significance mean. Size is the artifact's (engine/module) where one was built, else the model's. */
export function formatCompareTable(runs: RunFile[], baselineIndex: number, format: CompareFormat): string {
  const table = compareTable(runs, baselineIndex);
  const notes = compareNotes(runs, baselineIndex);
  if (format === 'md') return [renderMd(table), ...notes].join('\n\n');
  return [renderText(table), '', ...notes].join('\n');
}

const CSV_COLUMNS = [
  'id', 'createdAt', 'status', 'model', 'backend', 'precision', 'device', 'threads', 'count',
  'meanMs', 'stdMs', 'minMs', 'maxMs', 'medianMs', 'p90Ms', 'p95Ms', 'p99Ms', 'fps',
  'medianCi95LoMs', 'medianCi95HiMs', 'covPercent', 'modelSha256', 'modelBytes', 'artifactBytes',
  'energyPerInferenceMj', 'energyPerInferenceAboveIdleMj', 'measuringPowerW',
  'fidelityReference', 'fidelityFrames', 'fidelityAp50', 'fidelityPrecision', 'fidelityRecall', 'fidelityF1', 'fidelityMatchedIou',
] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return csvText(value);
}

function csvRow(run: RunFile): string[] {
  const s = run.stats;
  const threads = run.timing.threads ?? run.spec.threads;
  return [
    run.id,
    run.createdAt,
    run.status,
    run.model.builtin ?? run.model.path,
    run.spec.backend,
    run.spec.precision,
    run.device.hostname,
    threads === null ? '' : String(threads),
    String(s?.count ?? 0),
    csvNumber(s?.meanMs),
    csvNumber(s?.stdMs),
    csvNumber(s?.minMs),
    csvNumber(s?.maxMs),
    csvNumber(s?.medianMs),
    csvNumber(s?.p90Ms),
    csvNumber(s?.p95Ms),
    csvNumber(s?.p99Ms),
    csvNumber(s?.fps),
    csvNumber(s?.medianCi95Ms[0]),
    csvNumber(s?.medianCi95Ms[1]),
    csvNumber(s?.covPercent),
    run.model.sha256,
    String(run.model.bytes),
    run.artifact ? String(run.artifact.bytes) : '',
    csvNumber(run.telemetry?.energyPerInferenceMj),
    csvNumber(run.telemetry?.energyPerInferenceAboveIdleMj),
    csvNumber(measuringPowerW(run.telemetry)),
    run.fidelity?.reference.model ?? '',
    run.fidelity ? String(run.fidelity.frames) : '',
    csvNumber(run.fidelity?.result.overall.ap50),
    csvNumber(run.fidelity?.result.overall.precision),
    csvNumber(run.fidelity?.result.overall.recall),
    csvNumber(run.fidelity?.result.overall.f1),
    csvNumber(run.fidelity?.result.overall.meanMatchedIou),
  ];
}

function formatCsv(runs: RunFile[]): string {
  const lines = [CSV_COLUMNS.join(','), ...runs.map((r) => csvRow(r).map(csvField).join(','))];
  return lines.join('\n') + '\n';
}

function formatJson(runs: RunFile[]): string {
  const items = runs.map((r) => ({
    id: r.id,
    status: r.status,
    ...(r.error !== undefined ? { error: r.error } : {}),
    spec: r.spec,
    model: { path: r.model.path, sha256: r.model.sha256, bytes: r.model.bytes },
    stats: r.stats,
    versions: r.versions,
  }));
  return JSON.stringify(items, null, 2) + '\n';
}

/** Inline code that survives backticks inside the text. */
const mdCode = markdownCode;

function mdRunSection(run: RunFile): string {
  const d = run.device;
  const v = run.versions;
  const spec = run.spec;
  // Everything below that a run file or a device supplied is text, never markup (untrustedText.ts).
  const t = markdownText;
  const label = spec.label ? ` "${t(spec.label)}"` : '';
  const where = run.imported ? (d.gpus[0]?.name ?? 'a GPU trtexec did not name') : d.hostname;
  const lines = [`## ${t(modelName(run))}${label}: ${t(spec.backend)} ${t(spec.precision)} on ${t(where)}`, ''];
  const status = statusLine(run);
  lines.push(`- Run: ${mdCode(run.id)}, status **${t(run.status)}**, ${t(run.createdAt)} to ${t(run.finishedAt)}`);
  if (status) lines.push(`- **${t(status)}**`);
  const imp = run.imported;
  if (imp) {
    lines.push(`- Imported from ${t(imp.tool)} (TensorRT ${t(imp.toolVersion)}) on ${t(imp.importedAt)}: ${imp.files.map((f) => `${t(f.role)} ${mdCode(f.path)}`).join(', ')}`);
    if (imp.commandLine) lines.push(`- Command: ${mdCode(imp.commandLine)}`);
    const check = trtexecSummaryCheck(run);
    if (check) lines.push(`- ${t(check)}; trtexec's throughput ${formatFps(imp.reported!.throughputQps)} qps`);
    lines.push('- Device: host, CPU and OS not in trtexec\'s output');
  } else {
    lines.push(`- Device: ${t(d.hostname)} (${t(`${d.distro ?? d.platform} ${d.osRelease}, ${d.arch}`)}), CPU ${t(d.cpuModel)} x ${d.cpuCount}${d.cpuGovernor ? `, governor ${t(d.cpuGovernor)}` : ''}`);
  }
  for (const g of d.gpus) lines.push(`- GPU: ${t(g.name)}${g.computeCapability ? `, sm ${t(g.computeCapability)}` : ''}${g.driverVersion ? `, driver ${t(g.driverVersion)}` : ''}`);
  if (d.jetson) {
    const j = d.jetson;
    const parts = [j.model ?? 'unknown Jetson model'];
    if (j.l4t) parts.push(`L4T ${j.l4t}`);
    if (j.jetpack) parts.push(`JetPack ${j.jetpack}`);
    if (j.powerMode) parts.push(`power mode ${j.powerMode}`);
    lines.push(`- Jetson: ${t(parts.join(', '))}`);
  }
  if (run.deviceState) lines.push(`- Device state at the start of measuring: ${t(formatDeviceState(run.deviceState))}`);
  const versions = [`agent ${v.agent}`, `node ${v.node}`];
  for (const [name, value] of [['onnxruntime', v.onnxruntime], ['CUDA', v.cuda], ['TensorRT', v.tensorrt], ['TVM', v.tvm]] as const) {
    if (value !== null) versions.push(`${name} ${value}`);
  }
  if (v.python) versions.push(`Python ${v.python.version} (${v.python.path})`);
  lines.push(`- Versions: ${t(versions.join(', '))}`);
  if (imp) lines.push(`- Model: ${mdCode(run.model.path)} (as the log names it)`);
  else lines.push(`- Model: ${mdCode(run.model.path)}${run.model.builtin ? ` (built-in ${t(run.model.builtin)})` : ''}, sha256 ${mdCode(run.model.sha256)}, ${run.model.bytes} bytes`);
  if (run.artifact) {
    const a = run.artifact;
    const flags = Object.entries(a.flags).map(([k, value]) => `${k}=${String(value)}`);
    const size = imp ? (a.buildMs > 0 ? `, built in ${(a.buildMs / 1000).toFixed(1)} s` : '') : `, ${a.bytes} bytes, built in ${(a.buildMs / 1000).toFixed(1)} s`;
    lines.push(`- Artifact: ${t(a.kind)} ${mdCode(a.path)}${size}${flags.length ? `, flags ${mdCode(flags.join(' '))}` : ''}`);
  }
  const threads = spec.threads === null ? `default${run.timing.threads !== null ? ` (${run.timing.threads})` : ''}` : String(spec.threads);
  lines.push(`- Spec: warm-up ${spec.warmup}${spec.warmupMs > 0 ? ` / ${spec.warmupMs} ms` : ''}, iterations ${spec.iterations}, duration ${spec.durationS} s, threads ${threads}`);
  lines.push(`- Timing: ${t(run.timing.spans)}; ${t(run.timing.clock)} (sample spans: ${SPAN_LABELS[sampleSpan(run)]})`);
  if (run.verification) lines.push(`- Verification: ${t(formatVerification(run))}`);
  if (run.fidelity) {
    const [first, ...rest] = fidelityLines(run.fidelity);
    lines.push(`- ${t(first!)}`, ...rest.map((l) => `  - ${t(l.trim())}`));
  }
  if (run.telemetry) for (const line of telemetryLines(run.telemetry)) lines.push(`- ${t(line)}`);
  lines.push('');
  lines.push(run.stats ? renderMd({ ...METRIC_TABLE, rows: metricRows(run, run.stats) }) : NO_STATS);
  if (run.operators?.length) lines.push('', formatOperators(run, 15, 'md'));
  return lines.join('\n');
}

/** The settings a run measured under, in one line: power mode, governors, clocks (MHz). */
export function formatDeviceState(s: DeviceState): string {
  const parts: string[] = [];
  if (s.powerMode) parts.push(`power mode ${s.powerMode.name ?? 'unknown'}${s.powerMode.id !== null ? ` (id ${s.powerMode.id})` : ''}`);
  if (s.cpus.length > 0) {
    const governors = [...new Set(s.cpus.map((c) => c.governor ?? 'unknown'))];
    const mhz = s.cpus.map((c) => c.curKHz).filter((k): k is number => k !== null).map((k) => Math.round(k / 1000));
    const locked = s.cpus.every((c) => c.minKHz !== null && c.minKHz === c.maxKHz);
    // reduce, not Math.min(...mhz): a long run's telemetry would overflow the call stack as arguments.
    const lo = mhz.reduce((a, b) => Math.min(a, b), Infinity);
    const hi = mhz.reduce((a, b) => Math.max(a, b), -Infinity);
    const range = mhz.length ? (lo === hi ? `${lo}` : `${lo}-${hi}`) : null;
    parts.push(`CPU governor ${governors.join('/')} on ${s.cpus.length} CPU${s.cpus.length === 1 ? '' : 's'}${range ? `, at ${range} MHz` : ''}, clocks ${locked ? 'locked' : 'not locked'}`);
  }
  if (s.gpuClock?.curHz != null) {
    const g = s.gpuClock;
    const mhz = (hz: number | null) => (hz === null ? '?' : String(Math.round(hz / 1e6)));
    parts.push(`GPU at ${mhz(g.curHz)} MHz (range ${mhz(g.minHz)}-${mhz(g.maxHz)})`);
  }
  return parts.length ? parts.join('; ') : 'no power mode or cpufreq readable';
}

/** One line on the output check against ONNX Runtime. */
export function formatVerification(run: RunFile): string {
  return run.verification ? verificationText(run.verification) : 'not verified';
}

export function verificationText(v: Verification): string {
  return `${v.passed ? 'PASSED' : 'FAILED'} against ${v.reference}: ${v.mismatches} of ${v.elements} elements outside atol ${v.atol} + rtol ${v.rtol} (allowed ${(v.maxMismatchFraction * 100).toFixed(2)}%), max |diff| ${v.maxAbsDiff.toPrecision(3)}`;
}

/** The slowest operators of the run's per-operator profile (one inference), with their share. */
export function formatOperators(run: RunFile, top: number, format: CompareFormat): string {
  const ops = run.operators ?? [];
  const total = ops.reduce((a, o) => a + o.ms, 0);
  const table: Table = {
    headers: [operatorsHeading(run).column, 'Time (ms)', 'Share', 'Calls'],
    align: ['left', 'right', 'right', 'right'],
    rows: ops.slice(0, top).map((o) => [o.name, formatMs(o.ms), `${total > 0 ? ((100 * o.ms) / total).toFixed(1) : '0.0'}%`, String(o.calls)]),
  };
  const heading = operatorsHeading(run);
  const title = heading.trtexec
    ? `${heading.title.slice(0, -1)}, ${ops.length} in all, ${formatMs(total)} ms; layers on parallel streams overlap, so the sum is not the latency):`
    : `Operators (one inference, ${ops.length} in all, ${formatMs(total)} ms with a sync around each):`;
  return `${title}\n${format === 'md' ? renderMd(table) : renderText(table)}`;
}

function formatMd(runs: RunFile[], baselineIndex: number): string {
  const sections = ['# jetbench report', ...runs.map(mdRunSection)];
  if (runs.length >= 2) {
    sections.push(`## Comparison (baseline: ${markdownText(runNames(runs)[baselineIndex]!)})\n\n${formatCompareTable(runs, baselineIndex, 'md')}`);
  }
  return sections.join('\n\n') + '\n';
}

/** A whole report of runs; the Markdown one compares them against the baseline (default the
 * first) when there are two or more. */
export function formatReport(runs: RunFile[], format: ReportFormat, opts: { baselineIndex?: number } = {}): string {
  switch (format) {
    case 'md':
      return formatMd(runs, opts.baselineIndex ?? 0);
    case 'csv':
      return formatCsv(runs);
    case 'json':
      return formatJson(runs);
  }
}
