// The result panel's page: summary cards, latency histogram with P50/P95/P99, latency over
// iterations, percentile table, stage breakdown, environment. Draws from the ResultModel; while a
// run streams, redraws are throttled to the model's interval.
import { noSamplesText, runningStatusText } from './runningStatus';
import type { RunFidelity, RunFile, Stats, Telemetry } from '../../contract/protocol';
import { computeStats, percentileSorted, trialMedians } from '../../contract/stats';
import { formatMj, formatMs, interleavedText, modelName, operatorsHeading, trialMediansText, trtexecSummaryCheck, fidelityLines, fidelityTable } from '../../contract/format';
import { HistogramChart, pixelsOfColour, resolveColour, StagesChart, TelemetryChart, TimelineChart, type LatencyAtTime, type Marker, type TelemetryLine } from './charts';
import { extent, measuringPowerW, overCurrentRises, powerSourcesNote, telemetryLines, throttleSpans } from '../../contract/telemetry';
import { decimateMinMax, decimateMinMaxAt } from './decimate';
import { el, table } from './dom';
import { histogramSorted } from './histogram';
import type { FromResultPanel, LivePhase, RenderReport } from '../../contract/panelMessages';
import { drawnSamples, drawnTelemetry, liveSummaryDue, type ResultModel } from '../../contract/resultModel';
import { readTheme, type Theme } from './theme';

/** Points per series on the timeline; more than a panel has pixels across. */
const TIMELINE_POINTS = 2000;
/** Throttle spans marked on the telemetry chart (more would bury the phase labels). */
const MAX_THROTTLE_MARKS = 6;

/** The measured samples at their start times (seconds on the telemetry's clock), when the run
 * recorded a start for every one (trtexec's do not: its queries overlap). */
function latencyAtTime(startsMs: number[] | undefined, latencyMs: number[] | undefined): LatencyAtTime | null {
  if (!startsMs || !latencyMs || startsMs.length === 0 || startsMs.length !== latencyMs.length) return null;
  const seconds = startsMs.map((ms) => ms / 1000);
  return { points: decimateMinMaxAt(seconds, latencyMs, TIMELINE_POINTS), lastStartS: extent(seconds)!.max, count: latencyMs.length };
}

const PHASE_TEXT: Record<LivePhase, string> = {
  connecting: 'Connecting to the device…',
  queued: 'Queued: the device is busy with another job',
  running: 'Running',
  finished: '',
  disconnected: 'The device disconnected',
  failed: 'The run failed',
};

const CARDS: Array<{ key: string; label: string; value: (s: Stats) => string; ms?: (s: Stats) => number }> = [
  { key: 'mean', label: 'Mean', value: (s) => `${formatMs(s.meanMs)} ms`, ms: (s) => s.meanMs },
  { key: 'median', label: 'Median', value: (s) => `${formatMs(s.medianMs)} ms`, ms: (s) => s.medianMs },
  { key: 'p95', label: 'P95', value: (s) => `${formatMs(s.p95Ms)} ms`, ms: (s) => s.p95Ms },
  { key: 'p99', label: 'P99', value: (s) => `${formatMs(s.p99Ms)} ms`, ms: (s) => s.p99Ms },
  { key: 'fps', label: 'FPS', value: (s) => s.fps.toFixed(1) },
  { key: 'std', label: 'Std', value: (s) => `${formatMs(s.stdMs)} ms` },
  { key: 'ci', label: 'CI95 of median', value: (s) => `${formatMs(s.medianCi95Ms[0])} – ${formatMs(s.medianCi95Ms[1])} ms` },
];

const PERCENTILES = [50, 75, 90, 95, 99, 99.9];

