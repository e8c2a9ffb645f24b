// GPU kernels against the CPU references (run on a machine with a CUDA GPU: npm run test:gpu).
// Fresh random inputs for every case, outputs poisoned before each run, every memory mode.
#include <gtest/gtest.h>

#include <algorithm>
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

void expectLetterboxEqual(int w, int h, int padBytes, TensorType type, int size, const PreprocessSpec& spec = {}) {
  const int stride = 3 * w + padBytes;
  const auto frame = randomFrame(h, stride);
  const FrameView host{frame.data(), w, h, stride};
  const std::size_t n = 3 * std::size_t(size) * size;
  std::vector<std::uint8_t> cpu(n * elementBytes(type)), gpu(n * elementBytes(type), 0xFF);
  preprocessCpu(host, size, spec, type, cpu.data());

  CudaStream stream;
  DeviceBuffer dFrame(frame.size()), dOut(gpu.size());
  JB_CUDA(cudaMemcpy(dFrame.get(), frame.data(), frame.size(), cudaMemcpyHostToDevice));
  JB_CUDA(cudaMemset(dOut.get(), 0xFF, gpu.size()));  // poison: NaN everywhere
  FrameView dev = host;
  dev.data = dFrame.as<std::uint8_t>();
  preprocessGpu(dev, size, spec, type, dOut.get(), stream.get());
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
  EXPECT_LE(maxDiff, 1e-6) << w << "x" << h << " pad " << padBytes << " " << tensorTypeName(type) << " size " << size;
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
  for (TensorType t : {TensorType::Float32, TensorType::Float16}) {
    expectLetterboxEqual(1920, 1080, 0, t, 322);
    expectLetterboxEqual(333, 777, 2, t, 251);
  }
}

