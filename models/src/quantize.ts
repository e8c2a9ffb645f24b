// INT8 in QDQ form (what TensorRT and ONNX Runtime consume): every Conv reads its activation
// through QuantizeLinear -> DequantizeLinear with a per-tensor symmetric int8 scale, and its weight
// as int8 with a per-channel symmetric scale (axis 0) through DequantizeLinear. Biases stay
// float. Activation scales are calibrated by running the fp32 model in ONNX Runtime on synthetic
// frames (max-abs calibration), so they fit the activations this model really produces.
import type * as Ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { letterbox, syntheticScene } from './frames';
import { ELEM_TYPE } from './graph';
import type { FeatureStats } from './yolov5';

/** Frames the activation ranges are measured on. */
const CALIBRATION_SEEDS = [101, 202];

function floatsOf(t: onnx.ITensorProto): Float32Array {
  return new Float32Array(new Uint8Array(t.rawData!).slice().buffer);
}

/** Runs an fp32 model on synthetic frames in ONNX Runtime and hands each named tensor's values
 * to `visit` (per frame). */
async function observe(model: onnx.ModelProto, tensors: string[], seeds: number[], visit: (name: string, data: Float32Array) => void): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- native; loaded only when a model is quantized
  const ort = require('onnxruntime-node') as typeof Ort;
  const probe = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  for (const name of tensors) {
    if (name === 'images') continue;
    probe.graph!.output!.push({ name, type: { tensorType: { elemType: ELEM_TYPE.float32 } } });
  }
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), { logSeverityLevel: 3 });
  try {
    for (const seed of seeds) {
      const input = letterbox(syntheticScene(1920, 1080, seed), 640);
      const results = await session.run({ images: new ort.Tensor('float32', input, [1, 3, 640, 640]) });
      for (const name of tensors) visit(name, name === 'images' ? input : (results[name]!.data as Float32Array));
    }
  } finally {
    await session.release();
  }
}

async function activationRanges(model: onnx.ModelProto, tensors: string[]): Promise<Map<string, number>> {
  const ranges = new Map<string, number>();
  await observe(model, tensors, CALIBRATION_SEEDS, (name, data) => {
    let max = ranges.get(name) ?? 0;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]!));
    ranges.set(name, max);
  });
  return ranges;
}

/** Channel means and centred std of the inputs of the last three Conv nodes (the Detect head's
 * P3, P4, P5 convs), NCHW with batch 1. */
export async function detectInputStatsOf(model: onnx.ModelProto): Promise<FeatureStats[]> {
  const convs = (model.graph!.node ?? []).filter((n) => n.opType === 'Conv').slice(-3);
  const weights = new Map((model.graph!.initializer ?? []).map((t) => [t.name!, t]));
  const names = convs.map((n) => n.input![0]!);
  const stats = new Map<string, FeatureStats>();
  await observe(model, names, [CALIBRATION_SEEDS[0]!], (name, data) => {
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
      for (let i = 0; i < plane; i++) sq += (data[c * plane + i]! - mean) ** 2;
    }
    stats.set(name, { channelMean, std: Math.max(Math.sqrt(sq / data.length), 1e-6) });
  });
  return names.map((n) => stats.get(n)!);
}

/** Returns a new QDQ int8 model from an fp32 model (opset 13: per-channel DequantizeLinear). */
export async function quantizeQdq(model: onnx.ModelProto): Promise<onnx.ModelProto> {
  const graph = model.graph!;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const convs = (graph.node ?? []).filter((n) => n.opType === 'Conv');
  const activations = [...new Set(convs.map((n) => n.input![0]!))];
  const ranges = await activationRanges(model, activations);

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
    if (node.opType === 'Conv') {
      const [x, w, b] = node.input!;
      node.input = [qdqActivation(x!), qdqWeight(w!), ...(b ? [b] : [])];
    }
    nodes.push(node);
  }
  return onnx.ModelProto.create({
    ...model,
    docString: `${model.docString} (int8 QDQ: per-channel weights, activations calibrated max-abs on synthetic frames)`,
    graph: { ...graph, node: nodes, initializer: [...inits.values(), ...newInits] },
  });
}
