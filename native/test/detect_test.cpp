// Hand-computed cases for the CPU decode + class-aware NMS reference.
#include <gtest/gtest.h>

#include <vector>

#include "jetbench/detect.h"
#include "jetbench/half.h"

using namespace jetbench;

namespace {
constexpr int kClasses = 3;
constexpr int kCols = 5 + kClasses;

/** A prediction row: box centre/size, objectness, one class with probability `p`, others 0.05. */
std::vector<float> row(float cx, float cy, float w, float h, float obj, int cls, float p) {
  std::vector<float> r = {cx, cy, w, h, obj};
  for (int c = 0; c < kClasses; ++c) r.push_back(c == cls ? p : 0.05f);
  return r;
}

std::vector<Detection> run(const std::vector<std::vector<float>>& rows, NmsOptions o = {}) {
  std::vector<float> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  PredictionsView p;
  p.data = flat.data();
  p.rows = static_cast<int>(rows.size());
  p.cols = kCols;
  return decodeNmsCpu(p, o);
}
}  // namespace

TEST(DecodeNms, OverlappingBoxesOfOneClassKeepTheHigherScore) {
  // Two 10x10 boxes offset by 1 px: IoU = 90 / 110 = 0.818 > 0.45; score = obj * p.
  const auto d = run({row(50, 50, 10, 10, 0.9f, 1, 0.8f), row(51, 50, 10, 10, 0.95f, 1, 0.9f)});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FLOAT_EQ(d[0].score, 0.95f * 0.9f);
  EXPECT_EQ(d[0].classId, 1);
  EXPECT_FLOAT_EQ(d[0].x1, 46.f);
  EXPECT_FLOAT_EQ(d[0].y1, 45.f);
  EXPECT_FLOAT_EQ(d[0].x2, 56.f);
  EXPECT_FLOAT_EQ(d[0].y2, 55.f);
}

TEST(DecodeNms, NmsIsClassAware) {
  const auto d = run({row(50, 50, 10, 10, 0.9f, 0, 0.9f), row(50, 50, 10, 10, 0.9f, 2, 0.8f)});
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].classId, 0);
  EXPECT_EQ(d[1].classId, 2);
}

TEST(DecodeNms, IouAtTheThresholdIsKept) {
  // 10x10 boxes offset by dx: IoU = (10 - dx) * 10 / (200 - (10 - dx) * 10). dx = 5: 50 / 150 = 0.333.
  NmsOptions o;
  o.iouThreshold = 0.34f;
  EXPECT_EQ(run({row(50, 50, 10, 10, 0.9f, 0, 0.9f), row(55, 50, 10, 10, 0.9f, 0, 0.8f)}, o).size(), 2u);
  o.iouThreshold = 0.33f;
  EXPECT_EQ(run({row(50, 50, 10, 10, 0.9f, 0, 0.9f), row(55, 50, 10, 10, 0.9f, 0, 0.8f)}, o).size(), 1u);
}

TEST(DecodeNms, ConfidenceFiltersObjectnessAndTheProduct) {
  // obj 0.2 <= 0.25: dropped; obj 0.5 * p 0.4 = 0.2: dropped; obj 0.5 * 0.6 = 0.3: kept.
  const auto d = run({row(10, 10, 4, 4, 0.2f, 0, 0.99f), row(100, 100, 4, 4, 0.5f, 0, 0.4f), row(200, 200, 4, 4, 0.5f, 1, 0.6f)});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NEAR(d[0].score, 0.3f, 1e-6f);
  EXPECT_EQ(d[0].classId, 1);
}

TEST(DecodeNms, SortedByScoreTiesByRowAndCappedAtMaxDetections) {
  NmsOptions o;
  o.maxDetections = 2;
  const auto d = run({row(10, 10, 4, 4, 0.9f, 0, 0.5f), row(100, 100, 4, 4, 0.9f, 0, 0.9f), row(200, 200, 4, 4, 0.9f, 0, 0.5f)}, o);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_FLOAT_EQ(d[0].x1, 98.f);  // the highest score first
  EXPECT_FLOAT_EQ(d[1].x1, 8.f);   // equal scores: the lower row first
}

TEST(DecodeNms, MaxCandidatesDropsTheLowestBeforeNms) {
  NmsOptions o;
  o.maxCandidates = 1;
  const auto d = run({row(10, 10, 4, 4, 0.9f, 0, 0.5f), row(100, 100, 4, 4, 0.9f, 1, 0.9f)}, o);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].classId, 1);
}

TEST(DecodeNms, Float16PredictionsDecodeLikeTheirFloatValues) {
  const auto r = row(50, 50, 10, 10, 0.875f, 2, 0.75f);
  std::vector<std::uint16_t> h;
  for (float v : r) h.push_back(floatToHalfBits(v));
  PredictionsView p;
  p.data = h.data();
  p.type = TensorType::Float16;
  p.rows = 1;
  p.cols = kCols;
  const auto d = decodeNmsCpu(p, {});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FLOAT_EQ(d[0].score, 0.875f * 0.75f);
  EXPECT_EQ(d[0].classId, 2);
}

TEST(DecodeNms, AnOutputThatIsNotBoxesAndClassesIsRejected) {
  std::vector<float> flat(25200 * 4);
  PredictionsView p;
  p.data = flat.data();
  p.rows = 25200;
  p.cols = 4;
  try {
    decodeNmsCpu(p, {});
    FAIL() << "25200 x 4 must be rejected";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("N x (5 + classes)"), std::string::npos) << e.what();
  }
  NmsOptions bad;
  bad.iouThreshold = 0.f;
  p.cols = 6;
  EXPECT_THROW(decodeNmsCpu(p, bad), InvalidArgument);
}
