// Decode + class-aware NMS on the device without host round trips: a memset and two kernels on
// the caller's stream, whatever the number of candidates.
//   decodeKernel (one thread per prediction row): confidence filter, best class, xywh -> xyxy;
//     survivors append a sort key (score desc, row asc) through an atomic counter.
//   nmsKernel (one block): reads the count on the device, bitonic-sorts the keys (in shared
//     memory when they fit, else in a global scratch buffer), caps at maxCandidates, then greedy
//     NMS with a removed-bitmap in shared memory, writing at most maxDetections. Up to 4096
//     candidates the boxes stay in registers and the kept box is broadcast through shared memory.
// The arithmetic (decodeRow, boxIou, candidateKey) is detect.h's, shared with the CPU reference.
#include <cuda_fp16.h>

#include "jetbench/kernels.h"

namespace jetbench {
namespace {

constexpr int kNmsThreads = 1024;
/** Keys sorted in shared memory up to this many (32 KB); more go through global memory. */
constexpr int kSharedKeys = 4096;
/** Candidates per thread held in registers by the fast NMS path (4 x 1024 = 4096). */
constexpr int kRegisterSlots = 4;

int nextPow2(int v) {
  int p = 1;
  while (p < v) p <<= 1;
  return p;
}

template <typename T>
__device__ __forceinline__ float toFloat(T v);
template <>
__device__ __forceinline__ float toFloat<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ float toFloat<__half>(__half v) {
  return __half2float(v);
}

template <typename T>
__global__ void decodeKernel(const T* __restrict__ pred, int rows, int cols, float conf, int* __restrict__ count,
                             std::uint64_t* __restrict__ keys, float4* __restrict__ boxes, int* __restrict__ classes) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= rows) return;
  const T* p = pred + static_cast<std::size_t>(row) * cols;
  float box[4];
  float score;
  int cls;
  if (!decodeRow([p](int i) { return toFloat<T>(p[i]); }, cols, conf, box, &score, &cls)) return;
  const int slot = atomicAdd(count, 1);
  keys[slot] = candidateKey(score, row);
  boxes[row] = make_float4(box[0], box[1], box[2], box[3]);
  classes[row] = cls;
}

__global__ void __launch_bounds__(kNmsThreads) nmsKernel(const int* __restrict__ count, int rows, NmsOptions o, std::uint64_t* globalKeys,
                                                         const float4* __restrict__ boxes, const int* __restrict__ classes,
                                                         float4* sortedBoxes, int* sortedClasses, Detection* __restrict__ out,
                                                         int* __restrict__ outCount) {
  extern __shared__ std::uint64_t shared[];
  const int tid = threadIdx.x;
  const int n = min(*count, rows);
  int p = 1;
  while (p < n) p <<= 1;
  const bool inShared = p <= kSharedKeys;
  std::uint64_t* keys = inShared ? shared : globalKeys;
  unsigned* removed = reinterpret_cast<unsigned*>(shared + kSharedKeys);

  // Pad to a power of two with 0, below every real key (real keys have a non-zero low word).
  for (int i = tid; i < p; i += kNmsThreads) {
    if (inShared) keys[i] = i < n ? globalKeys[i] : 0ull;
    else if (i >= n) keys[i] = 0ull;
  }
  __syncthreads();
  for (int k = 2; k <= p; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = tid; i < p; i += kNmsThreads) {
        const int partner = i ^ j;
        if (partner > i) {
          const std::uint64_t a = keys[i], b = keys[partner];
          const bool descending = (i & k) == 0;
          if (descending ? a < b : a > b) {
            keys[i] = b;
            keys[partner] = a;
          }
        }
      }
      __syncthreads();
    }
  }

  const int m = min(n, o.maxCandidates);
  int kept = 0;
  if (m <= kRegisterSlots * kNmsThreads) {
    // Fast path: each thread holds its candidates (j = tid + k * threads) in registers; the kept
    // box is broadcast through shared memory, so the greedy loop touches no global memory.
    float4 mine[kRegisterSlots];
    int mineClass[kRegisterSlots];
    float mineScore[kRegisterSlots];
#pragma unroll
    for (int k = 0; k < kRegisterSlots; ++k) {
      const int j = tid + k * kNmsThreads;
      mineClass[k] = -1;
      if (j < m) {
        const std::uint64_t key = keys[j];
        const int row = static_cast<int>(0xffffffffu - static_cast<unsigned>(key & 0xffffffffull));
        mine[k] = boxes[row];
        mineClass[k] = classes[row];
        mineScore[k] = __uint_as_float(static_cast<unsigned>(key >> 32));
      }
    }
    __shared__ float4 current;
    __shared__ int currentClass;
    for (int w = tid; w < (m + 31) / 32; w += kNmsThreads) removed[w] = 0u;
    __syncthreads();
    for (int i = 0; i < m && kept < o.maxDetections; ++i) {
      if ((removed[i >> 5] >> (i & 31)) & 1u) continue;  // the same shared word for every thread
      if (tid == i % kNmsThreads) {
        // Select by comparisons, not by a run-time index (that would move the arrays to local memory).
        const int slot = i / kNmsThreads;
        float4 box = mine[0];
        int boxClass = mineClass[0];
        float score = mineScore[0];
#pragma unroll
        for (int k = 1; k < kRegisterSlots; ++k) {
          box = slot == k ? mine[k] : box;
          boxClass = slot == k ? mineClass[k] : boxClass;
          score = slot == k ? mineScore[k] : score;
        }
        current = box;
        currentClass = boxClass;
        out[kept] = Detection{box.x, box.y, box.z, box.w, score, boxClass};
      }
      __syncthreads();
      const float a[4] = {current.x, current.y, current.z, current.w};
      const int cls = currentClass;
#pragma unroll
      for (int k = 0; k < kRegisterSlots; ++k) {
        const int j = tid + k * kNmsThreads;
        if (j > i && j < m && mineClass[k] == cls && !((removed[j >> 5] >> (j & 31)) & 1u)) {
          const float b[4] = {mine[k].x, mine[k].y, mine[k].z, mine[k].w};
          if (boxIou(a, b) > o.iouThreshold) atomicOr(&removed[j >> 5], 1u << (j & 31));
        }
      }
      ++kept;
      __syncthreads();
    }
    if (tid == 0) *outCount = kept;
    return;
  }

  // General path (more candidates than registers hold): sorted boxes in global scratch memory.
  for (int i = tid; i < m; i += kNmsThreads) {
    const int row = static_cast<int>(0xffffffffu - static_cast<unsigned>(keys[i] & 0xffffffffull));
    sortedBoxes[i] = boxes[row];
    sortedClasses[i] = classes[row];
  }
  for (int w = tid; w < (m + 31) / 32; w += kNmsThreads) removed[w] = 0u;
  __syncthreads();

  for (int i = 0; i < m && kept < o.maxDetections; ++i) {
    if ((removed[i >> 5] >> (i & 31)) & 1u) continue;  // the same shared word for every thread
    const float4 b = sortedBoxes[i];
    const int cls = sortedClasses[i];
    if (tid == 0) {
      const unsigned bits = static_cast<unsigned>(keys[i] >> 32);
      out[kept] = Detection{b.x, b.y, b.z, b.w, __uint_as_float(bits), cls};
    }
    ++kept;
    const float a[4] = {b.x, b.y, b.z, b.w};
    for (int j = i + 1 + tid; j < m; j += kNmsThreads) {
      if (sortedClasses[j] != cls || ((removed[j >> 5] >> (j & 31)) & 1u)) continue;
      const float4 c = sortedBoxes[j];
      const float bj[4] = {c.x, c.y, c.z, c.w};
      if (boxIou(a, bj) > o.iouThreshold) atomicOr(&removed[j >> 5], 1u << (j & 31));
    }
    __syncthreads();
  }
  if (tid == 0) *outCount = kept;
}

}  // namespace

