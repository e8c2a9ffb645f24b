// Deterministic, frame-like input data for a model: image inputs get a synthetic 1080p scene
// letterboxed the way YOLOv5 preprocesses a camera frame; other inputs get seeded values.
// Zeros would let some kernels take shortcuts and measure something no camera produces.
import { letterbox, syntheticScene } from '../../models/src/frames';
import { toFloat16Bits } from '../../models/src/float16';

export { float16ToNumber, toFloat16Bits } from '../../models/src/float16';
import { BadInputError } from './errors';

export type InputDtype = 'float32' | 'float16' | 'uint8' | 'int8' | 'int32' | 'int64';

export interface InputData {
  dtype: InputDtype;
  dims: number[];
  data: Float32Array | Uint16Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;
}

/** The 1080p frame that image inputs are made from (a typical camera frame). */
const FRAME_WIDTH = 1920;
const FRAME_HEIGHT = 1080;

function seededUniform(count: number, seed: number): Float32Array {
  // mulberry32: small, fast and good enough for test data.
  let a = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/** Float32 image-like values in [0, 1], NCHW, for an input of shape [N, 3, H, W]. */
function imageLike(dims: number[], seed: number): Float32Array {
  const [n, , h, w] = dims as [number, number, number, number];
  const plane = 3 * h * w;
  const out = new Float32Array(n * plane);
  for (let b = 0; b < n; b++) {
    let chw: Float32Array;
    if (h === w) {
      chw = letterbox(syntheticScene(FRAME_WIDTH, FRAME_HEIGHT, seed + b), h);
    } else {
      // Non-square input: a scene of exactly that size, converted BGR HWC uint8 -> RGB CHW / 255.
      const scene = syntheticScene(w, h, seed + b);
      chw = new Float32Array(plane);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const src = (y * w + x) * 3;
          for (let c = 0; c < 3; c++) chw[c * h * w + y * w + x] = scene.data[src + 2 - c]! / 255;
        }
      }
    }
    out.set(chw, b * plane);
  }
  return out;
}

/** Deterministic input for one model input of a concrete shape. */
export function makeInput(name: string, dtype: string, dims: number[], seed = 1): InputData {
  const count = dims.reduce((a, b) => a * b, 1);
  const isImage = dims.length === 4 && dims[1] === 3 && dims[2]! >= 8 && dims[3]! >= 8;
  const unit = (): Float32Array => (isImage ? imageLike(dims, seed) : seededUniform(count, seed));
  switch (dtype) {
    case 'float32':
      return { dtype, dims, data: unit() };
    case 'float16':
      return { dtype, dims, data: Uint16Array.from(unit(), toFloat16Bits) };
    case 'uint8':
      return { dtype, dims, data: Uint8Array.from(unit(), (v) => Math.round(v * 255)) };
    case 'int8':
      return { dtype, dims, data: Int8Array.from(unit(), (v) => Math.round(v * 254 - 127)) };
    case 'int32':
      return { dtype, dims, data: Int32Array.from(seededUniform(count, seed), (v) => Math.floor(v * 100)) };
    case 'int64':
      return { dtype, dims, data: BigInt64Array.from(seededUniform(count, seed), (v) => BigInt(Math.floor(v * 100))) };
    default:
      throw new BadInputError(
        `input '${name}' has element type ${dtype}, which jetbench cannot generate data for (supported: float32, float16, uint8, int8, int32, int64)`,
      );
  }
}
