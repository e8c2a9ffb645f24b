// Hand-computed cases for the CPU decode + class-aware NMS reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
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

// ---- NanoDet head (detect.h decodeNanodetRow): one packed row per cell, strides 8 / 16 / 32.

TEST(NanodetDecode, TheSharedExpIsWithinAFewUlpsOfTheLibrary) {
  double worst = 0;
  for (float x = -86.9f; x <= 0.f; x += 0.0137f) {
    const double rel = std::fabs(double(expNonPositive(x)) - std::exp(double(x))) / std::exp(double(x));
    worst = std::max(worst, rel);
  }
  EXPECT_LT(worst, 3e-7);
  EXPECT_EQ(expNonPositive(0.f), 1.f);
  EXPECT_EQ(expNonPositive(-200.f), 0.f);
  EXPECT_EQ(expNonPositive(std::nanf("")), 0.f);
}

namespace {
constexpr int kNanoClasses = 80;
constexpr int kNanoCols = kNanoClasses + 4 * kNanodetBins;

/** All cells of a 64 x 64 input (8x8 + 4x4 + 2x2 = 84 rows): scores 0.01, flat bins (expected
 * distance 5 bins). */
std::vector<float> nanoRows(int inputSize = 64) {
  std::vector<float> p(std::size_t(nanodetRows(inputSize)) * kNanoCols, 0.01f);
  for (int r = 0; r < nanodetRows(inputSize); ++r)
    for (int k = 0; k < 4 * kNanodetBins; ++k) p[std::size_t(r) * kNanoCols + kNanoClasses + k] = 0.f;
  return p;
}

std::vector<Detection> runNano(const std::vector<float>& p, NmsOptions o = {}, int inputSize = 64) {
  o.head = HeadLayout::NanoDet;
  o.inputSize = inputSize;
  o.confThreshold = 0.35f;
  o.iouThreshold = 0.5f;
  PredictionsView v;
  v.data = p.data();
  v.rows = nanodetRows(inputSize);
  v.cols = kNanoCols;
  return decodeNmsCpu(v, o);
}
}  // namespace

TEST(NanodetDecode, ACellsBoxIsItsCentrePlusTheExpectedDistancesTimesTheStride) {
  auto p = nanoRows();
  // Row 64 + 5 = the stride-16 grid's cell (x 1, y 1): centre (24, 24). Class 7 at 0.9.
  float* row = &p[std::size_t(69) * kNanoCols];
  row[7] = 0.9f;
  // Left: all weight on bin 2 (32 px); top: flat (5 bins = 80 px); right: bins 1 and 3 equal (2 bins);
  // bottom: bin 0 (0 px).
  float* bins = row + kNanoClasses;
  for (int b = 0; b < kNanodetBins; ++b) {
    bins[b] = b == 2 ? 40.f : -40.f;
    bins[2 * kNanodetBins + b] = (b == 1 || b == 3) ? 30.f : -30.f;
    bins[3 * kNanodetBins + b] = b == 0 ? 50.f : -50.f;
  }
  const auto d = runNano(p);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].classId, 7);
  EXPECT_FLOAT_EQ(d[0].score, 0.9f);
  EXPECT_NEAR(d[0].x1, 24.f - 32.f, 1e-4);
  EXPECT_NEAR(d[0].y1, 24.f - 80.f, 1e-4);
  EXPECT_NEAR(d[0].x2, 24.f + 32.f, 1e-4);
  EXPECT_NEAR(d[0].y2, 24.f, 1e-4);
}

TEST(NanodetDecode, ThresholdIsInclusiveClass61IsNeverACandidateAndNmsIsPerClass) {
  auto p = nanoRows();
  p[std::size_t(0) * kNanoCols + 3] = 0.35f;                      // exactly the threshold: kept
  p[std::size_t(1) * kNanoCols + kNanodetDroppedClass] = 0.99f;  // the broken class: dropped
  p[std::size_t(1) * kNanoCols + 5] = 0.5f;                       // ... so class 5 is the cell's best
  p[std::size_t(2) * kNanoCols + 3] = 0.8f;                       // same class as cell 0, 16 px to its right
  const auto d = runNano(p);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].classId, 3);
  EXPECT_FLOAT_EQ(d[0].score, 0.8f);  // cell 2 suppresses cell 0 (IoU of two 80 x 80 boxes 16 px apart: 0.67)
  EXPECT_EQ(d[1].classId, 5);
  EXPECT_FLOAT_EQ(d[1].score, 0.5f);
}

TEST(NanodetDecode, AShapeThatIsNotTheInputsCellsNamesTheExpectedOne) {
  const auto p = nanoRows();
  NmsOptions o;
  o.head = HeadLayout::NanoDet;
  o.inputSize = 416;
  PredictionsView v{p.data(), TensorType::Float32, nanodetRows(64), kNanoCols};
  try {
    decodeNmsCpu(v, o);
    FAIL() << "84 rows at input 416 must be refused";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("3549 cells"), std::string::npos) << e.what();
  }
  EXPECT_EQ(nanodetRows(416), 3549);
  EXPECT_EQ(nanodetRows(417), 53 * 53 + 27 * 27 + 14 * 14);  // ceil, as the TypeScript decoder
}