export class ResultPage {
  private readonly title = el('h1');
  private readonly subtitle = el('div', { class: 'subtitle' });
  private readonly banner = el('div', { class: 'banner', role: 'status' });
  private readonly verdict = el('section', { class: 'verdict', id: 'verdict', hidden: '' });
  private readonly stopButton = el('button', { type: 'button', id: 'stop' }, 'Stop');
  private readonly jsonButton = el('button', { type: 'button', id: 'open-json', class: 'secondary' }, 'Open JSON');
  private readonly cards = el('section', { class: 'cards' });
  private readonly histogramTitle = el('h2', {}, 'Latency histogram');
  private readonly histogramCanvas = el('canvas', { id: 'histogram', 'aria-label': 'latency histogram' });
  private readonly timelineCanvas = el('canvas', { id: 'timeline', 'aria-label': 'latency over iterations' });
  private readonly percentiles = el('section', { class: 'percentiles' });
  private readonly stagesSection = el('section', { class: 'stages', hidden: '' });
  private readonly stagesCanvas = el('canvas', { id: 'stages', 'aria-label': 'stage breakdown' });
  private readonly stagesTable = el('div');
  private readonly environment = el('section', { class: 'environment' });
  private readonly operatorsSection = el('section', { class: 'operators', id: 'operators', hidden: '' });
  private readonly telemetrySection = el('section', { class: 'telemetry', id: 'telemetry', hidden: '' });
  private readonly fidelitySection = el('section', { class: 'fidelity', id: 'fidelity', hidden: '' });
  private readonly telemetryText = el('div', { class: 'telemetry-summary' });
  private readonly telemetryCanvas = el('canvas', { id: 'telemetry-chart', role: 'img', 'aria-label': 'power, temperature and clocks over the run' });
  private readonly telemetryTable = el('div', { class: 'telemetry-phases' });
  private telemetryChart: TelemetryChart | null = null;
  private readonly histogram: HistogramChart;
  private readonly timeline: TimelineChart;
  private stages: StagesChart | null = null;
  private theme: Theme;

  constructor(root: HTMLElement, private readonly post: (msg: FromResultPanel) => void) {
    this.theme = readTheme();
    root.replaceChildren(
      el('header', {}, el('div', {}, this.title, this.subtitle), el('div', { class: 'actions' }, this.stopButton, this.jsonButton)),
      this.banner,
      this.verdict,
      this.cards,
      el('section', {}, this.histogramTitle, el('div', { class: 'chart' }, this.histogramCanvas)),
      el('section', {}, el('h2', {}, 'Latency over iterations'), el('div', { class: 'chart' }, this.timelineCanvas)),
      el('section', {}, el('h2', {}, 'Percentiles'), this.percentiles),
      this.stagesSection,
      this.operatorsSection,
      this.fidelitySection,
      this.telemetrySection,
      el('section', {}, el('h2', {}, 'Environment'), this.environment),
    );
    this.telemetrySection.append(el('h2', {}, 'Power, clocks and temperature'), this.telemetryText, el('div', { class: 'chart' }, this.telemetryCanvas), this.telemetryTable);
    this.stagesSection.append(el('h2', {}, 'Stage breakdown'), el('div', { class: 'chart short' }, this.stagesCanvas), this.stagesTable);
    this.histogram = new HistogramChart(this.histogramCanvas, this.theme);
    this.timeline = new TimelineChart(this.timelineCanvas, this.theme);
    this.jsonButton.addEventListener('click', () => this.post({ type: 'revealJson' }));
  }

  private runId: string | null = null;

  bindStop(model: () => ResultModel): void {
    this.stopButton.addEventListener('click', () => {
      const m = model();
      if (m.runId && !m.run) {
        this.stopButton.disabled = true;
        this.post({ type: 'cancelRun', runId: m.runId });
      }
    });
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.histogram.setTheme(theme);
    this.timeline.setTheme(theme);
    this.stages?.setTheme(theme);
    this.telemetryChart?.setTheme(theme);
  }

