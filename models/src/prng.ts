// Seeded pseudo-random numbers: generated models and frames must be byte-identical on every run.

/** mulberry32: a small, fast 32-bit generator; returns uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from a name (FNV-1a), so each model has its own weights. */
export function seedFrom(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Standard normal samples (Box-Muller) from a uniform generator. */
export function normal(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * detLog(u));
    const [sin, cos] = sinCosTurns(v);
    spare = r * sin;
    return r * cos;
  };
}

// Logarithm, sine and cosine from + - * / and floor only. ECMAScript leaves Math.log, Math.sin
// and Math.cos (and **) "implementation-approximated": Node on an aarch64 Jetson and on x86-64
// differ in their last bit, and with them the weights of every built-in model (the same `tiny`
// had another sha256 on the emulated aarch64 device than here). IEEE 754 rounds those basic
// operations (and Math.sqrt) exactly on every machine, so these give the same bits everywhere.

const LN2 = 0.6931471805599453;
const bits = new DataView(new ArrayBuffer(8));

/** The natural logarithm, the same bits on every machine (within ~2 ulp of Math.log). */
export function detLog(x: number): number {
  if (!(x > 0) || x === Infinity) return Math.log(x); // NaN, -Infinity, Infinity: exact by the spec
  let k = 0;
  if (x < 2.2250738585072014e-308) {
    x *= 18014398509481984; // 2^54: a subnormal scaled into the normal range
    k = -54;
  }
  bits.setFloat64(0, x);
  const hi = bits.getUint32(0);
  k += ((hi >>> 20) & 0x7ff) - 1023;
  bits.setUint32(0, (hi & 0x000fffff) | 0x3ff00000);
  let m = bits.getFloat64(0); // x = m 2^k, m in [1, 2)
  if (m > Math.SQRT2) {
    m /= 2;
    k += 1;
  }
  // ln m = 2 atanh(z), z = (m - 1) / (m + 1), |z| <= 0.172: the series to z^27 leaves < 1e-21.
  const z = (m - 1) / (m + 1);
  const z2 = z * z;
  let sum = 0;
  for (let n = 27; n >= 1; n -= 2) sum = sum * z2 + 1 / n;
  return k * LN2 + 2 * z * sum;
}

/** [sin, cos] of 2 pi t (t in turns), the same bits on every machine (within ~1e-16 of Math's). */
export function sinCosTurns(t: number): [number, number] {
  const f = t - Math.floor(t);
  const q4 = f * 4;
  const q = Math.floor(q4);
  const r = (q4 - q) * (Math.PI / 2); // [0, pi/2)
  const r2 = r * r;
  // Nested Taylor series to r^27 / 27! (< 1e-22 at pi/2).
  let s = 1;
  let c = 1;
  for (let n = 13; n >= 1; n--) {
    s = 1 - (r2 / (2 * n * (2 * n + 1))) * s;
    c = 1 - (r2 / ((2 * n - 1) * (2 * n))) * c;
  }
  s *= r;
  return q === 0 ? [s, c] : q === 1 ? [c, -s] : q === 2 ? [-s, -c] : [-c, s];
}

/** sin(a), the same bits on every machine. */
export function detSin(a: number): number {
  return sinCosTurns(a / (2 * Math.PI))[0];
}

/** A measured statistic rounded to 6 significant digits before a model is built from it: ONNX
 * Runtime's kernels differ by CPU (x86 AVX2/AVX-512, arm64 NEON) in the last bits, not in 6 digits. */
export function settled(x: number): number {
  return Number(x.toPrecision(6));
}
