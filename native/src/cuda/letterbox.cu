// The fused letterbox kernel: resize (bilinear, half-pixel centres), pad 114, BGR -> RGB, / 255,
// HWC -> CHW and the float16 conversion in one pass; one thread per output pixel, so each of the
// three planes is written coalesced. The pixel arithmetic is letterbox.h's, shared with the CPU
// reference, and the file is compiled with --fmad=false so both give the same floats.
#include <cuda_fp16.h>

#include "jetbench/kernels.h"
#include "jetbench/letterbox.h"

namespace jetbench {
namespace {

template <typename T>
__device__ __forceinline__ T fromFloat(float v);
template <>
__device__ __forceinline__ float fromFloat<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half fromFloat<__half>(float v) {
  return __float2half_rn(v);
}

template <typename T>
__global__ void letterboxKernel(const std::uint8_t* __restrict__ frame, int width, int height, int stride, int size,
                                LetterboxGeometry g, T* __restrict__ out) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= size || y >= size) return;
  const std::size_t plane = static_cast<std::size_t>(size) * size;
  const std::size_t o = static_cast<std::size_t>(y) * size + x;
  const int ix = x - g.left;
  const int iy = y - g.top;
  if (iy < 0 || iy >= g.newHeight || ix < 0 || ix >= g.newWidth) {
    const T pad = fromFloat<T>(static_cast<float>(kPadValue) / 255.f);
    out[o] = pad;
    out[plane + o] = pad;
    out[2 * plane + o] = pad;
    return;
  }
#pragma unroll
  for (int c = 0; c < 3; ++c) {
    const float v = bilinearSample(frame, width, height, stride, g.scaleX, g.scaleY, ix, iy, c);
    out[(2 - c) * plane + o] = fromFloat<T>(v / 255.f);
  }
}

}  // namespace

void letterboxGpu(const FrameView& f, int size, TensorType type, void* deviceOut, cudaStream_t stream) {
  const LetterboxGeometry g = letterboxGeometry(f.width, f.height, size);
  const dim3 block(32, 8);
  const dim3 grid((size + block.x - 1) / block.x, (size + block.y - 1) / block.y);
  if (type == TensorType::Float32) {
    letterboxKernel<float><<<grid, block, 0, stream>>>(f.data, f.width, f.height, f.strideBytes, size, g, static_cast<float*>(deviceOut));
  } else {
    letterboxKernel<__half><<<grid, block, 0, stream>>>(f.data, f.width, f.height, f.strideBytes, size, g, static_cast<__half*>(deviceOut));
  }
  JB_CUDA_LAUNCHED("letterboxKernel");
}

}  // namespace jetbench
