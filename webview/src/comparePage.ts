// The compare panel's page: the research report's comparison table (built by the extension with
// src/core/report.ts, so the Markdown export is the same table), a baseline picker, and the runs'
// latency distributions overlaid as ECDFs (each run's own shape, no shared bins).
import { OverlayChart, pixelsOfColour, resolveColour } from './charts';
import { el, table } from './dom';
import { ecdfPoints } from './histogram';
import type { FromComparePanel, ToComparePanel } from '../../contract/panelMessages';
import { readTheme, type Theme } from './theme';

export class ComparePage {
  private readonly title = el('h1', {}, 'Compare runs');
  private readonly baseline = el('select', { id: 'baseline', 'aria-label': 'baseline run' });
  private readonly exportButton = el('button', { type: 'button', id: 'export-md' }, 'Export Markdown');
  private readonly tableBox = el('section', { class: 'compare-table' });
  private readonly notes = el('section', { class: 'notes muted' });
  private readonly canvas = el('canvas', { id: 'overlay', 'aria-label': 'overlaid latency distributions (ECDF)' });
  private readonly chart: OverlayChart;
  private theme: Theme;

  constructor(root: HTMLElement, private readonly post: (msg: FromComparePanel) => void) {
    this.theme = readTheme();
    root.replaceChildren(
      el('header', {}, this.title, el('div', { class: 'actions' }, el('label', { for: 'baseline' }, 'Baseline '), this.baseline, this.exportButton)),
      this.tableBox,
      this.notes,
      el('section', {}, el('h2', {}, 'Latency distributions (ECDF: the share of iterations at or below each latency)'), el('div', { class: 'chart' }, this.canvas)),
    );
    this.chart = new OverlayChart(this.canvas, this.theme);
    this.baseline.addEventListener('change', () => this.post({ type: 'setBaseline', index: Number(this.baseline.value) }));
    this.exportButton.addEventListener('click', () => this.post({ type: 'exportMarkdown' }));
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.chart.setTheme(theme);
  }

  draw(msg: ToComparePanel, startedAt: number): Extract<FromComparePanel, { type: 'rendered' }> {
    this.title.textContent = `Compare ${msg.runs.length} runs`;
    this.baseline.replaceChildren(...msg.runs.map((r, i) => el('option', { value: String(i) }, r.name)));
    this.baseline.value = String(msg.baselineIndex);
    const t = table(msg.table.headers, msg.table.rows, msg.table.align);
    t.id = 'compare-table';
    t.tBodies[0]?.rows[msg.baselineIndex]?.classList.add('baseline');
    this.tableBox.replaceChildren(t);
    this.notes.replaceChildren(...msg.notes.map((n) => el('p', {}, n)));
    this.chart.update(msg.runs.map((r) => ({ label: r.name, points: ecdfPoints(r.latencyMs) })));
    const renderMs = performance.now() - startedAt;
    const first = resolveColour(this.theme.series[0]!);
    return { type: 'rendered', renderMs, rows: msg.table.rows.length, histogramPixels: pixelsOfColour(this.canvas, first) };
  }
}
