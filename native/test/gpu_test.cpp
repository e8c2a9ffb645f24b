// GPU kernels against the CPU references (run on a machine with a CUDA GPU: npm run test:gpu).
// Fresh random inputs for every case, outputs poisoned before each run, every memory mode.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "jetbench/half.h"
#include "jetbench/kernels.h"
#include "jetbench/letterbox.h"
#include "jetbench/memory.h"
#include "jetbench/pipeline.h"

using namespace jetbench;

namespace {

std::mt19937& rng() {
  static std::mt19937 r(20261125);
  return r;
}

/** A frame with smooth regions and sharp edges (bilinear errors show on edges). */
std::vector<std::uint8_t> randomFrame(int h, int stride) {
  std::vector<std::uint8_t> d(std::size_t(stride) * h);
  std::uniform_int_distribution<int> byte(0, 255);
  const int blocks = 1 + byte(rng()) % 8;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < stride; ++x) {
      const int c = x % 3;
      const int v = ((x / 3 / blocks + y / blocks) % 2) ? (x * 7 + y * 3 + c * 50) % 256 : byte(rng());
      d[std::size_t(y) * stride + x] = static_cast<std::uint8_t>(v);
    }
  return d;
}

struct Sizes {
  int w, h, pad;
};

void expectLetterboxEqual(int w, int h, int padBytes, TensorType type, int size) {
  const int stride = 3 * w + padBytes;
  const auto frame = randomFrame(h, stride);
  const FrameView host{frame.data(), w, h, stride};
  const std::size_t n = 3 * std::size_t(size) * size;
  std::vector<std::uint8_t> cpu(n * elementBytes(type)), gpu(n * elementBytes(type), 0xFF);
  letterboxCpu(host, size, type, cpu.data());

  CudaStream stream;
  DeviceBuffer dFrame(frame.size()), dOut(gpu.size());
  JB_CUDA(cudaMemcpy(dFrame.get(), frame.data(), frame.size(), cudaMemcpyHostToDevice));
  JB_CUDA(cudaMemset(dOut.get(), 0xFF, gpu.size()));  // poison: NaN everywhere
  FrameView dev = host;
  dev.data = dFrame.as<std::uint8_t>();
  letterboxGpu(dev, size, type, dOut.get(), stream.get());
  stream.sync();
  JB_CUDA(cudaMemcpy(gpu.data(), dOut.get(), gpu.size(), cudaMemcpyDeviceToHost));

  double maxDiff = 0;
  for (std::size_t i = 0; i < n; ++i) {
    float a, b;
    if (type == TensorType::Float32) {
      std::memcpy(&a, &cpu[i * 4], 4);
      std::memcpy(&b, &gpu[i * 4], 4);
    } else {
      std::uint16_t ha, hb;
      std::memcpy(&ha, &cpu[i * 2], 2);
      std::memcpy(&hb, &gpu[i * 2], 2);
      a = halfBitsToFloat(ha);
      b = halfBitsToFloat(hb);
    }
    ASSERT_FALSE(std::isnan(b)) << "element " << i << " was not written (" << w << "x" << h << ")";
    maxDiff = std::max(maxDiff, std::fabs(double(a) - b));
  }
  // Stated tolerance: the same float operations (no FMA on either side), so equal up to 1e-6.
  EXPECT_LE(maxDiff, 1e-6) << w << "x" << h << " pad " << padBytes << " " << tensorTypeName(type);
}

}  // namespace

TEST(GpuLetterbox, EqualsTheCpuReferenceOnManyFramesAndSizes) {
  std::vector<Sizes> sizes = {{1920, 1080, 0}, {1280, 720, 0}, {641, 479, 1}, {37, 23, 5}, {1, 1, 0}, {3000, 200, 3}, {200, 3000, 7}, {640, 640, 0}};
  std::uniform_int_distribution<int> dim(1, 2500), pad(0, 9);
  for (int i = 0; i < 24; ++i) sizes.push_back({dim(rng()), dim(rng()), pad(rng())});
  for (const auto& s : sizes) {
    for (TensorType t : {TensorType::Float32, TensorType::Float16}) expectLetterboxEqual(s.w, s.h, s.pad, t, 640);
  }
  expectLetterboxEqual(1920, 1080, 0, TensorType::Float32, 320);
}