TEST(GpuPreprocess, NanodetsStretchEqualsTheCpuReference) {
  PreprocessSpec spec;
  spec.kind = PreprocessKind::Stretch;
  const float mean[3] = {103.53f, 116.28f, 123.675f}, stdv[3] = {57.375f, 57.12f, 58.395f};
  for (int c = 0; c < 3; ++c) {
    spec.meanBgr[c] = mean[c];
    spec.stdBgr[c] = stdv[c];
  }
  const std::vector<Sizes> sizes = {{768, 576, 0}, {1920, 1080, 0}, {641, 479, 1}, {37, 23, 5}, {1, 1, 0}, {416, 416, 0}};
  for (const auto& s : sizes) {
    for (TensorType t : {TensorType::Float32, TensorType::Float16}) {
      expectLetterboxEqual(s.w, s.h, s.pad, t, 416, spec);
      expectLetterboxEqual(s.w, s.h, s.pad, t, 321, spec);
    }
  }
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

/** Exactly `candidates` rows above the default thresholds, in overlapping clusters of boxes over
 * `classes` classes (class 0 the most frequent), the other rows below the objectness or the class
 * threshold. With `ties`, every candidate's score is a multiple of 1/64 (objectness exactly 1), so
 * many candidates share a score and only the row decides their order; some rows are duplicated. */
std::vector<float> clusteredPredictions(int rows, int cols, int candidates, int classes, bool ties) {
  std::vector<float> p(std::size_t(rows) * cols);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  const int clusters = std::max(1, candidates / 60);
  std::vector<std::array<float, 5>> objs;
  for (int k = 0; k < clusters; ++k) {
    const float r = u(rng());
    objs.push_back({u(rng()) * 640, u(rng()) * 640, 10 + u(rng()) * 200, 10 + u(rng()) * 200, float(int(r * r * classes) % classes)});
  }
  std::vector<int> order(rows);
  for (int i = 0; i < rows; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng());
  for (int n = 0; n < rows; ++n) {
    const int r = order[n];
    float* row = &p[std::size_t(r) * cols];
    const bool candidate = n < candidates;
    const auto& o = objs[std::size_t(u(rng()) * objs.size()) % objs.size()];
    for (int c = 5; c < cols; ++c) row[c] = 0.2f * u(rng());
    if (candidate) {
      row[0] = o[0] + (u(rng()) - 0.5f) * 30;
      row[1] = o[1] + (u(rng()) - 0.5f) * 30;
      row[2] = o[2] * (0.7f + 0.6f * u(rng()));
      row[3] = o[3] * (0.7f + 0.6f * u(rng()));
      if (ties) {
        row[4] = 1.f;
        row[5 + int(o[4])] = float(17 + int(u(rng()) * 47)) / 64.f;  // 0.27 .. 0.98, 47 values
      } else {
        row[4] = 0.5f + 0.5f * u(rng());
        row[5 + int(o[4])] = 0.55f + 0.45f * u(rng());
      }
    } else {
      row[0] = u(rng()) * 640;
      row[1] = u(rng()) * 640;
      row[2] = 5 + u(rng()) * 100;
      row[3] = 5 + u(rng()) * 100;
      // Half below the objectness threshold, half above it with every class score too low.
      row[4] = n % 2 ? 0.24f * u(rng()) : 0.3f + 0.2f * u(rng());
    }
  }
  if (ties) {  // exact duplicates among the candidates (same box, same score, other rows)
    for (int k = 0; k < candidates / 20; ++k) {
      const int from = order[k], to = order[candidates - 1 - k];
      std::copy_n(&p[std::size_t(from) * cols], cols, &p[std::size_t(to) * cols]);
    }
  }
  return p;
}

int countCandidates(const std::vector<float>& pred, int rows, int cols, float conf) {
  int n = 0;
  for (int r = 0; r < rows; ++r) {
    const float* p = &pred[std::size_t(r) * cols];
    float box[4], score;
    int cls;
    if (decodeRow([p](int i) { return p[i]; }, cols, conf, box, &score, &cls)) ++n;
  }
  return n;
}

void expectGpuEqualsCpu(const std::vector<float>& pred, int rows, int cols, const NmsOptions& o, const std::string& what) {
  const auto cpu = decodeNmsCpu(PredictionsView{pred.data(), TensorType::Float32, rows, cols}, o);
  std::vector<std::uint8_t> bytes(pred.size() * 4);
  std::memcpy(bytes.data(), pred.data(), bytes.size());
  expectSameDetections(cpu, gpuNms(bytes, rows, cols, TensorType::Float32, o), what + " fp32");
  std::vector<std::uint16_t> half(pred.size());
  for (std::size_t i = 0; i < pred.size(); ++i) half[i] = floatToHalfBits(pred[i]);
  std::vector<std::uint8_t> hbytes(half.size() * 2);
  std::memcpy(hbytes.data(), half.data(), hbytes.size());
  expectSameDetections(decodeNmsCpu(PredictionsView{half.data(), TensorType::Float16, rows, cols}, o),
                       gpuNms(hbytes, rows, cols, TensorType::Float16, o), what + " fp16");
}

}  // namespace

TEST(GpuNms, KeepsTheCpuReferenceBoxesAtThousandsOfCandidates) {
  struct Case {
    int candidates, classes;
    bool ties;
    NmsOptions o;
    const char* what;
  };
  NmsOptions fewDetections;
  fewDetections.maxDetections = 25;
  NmsOptions oneDetection;
  oneDetection.maxDetections = 1;
  NmsOptions manyDetections;
  manyDetections.maxDetections = 5000;
  NmsOptions tight;
  tight.iouThreshold = 0.2f;
  const std::vector<Case> cases = {
      {4500, 8, false, NmsOptions{}, "4500 candidates, 8 classes"},
      {9000, 8, false, NmsOptions{}, "9000 candidates, 8 classes"},
      {20000, 8, false, NmsOptions{}, "20000 candidates, 8 classes"},
      {20000, 1, false, NmsOptions{}, "20000 candidates, one class"},
      {20000, 80, false, NmsOptions{}, "20000 candidates, 80 classes"},
      {4097, 3, true, NmsOptions{}, "4097 candidates with tied scores and duplicate rows"},
      {18000, 5, true, NmsOptions{}, "18000 candidates with tied scores and duplicate rows"},
      {12000, 6, false, fewDetections, "12000 candidates, maxDetections 25"},
      {12000, 6, true, oneDetection, "12000 candidates with ties, maxDetections 1"},
      {15000, 4, false, manyDetections, "15000 candidates, maxDetections 5000"},
      {9000, 8, false, tight, "9000 candidates, IoU 0.2"},
  };
  for (const auto& c : cases) {
    const auto pred = clusteredPredictions(25200, 85, c.candidates, c.classes, c.ties);
    ASSERT_EQ(countCandidates(pred, 25200, 85, c.o.confThreshold), c.candidates) << c.what;
    const auto cpu = decodeNmsCpu(PredictionsView{pred.data(), TensorType::Float32, 25200, 85}, c.o);
    ASSERT_GT(cpu.size(), 0u) << c.what;
    expectGpuEqualsCpu(pred, 25200, 85, c.o, c.what);
  }
}