GpuNms::GpuNms(int rows, int cols, const NmsOptions& options)
    : rows_(rows),
      cols_(cols),
      sortCapacity_(nextPow2(rows)),
      options_(options),
      count_(sizeof(int)),
      keys_(sizeof(std::uint64_t) * nextPow2(rows)),
      boxes_(sizeof(float4) * rows),
      classes_(sizeof(int) * rows),
      sortedBoxes_(sizeof(float4) * rows),
      sortedClasses_(sizeof(int) * rows) {
  PredictionsView shape;
  shape.data = this;  // only the shape is checked here
  shape.rows = rows;
  shape.cols = cols;
  validatePredictions(shape);
  validateNmsOptions(options);
  const std::size_t smem = sizeof(std::uint64_t) * kSharedKeys + sizeof(unsigned) * ((rows + 31) / 32);
  if (smem > 48 * 1024) JB_CUDA(cudaFuncSetAttribute(nmsKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
}

void GpuNms::enqueue(const void* pred, TensorType type, Detection* outDetections, int* outCount, cudaStream_t stream) {
  JB_CUDA(cudaMemsetAsync(count_.get(), 0, sizeof(int), stream));
  const int threads = 256;
  const int blocks = (rows_ + threads - 1) / threads;
  if (type == TensorType::Float32) {
    decodeKernel<float><<<blocks, threads, 0, stream>>>(static_cast<const float*>(pred), rows_, cols_, options_.confThreshold,
                                                        count_.as<int>(), keys_.as<std::uint64_t>(), boxes_.as<float4>(), classes_.as<int>());
  } else {
    decodeKernel<__half><<<blocks, threads, 0, stream>>>(static_cast<const __half*>(pred), rows_, cols_, options_.confThreshold,
                                                         count_.as<int>(), keys_.as<std::uint64_t>(), boxes_.as<float4>(), classes_.as<int>());
  }
  JB_CUDA_LAUNCHED("decodeKernel");
  const std::size_t smem = sizeof(std::uint64_t) * kSharedKeys + sizeof(unsigned) * ((rows_ + 31) / 32);
  nmsKernel<<<1, kNmsThreads, smem, stream>>>(count_.as<int>(), rows_, options_, keys_.as<std::uint64_t>(), boxes_.as<float4>(),
                                              classes_.as<int>(), sortedBoxes_.as<float4>(), sortedClasses_.as<int>(), outDetections, outCount);
  JB_CUDA_LAUNCHED("nmsKernel");
}

}  // namespace jetbench
