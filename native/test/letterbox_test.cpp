// Hand-computed cases for the CPU letterbox reference (the same cases as test/unit/letterbox.test.ts,
// so the C++ and TypeScript references are pinned to the same numbers).
#include <gtest/gtest.h>

#include <vector>

#include "jetbench/half.h"
#include "jetbench/letterbox.h"

using namespace jetbench;

namespace {
FrameView view(const std::vector<std::uint8_t>& d, int w, int h, int stride = 0) {
  FrameView f;
  f.data = d.data();
  f.width = w;
  f.height = h;
  f.strideBytes = stride ? stride : 3 * w;
  return f;
}
}  // namespace

TEST(Letterbox, FourByTwoIntoFourByFourPadsRowsAndSwapsChannels) {
  // Pixel (x, y) has B = 10 + x, G = 100 + y, R = 200 + x + y.
  std::vector<std::uint8_t> d(4 * 2 * 3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) {
      d[(y * 4 + x) * 3 + 0] = 10 + x;
      d[(y * 4 + x) * 3 + 1] = 100 + y;
      d[(y * 4 + x) * 3 + 2] = 200 + x + y;
    }
  std::vector<float> out(3 * 16);
  letterboxCpu(view(d, 4, 2), 4, TensorType::Float32, out.data());
  auto at = [&](int c, int y, int x) { return out[c * 16 + y * 4 + x]; };
  for (int y : {0, 3})
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(at(c, y, x), 114.f / 255.f);
  EXPECT_FLOAT_EQ(at(0, 1, 0), 200.f / 255.f);  // R of pixel (0, 0)
  EXPECT_FLOAT_EQ(at(1, 1, 0), 100.f / 255.f);  // G
  EXPECT_FLOAT_EQ(at(2, 1, 0), 10.f / 255.f);   // B
  EXPECT_FLOAT_EQ(at(0, 2, 3), 204.f / 255.f);  // R of pixel (3, 1)
}

TEST(Letterbox, BilinearHalfPixelCentresOnARamp) {
  // A 2x1 ramp (0, 255) doubled to 4 pixels: samples at x = -0.25, 0.25, 0.75, 1.25 (clamped).
  std::vector<std::uint8_t> d = {0, 0, 0, 255, 255, 255};
  std::vector<float> out(3 * 16);
  letterboxCpu(view(d, 2, 1), 4, TensorType::Float32, out.data());
  const float expected[4] = {0.f, 63.75f, 191.25f, 255.f};
  for (int x = 0; x < 4; ++x) EXPECT_NEAR(out[1 * 4 + x] * 255.f, expected[x], 1e-4f) << "x=" << x;
}

TEST(Letterbox, GeometryOf1080pAnd720pAndOddSizes) {
  const LetterboxGeometry g = letterboxGeometry(1920, 1080, 640);
  EXPECT_EQ(g.newWidth, 640);
  EXPECT_EQ(g.newHeight, 360);
  EXPECT_EQ(g.left, 0);
  EXPECT_EQ(g.top, 140);
  const LetterboxGeometry h = letterboxGeometry(1280, 720, 640);
  EXPECT_EQ(h.newHeight, 360);
  EXPECT_EQ(h.top, 140);
  // 641 x 479: r = 640/641, new 640 x 478 (478.25 -> 478), dh = 81: top 81.
  const LetterboxGeometry o = letterboxGeometry(641, 479, 640);
  EXPECT_EQ(o.newWidth, 640);
  EXPECT_EQ(o.newHeight, 478);
  EXPECT_EQ(o.top, 81);
  // Odd padding: 640 x 637 -> dh = 1.5: round(1.4) = 1 above, 2 below.
  EXPECT_EQ(letterboxGeometry(640, 637, 640).top, 1);
}

