// The fused letterbox kernel: resize (bilinear, half-pixel centres), pad 114, BGR -> RGB, / 255,
// HWC -> CHW and the float16 conversion in one pass. Each thread makes two horizontally adjacent
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

/** Channel values (already / 255, RGB order) of output pixel (x, y). */
__device__ __forceinline__ void pixel(const std::uint8_t* __restrict__ frame, int width, int height, int stride, const LetterboxGeometry& g, int x, int y,
                                      float rgb[3]) {
  const int ix = x - g.left;
  const int iy = y - g.top;
  if (iy < 0 || iy >= g.newHeight || ix < 0 || ix >= g.newWidth) {
    rgb[0] = rgb[1] = rgb[2] = static_cast<float>(kPadValue) / 255.f;
    return;
  }
  float bgr[3];
  bilinearSampleBgr(frame, width, height, stride, g.scaleX, g.scaleY, ix, iy, bgr);
  rgb[0] = bgr[2] / 255.f;
  rgb[1] = bgr[1] / 255.f;
  rgb[2] = bgr[0] / 255.f;
}

template <typename Out, typename T>
__global__ void letterboxKernel(const std::uint8_t* __restrict__ frame, int width, int height, int stride, int size, LetterboxGeometry g,
                                T* __restrict__ out) {
  const int x = 2 * (blockIdx.x * blockDim.x + threadIdx.x);
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= size || y >= size) return;
  const std::size_t plane = static_cast<std::size_t>(size) * size;
  const std::size_t o = static_cast<std::size_t>(y) * size + x;
  float a[3], b[3];
  pixel(frame, width, height, stride, g, x, y, a);
  if (x + 1 < size && (size % 2) == 0) {
    // Even size: o is even, so the pair is aligned for the vector store.
    pixel(frame, width, height, stride, g, x + 1, y, b);
#pragma unroll
    for (int c = 0; c < 3; ++c) *reinterpret_cast<typename Out::Pair*>(out + c * plane + o) = Out::pair(a[c], b[c]);
  } else {
#pragma unroll
    for (int c = 0; c < 3; ++c) out[c * plane + o] = Out::one(a[c]);
    if (x + 1 < size) {
      pixel(frame, width, height, stride, g, x + 1, y, b);
#pragma unroll
      for (int c = 0; c < 3; ++c) out[c * plane + o + 1] = Out::one(b[c]);
    }
  }
}

}  // namespace

void letterboxGpu(const FrameView& f, int size, TensorType type, void* deviceOut, cudaStream_t stream) {
  const LetterboxGeometry g = letterboxGeometry(f.width, f.height, size);
  const dim3 block(32, 4);
  const dim3 grid(((size + 1) / 2 + block.x - 1) / block.x, (size + block.y - 1) / block.y);
  if (type == TensorType::Float32) {
    letterboxKernel<Float32Out><<<grid, block, 0, stream>>>(f.data, f.width, f.height, f.strideBytes, size, g, static_cast<float*>(deviceOut));
  } else {
    letterboxKernel<Float16Out><<<grid, block, 0, stream>>>(f.data, f.width, f.height, f.strideBytes, size, g, static_cast<__half*>(deviceOut));
  }
  JB_CUDA_LAUNCHED("letterboxKernel");
}

}  // namespace jetbench