  /** Draws the model; returns what is on screen. */
  draw(model: ResultModel, startedAt: number): RenderReport {
    const run = model.run;
    if (model.runId !== this.runId) {
      this.runId = model.runId;
      this.stopButton.disabled = false;
    }
    const spec = run?.spec ?? model.spec;
    const name = run ? modelName(run) : (spec?.model ?? '');
    this.title.textContent = spec ? `${name} · ${spec.backend} · ${spec.precision}` : 'jetbench run';
    this.subtitle.textContent = [
      spec?.label ? `“${spec.label}”` : null,
      `device ${run ? `${run.spec.device} (${run.device.hostname})` : model.device}`,
      run ? `run ${run.id}` : model.runId ? `run ${model.runId}` : null,
      run ? `status ${run.status}` : null,
    ]
      .filter((s): s is string => s !== null)
      .join(' · ');
    document.body.dataset.phase = model.phase;
    document.body.dataset.runId = model.runId ?? '';
    document.body.dataset.status = run?.status ?? 'live';
    this.stopButton.hidden = !!run || model.phase === 'disconnected' || model.phase === 'failed';
    this.jsonButton.hidden = !model.file;
    this.drawBanner(model);
    this.drawVerdict(run);

    const { warmupMs, latencyMs } = drawnSamples(model);
    const stats = run ? run.stats : computeStats(latencyMs);
    const sorted = Float64Array.from(latencyMs).sort();
    const telemetry = this.telemetryOf(model);
    this.drawCards(stats, telemetry);
    const h = histogramSorted(sorted);
    const markers: Marker[] = stats
      ? [
          { label: 'P50', valueMs: stats.medianMs, color: this.theme.p50 },
          { label: 'P95', valueMs: stats.p95Ms, color: this.theme.p95 },
          { label: 'P99', valueMs: stats.p99Ms, color: this.theme.p99 },
        ]
      : [];
    this.histogram.update(h, markers);
    this.histogramTitle.textContent = `Latency histogram (${h.counts.length} Freedman–Diaconis bin${h.counts.length === 1 ? '' : 's'} of ${formatMs(h.binWidthMs)} ms, n = ${sorted.length})`;
    this.timeline.update(decimateMinMax(warmupMs, TIMELINE_POINTS), decimateMinMax(latencyMs, TIMELINE_POINTS, warmupMs.length), warmupMs.length + latencyMs.length);
    this.drawPercentiles(sorted, model.run?.status);
    this.drawStages(run);
    this.drawOperators(run);
    this.drawFidelity(run?.fidelity);
    this.drawTelemetry(telemetry, run?.samples.latencyMs);
    this.drawEnvironment(model);

    // Drawing ends here; counting the histogram's pixels below is the report's own cost.
    const renderMs = performance.now() - startedAt;
    return {
      runId: model.runId ?? '',
      final: !!run,
      renderMs,
      samples: latencyMs.length,
      p95Text: this.cards.querySelector('[data-metric="p95"] .value')?.textContent ?? '',
      histogramPixels: pixelsOfColour(this.histogramCanvas, resolveColour(this.histogram.barColour)),
      phase: model.phase,
      accuracy: this.fidelitySection.hidden
        ? null
        : {
            heading: this.fidelitySection.querySelector('h2')?.textContent ?? '',
            all: Array.from(this.fidelitySection.querySelector('tbody tr')?.children ?? [], (c) => c.textContent ?? ''),
          },
    };
  }

  /** The live telemetry is summarised again only when a batch of it arrived (twice a second),
   * not on every redraw of the samples, and no more often than its cost allows
   * (liveSummaryDue): an hour at 100 Hz is 360k readings. */
  private liveTelemetryMemo: { of: ResultModel['telemetry']; drawn: ReturnType<typeof drawnTelemetry>; atMs: number; costMs: number } | null = null;

  private telemetryOf(model: ResultModel): ReturnType<typeof drawnTelemetry> {
    if (model.run || !model.telemetry) return drawnTelemetry(model);
    const memo = this.liveTelemetryMemo;
    const now = performance.now();
    if (!memo || (memo.of !== model.telemetry && liveSummaryDue(memo, now))) {
      const drawn = drawnTelemetry(model);
      this.liveTelemetryMemo = { of: model.telemetry, drawn, atMs: now, costMs: performance.now() - now };
    }
    return this.liveTelemetryMemo!.drawn;
  }

  private drawBanner(model: ResultModel): void {
    let text = PHASE_TEXT[model.phase];
    if (model.phase === 'disconnected') {
      text = `${text}: ${model.message}. The panel keeps the ${model.latencyMs.length} measured and ${model.warmupMs.length} warm-up samples it received.`;
    } else if (model.phase === 'running') {
      text = runningStatusText(model.message, model.warmupMs.length, model.latencyMs.length);
    } else if (model.message && model.phase !== 'finished') {
      text = `${text}: ${model.message}`;
    } else if (model.phase === 'finished' && model.run && model.run.status !== 'ok') {
      text = `Run ${model.run.status}${model.message ? `: ${model.message}` : ''}`;
    }
    if (model.gaps > 0 && !model.run) text += ` (${model.gaps} batch${model.gaps === 1 ? '' : 'es'} of samples missing)`;
    this.banner.textContent = text;
    this.banner.hidden = text === '';
    this.banner.className = `banner ${model.phase === 'disconnected' || model.phase === 'failed' || (model.run && model.run.status !== 'ok') ? 'warn' : ''}`;
  }