TEST(GpuNms, KeepsTheCpuReferenceBoxesWithAMaxCandidatesCap) {
  // rows > maxCandidates: the kernels select the cap's key on the device (radix select).
  NmsOptions capped;
  capped.maxCandidates = 5000;
  expectGpuEqualsCpu(clusteredPredictions(25200, 85, 20000, 8, false), 25200, 85, capped, "20000 candidates, maxCandidates 5000");
  capped.maxCandidates = 4096;
  expectGpuEqualsCpu(clusteredPredictions(25200, 85, 9000, 3, true), 25200, 85, capped, "9000 tied candidates, maxCandidates 4096");
  capped.maxCandidates = 24000;  // the cap does not bind
  expectGpuEqualsCpu(clusteredPredictions(25200, 85, 20000, 8, false), 25200, 85, capped, "20000 candidates, maxCandidates 24000");
  NmsOptions all;
  all.confThreshold = 0.f;  // every row a candidate
  all.maxCandidates = 25199;
  expectGpuEqualsCpu(clusteredPredictions(25200, 85, 9000, 8, false), 25200, 85, all, "every row, maxCandidates 25199");
}

TEST(GpuNms, KeepsTheCpuReferenceBoxesWithManyClassesAndOddShapes) {
  // More classes than one block scans at once (1024), few rows, one class, one row.
  expectGpuEqualsCpu(clusteredPredictions(6000, 5 + 1500, 5000, 1500, false), 6000, 5 + 1500, NmsOptions{}, "1500 classes");
  expectGpuEqualsCpu(clusteredPredictions(3000, 6, 2900, 1, true), 3000, 6, NmsOptions{}, "one class column");
  expectGpuEqualsCpu(clusteredPredictions(1, 85, 1, 3, false), 1, 85, NmsOptions{}, "one row");
  expectGpuEqualsCpu(clusteredPredictions(100, 85, 0, 3, false), 100, 85, NmsOptions{}, "no candidates");
}

TEST(GpuNms, ReplaysFromACudaGraphOnNewInputs) {
  // No host sync inside enqueue: it captures into a graph, and each replay gives the reference.
  const int rows = 25200, cols = 85;
  NmsOptions o;
  GpuNms nms(rows, cols, o);
  CudaStream stream;
  DeviceBuffer dPred(std::size_t(rows) * cols * 4), dDets(sizeof(Detection) * o.maxDetections), dCount(sizeof(int));
  cudaGraph_t graph = nullptr;
  JB_CUDA(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeThreadLocal));
  nms.enqueue(dPred.get(), TensorType::Float32, dDets.as<Detection>(), dCount.as<int>(), stream.get());
  JB_CUDA(cudaStreamEndCapture(stream.get(), &graph));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t inst = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  JB_CUDA(inst);
  struct ExecOwner {
    cudaGraphExec_t e;
    ~ExecOwner() { cudaGraphExecDestroy(e); }
  } owner{exec};
  for (int candidates : {450, 20000, 4500, 0, 9000}) {
    const auto pred = clusteredPredictions(rows, cols, candidates, 8, candidates == 4500);
    JB_CUDA(cudaMemcpy(dPred.get(), pred.data(), pred.size() * 4, cudaMemcpyHostToDevice));
    JB_CUDA(cudaMemset(dCount.get(), 0xFF, sizeof(int)));
    JB_CUDA(cudaGraphLaunch(exec, stream.get()));
    stream.sync();
    int count = -1;
    JB_CUDA(cudaMemcpy(&count, dCount.get(), sizeof(int), cudaMemcpyDeviceToHost));
    ASSERT_GE(count, 0);
    std::vector<Detection> d(count);
    if (count > 0) JB_CUDA(cudaMemcpy(d.data(), dDets.get(), sizeof(Detection) * count, cudaMemcpyDeviceToHost));
    expectSameDetections(decodeNmsCpu(PredictionsView{pred.data(), TensorType::Float32, rows, cols}, o), d,
                         "graph replay, " + std::to_string(candidates) + " candidates");
  }
}

