// YOLOv5 post-processing: decode the N x (5 + classes) predictions (cx, cy, w, h, objectness,
// class scores; already sigmoid-ed and scaled to pixels by the exported Detect layer), keep
// candidates above the confidence threshold, class-aware NMS, at most maxDetections. The CPU
// version is the reference (YOLOv5's non_max_suppression, single label per box); the CUDA kernels
// must keep exactly the same boxes.
#pragma once

#include <vector>

#include "jetbench/common.h"

namespace jetbench {

struct Detection {
  float x1, y1, x2, y2;
  float score;
  std::int32_t classId;
};
static_assert(sizeof(Detection) == 24, "Detection crosses to JS as 6 x 4 bytes");

struct NmsOptions {
  float confThreshold = 0.25f;
  float iouThreshold = 0.45f;
  int maxDetections = 300;
  /** YOLOv5's max_nms: candidates kept (by score) before NMS. */
  int maxCandidates = 30000;
};

/** Model output of one image: rows x cols, cols = 5 + number of classes. */
struct PredictionsView {
  const void* data = nullptr;
  TensorType type = TensorType::Float32;
  int rows = 0;
  int cols = 0;
};

void validatePredictions(const PredictionsView& p);
void validateNmsOptions(const NmsOptions& o);

/** xywh (centre, size) -> xyxy, the same float operations on CPU and GPU. */
template <typename Load>
JB_HD void decodeBox(Load load, float* box) {
  const float cx = load(0), cy = load(1), hw = load(2) / 2.f, hh = load(3) / 2.f;
  box[0] = cx - hw;
  box[1] = cy - hh;
  box[2] = cx + hw;
  box[3] = cy + hh;
}

/** A candidate's box and score, computed identically on CPU and GPU. Returns false when the
 * row is below the confidence threshold. Ties between classes go to the lowest class index. (The
 * GPU decode takes the same first maximum with a few lanes per row: see detect.cu.) */
template <typename Load>
JB_HD bool decodeRow(Load load, int cols, float confThreshold, float* box, float* score, int* classId) {
  const float obj = load(4);
  if (!(obj > confThreshold)) return false;
  float best = load(5) * obj;
  int bestClass = 0;
  for (int c = 1; c < cols - 5; ++c) {
    const float v = load(5 + c) * obj;
    if (v > best) {
      best = v;
      bestClass = c;
    }
  }
  if (!(best > confThreshold)) return false;
  decodeBox(load, box);
  *score = best;
  *classId = bestClass;
  return true;
}

/** torchvision's IoU formula (nms_kernel.cu devIoU), evaluated without FMA on both sides. */
JB_HD float boxIou(const float* a, const float* b) {
  const float left = a[0] > b[0] ? a[0] : b[0];
  const float top = a[1] > b[1] ? a[1] : b[1];
  const float right = a[2] < b[2] ? a[2] : b[2];
  const float bottom = a[3] < b[3] ? a[3] : b[3];
  const float w = right - left > 0.f ? right - left : 0.f;
  const float h = bottom - top > 0.f ? bottom - top : 0.f;
  const float inter = w * h;
  const float areaA = (a[2] - a[0]) * (a[3] - a[1]);
  const float areaB = (b[2] - b[0]) * (b[3] - b[1]);
  return inter / (areaA + areaB - inter);
}

/** Sort key: score descending, then row ascending (a stable sort by score). Scores above a
 * threshold >= 0 are non-negative floats, whose bit patterns order like the numbers. */
JB_HD std::uint64_t candidateKey(float score, int row) {
  std::uint32_t bits;
#if defined(__CUDA_ARCH__)
  bits = __float_as_uint(score);
#else
  __builtin_memcpy(&bits, &score, 4);
#endif
  return (static_cast<std::uint64_t>(bits) << 32) | (0xffffffffu - static_cast<std::uint32_t>(row));
}

/** CPU reference. */
std::vector<Detection> decodeNmsCpu(const PredictionsView& predictions, const NmsOptions& options);

}  // namespace jetbench