  /** The run's validity verdict (contract/validityRules.ts): each finding with its evidence and fix. */
  private drawVerdict(run: RunFile | null): void {
    const v = run?.validity;
    this.verdict.hidden = !v;
    if (!v) {
      this.verdict.replaceChildren();
      delete this.verdict.dataset.verdict;
      return;
    }
    this.verdict.dataset.verdict = v.verdict;
    this.verdict.className = `verdict ${v.verdict}`;
    const heading = v.verdict === 'ok' ? 'Verdict: ok: no finding' : `Verdict: ${v.verdict}: ${v.findings.length} finding${v.findings.length === 1 ? '' : 's'}`;
    const items = v.findings.map((f) =>
      el(
        'li',
        { 'data-code': f.code, 'data-severity': f.severity },
        el('strong', {}, `${f.code}: `),
        f.summary,
        el('div', { class: 'why' }, `Why: ${f.why}`),
        el('div', { class: 'fix' }, `Fix: ${f.fix}`),
      ),
    );
    const notChecked = v.notChecked?.length ? [el('div', { class: 'not-checked' }, `Not checked: ${v.notChecked.join('; ')}`)] : [];
    this.verdict.replaceChildren(el('div', { class: 'verdict-title' }, heading), ...(items.length ? [el('ul', {}, ...items)] : []), ...notChecked);
  }

  private drawCards(stats: Stats | null, drawn: { telemetry: Telemetry; live: boolean } | null): void {
    const energy: HTMLElement[] = [];
    const telemetry = drawn?.telemetry;
    const soFar = drawn?.live ? ' so far' : '';
    const mj = telemetry?.energyPerInferenceMj;
    if (mj != null) {
      const above = telemetry!.energyPerInferenceAboveIdleMj;
      energy.push(el('div', { class: 'card', 'data-metric': 'energy', 'data-value-mj': String(mj) }, el('div', { class: 'label' }, `Energy / inference${soFar}`), el('div', { class: 'value' }, `${formatMj(mj)} mJ${above !== null ? ` (${formatMj(above)} above idle)` : ''}`)));
    }
    const w = measuringPowerW(telemetry);
    if (w !== null) energy.push(el('div', { class: 'card', 'data-metric': 'power', 'data-value-w': String(w) }, el('div', { class: 'label' }, `Power while measuring${soFar}`), el('div', { class: 'value' }, `${w.toFixed(2)} W`)));
    // Live, before measuring: the idle baseline's power is the figure there is.
    const idleW = drawn?.live && w === null ? (telemetry?.phases.find((p) => p.phase === 'idle')?.meanPowerW ?? null) : null;
    if (idleW !== null) energy.push(el('div', { class: 'card', 'data-metric': 'idle-power', 'data-value-w': String(idleW) }, el('div', { class: 'label' }, 'Idle power so far'), el('div', { class: 'value' }, `${idleW.toFixed(2)} W`)));
    this.cards.replaceChildren(
      ...CARDS.map((c) => {
        const attrs: Record<string, string> = { class: 'card', 'data-metric': c.key };
        if (stats && c.ms) attrs['data-value-ms'] = String(c.ms(stats));
        return el('div', attrs, el('div', { class: 'label' }, c.label), el('div', { class: 'value' }, stats ? c.value(stats) : '–'));
      }),
      ...energy,
    );
  }

