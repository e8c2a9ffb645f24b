// CPU reference of the letterbox preprocess (see letterbox.h).
#include "jetbench/letterbox.h"

#include <algorithm>
#include <cmath>

#include "jetbench/half.h"

namespace jetbench {

namespace {
// JavaScript's Math.round (frames.ts): floor(x + 0.5).
int roundHalfUp(double x) { return static_cast<int>(std::floor(x + 0.5)); }
}  // namespace

LetterboxGeometry letterboxGeometry(int width, int height, int size) {
  if (size <= 0) throw InvalidArgument("letterbox size must be at least 1 (got " + std::to_string(size) + ")");
  const double r = std::min(static_cast<double>(size) / height, static_cast<double>(size) / width);
  LetterboxGeometry g;
  g.newWidth = std::max(1, roundHalfUp(width * r));
  g.newHeight = std::max(1, roundHalfUp(height * r));
  const double dw = (size - g.newWidth) / 2.0;
  const double dh = (size - g.newHeight) / 2.0;
  // YOLOv5 splits odd padding with round(d - 0.1) before and round(d + 0.1) after.
  g.left = std::max(0, roundHalfUp(dw - 0.1));
  g.top = std::max(0, roundHalfUp(dh - 0.1));
  g.scaleX = static_cast<float>(static_cast<double>(width) / g.newWidth);
  g.scaleY = static_cast<float>(static_cast<double>(height) / g.newHeight);
  return g;
}

void letterboxCpu(const FrameView& frame, int size, TensorType type, void* out) {
  const LetterboxGeometry g = letterboxGeometry(frame.width, frame.height, size);
  const std::size_t plane = static_cast<std::size_t>(size) * size;
  const float pad = static_cast<float>(kPadValue) / 255.f;
  auto store = [&](std::size_t i, float v) {
    if (type == TensorType::Float32) {
      static_cast<float*>(out)[i] = v;
    } else {
      static_cast<std::uint16_t*>(out)[i] = floatToHalfBits(v);
    }
  };
  for (int y = 0; y < size; ++y) {
    const int iy = y - g.top;
    for (int x = 0; x < size; ++x) {
      const int ix = x - g.left;
      const std::size_t o = static_cast<std::size_t>(y) * size + x;
      if (iy < 0 || iy >= g.newHeight || ix < 0 || ix >= g.newWidth) {
        for (int c = 0; c < 3; ++c) store(c * plane + o, pad);
        continue;
      }
      float bgr[3];
      bilinearSampleBgr(frame.data, frame.width, frame.height, frame.strideBytes, g.scaleX, g.scaleY, ix, iy, bgr);
      // BGR -> RGB: source channel c goes to plane 2 - c.
      for (int c = 0; c < 3; ++c) store((2 - c) * plane + o, bgr[c] / 255.f);
    }
  }
}

}  // namespace jetbench
