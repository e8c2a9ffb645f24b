// Types shared by every part of the native core (CPU references, CUDA kernels, TensorRT runner).
// No Node headers here: the core is tested from C++ alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#if defined(__CUDACC__)
#define JB_HD __host__ __device__ __forceinline__
#else
#define JB_HD inline
#endif

namespace jetbench {

/** Bad input from the caller (the JS layer turns it into a TypeError-like JS error). */
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/** A failure of the runtime (CUDA, TensorRT): carries the runtime's own message. */
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class TensorType { Float32, Float16 };

inline std::size_t elementBytes(TensorType t) { return t == TensorType::Float32 ? 4 : 2; }
inline const char* tensorTypeName(TensorType t) { return t == TensorType::Float32 ? "float32" : "float16"; }

/** A BGR, row-major HWC, uint8 frame as a camera gives it through OpenCV. Rows may be padded:
 * strideBytes >= width * 3 (any value, odd ones included). */
struct FrameView {
  const std::uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int strideBytes = 0;
};

/** Throws InvalidArgument naming the problem and the fix. */
void validateFrame(const FrameView& frame, std::size_t availableBytes);

}  // namespace jetbench
