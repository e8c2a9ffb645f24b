// Pure logic of the result and compare panels: histogram bins, decimation, the panel's model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentileSorted } from '../../contract/stats';
import { decimateMinMax, decimateMinMaxAt } from '../../webview/src/decimate';
import { binSorted, ecdfPoints, freedmanDiaconisWidth, histogramSorted, histogramXRange, MAX_BINS } from '../../webview/src/histogram';
import { drawnSamples, drawnTelemetry, initialResultModel, liveSummaryDue, reduceResult } from '../../contract/resultModel';
import { fakeRun, latencies } from '../helpers/fakeRun';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('Freedman–Diaconis histogram', () => {
  it('uses 2 IQR n^(-1/3) as the bin width', () => {
    const xs = sorted(Array.from({ length: 1000 }, (_, i) => i / 10)); // uniform 0..99.9
    const iqr = percentileSorted(xs, 75) - percentileSorted(xs, 25);
    assert.ok(Math.abs(freedmanDiaconisWidth(xs) - (2 * iqr) / 10) < 1e-9);
  });

  it('counts every sample once, the maximum in the last bin', () => {
    const xs = sorted(latencies(5000, 10));
    const h = histogramSorted(xs);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), xs.length);
    assert.ok(h.counts.length >= 1 && h.counts.length <= MAX_BINS);
    assert.equal(h.startMs, xs[0]);
    assert.ok(h.startMs + h.counts.length * h.binWidthMs >= xs[xs.length - 1]!);
    assert.ok(h.counts[h.counts.length - 1]! > 0);
  });

  it('caps the number of bins for a long tail', () => {
    const xs = sorted([...Array.from({ length: 1000 }, (_, i) => 10 + (i % 10) / 1000), 10_000]);
    const h = histogramSorted(xs);
    assert.equal(h.counts.length, MAX_BINS);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), 1001);
  });

  it('falls back to Sturges when the IQR is zero, and to one bin for equal samples', () => {
    const xs = sorted([...new Array<number>(100).fill(5), 6, 7]);
    const h = histogramSorted(xs);
    assert.ok(h.counts.length > 1);
    assert.deepEqual(histogramSorted([3, 3, 3]).counts, [3]);
    assert.deepEqual(histogramSorted([]).counts, []);
  });

  it('x range covers every bin whole and every percentile marker (issue 12: P99 past the last bin centre vanished)', () => {
    const sorted = Float64Array.from(latencies(300, 40, 2)).sort();
    const h = histogramSorted(sorted);
    const p = [50, 95, 99].map((q) => percentileSorted(sorted, q));
    const r = histogramXRange(h, p);
    assert.ok(r.min <= sorted[0]! && r.max >= sorted[sorted.length - 1]!, `[${r.min}, ${r.max}] covers the samples`);
    assert.ok(r.max >= h.startMs + h.counts.length * h.binWidthMs, 'the last bin is whole');
    for (const v of p) assert.ok(v >= r.min && v <= r.max, `marker ${v} inside [${r.min}, ${r.max}]`);
    assert.ok(histogramXRange(h, [r.max + 5]).max >= r.max + 5, 'a marker past the bins widens the axis');
  });

  it('bins outside values nowhere', () => {
    assert.deepEqual(binSorted([0, 1, 2, 3, 10], 1, 1, 2), [1, 2]);
  });

  it('the compare panel overlays each run as its ECDF: every run keeps its shape (common bins over fp32/fp16/int8 had 3 bins)', () => {
    // Three runs a few ms apart, narrow each: common Freedman-Diaconis bins over the pool blur them.
    const runs = [latencies(200, 20, 1), latencies(200, 14, 2), latencies(200, 9, 3)];
    for (const r of runs) {
      const e = ecdfPoints(r);
      const s = sorted(r);
      assert.deepEqual(e[0], { x: s[0], y: 100 / s.length });
      assert.deepEqual(e[e.length - 1], { x: s[s.length - 1], y: 100 });
      for (let i = 1; i < e.length; i++) assert.ok(e[i]!.x >= e[i - 1]!.x && e[i]!.y > e[i - 1]!.y, 'rising in both');
      // Every sample of a 200-sample run is a point; the curve reaches 50% at the 100th smallest.
      assert.equal(e.length, 200);
      assert.equal(e.find((p) => p.y >= 50)!.x, s[99]);
    }
    assert.equal(ecdfPoints(latencies(100_000, 10, 4)).length, 1000, 'a long run draws at most 1000 points');
    assert.deepEqual(ecdfPoints([]), []);
  });
});

