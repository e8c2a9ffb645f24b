#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "jetbench/half.h"

using namespace jetbench;

TEST(Half, KnownValues) {
  EXPECT_EQ(floatToHalfBits(0.f), 0x0000);
  EXPECT_EQ(floatToHalfBits(-0.f), 0x8000);
  EXPECT_EQ(floatToHalfBits(1.f), 0x3c00);
  EXPECT_EQ(floatToHalfBits(-2.f), 0xc000);
  EXPECT_EQ(floatToHalfBits(65504.f), 0x7bff);
  EXPECT_EQ(floatToHalfBits(65520.f), 0x7c00);  // halfway to 65536: ties to even -> inf
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.f, -25)), 0x0000);  // halfway to it: even is 0
  EXPECT_EQ(floatToHalfBits(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(floatToHalfBits(114.f / 255.f), 0x3727);  // numpy: float16(float32(114) / 255)
  EXPECT_EQ(floatToHalfBits(1.f + std::ldexp(1.f, -11)), 0x3c00);  // tie -> even
  EXPECT_EQ(floatToHalfBits(1.f + 3 * std::ldexp(1.f, -11)), 0x3c02);  // tie -> even (up)
}

TEST(Half, EveryHalfRoundTrips) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaNs
    ASSERT_EQ(floatToHalfBits(halfBitsToFloat(static_cast<std::uint16_t>(h))), h) << std::hex << h;
  }
}
