// Reads what a run must record about its model: hash, size, opset, stored precision, and the
// input/output tensors, from the ONNX protobuf itself (not from a backend's view of it).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { onnx } from 'onnx-proto';
import type { ModelInfo, Precision, TensorInfo } from '../../contract/protocol';
import { BadInputError } from './errors';

const DTYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

type LongLike = number | { toNumber(): number };
function toNumber(v: LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function tensorInfo(v: onnx.IValueInfoProto): TensorInfo {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim ?? [];
  return {
    name: v.name ?? '',
    dtype: DTYPE_NAMES[t?.elemType ?? 0] ?? `onnx-type-${t?.elemType ?? 0}`,
    shape: dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined ? toNumber(d.dimValue) : '?')),
  };
}

/** Stored precision: int8 when the graph carries QDQ/quantized ops, fp16 when its inputs or most
 * of its weights are float16, else fp32. */
function storedPrecision(graph: onnx.IGraphProto, inputs: TensorInfo[]): Precision {
  const quantOps = new Set(['QuantizeLinear', 'DequantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger']);
  if ((graph.node ?? []).some((n) => quantOps.has(n.opType ?? ''))) return 'int8';
  if (inputs.some((i) => i.dtype === 'float16')) return 'fp16';
  let f16 = 0;
  let f32 = 0;
  for (const init of graph.initializer ?? []) {
    if (init.dataType === onnx.TensorProto.DataType.FLOAT16) f16++;
    else if (init.dataType === onnx.TensorProto.DataType.FLOAT) f32++;
  }
  return f16 > f32 ? 'fp16' : 'fp32';
}

/** Inspects an ONNX file; throws BadInputError naming the fix when it is missing or not ONNX. */
export async function inspectModel(path: string, builtin: string | null): Promise<ModelInfo> {
  let bytes: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new BadInputError(`model path '${path}' is not a file: give the path of an .onnx file`);
    bytes = st.size;
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    throw new BadInputError(`model file '${path}' not found: check the path (it is read on the device), or use a built-in model name such as yolov5s`);
  }
  const buf = await readFile(path);
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(buf);
  } catch (e) {
    throw new BadInputError(
      `'${path}' is not an ONNX model (protobuf decoding failed: ${(e as Error).message}); export the model to ONNX (e.g. torch.onnx.export) and pass the .onnx file`,
    );
  }
  const graph = model.graph;
  if (!graph || toNumber(model.irVersion as LongLike) <= 0 || (graph.node ?? []).length === 0 || (graph.output ?? []).length === 0) {
    throw new BadInputError(
      `'${path}' is not an ONNX model (no IR version, graph, nodes or outputs in it); export the model to ONNX (e.g. torch.onnx.export) and pass the .onnx file`,
    );
  }
  // Before IR v4 initializers were listed among the inputs too; they are not fed by the user.
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initNames.has(i.name ?? '')).map(tensorInfo);
  const outputs = (graph.output ?? []).map(tensorInfo);
  const defaultOpset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    builtin,
    path,
    sha256: await sha256File(path),
    bytes,
    opset: defaultOpset ? toNumber(defaultOpset.version as LongLike) : null,
    precision: storedPrecision(graph, inputs),
    inputs,
    outputs,
  };
}

/**
 * The concrete shape to feed an input: its own when static; else `requested` (which must agree
 * with every fixed dimension). Throws BadInputError naming the fix.
 */
export function concreteInputShape(input: TensorInfo, requested: number[] | null): number[] {
  const dynamic = input.shape.some((d) => typeof d !== 'number' || d <= 0);
  const shown = `[${input.shape.join(', ')}]`;
  if (requested === null) {
    if (dynamic) {
      throw new BadInputError(
        `input '${input.name}' has dynamic dimensions ${shown}: give a concrete shape, e.g. --input-shape ${input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)).join(',')}`,
      );
    }
    return input.shape as number[];
  }
  if (requested.length !== input.shape.length) {
    throw new BadInputError(
      `--input-shape ${requested.join(',')} has ${requested.length} dimensions but input '${input.name}' has ${input.shape.length} ${shown}`,
    );
  }
  requested.forEach((d, i) => {
    const fixed = input.shape[i];
    if (typeof fixed === 'number' && fixed > 0 && fixed !== d) {
      throw new BadInputError(
        `--input-shape ${requested.join(',')} does not match input '${input.name}' ${shown}: dimension ${i} is fixed at ${fixed}`,
      );
    }
  });
  return requested;
}