describe('min/max decimation', () => {
  it('keeps short series whole, offset on x', () => {
    assert.deepEqual(decimateMinMax([3, 1, 2], 10, 5), [
      { x: 5, y: 3 },
      { x: 6, y: 1 },
      { x: 7, y: 2 },
    ]);
  });

  it('keeps every spike of a long series within the point budget, in order', () => {
    const xs = Array.from({ length: 100_000 }, (_, i) => (i === 31_337 ? 500 : i === 77_000 ? 0.1 : 10 + (i % 7) / 10));
    const points = decimateMinMax(xs, 2000);
    assert.ok(points.length <= 2000, `${points.length}`);
    assert.ok(points.some((p) => p.x === 31_337 && p.y === 500));
    assert.ok(points.some((p) => p.x === 77_000 && p.y === 0.1));
    for (let i = 1; i < points.length; i++) assert.ok(points[i]!.x > points[i - 1]!.x);
  });

  it('draws samples at their own start times: the spike at the second it happened, in time order', () => {
    const n = 50_000;
    const starts = Array.from({ length: n }, (_, i) => 2.5 + i * 0.011 + (i > 20_000 ? 3 : 0)); // a 3 s pause mid-run
    const values = Array.from({ length: n }, (_, i) => (i === 33_000 ? 90 : 11));
    const points = decimateMinMaxAt(starts, values, 600);
    assert.ok(points.length <= 600, `${points.length}`);
    assert.ok(points.some((p) => p.x === starts[33_000] && p.y === 90), 'the spike at its start time');
    assert.equal(points[0]!.x, 2.5);
    for (let i = 1; i < points.length; i++) assert.ok(points[i]!.x > points[i - 1]!.x, 'in time order');
    // After the pause, no point falls inside it.
    assert.ok(!points.some((p) => p.x > starts[20_000]! && p.x < starts[20_001]!));
    assert.deepEqual(decimateMinMaxAt([0.5, 0.7], [4, 5], 10), [{ x: 0.5, y: 4 }, { x: 0.7, y: 5 }]);
    assert.throws(() => decimateMinMaxAt([1], [1, 2], 10), /1 x values for 2 samples/);
  });
});

