// IEEE 754 binary16 conversion on the host, bit-exact with CUDA's __float2half_rn and
// __half2float, so CPU references and GPU kernels agree on float16 tensors.
#pragma once

#include <cstdint>
#include <cstring>

namespace jetbench {

inline std::uint16_t floatToHalfBits(float value) {
  std::uint32_t x;
  std::memcpy(&x, &value, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<std::uint16_t>(sign | (absx > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (absx >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (absx < 0x38800000u) {
    // Subnormal half (or zero): shift the implicit-one mantissa, round to nearest even.
    if (absx < 0x33000000u) return static_cast<std::uint16_t>(sign);
    const std::uint32_t exp = absx >> 23;
    const std::uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
    // value = mant * 2^(exp - 150); in units of the smallest subnormal (2^-24): mant >> (126 - exp).
    const std::uint32_t dropped = 126u - exp;  // 14..24
    std::uint32_t half = mant >> dropped;
    const std::uint32_t rest = mant & ((1u << dropped) - 1u);
    const std::uint32_t halfway = 1u << (dropped - 1u);
    if (rest > halfway || (rest == halfway && (half & 1u))) half++;
    return static_cast<std::uint16_t>(sign | half);
  }
  // Normal: rebias the exponent (127 -> 15), keep 10 mantissa bits, round to nearest even.
  std::uint32_t half = ((absx - 0x38000000u) >> 13);
  const std::uint32_t rest = absx & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) half++;
  return static_cast<std::uint16_t>(sign | half);
}

inline float halfBitsToFloat(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1fu) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {
      // Subnormal: normalise.
      exp = 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        exp--;
      }
      mant &= 0x3ffu;
      bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
  } else {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

}  // namespace jetbench
