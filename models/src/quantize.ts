// INT8 in QDQ form (what TensorRT and ONNX Runtime consume): every Conv reads its activation
// through QuantizeLinear -> DequantizeLinear with a per-tensor symmetric int8 scale, and its weight
// as int8 with a per-channel symmetric scale (axis 0) through DequantizeLinear. Biases stay
// float. Activation scales are calibrated by running the fp32 model in ONNX Runtime on frames: the
// YOLOv5 built-ins on synthetic frames, a trained detector (nanodet-g-int8) on real frames. The
// range is the largest |x| seen (max-abs), or a percentile of |x| (a few outliers then no longer
// stretch the scale of every other value; measured worse for NanoDet: models/src/nanodet.ts).
// Convs named in `keepFloat` stay in float (sensitive layers kept in higher precision).
import type * as Ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { letterbox, syntheticScene } from './frames';
import { ELEM_TYPE } from './graph';
import { settled } from './prng';
import type { FeatureStats } from './yolov5';

/** Frames the YOLOv5 built-ins' activation ranges are measured on. */
const CALIBRATION_SEEDS = [101, 202];

/** What activation scales are calibrated on, and how. */
export interface Calibration {
  /** Preprocessed frames, each one whole input tensor of `dims`. */
  inputs: Float32Array[];
  dims: number[];
  /** max: the largest |x| seen; percentile: that percentile of |x| over every frame. */
  method: 'max' | 'percentile';
  /** For `percentile` (default 99.99). */
  percentile?: number;
  /** In words, for the model's doc string: which frames. */
  describe: string;
  /** Conv nodes left in float (their names). */
  keepFloat?: readonly string[];
}

/** The YOLOv5 built-ins' calibration: two synthetic 1080p frames, letterboxed, max-abs. */
function syntheticCalibration(): Calibration {
  return { inputs: CALIBRATION_SEEDS.map((seed) => letterbox(syntheticScene(1920, 1080, seed), 640)), dims: [1, 3, 640, 640], method: 'max', describe: 'max-abs on synthetic frames' };
}

function floatsOf(t: onnx.ITensorProto): Float32Array {
  return new Float32Array(new Uint8Array(t.rawData!).slice().buffer);
}

/** Runs an fp32 model on the given inputs in ONNX Runtime and hands each named tensor's values to
 * `visit` (per input). */
async function observe(model: onnx.ModelProto, tensors: string[], inputs: Float32Array[], dims: number[], visit: (name: string, data: Float32Array) => void): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- native; loaded only when a model is quantized
  const ort = require('onnxruntime-node') as typeof Ort;
  const inputName = model.graph!.input![0]!.name!;
  const probe = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const outputs = new Set(probe.graph!.output!.map((o) => o.name!));
  for (const name of tensors) {
    if (name === inputName || outputs.has(name)) continue;
    probe.graph!.output!.push({ name, type: { tensorType: { elemType: ELEM_TYPE.float32 } } });
  }
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), { logSeverityLevel: 3 });
  try {
    for (const input of inputs) {
      const results = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) });
      for (const name of tensors) visit(name, name === inputName ? input : (results[name]!.data as Float32Array));
    }
  } finally {
    await session.release();
  }
}

const HISTOGRAM_BINS = 8192;

