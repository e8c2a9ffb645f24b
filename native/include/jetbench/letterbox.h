// The detectors' preprocess: a BGR HWC uint8 frame of any size -> 1 x 3 x size x size CHW, bilinear
// (half-pixel centres), in one of two forms:
//   letterbox  YOLOv5's: the aspect ratio kept, padding 114, RGB, / 255 (models/src/frames.ts
//              letterbox);
//   stretch    NanoDet's: resized to the square, BGR, (v - mean) / std per channel
//              (models/src/frames.ts resizeNormalised).
// The CPU version is the reference (it agrees with frames.ts); the CUDA kernel must equal it.
#pragma once

#include "jetbench/common.h"

namespace jetbench {

/** YOLOv5 pads letterboxed frames with grey 114 (utils/augmentations.py letterbox). */
constexpr int kPadValue = 114;

struct LetterboxGeometry {
  int newWidth = 0;
  int newHeight = 0;
  int left = 0;
  int top = 0;
  /** Source pixels per output pixel, per axis (width / newWidth, height / newHeight). */
  float scaleX = 1.f;
  float scaleY = 1.f;
};

/** Same arithmetic as frames.ts letterboxGeometry (JavaScript's Math.round: half up). */
LetterboxGeometry letterboxGeometry(int width, int height, int size);

enum class PreprocessKind : std::int32_t { Letterbox = 0, Stretch = 1 };

/** What a model wants done to a frame. Stretch: out = (v - mean) / std per B, G, R channel, planes
 * in BGR order. Letterbox ignores mean and std (it is (v - 0) / 255, RGB). */
struct PreprocessSpec {
  PreprocessKind kind = PreprocessKind::Letterbox;
  float meanBgr[3] = {0.f, 0.f, 0.f};
  float stdBgr[3] = {255.f, 255.f, 255.f};
};
void validatePreprocess(const PreprocessSpec& spec);

/** One frame's resize: where the image lands in the square, how each output channel is computed
 * and which plane it goes to. Shared by CPU and GPU. */
struct PreprocessPlan {
  LetterboxGeometry g;
  /** Output plane of source channel c (B, G, R): 2 - c for RGB, c for BGR. */
  int plane[3] = {2, 1, 0};
  float mean[3] = {0.f, 0.f, 0.f};
  float std[3] = {255.f, 255.f, 255.f};
  /** Value of a padding pixel (all planes). */
  float pad = static_cast<float>(kPadValue) / 255.f;
};
PreprocessPlan preprocessPlan(int width, int height, int size, const PreprocessSpec& spec);

/** Output pixel (x, y), its three source channels B, G, R normalised (see plane[] for where each
 * goes): the padding value outside the resized image. */
JB_HD void preprocessPixel(const std::uint8_t* data, int width, int height, int strideBytes, const PreprocessPlan& p, int x, int y, float out[3]);

/** The three channels (B, G, R) of one output pixel, before / 255, shared by CPU and GPU so both
 * compute the same float operations in the same order. Half-pixel centres like cv2.INTER_LINEAR. */
JB_HD void bilinearSampleBgr(const std::uint8_t* data, int width, int height, int strideBytes, float scaleX, float scaleY, int ox, int oy,
                             float out[3]) {
  float fy = (static_cast<float>(oy) + 0.5f) * scaleY - 0.5f;
  fy = fy < 0.f ? 0.f : (fy > static_cast<float>(height - 1) ? static_cast<float>(height - 1) : fy);
  float fx = (static_cast<float>(ox) + 0.5f) * scaleX - 0.5f;
  fx = fx < 0.f ? 0.f : (fx > static_cast<float>(width - 1) ? static_cast<float>(width - 1) : fx);
  const int y0 = static_cast<int>(fy);
  const int x0 = static_cast<int>(fx);
  const int y1 = y0 + 1 < height ? y0 + 1 : height - 1;
  const int x1 = x0 + 1 < width ? x0 + 1 : width - 1;
  const float wy = fy - static_cast<float>(y0);
  const float wx = fx - static_cast<float>(x0);
  const std::uint8_t* p00 = data + static_cast<std::size_t>(y0) * strideBytes + x0 * 3;
  const std::uint8_t* p01 = data + static_cast<std::size_t>(y0) * strideBytes + x1 * 3;
  const std::uint8_t* p10 = data + static_cast<std::size_t>(y1) * strideBytes + x0 * 3;
  const std::uint8_t* p11 = data + static_cast<std::size_t>(y1) * strideBytes + x1 * 3;
  for (int c = 0; c < 3; ++c) {
    // Separate products and sums: the CUDA side compiles this without FMA contraction (see
    // CMakeLists), so both produce bit-identical floats.
    const float top = (1.f - wx) * static_cast<float>(p00[c]) + wx * static_cast<float>(p01[c]);
    const float bottom = (1.f - wx) * static_cast<float>(p10[c]) + wx * static_cast<float>(p11[c]);
    out[c] = (1.f - wy) * top + wy * bottom;
  }
}

JB_HD void preprocessPixel(const std::uint8_t* data, int width, int height, int strideBytes, const PreprocessPlan& p, int x, int y, float out[3]) {
  const int ix = x - p.g.left;
  const int iy = y - p.g.top;
  if (iy < 0 || iy >= p.g.newHeight || ix < 0 || ix >= p.g.newWidth) {
    out[0] = out[1] = out[2] = p.pad;
    return;
  }
  float bgr[3];
  bilinearSampleBgr(data, width, height, strideBytes, p.g.scaleX, p.g.scaleY, ix, iy, bgr);
  for (int c = 0; c < 3; ++c) out[c] = (bgr[c] - p.mean[c]) / p.std[c];
}

/** CPU reference: writes 3 * size * size values of `type` to `out`. */
void preprocessCpu(const FrameView& frame, int size, const PreprocessSpec& spec, TensorType type, void* out);
/** preprocessCpu with YOLOv5's letterbox. */
void letterboxCpu(const FrameView& frame, int size, TensorType type, void* out);

}  // namespace jetbench
