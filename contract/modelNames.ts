// Built-in model names, without the generator: clients (the extension's pickers, spec files) need
// the names, and must not pull the ONNX generator into their bundles to get them.
import type { Precision } from './protocolValues';

export type BuiltinBase = 'tiny' | 'yolov5n' | 'yolov5s' | 'yolov5m';

export const BUILTIN_BASES: readonly BuiltinBase[] = ['tiny', 'yolov5n', 'yolov5s', 'yolov5m'];

export const BUILTIN_MODEL_NAMES: readonly string[] = BUILTIN_BASES.flatMap((b) => [b, `${b}-fp16`, `${b}-int8`]);

export function parseBuiltinName(name: string): { base: BuiltinBase; precision: Precision } | null {
  const m = /^(tiny|yolov5[nsm])(?:-(fp16|int8))?$/.exec(name);
  return m ? { base: m[1] as BuiltinBase, precision: (m[2] as Precision | undefined) ?? 'fp32' } : null;
}

/** Trained models fetched on first use (models/src/nanodet.ts), fp32 only for now. */
export const FETCHED_MODEL_NAMES: readonly string[] = ['nanodet-g'];

export function isBuiltinModel(name: string): boolean {
  return parseBuiltinName(name) !== null || FETCHED_MODEL_NAMES.includes(name);
}
