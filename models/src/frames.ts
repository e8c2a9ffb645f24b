// Test frames: a deterministic synthetic street-like scene (BGR HWC uint8, as a camera gives
// through OpenCV) and YOLOv5's reference letterbox preprocess, the CPU definition of correctness
// for GPU preprocessing.
import { detSin, mulberry32 } from './prng';

export interface Frame {
  width: number;
  height: number;
  /** BGR, row-major HWC, uint8. */
  data: Uint8Array;
}

/** YOLOv5 pads letterboxed frames with grey 114 (utils/augmentations.py letterbox). */
export const PAD_VALUE = 114;

const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** A sky gradient, a textured ground, `objectCount` boxes and ellipses of varied colours and
 * sizes, and mild noise: enough structure for a detector's activations to look like a real frame's. */
export function syntheticScene(width: number, height: number, seed: number, objectCount = 12): Frame {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`frame size must be positive whole numbers (got ${width}x${height})`);
  }
  const rnd = mulberry32(seed);
  const data = new Uint8Array(width * height * 3);
  const horizon = Math.floor(height * (0.35 + 0.2 * rnd()));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (y < horizon) {
        const t = y / Math.max(1, horizon);
        data[i] = clamp8(235 - 60 * t); // B
        data[i + 1] = clamp8(190 - 40 * t); // G
        data[i + 2] = clamp8(140 - 30 * t); // R
      } else {
        const texture = 18 * detSin(x * 0.07 + y * 0.013) * detSin(y * 0.11);
        const shade = 90 + 40 * ((y - horizon) / Math.max(1, height - horizon));
        data[i] = clamp8(shade - 10 + texture);
        data[i + 1] = clamp8(shade + texture);
        data[i + 2] = clamp8(shade + 12 + texture);
      }
    }
  }
  for (let k = 0; k < objectCount; k++) {
    const oh = Math.max(2, Math.floor(height * (0.05 + 0.3 * rnd())));
    const ow = Math.max(2, Math.floor(oh * (0.4 + 1.6 * rnd())));
    const x0 = Math.floor(rnd() * Math.max(1, width - ow));
    const y0 = Math.floor(horizon * 0.6 + rnd() * Math.max(1, height - oh - horizon * 0.6));
    const colour = [rnd() * 255, rnd() * 255, rnd() * 255];
    const ellipse = rnd() < 0.4;
    for (let y = y0; y < Math.min(height, y0 + oh); y++) {
      for (let x = x0; x < Math.min(width, x0 + ow); x++) {
        if (ellipse) {
          const dx = (x - x0 - ow / 2) / (ow / 2);
          const dy = (y - y0 - oh / 2) / (oh / 2);
          if (dx * dx + dy * dy > 1) continue;
        }
        const i = (y * width + x) * 3;
        const light = 0.75 + 0.25 * ((y - y0) / oh);
        data[i] = clamp8(colour[0]! * light);
        data[i + 1] = clamp8(colour[1]! * light);
        data[i + 2] = clamp8(colour[2]! * light);
      }
    }
  }
  for (let i = 0; i < data.length; i++) data[i] = clamp8(data[i]! + (rnd() - 0.5) * 12);
  return { width, height, data };
}

/** Geometry of a letterbox: scale, resized size, and the top-left padding. */
export function letterboxGeometry(width: number, height: number, size: number) {
  const r = Math.min(size / height, size / width);
  const newW = Math.round(width * r);
  const newH = Math.round(height * r);
  const dw = (size - newW) / 2;
  const dh = (size - newH) / 2;
  // YOLOv5 splits odd padding with round(d - 0.1) before and round(d + 0.1) after.
  return { r, newW, newH, left: Math.max(0, Math.round(dw - 0.1)), top: Math.max(0, Math.round(dh - 0.1)) };
}

/**
 * YOLOv5's preprocess of a BGR frame: resize keeping aspect ratio (bilinear, half-pixel centres
 * like cv2.INTER_LINEAR), centre on a size x size canvas padded with 114, BGR -> RGB, / 255,
 * HWC -> CHW. Returns 1 x 3 x size x size float32.
 */
export function letterbox(frame: Frame, size = 640): Float32Array {
  const { width: w, height: h, data } = frame;
  if (w <= 0 || h <= 0 || data.length !== w * h * 3) throw new RangeError(`frame ${w}x${h} needs ${w * h * 3} bytes, has ${data.length}`);
  const { newW, newH, left, top } = letterboxGeometry(w, h, size);
  const plane = size * size;
  const out = new Float32Array(3 * plane).fill(PAD_VALUE / 255);
  const sx = w / newW;
  const sy = h / newH;
  for (let y = 0; y < newH; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    const row0 = y0 * w * 3;
    const row1 = y1 * w * 3;
    for (let x = 0; x < newW; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const wx = fx - x0;
      const o = (top + y) * size + left + x;
      const a = x0 * 3;
      const b = x1 * 3;
      for (let c = 0; c < 3; c++) {
        // The same operations in the same order as ever (the YOLOv5 int8 built-ins' calibration
        // depends on these exact values), without a closure per pixel.
        const v = (1 - wy) * ((1 - wx) * data[row0 + a + c]! + wx * data[row0 + b + c]!) + wy * ((1 - wx) * data[row1 + a + c]! + wx * data[row1 + b + c]!);
        // BGR -> RGB: source channel c goes to plane 2 - c.
        out[(2 - c) * plane + o] = v / 255;
      }
    }
  }
  return out;
}

/** A BGR frame resized to size x size (bilinear, half-pixel centres, no aspect kept), each channel
 * (v - mean) / std, planes in BGR order: 1 x 3 x size x size. */
export function resizeNormalised(frame: Frame, size: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const { width: w, height: h, data } = frame;
  if (w <= 0 || h <= 0 || data.length !== w * h * 3) throw new RangeError(`frame ${w}x${h} needs ${w * h * 3} bytes, has ${data.length}`);
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  // Per output column: its two source columns (as byte offsets) and the weight of the second.
  const sx = w / size;
  const x0s = new Int32Array(size);
  const x1s = new Int32Array(size);
  const wxs = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
    const x0 = Math.floor(fx);
    x0s[x] = x0 * 3;
    x1s[x] = Math.min(x0 + 1, w - 1) * 3;
    wxs[x] = fx - x0;
  }
  const sy = h / size;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const row0 = y0 * w * 3;
    const row1 = Math.min(y0 + 1, h - 1) * w * 3;
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const a = x0s[x]!;
      const b = x1s[x]!;
      const wx = wxs[x]!;
      const o = y * size + x;
      for (let c = 0; c < 3; c++) {
        const top = data[row0 + a + c]! + wx * (data[row0 + b + c]! - data[row0 + a + c]!);
        const bottom = data[row1 + a + c]! + wx * (data[row1 + b + c]! - data[row1 + a + c]!);
        out[c * plane + o] = (top + wy * (bottom - top) - mean[c]!) / std[c]!;
      }
    }
  }
  return out;
}