async function activationRanges(model: onnx.ModelProto, tensors: string[], c: Calibration): Promise<Map<string, number>> {
  const ranges = new Map<string, number>();
  await observe(model, tensors, c.inputs, c.dims, (name, data) => {
    let max = ranges.get(name) ?? 0;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]!));
    ranges.set(name, max);
  });
  if (c.method === 'max') return new Map([...ranges].map(([k, v]) => [k, settled(v)]));
  // Second pass: a histogram of |x| over [0, max] per tensor; the percentile from its counts.
  const histograms = new Map(tensors.map((t) => [t, new Float64Array(HISTOGRAM_BINS)]));
  await observe(model, tensors, c.inputs, c.dims, (name, data) => {
    const h = histograms.get(name)!;
    const scale = HISTOGRAM_BINS / Math.max(ranges.get(name)!, 1e-12);
    for (let i = 0; i < data.length; i++) h[Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.abs(data[i]!) * scale))]!++;
  });
  const q = (c.percentile ?? 99.99) / 100;
  const clipped = new Map<string, number>();
  for (const [name, h] of histograms) {
    const total = h.reduce((a, b) => a + b, 0);
    let seen = 0;
    let bin = 0;
    while (bin < HISTOGRAM_BINS - 1 && seen + h[bin]! < q * total) seen += h[bin++]!;
    clipped.set(name, settled(((bin + 1) / HISTOGRAM_BINS) * ranges.get(name)!));
  }
  return clipped;
}

/** Channel means and centred std of the inputs of the last three Conv nodes (the Detect head's
 * P3, P4, P5 convs), NCHW with batch 1. */
export async function detectInputStatsOf(model: onnx.ModelProto): Promise<FeatureStats[]> {
  const convs = (model.graph!.node ?? []).filter((n) => n.opType === 'Conv').slice(-3);
  const weights = new Map((model.graph!.initializer ?? []).map((t) => [t.name!, t]));
  const names = convs.map((n) => n.input![0]!);
  const stats = new Map<string, FeatureStats>();
  const synthetic = syntheticCalibration();
  await observe(model, names, synthetic.inputs.slice(0, 1), synthetic.dims, (name, data) => {
    const conv = convs[names.indexOf(name)]!;
    const channels = Number(weights.get(conv.input![1]!)!.dims![1]);
    const plane = data.length / channels;
    const channelMean: number[] = [];
    let sq = 0;
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let i = 0; i < plane; i++) sum += data[c * plane + i]!;
      const mean = sum / plane;
      channelMean.push(mean);
      for (let i = 0; i < plane; i++) {
        const d = data[c * plane + i]! - mean;
        sq += d * d;
      }
    }
    stats.set(name, { channelMean: channelMean.map(settled), std: settled(Math.max(Math.sqrt(sq / data.length), 1e-6)) });
  });
  return names.map((n) => stats.get(n)!);
}

/** The layers usually most hurt by int8 (the literature's "first and last layers"), found from the
 * graph's structure: the Convs that read the graph's input without another Conv in between (they
 * see the raw, normalised pixels), and the Convs whose outputs reach a graph output without
 * another Conv in between (the detection heads: their values feed the decoder's sigmoid and
 * softmax directly). Names, in graph order. */
export function sensitiveConvs(model: onnx.ModelProto): string[] {
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const producer = new Map<string, onnx.INodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const consumers = new Map<string, onnx.INodeProto[]>();
  for (const n of nodes) for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const found = new Set<string>();
  // Forward from the inputs, stopping at the first Conv on each path.
  const seen = new Set<string>();
  const forward = (tensor: string): void => {
    for (const n of consumers.get(tensor) ?? []) {
      if (seen.has(n.name!)) continue;
      seen.add(n.name!);
      if (n.opType === 'Conv') found.add(n.name!);
      else for (const o of n.output ?? []) forward(o);
    }
  };
  for (const i of graph.input ?? []) forward(i.name!);
  // Backward from the outputs, stopping at the first Conv on each path.
  const back = new Set<string>();
  const backward = (tensor: string): void => {
    const n = producer.get(tensor);
    if (!n || back.has(n.name!)) return;
    back.add(n.name!);
    if (n.opType === 'Conv') found.add(n.name!);
    else for (const i of n.input ?? []) backward(i);
  };
  for (const o of graph.output ?? []) backward(o.name!);
  return nodes.filter((n) => n.opType === 'Conv' && found.has(n.name!)).map((n) => n.name!);
}

