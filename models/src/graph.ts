// A small ONNX graph builder over onnx-proto: named tensors, nodes with typed attributes, and
// initializers stored as raw little-endian bytes, as exporters write them.
import { onnx } from 'onnx-proto';
import { toFloat16Bits } from './float16';

export type FloatType = 'float32' | 'float16';
type Attr = number | number[] | string | { floats: number[] };

const ELEM = { float32: 1, uint8: 2, int8: 3, int64: 7, float16: 10 } as const;
export type ElemType = keyof typeof ELEM;
export const ELEM_TYPE = ELEM;

function rawBytes(type: ElemType, values: ArrayLike<number> | ArrayLike<bigint>): Uint8Array {
  const n = values.length;
  switch (type) {
    case 'float32':
      return new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer);
    case 'float16':
      return new Uint8Array(Uint16Array.from(values as ArrayLike<number>, toFloat16Bits).buffer);
    case 'int8':
      return new Uint8Array(Int8Array.from(values as ArrayLike<number>).buffer);
    case 'uint8':
      return Uint8Array.from(values as ArrayLike<number>);
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt((values as ArrayLike<number | bigint>)[i]!);
      return new Uint8Array(out.buffer);
    }
  }
}

function attribute(name: string, value: Attr): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (typeof value === 'object') return { name, type: T.FLOATS, floats: value.floats };
  return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
}

export interface ValueInfo {
  name: string;
  type: ElemType;
  shape: Array<number | string>;
}

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;

  /** floatType: the element type of weights and activations (fp32 or fp16 models). */
  constructor(readonly floatType: FloatType) {}

  unique(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  init(name: string, dims: number[], type: ElemType, values: ArrayLike<number> | ArrayLike<bigint>): string {
    this.initializers.push({ name, dims, dataType: ELEM[type], rawData: rawBytes(type, values) });
    return name;
  }

  /** A float initializer in the graph's float type. */
  floats(prefix: string, dims: number[], values: ArrayLike<number>): string {
    return this.init(this.unique(prefix), dims, this.floatType, values);
  }

  int64s(prefix: string, values: number[]): string {
    return this.init(this.unique(prefix), [values.length], 'int64', values);
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1, domain = ''): string[] {
    const name = this.unique(opType.toLowerCase());
    const outs = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? name : `${name}_${i}`));
    this.nodes.push({
      name,
      opType,
      domain,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  one(opType: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.node(opType, inputs, attrs)[0]!;
  }

  model(opts: { inputs: ValueInfo[]; outputs: ValueInfo[]; opset: number; graphName: string; docString: string }): onnx.ModelProto {
    const valueInfo = (v: ValueInfo): onnx.IValueInfoProto => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: ELEM[v.type],
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    return onnx.ModelProto.create({
      // IR version 7 is what opset 11..13 exporters write (ONNX 1.8).
      irVersion: 7,
      producerName: 'jetbench',
      producerVersion: '1',
      docString: opts.docString,
      opsetImport: [{ domain: '', version: opts.opset }],
      graph: {
        name: opts.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: opts.inputs.map(valueInfo),
        output: opts.outputs.map(valueInfo),
      },
    });
  }
}
