// The TensorRT runner: builds an engine from ONNX (FP32, FP16 or INT8 with an entropy calibrator
// fed by preprocessed frames; workspace limit; timing cache; calibration cache) and runs it with
// enqueueV3 (setTensorAddress) on a stream, optionally as a CUDA graph, with per-layer times
// through IProfiler. Compiled only where TensorRT was found (JETBENCH_WITH_TENSORRT); the precision
// check below is plain C++ and always built.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jetbench/pipeline.h"

namespace jetbench {

/** Throws InvalidArgument when the GPU (compute capability major.minor) cannot run `precision`
 * (fp32 | fp16 | int8) fast, naming the GPU generation needed. */
void checkPrecisionIsFast(const std::string& precision, int ccMajor, int ccMinor);

struct TensorRtBuildOptions {
  std::string onnxPath;
  std::string enginePath;
  std::string precision = "fp32";
  std::size_t workspaceBytes = std::size_t(1) << 30;
  /** Read before the build when present, written after it. Empty: none. */
  std::string timingCachePath;
  /** INT8: read instead of calibrating when present, written after calibrating. */
  std::string calibrationCachePath;
  /** INT8: preprocessed model inputs (float32, the input's full size each) to calibrate with. */
  std::vector<std::vector<float>> calibrationInputs;
};

struct TensorRtBuildResult {
  std::size_t engineBytes = 0;
  double buildMs = 0;
  bool calibrated = false;
  std::string log;
};

struct TensorRtTensor {
  std::string name;
  bool input;
  std::vector<long long> shape;
  std::string dtype;
};

struct LayerTime {
  std::string name;
  double ms;
};

/** Compile-time and run-time TensorRT versions ("8.5.3" / "8.5.3"); empty without TensorRT. */
std::string tensorrtHeaderVersion();
std::string tensorrtLibraryVersion();

TensorRtBuildResult buildTensorRtEngine(const TensorRtBuildOptions& options);

class TensorRtRunner : public DeviceInference {
 public:
  /** Loads a serialized engine; a corrupt or foreign engine is an InvalidArgument naming the fix. */
  TensorRtRunner(const std::string& enginePath, bool cudaGraph);
  ~TensorRtRunner() override;
  const std::vector<TensorRtTensor>& tensors() const;
  std::size_t engineBytes() const;
  /** One inference on the runner's own buffers, timed with CUDA events; returns ms. */
  double inferTimed();
  /** Per-layer times of one inference (IProfiler). */
  std::vector<LayerTime> profileLayers();
  void enqueue(const void* deviceInput, void* deviceOutput, void* cudaStream) override;
  std::string describe() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jetbench
