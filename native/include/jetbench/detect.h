// Detector post-processing: decode the model's rows into candidates above the score threshold,
// class-aware NMS, at most maxDetections. Two head layouts:
//   YOLOv5   N x (5 + classes): cx, cy, w, h, objectness, class scores (already sigmoid-ed and
//            scaled to pixels by the exported Detect layer); YOLOv5's non_max_suppression, single
//            label per box.
//   NanoDet  cells x (classes + 4 x 11): per cell of the stride 8, 16 and 32 grids (in that order,
//            row-major), the sigmoid-ed class scores, then per box side (left, top, right, bottom)
//            11 distance-bin logits (GFL); the expected distance is the softmax-weighted bin times
//            the stride. The six heads of nanodet-g packed into one tensor (models/src/nanodet.ts
//            packNanodetHeads); contract/nanodetDecode.ts is the same decoder in TypeScript.
// The CPU version is the reference; the CUDA kernels must keep exactly the same boxes.
#pragma once

#include <cmath>
#include <vector>

#include "jetbench/common.h"

namespace jetbench {

struct Detection {
  float x1, y1, x2, y2;
  float score;
  std::int32_t classId;
};
static_assert(sizeof(Detection) == 24, "Detection crosses to JS as 6 x 4 bytes");

enum class HeadLayout : std::int32_t { YoloV5 = 0, NanoDet = 1 };

/** NanoDet's distance bins per box side (reg_max 10 + 1) and its strides. */
constexpr int kNanodetBins = 11;
constexpr int kNanodetLevels = 3;
JB_HD int nanodetStride(int level) { return 8 << level; }
/** COCO class 61 is broken in the TF.js package nanodet-g comes from (contract/nanodetDecode.ts):
 * never a candidate. */
constexpr int kNanodetDroppedClass = 61;

struct NmsOptions {
  HeadLayout head = HeadLayout::YoloV5;
  /** NanoDet: the square input's side, which fixes the cells per stride (ceil(side / stride)^2). */
  int inputSize = 0;
  /** Candidates need a score above it (YOLOv5: objectness and score) or, for NanoDet, at least it. */
  float confThreshold = 0.25f;
  float iouThreshold = 0.45f;
  int maxDetections = 300;
  /** YOLOv5's max_nms: candidates kept (by score) before NMS. */
  int maxCandidates = 30000;
};

/** Model output of one image: rows x cols (YOLOv5: cols = 5 + classes; NanoDet: rows = cells,
 * cols = classes + 44). */
struct PredictionsView {
  const void* data = nullptr;
  TensorType type = TensorType::Float32;
  int rows = 0;
  int cols = 0;
};

/** Checks the shape against the head layout (and, for NanoDet, the input size). */
void validatePredictions(const PredictionsView& p, const NmsOptions& o);
void validateNmsOptions(const NmsOptions& o);
/** Classes in a row of `cols` values of the layout. */
JB_HD int headClasses(HeadLayout head, int cols) { return head == HeadLayout::NanoDet ? cols - 4 * kNanodetBins : cols - 5; }
/** NanoDet's cells per side at a stride (Math.ceil(size / stride), as the TypeScript decoder). */
JB_HD int nanodetSide(int inputSize, int stride) { return (inputSize + stride - 1) / stride; }
JB_HD int nanodetRows(int inputSize) {
  int rows = 0;
  for (int level = 0; level < kNanodetLevels; ++level) rows += nanodetSide(inputSize, nanodetStride(level)) * nanodetSide(inputSize, nanodetStride(level));
  return rows;
}

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

/** e^x for x <= 0 in float, the same float operations on CPU and GPU (the libraries' expf differ
 * by an ulp or two between host and device, and a softmax feeds box corners that NMS compares):
 * Cody-Waite reduction by ln 2, a degree-7 Taylor polynomial on |r| <= ln 2 / 2 (relative error
 * below 2e-7), scaled by 2^n built from its bits. */
JB_HD float expNonPositive(float x) {
  if (!(x > -87.f)) return 0.f;  // below float's normal range (and NaN)
  const float n = floorf(x * 1.44269504f + 0.5f);
  const float r = (x - n * 0.693145751953125f) - n * 1.42860677e-06f;
  float p = 1.98412698e-04f;
  p = p * r + 1.38888889e-03f;
  p = p * r + 8.33333333e-03f;
  p = p * r + 4.16666667e-02f;
  p = p * r + 1.66666667e-01f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  const std::uint32_t bits = static_cast<std::uint32_t>(static_cast<int>(n) + 127) << 23;
  float scale;
#if defined(__CUDA_ARCH__)
  scale = __uint_as_float(bits);
#else
  __builtin_memcpy(&scale, &bits, 4);
#endif
  return p * scale;
}

/** A NanoDet cell's candidate (see the layout above), computed identically on CPU and GPU: the
 * first class with the highest score (NaN never wins), kept when the score is >= the threshold;
 * the box from the four expected distances around the cell's centre, in input pixels. */
template <typename Load>
JB_HD bool decodeNanodetRow(Load load, int row, int cols, int inputSize, float threshold, float* box, float* score, int* classId) {
  const int numClasses = cols - 4 * kNanodetBins;
  float best = -1.f;
  int bestClass = -1;
  for (int c = 0; c < numClasses; ++c) {
    if (c == kNanodetDroppedClass) continue;
    const float v = load(c);
    if (v > best) {
      best = v;
      bestClass = c;
    }
  }
  if (bestClass < 0 || !(best >= threshold)) return false;
  int cell = row, stride = nanodetStride(0), side = nanodetSide(inputSize, stride);
  for (int level = 1; level < kNanodetLevels && cell >= side * side; ++level) {
    cell -= side * side;
    stride = nanodetStride(level);
    side = nanodetSide(inputSize, stride);
  }
  float d[4];
  for (int k = 0; k < 4; ++k) {
    const int base = numClasses + k * kNanodetBins;
    float m = load(base);
    for (int b = 1; b < kNanodetBins; ++b) {
      const float v = load(base + b);
      m = v > m ? v : m;
    }
    float sum = 0.f, expected = 0.f;
    for (int b = 0; b < kNanodetBins; ++b) {
      const float e = expNonPositive(load(base + b) - m);
      sum = sum + e;
      expected = expected + e * static_cast<float>(b);
    }
    d[k] = (expected / sum) * static_cast<float>(stride);
  }
  const float cx = (static_cast<float>(cell % side) + 0.5f) * static_cast<float>(stride);
  const float cy = (static_cast<float>(cell / side) + 0.5f) * static_cast<float>(stride);
  box[0] = cx - d[0];
  box[1] = cy - d[1];
  box[2] = cx + d[2];
  box[3] = cy + d[3];
  *score = best + 0.f;  // -0 -> +0: candidateKey orders non-negative scores by their bits
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