/** Returns a new QDQ int8 model from an fp32 model (opset 13: per-channel DequantizeLinear). */
export async function quantizeQdq(model: onnx.ModelProto, calibration: Calibration = syntheticCalibration()): Promise<onnx.ModelProto> {
  const graph = model.graph!;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const keep = new Set(calibration.keepFloat ?? []);
  const unknown = [...keep].filter((k) => !(graph.node ?? []).some((n) => n.opType === 'Conv' && n.name === k));
  if (unknown.length > 0) throw new Error(`keepFloat names no Conv of this model: ${unknown.join(', ')}`);
  const convs = (graph.node ?? []).filter((n) => n.opType === 'Conv' && !keep.has(n.name!));
  const activations = [...new Set(convs.map((n) => n.input![0]!))];
  const ranges = await activationRanges(model, activations, calibration);

  const nodes: onnx.INodeProto[] = [];
  const newInits: onnx.ITensorProto[] = [];
  const dequantized = new Map<string, string>();
  const scalar = (name: string, type: 'float32' | 'int8', value: number): string => {
    newInits.push({
      name,
      dims: [],
      dataType: ELEM_TYPE[type],
      rawData: type === 'float32' ? new Uint8Array(Float32Array.of(value).buffer) : new Uint8Array(Int8Array.of(value).buffer),
    });
    return name;
  };
  const qdqActivation = (x: string): string => {
    let out = dequantized.get(x);
    if (out) return out;
    const scale = scalar(`${x}_scale`, 'float32', Math.max(ranges.get(x) ?? 1, 1e-6) / 127);
    const zero = scalar(`${x}_zero_point`, 'int8', 0);
    nodes.push({ name: `${x}_quantize`, opType: 'QuantizeLinear', input: [x, scale, zero], output: [`${x}_q`] });
    out = `${x}_dq`;
    nodes.push({ name: `${x}_dequantize`, opType: 'DequantizeLinear', input: [`${x}_q`, scale, zero], output: [out] });
    dequantized.set(x, out);
    return out;
  };
  const qdqWeight = (name: string): string => {
    const w = inits.get(name)!;
    const dims = (w.dims ?? []).map(Number);
    const values = floatsOf(w);
    const cout = dims[0]!;
    const per = values.length / cout;
    const scales = new Float32Array(cout);
    const q = new Int8Array(values.length);
    for (let c = 0; c < cout; c++) {
      let max = 0;
      for (let i = 0; i < per; i++) max = Math.max(max, Math.abs(values[c * per + i]!));
      const s = Math.max(max, 1e-8) / 127;
      scales[c] = s;
      for (let i = 0; i < per; i++) q[c * per + i] = Math.max(-127, Math.min(127, Math.round(values[c * per + i]! / s)));
    }
    newInits.push({ name: `${name}_quantized`, dims, dataType: ELEM_TYPE.int8, rawData: new Uint8Array(q.buffer) });
    newInits.push({ name: `${name}_scale`, dims: [cout], dataType: ELEM_TYPE.float32, rawData: new Uint8Array(scales.buffer) });
    newInits.push({ name: `${name}_zero_point`, dims: [cout], dataType: ELEM_TYPE.int8, rawData: new Uint8Array(cout) });
    inits.delete(name);
    const out = `${name}_dq`;
    nodes.push({
      name: `${name}_dequantize`,
      opType: 'DequantizeLinear',
      input: [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`],
      output: [out],
      attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
    });
    return out;
  };
  for (const node of graph.node ?? []) {
    if (node.opType === 'Conv' && !keep.has(node.name!)) {
      const [x, w, b] = node.input!;
      node.input = [qdqActivation(x!), qdqWeight(w!), ...(b ? [b] : [])];
    }
    nodes.push(node);
  }
  return onnx.ModelProto.create({
    ...model,
    docString: `${model.docString} (int8 QDQ: per-channel weights, activations calibrated ${calibration.describe}${keep.size ? `; ${keep.size} Conv(s) kept in float` : ''})`,
    graph: { ...graph, node: nodes, initializer: [...inits.values(), ...newInits] },
  });
}
