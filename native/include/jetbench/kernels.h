// CUDA kernels of the pipeline, callable from plain C++ (launchers take a cudaStream_t).
#pragma once

#include <cuda_runtime_api.h>

#include "jetbench/cuda_resources.h"
#include "jetbench/detect.h"

namespace jetbench {

/** The fused letterbox kernel: frame (device-readable, BGR HWC uint8, any stride) -> 3 x size x size. */
void letterboxGpu(const FrameView& deviceFrame, int size, TensorType type, void* deviceOut, cudaStream_t stream);

/** Decode + class-aware NMS on the device, no host round trip: results go to `outDetections`
 * (maxDetections entries) and `outCount` (one int), both device-writable (device or mapped memory). */
class GpuNms {
 public:
  GpuNms(int rows, int cols, const NmsOptions& options);
  void enqueue(const void* devicePredictions, TensorType type, Detection* outDetections, int* outCount, cudaStream_t stream);
  const NmsOptions& options() const { return options_; }

 private:
  int rows_, cols_, sortCapacity_;
  NmsOptions options_;
  DeviceBuffer count_, keys_, boxes_, classes_, sortedBoxes_, sortedClasses_;
};

}  // namespace jetbench