  /** Per-operator (ONNX Runtime, TensorRT's IProfiler) or per-layer (trtexec's profile) times,
   * slowest first, with their share of the total; hidden when the run has none. */
  private drawOperators(run: RunFile | null): void {
    const ops = run?.operators ?? [];
    this.operatorsSection.hidden = ops.length === 0;
    if (ops.length === 0) return;
    const sorted = [...ops].sort((a, b) => b.ms - a.ms);
    const total = sorted.reduce((a, o) => a + o.ms, 0);
    const heading = operatorsHeading(run!);
    this.operatorsSection.replaceChildren(
      el('h2', {}, heading.title),
      el('p', { class: 'muted' }, `${sorted.length} in all, ${formatMs(total)} ms summed. ${heading.note}`),
      table(
        ['#', heading.column, 'Time (ms)', 'Share', 'Calls'],
        sorted.map((o, i) => [String(i + 1), o.name, formatMs(o.ms), total > 0 ? `${((100 * o.ms) / total).toFixed(1)}%` : '0.0%', String(o.calls)]),
        ['right', 'left', 'right', 'right', 'right'],
      ),
    );
  }

  /** How closely the run's detections reproduce its fp32 reference's on real frames (--fidelity):
   * what was compared, then the table. Hidden for runs without a fidelity check. */
  private drawFidelity(f: RunFidelity | undefined): void {
    this.fidelitySection.hidden = !f;
    if (!f) return;
    const t = fidelityTable(f);
    const [first, second] = fidelityLines(f);
    this.fidelitySection.replaceChildren(
      el('h2', {}, `Accuracy against ${f.reference.model} (${f.reference.precision})`),
      el('p', {}, first!.replace(/: AP50.*$/, '')),
      el('p', { class: 'muted' }, second!.trim()),
      table(t.headers, t.rows, ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']),
    );
  }

  /** The run's telemetry: its summary lines, power/temperature/clocks over time with the phases
   * marked and each measured sample's latency at its start, and a table per phase. Hidden for runs
   * without telemetry. */
  private drawTelemetry(drawn: { telemetry: Telemetry; live: boolean } | null, latencyMs: number[] | undefined): void {
    this.telemetrySection.hidden = !drawn;
    if (!drawn) {
      delete this.telemetrySection.dataset.live;
      return;
    }
    const t = drawn.telemetry;
    this.telemetrySection.dataset.live = String(drawn.live);
    const liveLine = drawn.live
      ? [el('p', { class: 'live-note' }, `Live: the ${t.series.tMs.length} readings so far, drawn as they arrive; the run file's figures replace these when the run ends.`)]
      : [];
    this.telemetryText.replaceChildren(...liveLine, ...telemetryLines(t).map((line) => el('p', {}, line)));
    const s = t.series;
    const lines: TelemetryLine[] = [];
    if (s.totalPowerMw) lines.push({ label: `power, ${t.totalPowerRule ?? 'GPU'} (W)`, axis: 'power', values: s.totalPowerMw.map((v) => v / 1000) });
    // The hottest zones only (a Jetson has six or more): the ones a reader needs.
    const hottest = (values: number[]) => extent(values)?.max ?? -Infinity;
    const zones = Object.entries(s.tempC ?? {}).sort((a, b) => hottest(b[1]) - hottest(a[1])).slice(0, 3);
    for (const [zone, values] of zones) lines.push({ label: `${zone} (°C)`, axis: 'temp', values });
    if (s.gpuHz) lines.push({ label: 'GPU clock (MHz)', axis: 'clock', values: s.gpuHz.map((v) => v / 1e6) });
    if (s.cpuMaxKHz) lines.push({ label: 'CPU clock, fastest core (MHz)', axis: 'clock', values: s.cpuMaxKHz.map((v) => v / 1000) });
    this.telemetryChart ??= new TelemetryChart(this.telemetryCanvas, this.theme);
    const phaseLabel = { idle: 'idle', warmup: 'warm-up', measure: 'measure', load: 'trial load' } as const;
    this.telemetryChart.update(
      s.tMs.map((ms) => ms / 1000),
      lines,
      [
        ...t.phases.map((p, i) => ({ label: `${phaseLabel[p.phase]}${t.phases.filter((q) => q.phase === p.phase).length > 1 ? ` ${t.phases.slice(0, i + 1).filter((q) => q.phase === p.phase).length}` : ''}`, valueMs: p.startMs / 1000, color: this.theme.muted })),
        // Where the GPU's throttling began (NVML's reasons), in the P99 colour; the summary above
        // says how long it lasted in all.
        ...throttleSpans(s)
          .slice(0, MAX_THROTTLE_MARKS)
          .map((span) => ({ label: `throttled: ${span.reasons.join(', ')}`, valueMs: span.startMs / 1000, color: this.theme.p99 })),
        // Where an Orin over-current counter rose (the first reading after it did).
        ...overCurrentRises(s)
          .slice(0, MAX_THROTTLE_MARKS)
          .map((rise) => ({ label: `over-current: ${rise.counters.map((c) => `${c.counter} +${c.by}`).join(', ')}`, valueMs: rise.atMs / 1000, color: this.theme.p99 })),
      ],
      latencyAtTime(t.sampleStartMs, latencyMs),
    );
    const range = (r: { min: number; max: number } | null, div: number) => (r ? `${Math.round(r.min / div)}–${Math.round(r.max / div)}` : 'n/a');
    this.telemetryTable.replaceChildren(
      table(
        ['Phase', 'Seconds', 'Energy (J)', 'Mean power (W)', 'Max power (W)', 'CPU (MHz)', 'GPU (MHz)', 'Hottest (°C)'],
        t.phases.map((p) => [
          phaseLabel[p.phase],
          ((p.endMs - p.startMs) / 1000).toFixed(2),
          p.energyJ === null ? 'n/a' : p.energyJ.toFixed(2),
          p.meanPowerW === null ? 'n/a' : p.meanPowerW.toFixed(2),
          p.maxPowerW === null ? 'n/a' : p.maxPowerW.toFixed(2),
          range(p.cpuKHz, 1000),
          range(p.gpuHz, 1e6),
          p.maxTempC === null ? 'n/a' : `${p.maxTempC.toFixed(1)} ${p.hottestZone ?? ''}`.trim(),
        ]),
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
    );
    const note = powerSourcesNote(t);
    if (note) this.telemetryTable.append(el('p', { class: 'muted power-sources' }, note));
  }

  private drawPercentiles(sorted: Float64Array, runStatus: RunFile['status'] | undefined): void {
    if (sorted.length === 0) {
      this.percentiles.replaceChildren(noSamplesText(runStatus));
      return;
    }
    const rows = [
      ['Min', `${formatMs(sorted[0]!)}`],
      ...PERCENTILES.map((p) => [`P${p}`, formatMs(percentileSorted(sorted, p))]),
      ['Max', `${formatMs(sorted[sorted.length - 1]!)}`],
    ];
    this.percentiles.replaceChildren(table(['Percentile', 'Latency (ms)'], rows, ['left', 'right']));
  }

  private drawStages(run: RunFile | null): void {
    const stagesMs = run?.samples.stagesMs;
    const names = stagesMs ? Object.keys(stagesMs) : [];
    this.stagesSection.hidden = names.length === 0;
    if (!stagesMs || names.length === 0) return;
    const stats = names.map((name) => ({ name, s: computeStats(stagesMs[name]!) }));
    this.stages ??= new StagesChart(this.stagesCanvas, this.theme, ['Mean', 'Median']);
    this.stages.update(stats.map(({ name, s }) => ({ name, values: s ? [s.meanMs, s.medianMs] : [0, 0] })));
    const totalMean = stats.reduce((a, { s }) => a + (s?.meanMs ?? 0), 0);
    this.stagesTable.replaceChildren(
      table(
        ['Stage', 'Mean (ms)', 'Median (ms)', 'P95 (ms)', 'Share of mean'],
        stats.map(({ name, s }) => [
          name,
          s ? formatMs(s.meanMs) : 'n/a',
          s ? formatMs(s.medianMs) : 'n/a',
          s ? formatMs(s.p95Ms) : 'n/a',
          s && totalMean > 0 ? `${((100 * s.meanMs) / totalMean).toFixed(1)}%` : 'n/a',
        ]),
        ['left', 'right', 'right', 'right', 'right'],
      ),
    );
  }

  private drawEnvironment(model: ResultModel): void {
    const run = model.run;
    const rows: Array<[string, string]> = [];
    if (!run) {
      if (model.spec) {
        const s = model.spec;
        rows.push(['Spec', `warm-up ${s.warmup}, iterations ${s.iterations}${s.durationS > 0 ? `, at least ${s.durationS} s` : ''}, threads ${s.threads ?? 'default'}`]);
      }
      rows.push(['Device', model.device]);
      this.environment.replaceChildren(definitionList(rows), el('p', { class: 'muted' }, 'The rest appears when the run finishes.'));
      return;
    }
    const d = run.device;
    const v = run.versions;
    if (run.imported) {
      const imp = run.imported;
      rows.push(['Imported', `from ${imp.tool} (TensorRT ${imp.toolVersion}) on ${imp.importedAt}: ${imp.files.map((f) => `${f.role} ${f.path}`).join(', ')}`]);
      if (imp.commandLine) rows.push(['Command', imp.commandLine]);
      const check = trtexecSummaryCheck(run);
      if (check) {
        rows.push(['trtexec’s own summary', check.replace(/^trtexec's own summary /, '')]);
      }
      rows.push(['Device', 'host, CPU and OS not in trtexec’s output']);
    } else {
      rows.push(['Device', `${run.spec.device}: ${d.hostname} — ${d.distro ?? d.platform} ${d.osRelease} (${d.arch})`]);
      rows.push(['CPU', `${d.cpuModel} × ${d.cpuCount}${d.cpuGovernor ? `, governor ${d.cpuGovernor}` : ''}, ${(d.memoryBytes / 2 ** 30).toFixed(1)} GiB`]);
    }
    for (const g of d.gpus) rows.push(['GPU', `${g.name}${g.computeCapability ? ` (sm ${g.computeCapability})` : ''}${g.driverVersion ? `, driver ${g.driverVersion}` : ''}`]);
    if (d.jetson) {
      const j = d.jetson;
      rows.push(['Jetson', [j.model ?? 'unknown model', j.l4t ? `L4T ${j.l4t}` : null, j.jetpack ? `JetPack ${j.jetpack}` : null, j.powerMode ? `power mode ${j.powerMode}` : null].filter(Boolean).join(', ')]);
    }
    const versions = [`agent ${v.agent}`, `node ${v.node}`];
    for (const [name, value] of [['ONNX Runtime', v.onnxruntime], ['CUDA', v.cuda], ['TensorRT', v.tensorrt], ['TVM', v.tvm]] as const) {
      if (value !== null) versions.push(`${name} ${value}`);
    }
    rows.push(['Versions', versions.join(', ')]);
    if (run.imported) {
      rows.push(['Model', `${run.model.path} (as the log names it)`]);
    } else {
      rows.push(['Model', `${run.model.path} (${run.model.bytes.toLocaleString('en-US')} bytes, opset ${run.model.opset ?? '?'}, stored ${run.model.precision})`]);
      rows.push(['Model SHA-256', run.model.sha256]);
    }
    if (run.artifact) {
      const a = run.artifact;
      rows.push(['Artifact', run.imported ? `${a.kind} ${a.path || '(not named in the log)'}` : `${a.kind} ${a.path}, ${a.bytes.toLocaleString('en-US')} bytes, built in ${(a.buildMs / 1000).toFixed(1)} s`]);
      const flags = Object.entries(a.flags).map(([k, val]) => `${k}=${String(val)}`);
      if (flags.length) rows.push(['Build flags', flags.join(' ')]);
    }
    rows.push(['Timing', `${run.timing.spans}; ${run.timing.clock}; ${run.timing.executionProvider}, threads ${run.timing.threads ?? 'default'}`]);
    const s = run.spec;
    rows.push(['Spec', `warm-up ${s.warmup}${s.warmupMs > 0 ? ` / ${s.warmupMs} ms` : ''}, iterations ${s.iterations}${s.durationS > 0 ? `, at least ${s.durationS} s` : ''}${(s.trials ?? 1) > 1 ? `, ${s.trials} trials` : ''}`]);
    const medians = trialMedians(run.trials);
    if (medians.length > 0) rows.push(['Trial medians', trialMediansText(medians)]);
    if (run.interleaved) rows.push(['Interleaved', interleavedText(run.interleaved)]);
    rows.push(['When', `${run.createdAt} → ${run.finishedAt}`]);
    if (model.file) rows.push(['File', model.file]);
    this.environment.replaceChildren(definitionList(rows));
  }
}

function definitionList(rows: Array<[string, string]>): HTMLDListElement {
  const dl = el('dl');
  for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, v));
  return dl;
}

