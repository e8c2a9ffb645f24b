// Output agreement between a backend and the reference (ONNX Runtime) on the same input.
import type { Precision, Verification } from '../../contract/protocol';

/** Tolerances by the precision the backend computed in. fp32 kernels differ only in summation
 * order: every element must agree. fp16 keeps ~3 significant digits, and YOLO's decode squares
 * the sigmoid for box sizes (doubling its relative error, times anchors up to 373 px), so a few
 * box sizes per thousand elements may stray further: up to 0.1% of elements may miss. */
export function tolerances(precision: Precision): { atol: number; rtol: number; maxMismatchFraction: number } {
  if (precision === 'fp32') return { atol: 1e-3, rtol: 1e-3, maxMismatchFraction: 0 };
  if (precision === 'fp16') return { atol: 1e-1, rtol: 5e-2, maxMismatchFraction: 1e-3 };
  // bf16 keeps 8 bits of mantissa (fp16: 11): about two significant digits, int8's tolerances.
  if (precision === 'bf16') return { atol: 1e-1, rtol: 1e-1, maxMismatchFraction: 1e-2 };
  return { atol: 1e-1, rtol: 1e-1, maxMismatchFraction: 1e-2 };
}

/** Elementwise |got - ref| <= atol + rtol * |ref| over every output (numpy.allclose's rule). */
export function compareOutputs(reference: Float32Array[], got: Float32Array[], precision: Precision): Verification {
  const { atol, rtol, maxMismatchFraction } = tolerances(precision);
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
  return { reference: 'onnxruntime', maxAbsDiff, mismatches, elements, atol, rtol, maxMismatchFraction, passed: mismatches <= maxMismatchFraction * elements };
}
