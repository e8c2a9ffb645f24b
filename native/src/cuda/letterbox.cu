// The fused preprocess kernel (letterbox.h): resize (bilinear, half-pixel centres), padding, channel
// order, normalisation, HWC -> CHW and the float16 conversion in one pass. Each thread makes two horizontally adjacent
// output pixels and writes each plane with one 2-element vector store (8 bytes fp32, 4 bytes
// fp16), so the three planes are written coalesced. The pixel arithmetic is letterbox.h's, shared
// with the CPU reference, and the file is compiled with --fmad=false so both give the same floats.
#include <cuda_fp16.h>

#include "jetbench/kernels.h"
#include "jetbench/letterbox.h"

namespace jetbench {
namespace {

struct Float32Out {
  using Pair = float2;
  __device__ static Pair pair(float a, float b) { return make_float2(a, b); }
  __device__ static float one(float a) { return a; }
};
struct Float16Out {
  using Pair = __half2;
  __device__ static Pair pair(float a, float b) { return __halves2half2(__float2half_rn(a), __float2half_rn(b)); }
  __device__ static __half one(float a) { return __float2half_rn(a); }
};

template <typename Out, typename T>
__global__ void preprocessKernel(const std::uint8_t* __restrict__ frame, int width, int height, int stride, int size, PreprocessPlan p,
                                 T* __restrict__ out) {
  const int x = 2 * (blockIdx.x * blockDim.x + threadIdx.x);
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= size || y >= size) return;
  const std::size_t plane = static_cast<std::size_t>(size) * size;
  const std::size_t o = static_cast<std::size_t>(y) * size + x;
  float a[3], b[3];
  preprocessPixel(frame, width, height, stride, p, x, y, a);
  if (x + 1 < size && (size % 2) == 0) {
    // Even size: o is even, so the pair is aligned for the vector store.
    preprocessPixel(frame, width, height, stride, p, x + 1, y, b);
#pragma unroll
    for (int c = 0; c < 3; ++c) *reinterpret_cast<typename Out::Pair*>(out + p.plane[c] * plane + o) = Out::pair(a[c], b[c]);
  } else {
#pragma unroll
    for (int c = 0; c < 3; ++c) out[p.plane[c] * plane + o] = Out::one(a[c]);
    if (x + 1 < size) {
      preprocessPixel(frame, width, height, stride, p, x + 1, y, b);
#pragma unroll
      for (int c = 0; c < 3; ++c) out[p.plane[c] * plane + o + 1] = Out::one(b[c]);
    }
  }
}

}  // namespace

void preprocessGpu(const FrameView& f, int size, const PreprocessSpec& spec, TensorType type, void* deviceOut, cudaStream_t stream) {
  const PreprocessPlan p = preprocessPlan(f.width, f.height, size, spec);
  const dim3 block(32, 4);
  const dim3 grid(((size + 1) / 2 + block.x - 1) / block.x, (size + block.y - 1) / block.y);
  if (type == TensorType::Float32) {
    preprocessKernel<Float32Out><<<grid, block, 0, stream>>>(f.data, f.width, f.height, f.strideBytes, size, p, static_cast<float*>(deviceOut));
  } else {
    preprocessKernel<Float16Out><<<grid, block, 0, stream>>>(f.data, f.width, f.height, f.strideBytes, size, p, static_cast<__half*>(deviceOut));
  }
  JB_CUDA_LAUNCHED("preprocessKernel");
}

void letterboxGpu(const FrameView& f, int size, TensorType type, void* deviceOut, cudaStream_t stream) {
  preprocessGpu(f, size, PreprocessSpec{}, type, deviceOut, stream);
}

}  // namespace jetbench
