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

/** Trained models fetched on first use (models/src/nanodet.ts): fp32, fp16 (weights, input and
 * outputs in float16, as the YOLOv5 -fp16 variants), int8 (QDQ, calibrated on real frames) and
 * int8-mixed (the same with its sensitive layers, stem and heads, kept in float). */
export const FETCHED_MODEL_NAMES: readonly string[] = ['nanodet-g', 'nanodet-g-fp16', 'nanodet-g-int8', 'nanodet-g-int8-mixed'];

/** A fetched variant's precision suffix (-fp16, -int8, -int8-mixed). */
const FETCHED_SUFFIX = /-(fp16|int8)(?:-mixed)?$/;

/** The precision a model name states: a built-in's suffix (yolov5s-fp16, nanodet-g-fp16), else fp32. */
export function impliedPrecision(name: string): Precision {
  const fetched = FETCHED_MODEL_NAMES.includes(name) ? FETCHED_SUFFIX.exec(name)?.[1] : undefined;
  return parseBuiltinName(name)?.precision ?? (fetched as Precision | undefined) ?? 'fp32';
}

/** The variant of a model in a precision, where the name's base has one (yolov5s + fp16 ->
 * yolov5s-fp16, nanodet-g + fp16 -> nanodet-g-fp16); else the name as it is. */
export function variantFor(model: string, precision: Precision): string {
  const builtin = parseBuiltinName(model);
  if (builtin && model === builtin.base && precision !== 'fp32') return `${builtin.base}-${precision}`;
  if (FETCHED_MODEL_NAMES.includes(model) && FETCHED_MODEL_NAMES.includes(`${model}-${precision}`)) return `${model}-${precision}`;
  return model;
}

export function isBuiltinModel(name: string): boolean {
  return parseBuiltinName(name) !== null || FETCHED_MODEL_NAMES.includes(name);
}

/** The fp32 model a built-in or fetched variant was made from (yolov5s-fp16 -> yolov5s,
 * nanodet-g-fp16 -> nanodet-g): a fidelity check's reference. Anything else: the name as it is. */
export function fp32ModelFor(model: string): string {
  const builtin = parseBuiltinName(model);
  if (builtin) return builtin.base;
  if (FETCHED_MODEL_NAMES.includes(model)) return model.replace(FETCHED_SUFFIX, '');
  return model;
}

/** The low precision's variant with its sensitive layers kept in higher precision, where one is
 * built (nanodet-g + int8 -> nanodet-g-int8-mixed); null otherwise. */
export function sensitiveVariantFor(model: string, precision: Precision): string | null {
  const name = `${fp32ModelFor(model)}-${precision}-mixed`;
  return FETCHED_MODEL_NAMES.includes(name) ? name : null;
}
