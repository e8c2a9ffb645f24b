// `jetbench pipeline`: measures whole frames (preprocess -> inference -> postprocess) in the
// conventional or zerocopy form, stage by stage, and writes the run file. Options are parsed into
// a RunSpec with `pipeline` before anything runs.
import path from 'node:path';
import type { RunFile } from '../../contract/protocol';
import { BUILTIN_FRAME_SETS, PIPELINE_DEFAULTS } from '../../contract/runSpec';
import { formatMs } from '../../contract/format';
import { numberFlag, parse, specFromFlags, UsageError } from './args';
import { HELP } from './help';
import type { CliIo } from './io';
import { EXIT_INTERRUPTED, measureOnDevice, runSummaryJson } from './measureOnDevice';

const OPTIONS = {
  device: { type: 'string', default: 'local' },
  model: { type: 'string', default: 'yolov5s' },
  backend: { type: 'string' },
  precision: { type: 'string' },
  mode: { type: 'string' },
  memory: { type: 'string' },
  frames: { type: 'string' },
  warmup: { type: 'string' },
  source: { type: 'string' },
  'frame-count': { type: 'string' },
  objects: { type: 'string' },
  conf: { type: 'string' },
  iou: { type: 'string' },
  'max-det': { type: 'string' },
  threads: { type: 'string' },
  python: { type: 'string' },
  tf32: { type: 'boolean', default: false },
  label: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  'accept-new-host-key': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export function parsePipelineArgs(args: string[]) {
  const { values: v } = parse(args, OPTIONS, false);
  if (v.help) return 'help' as const;
  const d = PIPELINE_DEFAULTS;
  const given = <T>(x: T | undefined, fallback: T): T => (x === undefined ? fallback : x);
  if ((v.python !== undefined || v.tf32) && v.backend !== 'pytorch') throw new UsageError(`--${v.python !== undefined ? 'python' : 'tf32'} applies to --backend pytorch only`);
  const spec = specFromFlags(
    {
      device: v.device,
      model: v.model,
      backend: v.backend,
      precision: v.precision,
      warmup: numberFlag('warmup', v.warmup),
      iterations: numberFlag('frames', v.frames),
      threads: numberFlag('threads', v.threads),
      label: v.label,
      ...(v.backend === 'pytorch' && (v.python !== undefined || v.tf32) ? { pytorch: { python: v.python, tf32: v.tf32 } } : {}),
      pipeline: {
        mode: given(v.mode, d.mode),
        memory: given(v.memory, d.memory),
        // A directory on the device: resolved here only when the device is this machine.
        source:
          v.source === undefined || v.source === 'synthetic'
            ? 'synthetic'
            : v.device === 'local' && !(BUILTIN_FRAME_SETS as readonly string[]).includes(v.source)
              ? path.resolve(v.source)
              : v.source,
        frameCount: given(numberFlag('frame-count', v['frame-count']), d.frameCount),
        objects: given(numberFlag('objects', v.objects), d.objects),
        confThreshold: given(numberFlag('conf', v.conf, false), d.confThreshold),
        iouThreshold: given(numberFlag('iou', v.iou, false), d.iouThreshold),
        maxDetections: given(numberFlag('max-det', v['max-det']), d.maxDetections),
      },
    },
    // A pipeline run measures whole frames: fewer of them by default than a bench's inferences.
    { warmup: 5, iterations: 50 },
    { iterations: 'frames' },
  );
  const { pipeline } = spec;
  if (!pipeline) throw new Error('internal: the pipeline options were dropped from the spec');
  return {
    spec: { ...spec, pipeline },
    out: v.out ?? null,
    json: v.json,
    quiet: v.quiet,
    acceptNewHostKey: v['accept-new-host-key'],
  };
}

/** Stage table: where each stage ran, its clock, and its statistics; then the totals. */
export function formatPipelineTable(run: RunFile): string {
  const p = run.pipeline;
  // A pipeline that failed after it started (its native worker killed, say) has no pipeline
  // section: its status, its error and what was measured are what the user needs.
  if (!p) {
    const pl = run.spec.pipeline;
    const lines = [`Pipeline${pl ? ` ${pl.mode}, ${pl.memory} memory` : ''}, model ${run.model.builtin ?? run.model.path}: ${run.status}`];
    if (run.error) lines.push(`FAILED: ${run.error}`);
    const n = run.samples.latencyMs.length;
    lines.push(`${n} frame(s) measured before it ended${run.stats ? `: end to end median ${formatMs(run.stats.medianMs)} ms, mean ${formatMs(run.stats.meanMs)} ms` : ''}`);
    return lines.join('\n');
  }
  const lines = [
    `Pipeline ${p.mode}, ${p.memory} memory, model ${run.model.builtin ?? run.model.path}, inference ${p.inference.description}, GPU ${p.gpu ?? 'none'}: ${run.status}`,
    `Frames: ${p.frames.source} (${p.frames.count} loaded, ${p.frames.width}x${p.frames.height})`,
  ];
  if (p.decoder) {
    const d = p.decoder;
    // The native decoders' own comparisons (native/include/jetbench/detect.h): NanoDet keeps a
    // class score >= the threshold, YOLOv5 an objectness and a class score (x objectness) above it.
    const kept = d.family === 'nanodet' ? `NanoDet head, score >= ${d.scoreThreshold}` : `YOLOv5 head, objectness and score > ${d.scoreThreshold}`;
    lines.push(`Decode: ${kept}, NMS IoU ${d.iouThreshold}, at most ${d.maxDetections} per frame`);
  }
  if (run.error) lines.push(`FAILED: ${run.error}`);
  const rows = [['Stage', 'Where', 'Clock', 'Median ms', 'Mean ms', 'P95 ms']];
  for (const s of p.stages) {
    const st = p.stageStats[s.name];
    rows.push([s.name, s.where, s.clock, ...(st ? [formatMs(st.medianMs), formatMs(st.meanMs), formatMs(st.p95Ms)] : ['-', '-', '-'])]);
  }
  if (p.nonInferenceStats) {
    const n = p.nonInferenceStats;
    rows.push(['non-inference (pre + post + copies)', '', '', formatMs(n.medianMs), formatMs(n.meanMs), formatMs(n.p95Ms)]);
  }
  if (run.stats) rows.push(['end to end (host clock)', '', 'host', formatMs(run.stats.medianMs), formatMs(run.stats.meanMs), formatMs(run.stats.p95Ms)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const fmt = (r: string[]) => r.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  lines.push('', fmt(rows[0]!), fmt(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(fmt));
  if (p.detections.length) {
    const sorted = [...p.detections].sort((a, b) => a - b);
    lines.push('', `Detections per frame: median ${sorted[Math.floor(sorted.length / 2)]}, min ${sorted[0]}, max ${sorted[sorted.length - 1]}`);
  }
  return lines.join('\n');
}

export async function pipeline(args: string[], io: CliIo): Promise<number> {
  const parsed = parsePipelineArgs(args);
  if (parsed === 'help') {
    io.out(HELP.pipeline);
    return 0;
  }
  const { spec } = parsed;
  const { run, outFile } = await measureOnDevice(spec, io, { ...parsed, title: `pipeline ${spec.pipeline.mode}` });
  if (parsed.json) {
    io.out(runSummaryJson(run, outFile));
  } else {
    io.out(`${formatPipelineTable(run)}\nrun file: ${path.relative(io.cwd, outFile) || outFile}\n`);
  }
  if (run.status === 'cancelled') return EXIT_INTERRUPTED;
  return run.status === 'ok' ? 0 : 1;
}