TEST(Letterbox, PaddedRowsWithAnOddStrideGiveTheSameTensor) {
  const int w = 37, h = 23, stride = 3 * w + 5;
  std::vector<std::uint8_t> packed(3 * w * h), padded(stride * h, 0xAB);
  for (int i = 0; i < 3 * w * h; ++i) packed[i] = static_cast<std::uint8_t>((i * 7919) % 251);
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < 3 * w; ++i) padded[y * stride + i] = packed[y * 3 * w + i];
  std::vector<float> a(3 * 64 * 64), b(3 * 64 * 64);
  letterboxCpu(view(packed, w, h), 64, TensorType::Float32, a.data());
  letterboxCpu(view(padded, w, h, stride), 64, TensorType::Float32, b.data());
  EXPECT_EQ(a, b);
}

TEST(Letterbox, Float16IsTheRoundedFloat32) {
  const int w = 50, h = 30;
  std::vector<std::uint8_t> d(3 * w * h);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(i * 31 % 256);
  std::vector<float> f32(3 * 32 * 32);
  std::vector<std::uint16_t> f16(3 * 32 * 32);
  letterboxCpu(view(d, w, h), 32, TensorType::Float32, f32.data());
  letterboxCpu(view(d, w, h), 32, TensorType::Float16, f16.data());
  for (std::size_t i = 0; i < f32.size(); ++i) ASSERT_EQ(f16[i], floatToHalfBits(f32[i])) << i;
}

TEST(Letterbox, BadFramesNameTheProblem) {
  std::vector<std::uint8_t> d(30);
  EXPECT_THROW(validateFrame(view(d, 0, 10), d.size()), InvalidArgument);
  try {
    validateFrame(view(d, 5, 2, 14), d.size());
    FAIL() << "a stride below width * 3 must be rejected";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("stride 14"), std::string::npos) << e.what();
  }
  EXPECT_THROW(validateFrame(view(d, 5, 3), d.size()), InvalidArgument);  // needs 45 bytes, has 30
  EXPECT_NO_THROW(validateFrame(view(d, 5, 2), d.size()));
}

TEST(Preprocess, StretchFillsTheSquareInBgrWithTheModelsMeanAndStd) {
  // A 2 x 1 frame (B, G, R per pixel) stretched to 4 x 4: column x samples source x (x + 0.5) / 2 - 0.5.
  std::vector<std::uint8_t> d = {10, 20, 30, 110, 120, 130};
  PreprocessSpec spec;
  spec.kind = PreprocessKind::Stretch;
  const float mean[3] = {100.f, 50.f, 25.f}, stdv[3] = {2.f, 4.f, 5.f};
  for (int c = 0; c < 3; ++c) {
    spec.meanBgr[c] = mean[c];
    spec.stdBgr[c] = stdv[c];
  }
  std::vector<float> out(3 * 16);
  preprocessCpu(view(d, 2, 1), 4, spec, TensorType::Float32, out.data());
  for (int y = 0; y < 4; ++y) {
    const float wx[4] = {0.f, 0.25f, 0.75f, 1.f};  // fx clamped to [0, 1]: -0.25, 0.25, 0.75, 1.25
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = (1.f - wx[x]) * d[c] + wx[x] * d[3 + c];
        EXPECT_NEAR(out[c * 16 + y * 4 + x], (v - mean[c]) / stdv[c], 1e-5) << "plane " << c << " (" << x << ", " << y << ")";
      }
  }
  spec.stdBgr[1] = 0.f;
  EXPECT_THROW(preprocessCpu(view(d, 2, 1), 4, spec, TensorType::Float32, out.data()), InvalidArgument);
}

TEST(Preprocess, TheDefaultSpecIsTheLetterbox) {
  const int w = 50, h = 30;
  std::vector<std::uint8_t> d(3 * w * h);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(i * 17 % 256);
  std::vector<float> a(3 * 32 * 32), b(3 * 32 * 32);
  letterboxCpu(view(d, w, h), 32, TensorType::Float32, a.data());
  preprocessCpu(view(d, w, h), 32, PreprocessSpec{}, TensorType::Float32, b.data());
  EXPECT_EQ(a, b);
}
