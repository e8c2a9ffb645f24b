// The panels' charts (chart.js, bundled into dist/webview.js; nothing is fetched). Each chart is
// built once and fed new data; its options are rebuilt from the theme when the theme changes.
import {
  BarController,
  BarElement,
  Chart,
  Filler,
  Legend,
  LinearScale,
  CategoryScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
  type Plugin,
} from 'chart.js';
import type { Point } from './decimate';
import { histogramXRange, type Histogram } from './histogram';
import { extent } from '../../contract/telemetry';
import { withAlpha, type Theme } from './theme';
import { markerBandPx, markerLabelY } from './contrast';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, LinearScale, CategoryScale, Tooltip, Legend, Filler);

/** A vertical line at a value on the x axis, labelled (P50/P95/P99 on the histogram). */
export interface Marker {
  label: string;
  valueMs: number;
  color: string;
}

interface MarkerOptions {
  markers: Marker[];
}

declare module 'chart.js' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a merged declaration repeats chart.js's type parameter
  interface PluginOptionsByType<TType extends ChartType> {
    jetbenchMarkers?: MarkerOptions;
  }
}

const markerPlugin: Plugin = {
  id: 'jetbenchMarkers',
  afterDatasetsDraw(chart) {
    // chart.js types resolved options as deep-partial; ours are always set whole by the charts below.
    const opts = chart.options.plugins?.jetbenchMarkers as MarkerOptions | undefined;
    const x = chart.scales.x;
    if (!opts || !x) return;
    const { ctx, chartArea } = chart;
    const drawn: string[] = [];
    ctx.save();
    opts.markers.forEach((m, i) => {
      const px = x.getPixelForValue(m.valueMs);
      if (!Number.isFinite(px) || px < chartArea.left - 1 || px > chartArea.right + 1) return;
      drawn.push(m.label);
      ctx.strokeStyle = m.color;
      ctx.fillStyle = m.color;
      ctx.lineWidth = 2;
      ctx.setLineDash([5, 3]);
      ctx.beginPath();
      ctx.moveTo(px, chartArea.top);
      ctx.lineTo(px, chartArea.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = `${Chart.defaults.font.size ?? 12}px ${Chart.defaults.font.family ?? 'sans-serif'}`;
      // Labels go in the band reserved above the plot (never on a bar), stepping so close
      // percentiles stay readable.
      ctx.fillText(m.label, Math.min(px + 4, chartArea.right - 30), markerLabelY(i, opts.markers.length, chartArea.top));
    });
    ctx.restore();
    // What was drawn, on the canvas, for the e2e: the axis bounds chart.js used and the markers
    // inside them (a marker off the axis silently vanishes otherwise).
    const canvas = chart.canvas;
    canvas.dataset.xMin = String(x.min);
    canvas.dataset.xMax = String(x.max);
    canvas.dataset.markersDrawn = drawn.join(',');
  },
};

function applyDefaults(theme: Theme): void {
  Chart.defaults.color = theme.foreground;
  Chart.defaults.borderColor = theme.grid;
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.font.size = theme.fontSizePx - 1;
}

function axis(theme: Theme, title: string) {
  return {
    type: 'linear' as const,
    title: { display: true, text: title, color: theme.muted },
    grid: { color: theme.grid },
    ticks: { color: theme.foreground },
  };
}

/** Options shared by all charts: no animation (a live panel redraws often, and first render must
 * be fast), fixed-height containers. */
const BASE = { animation: false as const, responsive: true, maintainAspectRatio: false, normalized: true };

export class HistogramChart {
  private chart: Chart<'bar', Point[]>;
  private markers: Marker[] = [];
  /** The x-axis bounds, part of the options this class builds: chart.js 4 rebuilds its resolved
   * options on every update, so bounds written onto `chart.options` after assigning new ones are
   * lost (the axis then ended at the last bin's centre, cutting off that bin and a P99 past it). */
  private xRange: { min?: number; max?: number } = {};

  constructor(canvas: HTMLCanvasElement, private theme: Theme) {
    applyDefaults(theme);
    const config: ChartConfiguration<'bar', Point[]> = {
      type: 'bar',
      // Plain colour values (scriptable ones would make chart.js resolve options per element,
      // slow for thousands of points); a theme change assigns new ones and redraws in the default
      // mode, which re-resolves them (a 'none'-mode update keeps its cached options).
      data: { datasets: [{ label: 'iterations', data: [], parsing: false, barPercentage: 1, categoryPercentage: 1, borderWidth: 0, backgroundColor: theme.series[0]! }] },
      options: this.options(),
      plugins: [markerPlugin],
    };
    this.chart = new Chart(canvas, config);
  }

  /** Bars are the first series colour, opaque enough that a test can find them by colour. */
  get barColour(): string {
    return this.theme.series[0]!;
  }

  private options(): ChartConfiguration<'bar', Point[]>['options'] {
    const t = this.theme;
    return {
      ...BASE,
      scales: { x: { ...axis(t, 'latency (ms)'), offset: false, ...this.xRange }, y: { ...axis(t, 'iterations'), beginAtZero: true } },
      plugins: { legend: { display: false }, jetbenchMarkers: { markers: this.markers } },
      // The marker labels' band above the plot area.
      layout: { padding: { top: markerBandPx(this.markers.length) } },
    };
  }

  update(h: Histogram, markers: Marker[]): void {
    this.markers = markers;
    const ds = this.chart.data.datasets[0]!;
    ds.data = h.counts.map((c, i) => ({ x: h.startMs + (i + 0.5) * h.binWidthMs, y: c }));
    this.xRange = histogramXRange(h, markers.map((m) => m.valueMs));
    this.chart.options = this.options()!;
    this.chart.update('none');
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    applyDefaults(theme);
    this.chart.data.datasets[0]!.backgroundColor = this.barColour;
    this.chart.options = this.options()!;
    this.chart.update();
  }

  get canvas(): HTMLCanvasElement {
    return this.chart.canvas;
  }
}

/** Latency over iterations: warm-up first (its own colour), then the measured iterations. */
export class TimelineChart {
  private chart: Chart<'line', Point[]>;
  /** Part of the built options, as for the histogram (written onto resolved options it was lost). */
  private xRange: { min?: number; max?: number } = {};

  constructor(canvas: HTMLCanvasElement, private theme: Theme) {
    applyDefaults(theme);
    this.chart = new Chart(canvas, {
      type: 'line',
      data: {
        datasets: [
          { label: 'warm-up', data: [], parsing: false, pointRadius: 0, borderWidth: 1, borderColor: theme.warmup, backgroundColor: theme.warmup },
          { label: 'measured', data: [], parsing: false, pointRadius: 0, borderWidth: 1, borderColor: theme.series[0]!, backgroundColor: theme.series[0]! },
        ],
      },
      options: this.options(),
    });
  }

  private options(): ChartConfiguration<'line', Point[]>['options'] {
    const t = this.theme;
    return {
      ...BASE,
      scales: { x: { ...axis(t, 'iteration (warm-up first)'), ...this.xRange }, y: { ...axis(t, 'latency (ms)'), beginAtZero: false } },
      plugins: { legend: { display: true, labels: { color: t.foreground, boxHeight: 2 } }, tooltip: { enabled: true } },
    };
  }

  /** `iterations`: warm-up plus measured count, the x axis' end (not a rounder tick past it). */
  update(warmup: Point[], measured: Point[], iterations: number): void {
    this.chart.data.datasets[0]!.data = warmup;
    this.chart.data.datasets[1]!.data = measured;
    this.xRange = { min: 0, max: Math.max(1, iterations - 1) };
    this.chart.options = this.options()!;
    this.chart.update('none');
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    applyDefaults(theme);
    const [warm, measured] = this.chart.data.datasets;
    warm!.borderColor = warm!.backgroundColor = theme.warmup;
    measured!.borderColor = measured!.backgroundColor = theme.series[0]!;
    this.chart.options = this.options()!;
    this.chart.update();
  }
}

/** One series of the telemetry chart: values aligned with the chart's times, on one of its axes. */
export interface TelemetryLine {
  label: string;
  axis: 'power' | 'temp' | 'clock';
  values: number[];
}

/** The measured samples' latencies at their start times on the telemetry's clock (decimated
 * points, and the last sample's start: the axis must reach it). */
export interface LatencyAtTime {
  points: Point[];
  lastStartS: number;
  count: number;
}

/** Power (W), temperatures (°C) and clocks (MHz) over the run's seconds, each kind on its own
 * axis, the phases (idle, warm-up, measure) marked where they begin, and each measured sample's
 * latency (ms) at its start on the same axis: a slow sample lines up with the clock or
 * temperature of its moment. */
export class TelemetryChart {
  private chart: Chart<'line', Point[]>;
  private markers: Marker[] = [];
  private xRange: { min?: number; max?: number } = {};
  private axes = new Set<TelemetryLine['axis'] | 'latency'>();
  private lines: TelemetryLine[] = [];
  private latency: LatencyAtTime | null = null;

  constructor(canvas: HTMLCanvasElement, private theme: Theme) {
    applyDefaults(theme);
    this.chart = new Chart(canvas, { type: 'line', data: { datasets: [] }, options: this.options(), plugins: [markerPlugin] });
  }

  private options(): ChartConfiguration<'line', Point[]>['options'] {
    const t = this.theme;
    const scale = (title: string, position: 'left' | 'right', kind: TelemetryLine['axis'] | 'latency') => ({ ...axis(t, title), position, display: this.axes.has(kind), grid: { color: t.grid, drawOnChartArea: position === 'left' } });
    return {
      ...BASE,
      scales: {
        x: { ...axis(t, 'seconds since sampling began'), ...this.xRange },
        latency: { ...scale('latency (ms)', 'left', 'latency'), beginAtZero: true },
        power: scale('power (W)', 'left', 'power'),
        temp: scale('temperature (°C)', 'right', 'temp'),
        clock: scale('clock (MHz)', 'right', 'clock'),
      },
      // The legend goes below: the band above the plot holds the phase labels.
      plugins: { legend: { display: true, position: 'bottom', labels: { color: t.foreground, boxHeight: 2 } }, tooltip: { enabled: true }, jetbenchMarkers: { markers: this.markers } },
      layout: { padding: { top: markerBandPx(this.markers.length) } },
    };
  }

  update(seconds: number[], lines: TelemetryLine[], phases: Marker[], latency: LatencyAtTime | null): void {
    this.markers = phases;
    this.lines = lines;
    this.latency = latency;
    this.axes = new Set([...lines.map((l) => l.axis), ...(latency ? (['latency'] as const) : [])]);
    this.chart.data.datasets = this.datasets(seconds);
    // Not Math.max(...seconds): an hour at 100 Hz is 360k points, past what a call's arguments hold.
    const x = extent([seconds, phases.map((m) => m.valueMs), latency ? [latency.lastStartS] : []].flat());
    this.xRange = x ? { min: Math.min(0, x.min), max: x.max } : {};
    this.chart.options = this.options()!;
    this.chart.update('none');
    // For the e2e, as the markers: how many samples' latencies are on the chart.
    this.chart.canvas.dataset.latencySamples = String(latency?.count ?? 0);
  }

  private seconds: number[] = [];

  private datasets(seconds = this.seconds): Chart<'line', Point[]>['data']['datasets'] {
    this.seconds = seconds;
    const t = this.theme;
    const sets: Chart<'line', Point[]>['data']['datasets'] = this.lines.map((l, i) => {
      const colour = t.series[i % t.series.length]!;
      return { label: l.label, data: l.values.map((y, k) => ({ x: seconds[k]!, y })), parsing: false, pointRadius: 0, borderWidth: 1.5, borderColor: colour, backgroundColor: colour, yAxisID: l.axis };
    });
    // Points, not a line: samples are discrete, and a gap between trials must not be bridged. In
    // the foreground colour, half transparent, beneath the sensor lines (a higher order draws first).
    if (this.latency) sets.push({ label: 'latency of each measured sample, at its start (ms)', data: this.latency.points, parsing: false, showLine: false, pointRadius: 1.5, pointHoverRadius: 3, borderWidth: 0, borderColor: withAlpha(t.foreground, 0.5), backgroundColor: withAlpha(t.foreground, 0.5), yAxisID: 'latency', order: 1 });
    return sets;
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    applyDefaults(theme);
    this.chart.data.datasets = this.datasets();
    this.chart.options = this.options()!;
    this.chart.update();
  }
}

/** Per-stage time stacked into one bar per statistic (mean, median). */
export class StagesChart {
  private chart: Chart<'bar', number[], string>;
  private stages: Array<{ name: string; values: number[] }> = [];

  constructor(canvas: HTMLCanvasElement, private theme: Theme, private labels: string[]) {
    applyDefaults(theme);
    this.chart = new Chart(canvas, { type: 'bar', data: { labels, datasets: [] }, options: this.options() });
  }

  private options(): ChartConfiguration<'bar', number[], string>['options'] {
    const t = this.theme;
    return {
      ...BASE,
      indexAxis: 'y',
      scales: {
        x: { ...axis(t, 'ms'), stacked: true, beginAtZero: true },
        y: { type: 'category', stacked: true, grid: { color: t.grid }, ticks: { color: t.foreground } },
      },
      plugins: { legend: { display: true, labels: { color: t.foreground } } },
    };
  }

  update(stages: Array<{ name: string; values: number[] }>): void {
    this.stages = stages;
    this.chart.data.labels = this.labels;
    this.chart.data.datasets = stages.map((s, i) => ({
      label: s.name,
      data: s.values,
      backgroundColor: withAlpha(this.theme.series[i % this.theme.series.length]!, 0.8),
      borderWidth: 0,
    }));
    this.chart.update('none');
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    applyDefaults(theme);
    this.chart.options = this.options()!;
    this.update(this.stages);
  }
}

/** Several runs' histograms on common bins, as stepped lines of the share of each run's samples. */
export class OverlayChart {
  private chart: Chart<'line', Point[]>;
  private series: Array<{ label: string; points: Point[] }> = [];

  constructor(canvas: HTMLCanvasElement, private theme: Theme) {
    applyDefaults(theme);
    this.chart = new Chart(canvas, { type: 'line', data: { datasets: [] }, options: this.options() });
  }

  private options(): ChartConfiguration<'line', Point[]>['options'] {
    const t = this.theme;
    return {
      ...BASE,
      scales: { x: axis(t, 'latency (ms)'), y: { ...axis(t, '% of the run’s iterations at or below'), min: 0, max: 100 } },
      plugins: { legend: { display: true, labels: { color: t.foreground } } },
    };
  }

  update(series: Array<{ label: string; points: Point[] }>): void {
    this.series = series;
    const color = (i: number) => this.theme.series[i % this.theme.series.length]!;
    this.chart.data.datasets = series.map((s, i) => ({
      label: s.label,
      data: s.points,
      parsing: false as const,
      stepped: 'after' as const,
      pointRadius: 0,
      borderWidth: 2,
      borderColor: color(i),
      backgroundColor: color(i),
      fill: false as const,
    }));
    this.chart.update('none');
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    applyDefaults(theme);
    this.chart.options = this.options()!;
    this.update(this.series);
  }
}

/** The RGB of a CSS colour as the canvas resolves it (any syntax the theme uses). */
export function resolveColour(css: string): [number, number, number] {
  const probe = document.createElement('canvas');
  probe.width = probe.height = 1;
  const ctx = probe.getContext('2d')!;
  ctx.fillStyle = css;
  ctx.fillRect(0, 0, 1, 1);
  const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
  return [r!, g!, b!];
}

/** Pixels of the canvas painted in `rgb` (within a small tolerance), with any alpha > 0: the bars
 * of a chart, not its axes or grid. A chart without data has none. */
export function pixelsOfColour(canvas: HTMLCanvasElement, rgb: [number, number, number]): number {
  const ctx = canvas.getContext('2d');
  if (!ctx || canvas.width === 0 || canvas.height === 0) return 0;
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3]! === 0) continue;
    if (Math.abs(data[i]! - rgb[0]) + Math.abs(data[i + 1]! - rgb[1]) + Math.abs(data[i + 2]! - rgb[2]) <= 24) n++;
  }
  return n;
}