TEST(GpuNms, ReusesItsOwnGraphsAcrossInputsAndOutputBuffers) {
  // Outside a capture, enqueue replays one cached graph per set of pointers (at most 4 kept):
  // six output buffers in turn replace cached graphs; every result must equal the reference.
  const int rows = 25200, cols = 85;
  NmsOptions o;
  GpuNms nms(rows, cols, o);
  CudaStream stream;
  DeviceBuffer dPred(std::size_t(rows) * cols * 4);
  std::vector<DeviceBuffer> dets, counts;
  for (int b = 0; b < 6; ++b) {
    dets.emplace_back(sizeof(Detection) * o.maxDetections);
    counts.emplace_back(sizeof(int));
  }
  int round = 0;
  for (int candidates : {300, 9000, 450, 20000, 4500, 45, 15000, 450, 9000, 20000, 600, 4500}) {
    const auto pred = clusteredPredictions(rows, cols, candidates, 1 + round % 8, round % 3 == 0);
    const auto expected = decodeNmsCpu(PredictionsView{pred.data(), TensorType::Float32, rows, cols}, o);
    const int b = round % 6;
    JB_CUDA(cudaMemcpy(dPred.get(), pred.data(), pred.size() * 4, cudaMemcpyHostToDevice));
    JB_CUDA(cudaMemset(counts[b].get(), 0xFF, sizeof(int)));
    nms.enqueue(dPred.get(), TensorType::Float32, dets[b].as<Detection>(), counts[b].as<int>(), stream.get());
    stream.sync();
    int count = -1;
    JB_CUDA(cudaMemcpy(&count, counts[b].get(), sizeof(int), cudaMemcpyDeviceToHost));
    ASSERT_GE(count, 0);
    std::vector<Detection> d(count);
    if (count > 0) JB_CUDA(cudaMemcpy(d.data(), dets[b].get(), sizeof(Detection) * count, cudaMemcpyDeviceToHost));
    expectSameDetections(expected, d, "round " + std::to_string(round) + ", " + std::to_string(candidates) + " candidates");
    ++round;
  }
}

namespace {

/** NanoDet heads (detect.h layout) like a busy frame's: objects covering clusters of neighbouring
 * cells on one level, scores of other cells low, box bins random logits. */
std::vector<float> randomNanodet(int inputSize, int cols, int objects, float lowScoreMax) {
  const int rows = nanodetRows(inputSize), classes = cols - 4 * kNanodetBins;
  std::vector<float> p(std::size_t(rows) * cols);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::normal_distribution<float> logit(0.f, 3.f);
  for (int r = 0; r < rows; ++r) {
    float* row = &p[std::size_t(r) * cols];
    for (int c = 0; c < classes; ++c) row[c] = lowScoreMax * u(rng());
    for (int k = 0; k < 4 * kNanodetBins; ++k) row[classes + k] = logit(rng());
  }
  for (int k = 0; k < objects; ++k) {
    const int centre = int(u(rng()) * rows) % rows, cls = int(u(rng()) * classes) % classes;
    for (int d = -3; d <= 3; ++d) {
      const int r = centre + d;
      if (r >= 0 && r < rows) p[std::size_t(r) * cols + cls] = 0.3f + 0.7f * u(rng());
    }
  }
  return p;
}

}  // namespace

