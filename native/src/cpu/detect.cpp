// CPU reference of decode + class-aware NMS (see detect.h).
#include "jetbench/detect.h"

#include <algorithm>

#include "jetbench/half.h"

namespace jetbench {

void validatePredictions(const PredictionsView& p, const NmsOptions& o) {
  if (o.head == HeadLayout::NanoDet) {
    if (o.inputSize < 32) throw InvalidArgument("NanoDet decoding needs the model's input size (got " + std::to_string(o.inputSize) + ")");
    const int rows = nanodetRows(o.inputSize);
    if (p.rows != rows || p.cols <= 4 * kNanodetBins) {
      throw InvalidArgument("model output is " + std::to_string(p.rows) + " x " + std::to_string(p.cols) + ": NanoDet post-processing at input " +
                            std::to_string(o.inputSize) + " needs " + std::to_string(rows) +
                            " cells x (classes + 44), its six heads packed into one tensor (e.g. 3549 x 124 for nanodet-g)");
    }
    if (p.data == nullptr) throw InvalidArgument("model output has no data");
    return;
  }
  if (p.rows <= 0 || p.cols < 6) {
    throw InvalidArgument("model output is " + std::to_string(p.rows) + " x " + std::to_string(p.cols) +
                          ": YOLO post-processing needs N x (5 + classes) with at least one class (e.g. 25200 x 85); "
                          "use a YOLOv5-style model whose output is boxes, objectness and class scores");
  }
  if (p.data == nullptr) throw InvalidArgument("model output has no data");
}

void validateNmsOptions(const NmsOptions& o) {
  if (!(o.confThreshold >= 0.f && o.confThreshold < 1.f)) {
    throw InvalidArgument("confidence threshold must be in [0, 1) (got " + std::to_string(o.confThreshold) + ")");
  }
  if (!(o.iouThreshold > 0.f && o.iouThreshold <= 1.f)) {
    throw InvalidArgument("IoU threshold must be in (0, 1] (got " + std::to_string(o.iouThreshold) + ")");
  }
  if (o.maxDetections < 1) throw InvalidArgument("max detections must be at least 1 (got " + std::to_string(o.maxDetections) + ")");
  if (o.head != HeadLayout::YoloV5 && o.head != HeadLayout::NanoDet) throw InvalidArgument("unknown head layout " + std::to_string(static_cast<int>(o.head)));
  if (o.maxCandidates < 1) throw InvalidArgument("max candidates must be at least 1 (got " + std::to_string(o.maxCandidates) + ")");
}

std::vector<Detection> decodeNmsCpu(const PredictionsView& p, const NmsOptions& o) {
  validateNmsOptions(o);
  validatePredictions(p, o);
  struct Candidate {
    float box[4];
    float score;
    int classId;
    std::uint64_t key;
  };
  std::vector<Candidate> cands;
  for (int r = 0; r < p.rows; ++r) {
    const std::size_t base = static_cast<std::size_t>(r) * p.cols;
    Candidate c{};
    bool ok;
    auto decode = [&](auto load) {
      return o.head == HeadLayout::NanoDet ? decodeNanodetRow(load, r, p.cols, o.inputSize, o.confThreshold, c.box, &c.score, &c.classId)
                                           : decodeRow(load, p.cols, o.confThreshold, c.box, &c.score, &c.classId);
    };
    if (p.type == TensorType::Float32) {
      const float* row = static_cast<const float*>(p.data) + base;
      ok = decode([row](int i) { return row[i]; });
    } else {
      const std::uint16_t* row = static_cast<const std::uint16_t*>(p.data) + base;
      ok = decode([row](int i) { return halfBitsToFloat(row[i]); });
    }
    if (!ok) continue;
    c.key = candidateKey(c.score, r);
    cands.push_back(c);
  }
  std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return a.key > b.key; });
  if (static_cast<int>(cands.size()) > o.maxCandidates) cands.resize(o.maxCandidates);

  std::vector<Detection> kept;
  std::vector<char> removed(cands.size(), 0);
  for (std::size_t i = 0; i < cands.size() && static_cast<int>(kept.size()) < o.maxDetections; ++i) {
    if (removed[i]) continue;
    const Candidate& a = cands[i];
    kept.push_back({a.box[0], a.box[1], a.box[2], a.box[3], a.score, a.classId});
    for (std::size_t j = i + 1; j < cands.size(); ++j) {
      if (!removed[j] && cands[j].classId == a.classId && boxIou(a.box, cands[j].box) > o.iouThreshold) removed[j] = 1;
    }
  }
  return kept;
}

}  // namespace jetbench