namespace {

/** Predictions like a detector's on a busy scene: clusters of overlapping boxes around objects,
 * most rows below the threshold. */
std::vector<float> randomPredictions(int rows, int cols, int objects, float candidateShare) {
  std::vector<float> p(std::size_t(rows) * cols);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<std::array<float, 5>> objs;
  for (int k = 0; k < objects; ++k) objs.push_back({u(rng()) * 640, u(rng()) * 640, 10 + u(rng()) * 300, 10 + u(rng()) * 300, float(int(u(rng()) * (cols - 5)))});
  for (int r = 0; r < rows; ++r) {
    float* row = &p[std::size_t(r) * cols];
    const bool candidate = u(rng()) < candidateShare && !objs.empty();
    const auto& o = objs[std::size_t(u(rng()) * objs.size()) % std::max<std::size_t>(1, objs.size())];
    row[0] = candidate ? o[0] + (u(rng()) - 0.5f) * 20 : u(rng()) * 640;
    row[1] = candidate ? o[1] + (u(rng()) - 0.5f) * 20 : u(rng()) * 640;
    row[2] = candidate ? o[2] * (0.8f + 0.4f * u(rng())) : u(rng()) * 100;
    row[3] = candidate ? o[3] * (0.8f + 0.4f * u(rng())) : u(rng()) * 100;
    row[4] = candidate ? 0.3f + 0.7f * u(rng()) : 0.2f * u(rng());
    for (int c = 5; c < cols; ++c) row[c] = 0.1f * u(rng());
    if (candidate) row[5 + int(o[4])] = 0.4f + 0.6f * u(rng());
  }
  return p;
}

std::vector<Detection> gpuNms(const std::vector<std::uint8_t>& bytes, int rows, int cols, TensorType type, const NmsOptions& o) {
  CudaStream stream;
  DeviceBuffer dPred(bytes.size()), dDets(sizeof(Detection) * o.maxDetections), dCount(sizeof(int));
  JB_CUDA(cudaMemcpy(dPred.get(), bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
  JB_CUDA(cudaMemset(dCount.get(), 0xFF, sizeof(int)));
  GpuNms nms(rows, cols, o);
  nms.enqueue(dPred.get(), type, dDets.as<Detection>(), dCount.as<int>(), stream.get());
  stream.sync();
  int count = -1;
  JB_CUDA(cudaMemcpy(&count, dCount.get(), sizeof(int), cudaMemcpyDeviceToHost));
  EXPECT_GE(count, 0);
  std::vector<Detection> d(std::max(0, count));
  if (count > 0) JB_CUDA(cudaMemcpy(d.data(), dDets.get(), sizeof(Detection) * count, cudaMemcpyDeviceToHost));
  return d;
}

void expectSameDetections(const std::vector<Detection>& a, const std::vector<Detection>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(std::memcmp(&a[i], &b[i], sizeof(Detection)), 0)
        << what << ": detection " << i << " cpu (" << a[i].x1 << "," << a[i].y1 << " " << a[i].score << " c" << a[i].classId << ") gpu ("
        << b[i].x1 << "," << b[i].y1 << " " << b[i].score << " c" << b[i].classId << ")";
  }
}

}  // namespace

TEST(GpuNms, KeepsExactlyTheCpuReferenceBoxes) {
  struct Case {
    int rows, cols, objects;
    float share;
    NmsOptions o;
  };
  std::vector<Case> cases;
  for (int i = 0; i < 20; ++i) cases.push_back({25200, 85, 1 + i * 3, 0.002f + 0.004f * i, NmsOptions{}});
  NmsOptions many;
  many.confThreshold = 0.f;  // every row a candidate: 25200 > shared-memory sort, global path
  cases.push_back({25200, 85, 30, 0.05f, many});
  NmsOptions capped;
  capped.maxCandidates = 100;
  capped.maxDetections = 7;
  cases.push_back({25200, 85, 40, 0.05f, capped});
  cases.push_back({100, 6, 3, 0.5f, NmsOptions{}});
  NmsOptions tight;
  tight.iouThreshold = 0.1f;
  cases.push_back({6300, 85, 25, 0.03f, tight});
  int index = 0;
  for (const auto& c : cases) {
    const auto pred = randomPredictions(c.rows, c.cols, c.objects, c.share);
    PredictionsView view{pred.data(), TensorType::Float32, c.rows, c.cols};
    const auto cpu = decodeNmsCpu(view, c.o);
    std::vector<std::uint8_t> bytes(pred.size() * 4);
    std::memcpy(bytes.data(), pred.data(), bytes.size());
    expectSameDetections(cpu, gpuNms(bytes, c.rows, c.cols, TensorType::Float32, c.o), "fp32 case " + std::to_string(index));
    // The same predictions in float16.
    std::vector<std::uint16_t> half(pred.size());
    for (std::size_t i = 0; i < pred.size(); ++i) half[i] = floatToHalfBits(pred[i]);
    PredictionsView hv{half.data(), TensorType::Float16, c.rows, c.cols};
    std::vector<std::uint8_t> hbytes(half.size() * 2);
    std::memcpy(hbytes.data(), half.data(), hbytes.size());
    expectSameDetections(decodeNmsCpu(hv, c.o), gpuNms(hbytes, c.rows, c.cols, TensorType::Float16, c.o), "fp16 case " + std::to_string(index));
    ++index;
  }
}

namespace {

PipelineOptions smallOptions(PipelineMode mode, MemoryMode memory, InferencePlace inference) {
  PipelineOptions o;
  o.mode = mode;
  o.memory = memory;
  o.inference = inference;
  o.outputRows = 25200;
  o.outputCols = 85;
  return o;
}

}  // namespace

TEST(GpuPipeline, EveryModeAndMemoryGivesTheReferenceDetections) {
  const int w = 1920, h = 1080;
  const auto frame = randomFrame(h, 3 * w + 3);
  const FrameView f{frame.data(), w, h, 3 * w + 3};
  const auto pred = randomPredictions(25200, 85, 12, 0.02f);
  const auto expected = decodeNmsCpu(PredictionsView{pred.data(), TensorType::Float32, 25200, 85}, NmsOptions{});
  std::vector<float> expectedInput(3 * 640 * 640);
  letterboxCpu(f, 640, TensorType::Float32, expectedInput.data());
  ASSERT_GT(expected.size(), 3u);

  for (MemoryMode m : {MemoryMode::Pageable, MemoryMode::Pinned, MemoryMode::Mapped, MemoryMode::Managed}) {
    for (PipelineMode mode : {PipelineMode::Conventional, PipelineMode::ZeroCopy}) {
      const std::string what = std::string(memoryModeName(m)) + (mode == PipelineMode::ZeroCopy ? " zerocopy" : " conventional");
      {  // inference on the device (replay stand-in): one call per frame
        Pipeline p(smallOptions(mode, m, InferencePlace::Device));
        const int slot = p.addFrame(f, frame.size());
        p.setDeviceInference(makeReplayInference(pred.data(), pred.size() * 4));
        std::vector<Detection> d;
        for (int it = 0; it < 3; ++it) {
          const auto stages = p.runFrame(slot, d);
          expectSameDetections(expected, d, what + " device");
          const auto plan = p.plan();
          ASSERT_EQ(plan.size(), stages.size()) << what;
          for (std::size_t i = 0; i < stages.size(); ++i) {
            EXPECT_EQ(plan[i].name, stages[i].name);
            EXPECT_GE(stages[i].ms, 0.0);
          }
        }
        if (mode == PipelineMode::ZeroCopy && MirroredBuffer::modeNeedsCopy(m)) {
          const auto plan = p.plan();
          EXPECT_EQ(plan.front().name, "upload_frame") << what;
          EXPECT_EQ(plan.back().name, "download_detections") << what;
        }
      }
      {  // inference on the host (as with ONNX Runtime): before, write the output, after
        Pipeline p(smallOptions(mode, m, InferencePlace::Host));
        const int slot = p.addFrame(f, frame.size());
        std::memset(p.inputHost(), 0xFF, p.inputBytes());
        p.beforeInference(slot);
        const float* in = static_cast<const float*>(p.inputHost());
        double maxDiff = 0;
        for (std::size_t i = 0; i < expectedInput.size(); ++i) maxDiff = std::max(maxDiff, std::fabs(double(in[i]) - expectedInput[i]));
        EXPECT_LE(maxDiff, 1e-6) << what;
        std::memcpy(p.outputHost(), pred.data(), p.outputBytes());
        std::vector<Detection> d;
        p.afterInference(d);
        expectSameDetections(expected, d, what + " host");
      }
    }
  }
}

TEST(GpuResources, OutOfMemoryIsAnErrorAndFreesEverything) {
  std::size_t free0 = 0, total = 0;
  JB_CUDA(cudaMemGetInfo(&free0, &total));
  try {
    DeviceBuffer huge(total * 4);
    FAIL() << "allocating 4x the GPU's memory must fail";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("out of memory"), std::string::npos) << e.what();
  }
  try {
    // The host half (malloc, lazily committed) succeeds, the device half fails: both must go.
    MirroredBuffer mirrored(MemoryMode::Pageable, total * 2);
    FAIL() << "a mirrored buffer larger than the GPU must fail";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("cudaMalloc"), std::string::npos) << e.what();
  }
  std::size_t free1 = 0;
  JB_CUDA(cudaMemGetInfo(&free1, &total));
  EXPECT_GE(free1 + (8u << 20), free0) << "memory leaked after failed allocations";
}
