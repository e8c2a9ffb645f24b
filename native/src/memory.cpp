// MirroredBuffer: one allocation per memory mode (see memory.h).
#include "jetbench/memory.h"

#include <cstdlib>
#include <new>
#include <utility>

#ifdef JETBENCH_WITH_CUDA
#include "jetbench/cuda_resources.h"
#endif

namespace jetbench {

const char* memoryModeName(MemoryMode m) {
  switch (m) {
    case MemoryMode::Pageable: return "pageable";
    case MemoryMode::Pinned: return "pinned";
    case MemoryMode::Mapped: return "mapped";
    case MemoryMode::Managed: return "managed";
  }
  return "unknown";
}

MirroredBuffer::MirroredBuffer(MemoryMode mode, std::size_t bytes, bool withDevice) : mode_(mode), bytes_(bytes) {
#ifdef JETBENCH_WITH_CUDA
  try {
    switch (mode) {
      case MemoryMode::Pageable:
        host_ = std::malloc(bytes);
        if (!host_) throw std::bad_alloc();
        if (withDevice) JB_CUDA(cudaMalloc(&device_, bytes));
        break;
      case MemoryMode::Pinned:
        JB_CUDA(cudaHostAlloc(&host_, bytes, cudaHostAllocDefault));
        JB_CUDA(cudaMalloc(&device_, bytes));
        break;
      case MemoryMode::Mapped:
        JB_CUDA(cudaHostAlloc(&host_, bytes, cudaHostAllocMapped));
        JB_CUDA(cudaHostGetDevicePointer(&device_, host_, 0));
        break;
      case MemoryMode::Managed:
        JB_CUDA(cudaMallocManaged(&host_, bytes, cudaMemAttachGlobal));
        device_ = host_;
        break;
    }
  } catch (...) {
    release();
    throw;
  }
#else
  if (mode != MemoryMode::Pageable) {
    throw InvalidArgument(std::string("memory mode '") + memoryModeName(mode) +
                          "' needs CUDA, and this build of the native addon has none: use --memory pageable, or build the addon where nvcc is installed");
  }
  (void)withDevice;
  host_ = std::malloc(bytes);
  if (!host_) throw std::bad_alloc();
#endif
}

MirroredBuffer::MirroredBuffer(MirroredBuffer&& o) noexcept
    : mode_(o.mode_), bytes_(o.bytes_), host_(std::exchange(o.host_, nullptr)), device_(std::exchange(o.device_, nullptr)) {}

MirroredBuffer::~MirroredBuffer() { release(); }

void MirroredBuffer::release() noexcept {
#ifdef JETBENCH_WITH_CUDA
  switch (mode_) {
    case MemoryMode::Pageable:
      std::free(host_);
      if (device_) cudaFree(device_);
      break;
    case MemoryMode::Pinned:
      if (host_) cudaFreeHost(host_);
      if (device_) cudaFree(device_);
      break;
    case MemoryMode::Mapped:
      if (host_) cudaFreeHost(host_);
      break;
    case MemoryMode::Managed:
      if (host_) cudaFree(host_);
      break;
  }
#else
  std::free(host_);
#endif
  host_ = nullptr;
  device_ = nullptr;
}

void MirroredBuffer::toDevice(void* stream, std::size_t bytes) const {
#ifdef JETBENCH_WITH_CUDA
  if (needsCopy() && device_) JB_CUDA(cudaMemcpyAsync(device_, host_, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream)));
#else
  (void)stream;
  (void)bytes;
#endif
}

void MirroredBuffer::toHost(void* stream, std::size_t bytes) const {
#ifdef JETBENCH_WITH_CUDA
  if (needsCopy() && device_) JB_CUDA(cudaMemcpyAsync(host_, device_, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream)));
#else
  (void)stream;
  (void)bytes;
#endif
}

}  // namespace jetbench
