// Output agreement between a backend and the reference (ONNX Runtime) on the same input.
import type { Precision, Verification } from './protocol';

/** Tolerances by the precision the backend computed in: fp32 kernels differ only in summation
 * order; fp16 keeps ~3 significant digits, and YOLO's decoded box sizes (up to 640 px) amplify it. */
export function tolerances(precision: Precision): { atol: number; rtol: number } {
  if (precision === 'fp32') return { atol: 1e-3, rtol: 1e-3 };
  if (precision === 'fp16') return { atol: 5e-2, rtol: 2e-2 };
  return { atol: 1e-1, rtol: 1e-1 };
}

/** Elementwise |got - ref| <= atol + rtol * |ref| over every output (numpy.allclose's rule). */
export function compareOutputs(reference: Float32Array[], got: Float32Array[], precision: Precision): Verification {
  const { atol, rtol } = tolerances(precision);
  if (reference.length !== got.length) {
    throw new Error(`the backend gave ${got.length} outputs, the reference ${reference.length}`);
  }
  let maxAbsDiff = 0;
  let mismatches = 0;
  let elements = 0;
  reference.forEach((ref, k) => {
    const out = got[k]!;
    if (out.length !== ref.length) throw new Error(`output ${k} has ${out.length} elements, the reference ${ref.length}`);
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(out[i]! - ref[i]!);
      if (!(d <= atol + rtol * Math.abs(ref[i]!))) mismatches++;
      if (d > maxAbsDiff || Number.isNaN(d)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
    }
    elements += ref.length;
  });
  return { reference: 'onnxruntime', maxAbsDiff, mismatches, elements, atol, rtol, passed: mismatches === 0 };
}
