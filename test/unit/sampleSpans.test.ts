// What one latency sample spans, per run, in the compare table and the report, and the mark on a
// ratio between runs whose samples span different work (an ONNX Runtime call on the host clock is
// not a TensorRT enqueue timed by CUDA events).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunFile } from '../../contract/protocol';
import { CROSS_SPAN_MARK, compareNotes, compareTable, formatCompareTable, formatReport, sampleSpan, SPAN_LABELS } from '../../src/core/report';
import { fakeRun, latencies } from '../helpers/fakeRun';

const ort = (id: string, centreMs: number): RunFile => fakeRun({ id, latencyMs: latencies(50, centreMs, 3), backend: 'onnxruntime' });
const trt = (id: string): RunFile => fakeRun({ id, latencyMs: latencies(50, 5, 5), backend: 'tensorrt', precision: 'fp16' });

/** The cells of one column, by its header. */
function column(runs: RunFile[], baseline: number, header: string): string[] {
  const t = compareTable(runs, baseline);
  const c = t.headers.indexOf(header);
  assert.ok(c >= 0, `no column ${header} in ${t.headers.join(', ')}`);
  return t.rows.map((r) => r[c]!);
}

test('a run says what its samples span: as recorded, else by its backend (older run files)', () => {
  assert.equal(sampleSpan(ort('a', 10)), 'ort-call');
  assert.equal(sampleSpan(trt('b')), 'trt-compute');
  assert.equal(sampleSpan(fakeRun({ latencyMs: [1], backend: 'tvm' })), 'tvm-call');
  const recorded = ort('c', 10);
  recorded.timing.span = 'pipeline-frame';
  assert.equal(sampleSpan(recorded), 'pipeline-frame');
  const pipeline = ort('d', 10);
  pipeline.spec.pipeline = { mode: 'zerocopy', memory: 'mapped', source: 'synthetic', frameCount: 2, objects: 3, confThreshold: 0.25, iouThreshold: 0.45, maxDetections: 300 };
  assert.equal(sampleSpan(pipeline), 'pipeline-frame');
  // Every kind has a distinct short label.
  assert.equal(new Set(Object.values(SPAN_LABELS)).size, Object.keys(SPAN_LABELS).length);
});

test('the compare table names each run\'s span and marks only the ratios that cross spans', () => {
  const runs = [ort('a', 10), ort('b', 8), trt('c')];
  assert.deepEqual(column(runs, 0, 'Sample spans'), [SPAN_LABELS['ort-call'], SPAN_LABELS['ort-call'], SPAN_LABELS['trt-compute']]);
  const ratios = column(runs, 0, 'Ratio vs baseline');
  assert.ok(!ratios[0]!.includes(CROSS_SPAN_MARK) && !ratios[1]!.includes(CROSS_SPAN_MARK), ratios.join(' | '));
  assert.ok(ratios[2]!.includes(CROSS_SPAN_MARK), ratios.join(' | '));
  // With the TensorRT run as the baseline, the two ONNX Runtime runs are the crossing ones.
  const fromTrt = column(runs, 2, 'Ratio vs baseline');
  assert.deepEqual(fromTrt.map((r) => r.includes(CROSS_SPAN_MARK)), [true, true, false]);
});

test('the footnote explains the mark and each span involved, and appears only when a ratio crosses', () => {
  const same = [ort('a', 10), ort('b', 8)];
  assert.ok(!compareNotes(same, 0).some((n) => n.includes(CROSS_SPAN_MARK)));
  assert.ok(!formatCompareTable(same, 0, 'text').includes(CROSS_SPAN_MARK));
  const mixed = [ort('a', 10), trt('c')];
  const notes = compareNotes(mixed, 0).filter((n) => n.startsWith(CROSS_SPAN_MARK));
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /CUDA events/);
  assert.match(notes[0]!, /host clock/);
  for (const format of ['text', 'md'] as const) {
    const text = formatCompareTable(mixed, 0, format);
    assert.equal(text.split('\n').filter((l) => l.startsWith(CROSS_SPAN_MARK)).length, 1, text);
  }
  // A run without statistics has no ratio to mark.
  const cancelled = fakeRun({ id: 'x', latencyMs: [], backend: 'tensorrt', status: 'cancelled' });
  assert.ok(!compareNotes([ort('a', 10), cancelled], 0).some((n) => n.startsWith(CROSS_SPAN_MARK)));
});

test('the Markdown report says what one sample spans in every run section and marks the comparison', () => {
  const md = formatReport([ort('a', 10), trt('c')], 'md');
  const timing = md.split('\n').filter((l) => l.startsWith('- Timing:'));
  assert.equal(timing.length, 2);
  assert.ok(timing[0]!.includes(SPAN_LABELS['ort-call']), timing[0]);
  assert.ok(timing[1]!.includes(SPAN_LABELS['trt-compute']), timing[1]);
  assert.ok(md.split('\n').some((l) => l.startsWith(CROSS_SPAN_MARK)), md);
});
