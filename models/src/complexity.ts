// Parameters and FLOPs of a generated model, read from its graph: parameters are the Conv
// weights and biases (what YOLOv5's model summary counts after fusing BN); FLOPs are
// 2 x multiply-accumulates of the Conv layers at the graph's input size (thop's convention x 2).
import { onnx } from 'onnx-proto';

export interface Complexity {
  params: number;
  gflops: number;
}

type Long = number | { toNumber(): number };
const num = (v: Long | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

function attrInts(node: onnx.INodeProto, name: string): number[] | null {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.ints ? a.ints.map((v) => num(v as Long)) : null;
}

export function modelComplexity(model: onnx.IModelProto | Uint8Array): Complexity {
  const m = model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model;
  const graph = m.graph!;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  // NCHW shapes of the tensors Conv layers read; others are not needed.
  const shapes = new Map<string, number[]>();
  for (const input of graph.input ?? []) {
    shapes.set(input.name!, (input.type?.tensorType?.shape?.dim ?? []).map((d) => num(d.dimValue as Long)));
  }
  // The initializer a weight input ultimately comes from (int8 models put DequantizeLinear between).
  const producer = new Map<string, onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const o of node.output ?? []) producer.set(o, node);
  const source = (name: string): onnx.ITensorProto | undefined => {
    const direct = inits.get(name);
    if (direct) return direct;
    const p = producer.get(name);
    return p?.opType === 'DequantizeLinear' ? inits.get(p.input![0]!) : undefined;
  };
  const elements = (t: onnx.ITensorProto) => (t.dims ?? []).reduce<number>((a, d) => a * num(d as Long), 1);

  let params = 0;
  let macs = 0;
  for (const node of graph.node ?? []) {
    const ins = node.input ?? [];
    const first = shapes.get(ins[0] ?? '');
    let out: number[] | undefined;
    switch (node.opType) {
      case 'Conv':
      case 'MaxPool': {
        if (!first) throw new Error(`complexity: unknown input shape of ${node.name}`);
        const kernel = attrInts(node, 'kernel_shape')!;
        const strides = attrInts(node, 'strides') ?? [1, 1];
        const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
        const [n, c, h, w] = first as [number, number, number, number];
        const oh = Math.floor((h + pads[0]! + pads[2]! - kernel[0]!) / strides[0]!) + 1;
        const ow = Math.floor((w + pads[1]! + pads[3]! - kernel[1]!) / strides[1]!) + 1;
        if (node.opType === 'MaxPool') {
          out = [n, c, oh, ow];
          break;
        }
        const weight = source(ins[1]!);
        if (!weight) throw new Error(`complexity: weight of ${node.name} is not a constant`);
        const wd = (weight.dims ?? []).map((d) => num(d as Long));
        const bias = ins[2] ? source(ins[2]) : undefined;
        params += elements(weight) + (bias ? elements(bias) : 0);
        macs += wd[0]! * wd[1]! * wd[2]! * wd[3]! * oh * ow * n;
        out = [n, wd[0]!, oh, ow];
        break;
      }
      case 'Concat': {
        const parts = ins.map((i) => shapes.get(i));
        if (parts.every((p) => p && p.length === 4)) out = [parts[0]![0]!, parts.reduce((a, p) => a + p![1]!, 0), parts[0]![2]!, parts[0]![3]!];
        break;
      }
      case 'Resize': {
        const scales = inits.get(ins[2] ?? '');
        if (first && scales?.rawData) {
          const f = new Float32Array(new Uint8Array(scales.rawData).slice().buffer);
          out = first.map((d, i) => Math.floor(d * f[i]!));
        }
        break;
      }
      case 'Sigmoid':
      case 'Mul':
      case 'Add':
      case 'QuantizeLinear':
      case 'DequantizeLinear': {
        const cand = ins.map((i) => shapes.get(i)).filter((s): s is number[] => !!s && s.length === 4);
        out = cand[0];
        break;
      }
      default:
        out = undefined;
    }
    if (out) shapes.set(node.output![0]!, out);
  }
  return { params, gflops: (2 * macs) / 1e9 };
}
