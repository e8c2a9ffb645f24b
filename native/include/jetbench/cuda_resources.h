// RAII owners of CUDA resources and the error check that turns a CUDA failure into an exception
// carrying CUDA's own message (never exit(), never abort: the agent must survive a bad call).
#pragma once

#include <cuda_runtime_api.h>

#include <string>
#include <utility>

#include "jetbench/common.h"

namespace jetbench {

[[noreturn]] inline void throwCuda(cudaError_t err, const char* what, const char* file, int line) {
  std::string msg = std::string("CUDA error in ") + what + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ") at " +
                    file + ":" + std::to_string(line);
  if (err == cudaErrorMemoryAllocation) msg += "; the GPU is out of memory: free memory or use smaller frames";
  throw RuntimeError(msg);
}

#define JB_CUDA(expr)                                                         \
  do {                                                                        \
    const cudaError_t jbErr_ = (expr);                                        \
    if (jbErr_ != cudaSuccess) ::jetbench::throwCuda(jbErr_, #expr, __FILE__, __LINE__); \
  } while (0)

/** After a kernel launch: a bad configuration is reported now, not at the next sync. */
#define JB_CUDA_LAUNCHED(name) JB_CUDA(cudaGetLastError())

class CudaStream {
 public:
  CudaStream() { JB_CUDA(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~CudaStream() {
    if (s_) cudaStreamDestroy(s_);
  }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  cudaStream_t get() const { return s_; }
  void sync() const { JB_CUDA(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
};

class CudaEvent {
 public:
  CudaEvent() { JB_CUDA(cudaEventCreate(&e_)); }
  ~CudaEvent() {
    if (e_) cudaEventDestroy(e_);
  }
  CudaEvent(CudaEvent&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  cudaEvent_t get() const { return e_; }
  void record(cudaStream_t s) { JB_CUDA(cudaEventRecord(e_, s)); }
  /** Milliseconds from `start` to this event (both recorded and completed). */
  float since(const CudaEvent& start) const {
    float ms = 0.f;
    JB_CUDA(cudaEventElapsedTime(&ms, start.e_, e_));
    return ms;
  }

 private:
  cudaEvent_t e_ = nullptr;
};

/** Plain device memory (cudaMalloc). */
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes) JB_CUDA(cudaMalloc(&p_, bytes));
  }
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return p_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(p_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace jetbench