TEST(GpuNms, NanodetKeepsExactlyTheCpuReferenceBoxes) {
  struct Case {
    int inputSize, objects;
    float lowMax, conf;
    int maxCandidates;
  };
  const std::vector<Case> cases = {{416, 10, 0.3f, 0.35f, 30000}, {416, 60, 0.3f, 0.35f, 30000}, {416, 200, 0.5f, 0.35f, 30000},
                                   {416, 20, 1.f, 0.f, 30000},    {320, 30, 0.4f, 0.35f, 30000}, {417, 30, 0.4f, 0.35f, 30000},
                                   {416, 80, 0.6f, 0.35f, 500}};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const int cols = 80 + 4 * kNanodetBins;
    const auto pred = randomNanodet(c.inputSize, cols, c.objects, c.lowMax);
    NmsOptions o;
    o.head = HeadLayout::NanoDet;
    o.inputSize = c.inputSize;
    o.confThreshold = c.conf;
    o.iouThreshold = 0.5f;
    o.maxDetections = 100;
    o.maxCandidates = c.maxCandidates;
    const int rows = nanodetRows(c.inputSize);
    ASSERT_GT(decodeNmsCpu(PredictionsView{pred.data(), TensorType::Float32, rows, cols}, o).size(), 0u) << "case " << i;
    expectGpuEqualsCpu(pred, rows, cols, o, "nanodet case " + std::to_string(i));
  }
}

namespace {

/** A host inference's frame through the pipeline: the model input it prepares equals the CPU
 * reference's (within 1e-6), and the model output written in its place gives `expected`. */
void expectHostInference(Pipeline& p, const FrameView& f, std::size_t frameBytes, const std::vector<float>& expectedInput, const std::vector<float>& pred,
                         const std::vector<Detection>& expected, const std::string& what) {
  const int slot = p.addFrame(f, frameBytes);
  std::memset(p.inputHost(), 0xFF, p.inputBytes());
  p.beforeInference(slot);
  const float* in = static_cast<const float*>(p.inputHost());
  double maxDiff = 0;
  for (std::size_t i = 0; i < expectedInput.size(); ++i) maxDiff = std::max(maxDiff, std::fabs(double(in[i]) - expectedInput[i]));
  EXPECT_LE(maxDiff, 1e-6) << what;
  std::memcpy(p.outputHost(), pred.data(), p.outputBytes());
  std::vector<Detection> d;
  p.afterInference(d);
  expectSameDetections(expected, d, what);
}

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
        expectHostInference(p, f, frame.size(), expectedInput, pred, expected, what + " host");
      }
    }
  }
}

TEST(GpuPipeline, NanodetInEveryModeGivesTheReferenceDetections) {
  const int w = 768, h = 576, size = 416, cols = 80 + 4 * kNanodetBins;
  const auto frame = randomFrame(h, 3 * w);
  const FrameView f{frame.data(), w, h, 3 * w};
  const auto pred = randomNanodet(size, cols, 40, 0.3f);
  PipelineOptions base;
  base.inputSize = size;
  base.outputRows = nanodetRows(size);
  base.outputCols = cols;
  base.preprocess.kind = PreprocessKind::Stretch;
  base.nms.head = HeadLayout::NanoDet;
  base.nms.inputSize = size;
  base.nms.confThreshold = 0.35f;
  base.nms.iouThreshold = 0.5f;
  base.nms.maxDetections = 100;
  const auto expected = decodeNmsCpu(PredictionsView{pred.data(), TensorType::Float32, base.outputRows, cols}, base.nms);
  std::vector<float> expectedInput(3 * size * size);
  preprocessCpu(f, size, base.preprocess, TensorType::Float32, expectedInput.data());
  ASSERT_GT(expected.size(), 3u);
  for (MemoryMode m : {MemoryMode::Pageable, MemoryMode::Mapped}) {
    for (PipelineMode mode : {PipelineMode::Conventional, PipelineMode::ZeroCopy}) {
      const std::string what = std::string("nanodet ") + memoryModeName(m) + (mode == PipelineMode::ZeroCopy ? " zerocopy" : " conventional");
      PipelineOptions o = base;
      o.mode = mode;
      o.memory = m;
      o.inference = InferencePlace::Host;
      Pipeline p(o);
      expectHostInference(p, f, frame.size(), expectedInput, pred, expected, what);
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
