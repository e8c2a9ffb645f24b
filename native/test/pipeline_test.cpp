// The conventional pipeline on the CPU: preprocess into the input buffer, a host "inference"
// writes predictions into the output buffer, postprocess returns the detections.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "jetbench/letterbox.h"
#include "jetbench/pipeline.h"

using namespace jetbench;

TEST(Pipeline, ConventionalOnTheHostRunsEveryStageInOrder) {
  PipelineOptions o;
  o.inputSize = 64;
  o.outputRows = 2;
  o.outputCols = 6;
  Pipeline p(o);
  std::vector<std::uint8_t> frame(3 * 80 * 60);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i % 253);
  FrameView f{frame.data(), 80, 60, 240};
  const int slot = p.addFrame(f, frame.size());
  const auto plan = p.plan();
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].name, "preprocess");
  EXPECT_EQ(plan[1].name, "inference");
  EXPECT_EQ(plan[2].name, "postprocess");
  for (const auto& s : plan) EXPECT_EQ(s.where, StagePlace::Cpu);

  const auto before = p.beforeInference(slot);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_GE(before[0].ms, 0.0);
  std::vector<float> expected(3 * 64 * 64);
  letterboxCpu(f, 64, TensorType::Float32, expected.data());
  ASSERT_EQ(std::memcmp(p.inputHost(), expected.data(), p.inputBytes()), 0);

  const float predictions[12] = {10, 10, 4, 4, 0.9f, 0.9f, 40, 40, 8, 8, 0.1f, 0.9f};
  std::memcpy(p.outputHost(), predictions, sizeof predictions);
  std::vector<Detection> d;
  const auto after = p.afterInference(d);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].name, "postprocess");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FLOAT_EQ(d[0].x1, 8.f);
  EXPECT_THROW(p.beforeInference(5), InvalidArgument);
}

#ifndef JETBENCH_WITH_CUDA
TEST(Pipeline, WithoutCudaZeroCopyAndOtherMemoryModesSayWhatIsMissing) {
  PipelineOptions o;
  o.mode = PipelineMode::ZeroCopy;
  try {
    Pipeline p(o);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("needs a CUDA GPU"), std::string::npos) << e.what();
  }
  o.mode = PipelineMode::Conventional;
  o.memory = MemoryMode::Pinned;
  EXPECT_THROW(Pipeline{o}, InvalidArgument);
}
#endif

#include "jetbench/tensorrt.h"

TEST(Precision, AGpuThatCannotRunAPrecisionFastIsRefusedWithTheReason) {
  EXPECT_NO_THROW(checkPrecisionIsFast("fp32", 5, 0));
  EXPECT_NO_THROW(checkPrecisionIsFast("fp16", 7, 2));  // Xavier
  EXPECT_NO_THROW(checkPrecisionIsFast("int8", 8, 7));  // Orin
  EXPECT_NO_THROW(checkPrecisionIsFast("fp16", 5, 3));  // Nano
  try {
    checkPrecisionIsFast("int8", 5, 3);  // Nano: no DP4A, no tensor cores
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("int8 is not fast on this GPU (compute capability 5.3)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(checkPrecisionIsFast("fp16", 6, 1), InvalidArgument);  // GP10x: 1/64 rate
  EXPECT_THROW(checkPrecisionIsFast("bf8", 9, 0), InvalidArgument);
}
