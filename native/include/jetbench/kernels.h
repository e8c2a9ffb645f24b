// CUDA kernels of the pipeline, callable from plain C++ (launchers take a cudaStream_t).
#pragma once

#include <cuda_runtime_api.h>

#include <utility>
#include <vector>

#include "jetbench/cuda_resources.h"
#include "jetbench/detect.h"
#include "jetbench/letterbox.h"

namespace jetbench {

/** The fused preprocess kernel: frame (device-readable, BGR HWC uint8, any stride) -> 3 x size x size. */
void preprocessGpu(const FrameView& deviceFrame, int size, const PreprocessSpec& spec, TensorType type, void* deviceOut, cudaStream_t stream);
/** preprocessGpu with YOLOv5's letterbox. */
void letterboxGpu(const FrameView& deviceFrame, int size, TensorType type, void* deviceOut, cudaStream_t stream);

/** Decode + class-aware NMS on the device, no host round trip and no host sync (graph-capturable):
 * results go to `outDetections` (maxDetections entries) and `outCount` (one int), both
 * device-writable (device or mapped memory). All device memory is allocated here, sized for every
 * row a candidate: the suppression bitmask is the largest part, about (N / 64)^2 / 2 x 512 bytes
 * for N = min(rows, maxCandidates) (40 MB for 25200 rows). */
class GpuNms {
 public:
  GpuNms(int rows, int cols, const NmsOptions& options);
  void enqueue(const void* devicePredictions, TensorType type, Detection* outDetections, int* outCount, cudaStream_t stream,
               cudaEvent_t* stageEvents = nullptr);
  /** The stages enqueue runs, in order; with `stageEvents` (kStages + 1 events) it records one
   * before each stage and one after the last, for per-stage timing (benchmarks). */
  static constexpr int kStages = 8;
  static const char* stageName(int stage);
  const NmsOptions& options() const { return options_; }
  /** Device memory held, in bytes. */
  std::size_t deviceBytes() const;
  /** Replay the launches as a cached CUDA graph (default) or launch them one by one (benchmarks). */
  void setUseGraph(bool use) { useGraph_ = use; }

 private:
  void launch(const void* pred, TensorType type, Detection* outDetections, int* outCount, cudaStream_t stream, cudaEvent_t* stageEvents);
  /** An instantiated graph of the launches for one set of pointers. */
  struct GraphExec {
    cudaGraphExec_t exec = nullptr;
    const void* pred = nullptr;
    TensorType type = TensorType::Float32;
    Detection* out = nullptr;
    int* count = nullptr;
    GraphExec() = default;
    GraphExec(GraphExec&& o) noexcept : exec(std::exchange(o.exec, nullptr)), pred(o.pred), type(o.type), out(o.out), count(o.count) {}
    GraphExec& operator=(GraphExec&& o) noexcept {
      std::swap(exec, o.exec);
      pred = o.pred;
      type = o.type;
      out = o.out;
      count = o.count;
      return *this;
    }
    GraphExec(const GraphExec&) = delete;
    GraphExec& operator=(const GraphExec&) = delete;
    ~GraphExec();
  };
  static constexpr std::size_t kMaxGraphs = 4;
  bool useGraph_ = true;
  CudaStream captureStream_;
  std::vector<GraphExec> graphs_;
  int rows_, cols_;
  NmsOptions options_;
  int numClasses_ = 0, maxParticipants_ = 0, multiProcessors_ = 1;
  bool capped_ = false;
  std::size_t reduceSharedBytes_ = 0;
  DeviceBuffer state_, keys_, boxes_, classes_, classSlots_, classOffset_, tileOffset_, groupKeys_, groupSlots_, sortedKeys_, sortedBoxes_,
      sortedClasses_, keptIndex_, keptKeys_, mask_;
};

}  // namespace jetbench
