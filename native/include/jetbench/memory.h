// Memory modes for frames, model inputs/outputs and detections: one buffer with a host view and a
// device view.
//   pageable: malloc'd host memory + device memory, explicit copies (staged by the driver);
//   pinned:   page-locked host memory (cudaHostAlloc) + device memory, DMA copies;
//   mapped:   page-locked host memory mapped into the device's address space: kernels read and
//             write it directly, no copies (zero-copy; on a Jetson the same DRAM);
//   managed:  unified memory (cudaMallocManaged): one pointer, pages move on demand.
// Without CUDA only pageable exists, with no device view.
#pragma once

#include <cstddef>

#include "jetbench/pipeline.h"

namespace jetbench {

class MirroredBuffer {
 public:
  /** withDevice = false: pageable host memory only (CPU stages; no CUDA call at all). */
  MirroredBuffer(MemoryMode mode, std::size_t bytes, bool withDevice = true);
  ~MirroredBuffer();
  MirroredBuffer(MirroredBuffer&& o) noexcept;
  MirroredBuffer& operator=(MirroredBuffer&&) = delete;
  MirroredBuffer(const MirroredBuffer&) = delete;
  MirroredBuffer& operator=(const MirroredBuffer&) = delete;

  void* host() const { return host_; }
  void* device() const { return device_; }
  std::size_t bytes() const { return bytes_; }
  MemoryMode mode() const { return mode_; }
  /** Pageable and pinned keep two copies; mapped and managed share one. */
  bool needsCopy() const { return modeNeedsCopy(mode_); }
  static bool modeNeedsCopy(MemoryMode m) { return m == MemoryMode::Pageable || m == MemoryMode::Pinned; }
  /** Enqueues host -> device (or device -> host) of the first `bytes` on a stream (cudaStream_t). */
  void toDevice(void* stream, std::size_t bytes) const;
  void toHost(void* stream, std::size_t bytes) const;

 private:
  void release() noexcept;
  MemoryMode mode_;
  std::size_t bytes_;
  void* host_ = nullptr;
  void* device_ = nullptr;
};

}  // namespace jetbench