describe('result panel model', () => {
  const spec = fakeRun({ latencyMs: [1] }).spec;
  // A new model per test: the model appends samples in place.
  const fresh = () => reduceResult(initialResultModel(), { type: 'live', runId: 'r1', spec, device: 'local', redrawIntervalMs: 100, phase: 'queued', message: 'behind 1 run' });

  it('places batches by offset, counts a gap, and leaves the queue when samples arrive', () => {
    let m = reduceResult(fresh(), { type: 'samples', batch: { runId: 'r1', phase: 'warmup', offset: 0, latencyMs: [9, 8] } });
    assert.equal(m.phase, 'running');
    m = reduceResult(m, { type: 'samples', batch: { runId: 'r1', phase: 'measure', offset: 0, latencyMs: [1, 2] } });
    m = reduceResult(m, { type: 'samples', batch: { runId: 'r1', phase: 'measure', offset: 4, latencyMs: [5] } });
    assert.equal(m.gaps, 1);
    assert.deepEqual(drawnSamples(m), { warmupMs: [9, 8], latencyMs: [1, 2, 5] });
    // Another run's samples are not this panel's.
    const other = reduceResult(m, { type: 'samples', batch: { runId: 'r2', phase: 'measure', offset: 0, latencyMs: [99] } });
    assert.deepEqual(drawnSamples(other).latencyMs, [1, 2, 5]);
  });

  it('keeps its samples when the device disconnects, and settles on the final run', () => {
    let m = reduceResult(fresh(), { type: 'samples', batch: { runId: 'r1', phase: 'measure', offset: 0, latencyMs: [1, 2, 3] } });
    m = reduceResult(m, { type: 'phase', phase: 'disconnected', message: 'the agent stopped' });
    assert.equal(m.phase, 'disconnected');
    assert.equal(drawnSamples(m).latencyMs.length, 3);
    const run = fakeRun({ id: 'r1', latencyMs: [4, 5, 6, 7] });
    m = reduceResult(m, { type: 'run', run, file: '/w/.jetbench/runs/r1.json' });
    assert.equal(m.phase, 'finished');
    assert.deepEqual(drawnSamples(m).latencyMs, [4, 5, 6, 7]);
    // Late progress and samples do not move a settled panel.
    assert.equal(reduceResult(m, { type: 'phase', phase: 'running', message: 'x' }).phase, 'finished');
    assert.deepEqual(drawnSamples(reduceResult(m, { type: 'samples', batch: { runId: 'r1', phase: 'measure', offset: 4, latencyMs: [9] } })).latencyMs, [4, 5, 6, 7]);
  });

  it('draws the live telemetry from its batches (placed by offset, holes skipped) until the run file\'s replaces it', () => {
    const meta = { sources: ['ina3221-hwmon'], requestedHz: 10, totalPowerRule: 'VDD_IN' };
    // 10 W for 1 s of idle, then 20 W while measuring: 100 ms readings.
    const reading = (i: number) => ({ tMs: 1000 + 100 * i, totalPowerMw: i < 10 ? 10_000 : 20_000 });
    const batch = (offset: number, n: number, marks: Array<{ phase: 'idle' | 'warmup' | 'measure'; atMs: number }>) => ({
      type: 'telemetry' as const,
      batch: { runId: 'r1', offset, readings: Array.from({ length: n }, (_, i) => reading(offset + i)), marks, meta },
    });
    let m = fresh();
    assert.equal(drawnTelemetry(m), null, 'nothing to draw before the first batch');
    m = reduceResult(m, batch(0, 5, [{ phase: 'idle', atMs: 1000 }]));
    let d = drawnTelemetry(m)!;
    assert.equal(d.live, true);
    assert.deepEqual(d.telemetry.phases.map((p) => [p.phase, p.meanPowerW]), [['idle', 10]]);
    assert.equal(d.telemetry.energyPerInferenceMj, null, 'not measuring yet');
    // Another run's batch is not this panel's.
    assert.equal(drawnTelemetry(reduceResult(m, { type: 'telemetry', batch: { ...batch(5, 5, []).batch, runId: 'r2' } }))!.telemetry.series.tMs.length, 5);
    // A lost batch (readings 5-9) leaves a hole; a mark past the last reading is not drawn yet.
    const marks = [{ phase: 'idle' as const, atMs: 1000 }, { phase: 'measure' as const, atMs: 2000 }, { phase: 'measure' as const, atMs: 9000 }];
    m = reduceResult(m, batch(10, 11, marks));
    m = reduceResult(m, { type: 'samples', batch: { runId: 'r1', phase: 'measure', offset: 0, latencyMs: Array(100).fill(10) } });
    d = drawnTelemetry(m)!;
    assert.equal(d.telemetry.series.tMs.length, 16);
    assert.deepEqual(d.telemetry.phases.map((p) => p.phase), ['idle', 'measure']);
    // 1 s at 20 W over the 100 measured samples received: 200 mJ each. The hole (1.4-2.0 s) is
    // bridged by a straight line from 10 to 20 W, so idle averaged 13 W: 70 mJ above it.
    assert.equal(d.telemetry.energyPerInferenceMj, 200);
    assert.equal(d.telemetry.phases[0]!.meanPowerW, 13);
    assert.equal(d.telemetry.energyPerInferenceAboveIdleMj, 70);
    // Posted to the page as JSON, a hole is null: still not a reading.
    assert.equal(drawnTelemetry(JSON.parse(JSON.stringify(m)) as typeof m)!.telemetry.series.tMs.length, 16);
    const telemetry = { ...d.telemetry, energyPerInferenceMj: 123 };
    m = reduceResult(m, { type: 'run', run: { ...fakeRun({ id: 'r1', latencyMs: [1] }), telemetry }, file: null });
    assert.deepEqual(drawnTelemetry(m), { telemetry, live: false });
    assert.equal(drawnTelemetry(reduceResult(m, batch(21, 3, marks)))!.live, false, 'a late batch does not move a settled panel');
    assert.equal(drawnTelemetry(reduceResult(fresh(), { type: 'run', run: fakeRun({ id: 'r1', latencyMs: [1] }), file: null })), null, 'a run without telemetry draws none');
  });

  it('summarises long live telemetry no more often than a tenth of the page\'s time allows', () => {
    // A summary of 360k readings that took 160 ms: the next one 1.6 s after it began, not sooner.
    assert.equal(liveSummaryDue({ atMs: 1000, costMs: 160 }, 1500), false);
    assert.equal(liveSummaryDue({ atMs: 1000, costMs: 160 }, 2599), false);
    assert.equal(liveSummaryDue({ atMs: 1000, costMs: 160 }, 2600), true);
    // A short run's (2 ms) keeps up with every batch, twice a second.
    assert.equal(liveSummaryDue({ atMs: 1000, costMs: 2 }, 1500), true);
  });
});
