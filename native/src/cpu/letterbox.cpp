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

void validatePreprocess(const PreprocessSpec& spec) {
  if (spec.kind != PreprocessKind::Letterbox && spec.kind != PreprocessKind::Stretch) {
    throw InvalidArgument("unknown preprocess kind " + std::to_string(static_cast<int>(spec.kind)));
  }
  for (int c = 0; c < 3; ++c) {
    if (!std::isfinite(spec.meanBgr[c]) || !std::isfinite(spec.stdBgr[c]) || !(spec.stdBgr[c] > 0.f)) {
      throw InvalidArgument("preprocess mean and std must be finite with std > 0 (channel " + std::to_string(c) + ")");
    }
  }
}

PreprocessPlan preprocessPlan(int width, int height, int size, const PreprocessSpec& spec) {
  validatePreprocess(spec);
  PreprocessPlan p;
  if (spec.kind == PreprocessKind::Letterbox) {
    p.g = letterboxGeometry(width, height, size);
    return p;
  }
  if (size <= 0) throw InvalidArgument("preprocess size must be at least 1 (got " + std::to_string(size) + ")");
  // frames.ts resizeNormalised: the whole frame onto the square (scale w / size, h / size).
  p.g.newWidth = size;
  p.g.newHeight = size;
  p.g.scaleX = static_cast<float>(static_cast<double>(width) / size);
  p.g.scaleY = static_cast<float>(static_cast<double>(height) / size);
  for (int c = 0; c < 3; ++c) {
    p.plane[c] = c;
    p.mean[c] = spec.meanBgr[c];
    p.std[c] = spec.stdBgr[c];
  }
  p.pad = 0.f;
  return p;
}

void preprocessCpu(const FrameView& frame, int size, const PreprocessSpec& spec, TensorType type, void* out) {
  const PreprocessPlan p = preprocessPlan(frame.width, frame.height, size, spec);
  const std::size_t plane = static_cast<std::size_t>(size) * size;
  auto store = [&](std::size_t i, float v) {
    if (type == TensorType::Float32) {
      static_cast<float*>(out)[i] = v;
    } else {
      static_cast<std::uint16_t*>(out)[i] = floatToHalfBits(v);
    }
  };
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const std::size_t o = static_cast<std::size_t>(y) * size + x;
      float v[3];
      preprocessPixel(frame.data, frame.width, frame.height, frame.strideBytes, p, x, y, v);
      for (int c = 0; c < 3; ++c) store(p.plane[c] * plane + o, v[c]);
    }
  }
}

void letterboxCpu(const FrameView& frame, int size, TensorType type, void* out) { preprocessCpu(frame, size, PreprocessSpec{}, type, out); }

}  // namespace jetbench
