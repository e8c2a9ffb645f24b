// Decode + class-aware NMS on the device without host round trips or host syncs: one memset and
// seven kernels on the caller's stream, whatever the number of candidates (graph-capturable; all
// memory is allocated by the constructor). Outside a caller's capture they are replayed as one
// CUDA graph per set of pointers (captured on first use), since eight launches cost the host more
// than the GPU work at a few hundred candidates. Every kernel reads the candidate count on the device and
// sizes its work by it, so a few hundred candidates cost a few microseconds per kernel.
//   decode    (a warp per 32 rows): objectness filter per lane; the surviving rows' class scores
//             are read by groups of 4 lanes (8 rows at a time, coalesced) and reduced to the first
//             maximum; survivors get a slot (warp-aggregated atomics) and a slot in their class.
//   classify  (one block): with a maxCandidates cap that can bind, a radix select finds the cap's
//             key and the classes are counted over the kept candidates; then the per-class
//             offsets and the per-class counts of 64 x 64 mask tiles are scanned.
//   group     the candidates grouped by class (unordered inside a class).
//   rank      each candidate's rank inside its class (score desc, row asc = key desc, unique keys):
//             the class segments come out sorted, so the global order is never sorted at all.
//   mask      many blocks: for each class, the upper triangle of 64 x 64 tiles of the IoU
//             suppression bitmask (bit j of row i: same class, j after i, IoU > threshold).
//   reduce    a block per class: greedy NMS over its segment 64 candidates at a time (the diagonal
//             word resolves a row-block in registers, then the kept rows' words are OR-ed into the
//             removed bits), stopping once the class holds maxDetections kept boxes.
//   output    each kept box's place in the global order = its place in its class + the kept boxes of
//             the other classes with larger keys (binary searches in their sorted kept lists); the
//             first maxDetections are written.
// Class-aware greedy NMS decides per class independently, so the kept set equals the CPU
// reference's (one greedy pass over the globally sorted list), and the first maxDetections of it in
// key order are exactly the reference's output. The arithmetic (decodeBox, boxIou, candidateKey)
// is detect.h's, shared with the CPU reference.
#include <cuda_fp16.h>

#include <algorithm>
#include <climits>

#include "jetbench/kernels.h"

namespace jetbench {
namespace {

using u64 = unsigned long long;
constexpr unsigned kFull = 0xffffffffu;
constexpr int kDecodeThreads = 128;
constexpr int kRankWarps = 8;
constexpr int kReduceThreads = 256;
constexpr int kOrBatch = 4;

/** Device-side state, zeroed by one memset per enqueue: the header, then classCount[C], keptCount[C]. */
struct Header {
  int count;         // candidates (decode)
  int participants;  // candidates that enter NMS (after the maxCandidates cap)
  int totalTiles;    // 64 x 64 mask tiles over all classes
  int pad;
  u64 threshold;     // smallest key that enters NMS (0: all)
};

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

__device__ __forceinline__ unsigned laneMaskLt(int lane) { return (1u << lane) - 1u; }

/** Tiles before row-block rb in a class of W words per row (upper triangle, row-block major). */
__device__ __forceinline__ long long tilesBefore(int rb, int W) {
  return static_cast<long long>(rb) * W - static_cast<long long>(rb) * (rb - 1) / 2;
}

/** Lanes that read one candidate's class scores together; a warp decodes 32 / kGroup at a time. */
constexpr int kGroup = 4;

/** The warp's passing rows get consecutive candidate slots (one atomic per warp) and, when the
 * classes are counted here, consecutive slots in their class (one atomic per class in the warp).
 * Every lane of the warp must call it. */
template <bool kCountClasses>
__device__ __forceinline__ void emitCandidate(bool pass, int lane, int row, const float* box, float score, int cls, Header* h, int* classCount,
                                              u64* keys, float4* boxes, int* classes, int* classSlots) {
  const unsigned passMask = __ballot_sync(kFull, pass);
  if (passMask == 0u) return;
  int base = 0;
  if (lane == 0) base = atomicAdd(&h->count, __popc(passMask));
  base = __shfl_sync(kFull, base, 0);
  if (!pass) return;
  const int slot = base + __popc(passMask & laneMaskLt(lane));
  keys[slot] = candidateKey(score, row);
  boxes[slot] = make_float4(box[0], box[1], box[2], box[3]);
  classes[slot] = cls;
  if (kCountClasses) {
    const unsigned peers = __match_any_sync(passMask, cls);
    const int leader = __ffs(peers) - 1;
    int classBase = 0;
    if (lane == leader) classBase = atomicAdd(&classCount[cls], __popc(peers));
    classBase = __shfl_sync(passMask, classBase, leader);
    classSlots[slot] = classBase + __popc(peers & laneMaskLt(lane));
  }
}

template <typename T, bool kCountClasses>
__global__ void __launch_bounds__(kDecodeThreads) decodeKernel(const T* __restrict__ pred, int rows, int cols, float conf, Header* h,
                                                               int* __restrict__ classCount, u64* __restrict__ keys, float4* __restrict__ boxes,
                                                               int* __restrict__ classes, int* __restrict__ classSlots) {
  constexpr int kGroups = 32 / kGroup;
  const int lane = threadIdx.x & 31;
  const int warpRow0 = ((blockIdx.x * blockDim.x + threadIdx.x) >> 5) * 32;
  const int row = warpRow0 + lane;
  const int numClasses = cols - 5;
  float obj = 0.f;
  if (row < rows) obj = toFloat<T>(pred[static_cast<std::size_t>(row) * cols + 4]);
  const unsigned todo = __ballot_sync(kFull, row < rows && obj > conf);
  if (todo == 0u) return;  // warp-uniform
  // Rows above the objectness threshold are dealt to groups of kGroup lanes: in round r, group g
  // takes the (kGroups r + g)-th of them; its lanes read the class scores (coalesced), keep the
  // first maximum, and the row's own lane collects the result.
  const int group = lane / kGroup, member = lane % kGroup;
  const int myRank = __popc(todo & laneMaskLt(lane));  // this lane's place among the rows above
  const bool mine = (todo >> lane) & 1u;
  bool myPass = false;
  float myScore = 0.f;
  int myClass = 0;
  const int rounds = (__popc(todo) + kGroups - 1) / kGroups;
  for (int r = 0; r < rounds; ++r) {
    // This round's rows (ranks kGroups r .. kGroups r + kGroups - 1, in lane order); group g takes the g-th.
    unsigned round = __ballot_sync(kFull, mine && myRank / kGroups == r);
    for (int k = 0; k < group; ++k) round &= round - 1u;
    const bool active = round != 0u;
    const int src = active ? __ffs(round) - 1 : 0;
    const float ob = __shfl_sync(kFull, obj, src);
    // decodeRow's sequential "v > best" keeps the first maximum and skips NaN, except a NaN in
    // class 0, which stays "best" and fails the threshold: the same here, in parallel.
    float best = 0.f;
    int bestClass = INT_MAX;  // INT_MAX: nothing yet
    bool nan0 = false;
    if (active) {
      const T* p = pred + static_cast<std::size_t>(warpRow0 + src) * cols;
#pragma unroll 4
      for (int c = member; c < numClasses; c += kGroup) {
        const float v = toFloat<T>(p[5 + c]) * ob;
        if (c == 0) nan0 = !(v == v);
        if (v == v && (bestClass == INT_MAX || v > best)) {
          best = v;
          bestClass = c;
        }
      }
    }
#pragma unroll
    for (int offset = kGroup / 2; offset > 0; offset >>= 1) {  // stays inside the group
      const float ov = __shfl_xor_sync(kFull, best, offset);
      const int oc = __shfl_xor_sync(kFull, bestClass, offset);
      const bool on = __shfl_xor_sync(kFull, nan0, offset);
      nan0 = nan0 || on;
      if (oc != INT_MAX && (bestClass == INT_MAX || ov > best || (ov == best && oc < bestClass))) {
        best = ov;
        bestClass = oc;
      }
    }
    // The row's own lane takes its result from the first lane of the group that decoded it.
    const int from = kGroup * (myRank % kGroups);
    const float rb = __shfl_sync(kFull, best, from);
    const int rc = __shfl_sync(kFull, bestClass, from);
    const bool rn = __shfl_sync(kFull, nan0, from);
    if (mine && myRank / kGroups == r) {
      myPass = !rn && rc != INT_MAX && rb > conf;
      myScore = rb;
      myClass = rc;
    }
  }
  float box[4] = {0.f, 0.f, 0.f, 0.f};
  if (myPass) {
    const T* p = pred + static_cast<std::size_t>(row) * cols;
    decodeBox([p](int i) { return toFloat<T>(p[i]); }, box);
  }
  emitCandidate<kCountClasses>(myPass, lane, row, box, myScore, myClass, h, classCount, keys, boxes, classes, classSlots);
}

/** NanoDet (see detect.h): a thread per cell runs decodeNanodetRow, the CPU reference's own code.
 * 3549 cells for nanodet-g, so the simple form costs a few microseconds. */
template <typename T, bool kCountClasses>
__global__ void __launch_bounds__(kDecodeThreads) nanodetDecodeKernel(const T* __restrict__ pred, int rows, int cols, int inputSize, float conf,
                                                                      Header* h, int* __restrict__ classCount, u64* __restrict__ keys,
                                                                      float4* __restrict__ boxes, int* __restrict__ classes,
                                                                      int* __restrict__ classSlots) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  float box[4] = {0.f, 0.f, 0.f, 0.f};
  float score = 0.f;
  int cls = 0;
  bool pass = false;
  if (row < rows) {
    const T* p = pred + static_cast<std::size_t>(row) * cols;
    pass = decodeNanodetRow([p](int i) { return toFloat<T>(p[i]); }, row, cols, inputSize, conf, box, &score, &cls);
  }
  emitCandidate<kCountClasses>(pass, lane, row, box, score, cls, h, classCount, keys, boxes, classes, classSlots);
}

/** Block-wide exclusive scan of two ints (blockDim.x = 1024); returns the block totals. */
__device__ void blockExclusiveScan2(int& a, int& b, int& totalA, int& totalB) {
  __shared__ int warpA[32], warpB[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  int ia = a, ib = b;
#pragma unroll
  for (int d = 1; d < 32; d <<= 1) {
    const int ta = __shfl_up_sync(kFull, ia, d), tb = __shfl_up_sync(kFull, ib, d);
    if (lane >= d) {
      ia += ta;
      ib += tb;
    }
  }
  if (lane == 31) {
    warpA[warp] = ia;
    warpB[warp] = ib;
  }
  __syncthreads();
  if (warp == 0) {
    int wa = lane < static_cast<int>(blockDim.x >> 5) ? warpA[lane] : 0;
    int wb = lane < static_cast<int>(blockDim.x >> 5) ? warpB[lane] : 0;
#pragma unroll
    for (int d = 1; d < 32; d <<= 1) {
      const int ta = __shfl_up_sync(kFull, wa, d), tb = __shfl_up_sync(kFull, wb, d);
      if (lane >= d) {
        wa += ta;
        wb += tb;
      }
    }
    warpA[lane] = wa;
    warpB[lane] = wb;
  }
  __syncthreads();
  const int prevA = warp > 0 ? warpA[warp - 1] : 0, prevB = warp > 0 ? warpB[warp - 1] : 0;
  totalA = warpA[31];
  totalB = warpB[31];
  a = prevA + ia - a;
  b = prevB + ib - b;
  __syncthreads();
}

template <bool kCap>
__global__ void __launch_bounds__(1024) classifyKernel(Header* h, const u64* __restrict__ keys, const int* __restrict__ classes, int* classSlots,
                                                       int* classCount, int numClasses, int maxCandidates, int* __restrict__ classOffset,
                                                       int* __restrict__ tileOffset) {
  const int tid = threadIdx.x;
  const int n = h->count;
  if (kCap) {
    __shared__ unsigned hist[256];
    __shared__ u64 sPrefix;
    __shared__ int sRemaining;
    u64 threshold = 0ull;
    if (n > maxCandidates) {
      // Radix select (8 bits a pass, from the top) of the maxCandidates-th largest key.
      u64 prefix = 0ull, prefixMask = 0ull;
      if (tid == 0) sRemaining = maxCandidates;
      for (int shift = 56; shift >= 0; shift -= 8) {
        for (int d = tid; d < 256; d += blockDim.x) hist[d] = 0u;
        __syncthreads();
        for (int i = tid; i < n; i += blockDim.x) {
          const u64 k = keys[i];
          if ((k & prefixMask) == prefix) atomicAdd(&hist[(k >> shift) & 255u], 1u);
        }
        __syncthreads();
        if (tid == 0) {
          int remaining = sRemaining;
          int d = 255;
          for (; d > 0; --d) {
            if (remaining <= static_cast<int>(hist[d])) break;
            remaining -= static_cast<int>(hist[d]);
          }
          sRemaining = remaining;
          sPrefix = prefix | (static_cast<u64>(d) << shift);
        }
        __syncthreads();
        prefix = sPrefix;
        prefixMask |= 0xffull << shift;
        __syncthreads();
      }
      threshold = prefix;
    }
    for (int i = tid; i < n; i += blockDim.x) {
      if (keys[i] >= threshold) classSlots[i] = atomicAdd(&classCount[classes[i]], 1);
    }
    if (tid == 0) h->threshold = threshold;
    __threadfence();
    __syncthreads();
  }
  int carryN = 0, carryT = 0;
  for (int base = 0; base < numClasses; base += blockDim.x) {
    const int c = base + tid;
    const int count = c < numClasses ? (kCap ? __ldcg(&classCount[c]) : classCount[c]) : 0;
    const int words = (count + 63) / 64;
    int a = count, b = words * (words + 1) / 2, totalA = 0, totalB = 0;
    blockExclusiveScan2(a, b, totalA, totalB);
    if (c < numClasses) {
      classOffset[c] = carryN + a;
      tileOffset[c] = carryT + b;
    }
    carryN += totalA;
    carryT += totalB;
  }
  if (tid == 0) {
    classOffset[numClasses] = carryN;
    tileOffset[numClasses] = carryT;
    h->participants = carryN;
    h->totalTiles = carryT;
  }
}

template <bool kCap>
__global__ void groupKernel(const Header* h, const u64* __restrict__ keys, const int* __restrict__ classes, const int* __restrict__ classSlots,
                            const int* __restrict__ classOffset, u64* __restrict__ groupKeys, int* __restrict__ groupSlots) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= h->count) return;
  const u64 key = keys[i];
  if (kCap && key < h->threshold) return;
  const int u = classOffset[classes[i]] + classSlots[i];
  groupKeys[u] = key;
  groupSlots[u] = i;
}

/** 32 grouped candidates a block, their class segments split among kRankWarps warps. */
__global__ void __launch_bounds__(32 * kRankWarps) rankKernel(const Header* h, const u64* __restrict__ groupKeys, const int* __restrict__ groupSlots,
                                                              const int* __restrict__ classes, const float4* __restrict__ boxes,
                                                              const int* __restrict__ classCount, const int* __restrict__ classOffset,
                                                              u64* __restrict__ sortedKeys, float4* __restrict__ sortedBoxes,
                                                              int* __restrict__ sortedClasses) {
  __shared__ int partial[kRankWarps][32];
  const int n = h->participants;
  const int u0 = blockIdx.x * 32;
  if (u0 >= n) return;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int u = u0 + lane;
  u64 key = 0ull;
  int slot = 0, cls = 0, start = 0, length = 0;
  if (u < n) {
    key = groupKeys[u];
    slot = groupSlots[u];
    cls = classes[slot];
    start = classOffset[cls];
    length = classCount[cls];
  }
  const int chunk = (length + kRankWarps - 1) / kRankWarps;
  const int j0 = start + min(length, warp * chunk), j1 = start + min(length, (warp + 1) * chunk);
  int greater = 0;
#pragma unroll 4
  for (int j = j0; j < j1; ++j) greater += groupKeys[j] > key ? 1 : 0;
  partial[warp][lane] = greater;
  __syncthreads();
  if (warp == 0 && u < n) {
    int rank = 0;
#pragma unroll
    for (int w = 0; w < kRankWarps; ++w) rank += partial[w][lane];
    const int p = start + rank;
    sortedKeys[p] = key;
    sortedBoxes[p] = boxes[slot];
    sortedClasses[p] = cls;
  }
}

/** One 64 x 64 tile of a class's upper-triangular suppression mask per block iteration. */
__global__ void __launch_bounds__(64) maskKernel(const Header* h, const int* __restrict__ classCount, const int* __restrict__ classOffset,
                                                 const int* __restrict__ tileOffset, int numClasses, bool staged, float iouThreshold,
                                                 const float4* __restrict__ sortedBoxes, u64* __restrict__ mask) {
  __shared__ float4 columns[64];
  extern __shared__ int stagedTileOffset[];
  const int tid = threadIdx.x;
  const int total = h->totalTiles;
  if (static_cast<int>(blockIdx.x) >= total) return;
  const int* offsets = tileOffset;
  if (staged) {
    for (int c = tid; c < numClasses; c += blockDim.x) stagedTileOffset[c] = tileOffset[c];
    __syncthreads();
    offsets = stagedTileOffset;
  }
  for (int t = blockIdx.x; t < total; t += gridDim.x) {
    int lo = 0, hi = numClasses - 1;  // the last class whose tiles start at or before t
    while (lo < hi) {
      const int mid = (lo + hi + 1) >> 1;
      if (offsets[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    const int c = lo;
    const int length = classCount[c];
    const int W = (length + 63) / 64;
    const long long q = t - tileOffset[c];
    int rlo = 0, rhi = W - 1;  // the row-block: the last rb with tilesBefore(rb) <= q
    while (rlo < rhi) {
      const int mid = (rlo + rhi + 1) >> 1;
      if (tilesBefore(mid, W) <= q) rlo = mid;
      else rhi = mid - 1;
    }
    const int rb = rlo;
    const int wb = rb + static_cast<int>(q - tilesBefore(rb, W));
    const int start = classOffset[c];
    const int j = 64 * wb + tid;
    if (j < length) columns[tid] = sortedBoxes[start + j];
    __syncthreads();
    const int i = 64 * rb + tid;
    if (i < length) {
      const float4 a4 = sortedBoxes[start + i];
      const float a[4] = {a4.x, a4.y, a4.z, a4.w};
      const int end = min(64, length - 64 * wb);
      const int first = wb == rb ? tid + 1 : 0;
      u64 bits = 0ull;
#pragma unroll 8
      for (int k = 0; k < 64; ++k) {
        if (k < first || k >= end) continue;
        const float4 b4 = columns[k];
        // Boxes that do not intersect have IoU 0 (or NaN), never above a threshold > 0: the
        // division is only evaluated (boxIou, as the CPU does) where the boxes intersect.
        const float left = a4.x > b4.x ? a4.x : b4.x, right = a4.z < b4.z ? a4.z : b4.z;
        const float top = a4.y > b4.y ? a4.y : b4.y, bottom = a4.w < b4.w ? a4.w : b4.w;
        if (!(right - left > 0.f && bottom - top > 0.f)) continue;
        const float b[4] = {b4.x, b4.y, b4.z, b4.w};
        if (boxIou(a, b) > iouThreshold) bits |= 1ull << k;
      }
      mask[64ll * t + tid] = bits;
    }
    __syncthreads();
  }
}

/** Greedy NMS of each class segment (a block per class, classes strided over the grid). */
__global__ void __launch_bounds__(kReduceThreads) reduceKernel(const int* __restrict__ classCount, const int* __restrict__ classOffset,
                                                               const int* __restrict__ tileOffset, int numClasses, int maxDetections,
                                                               const u64* __restrict__ sortedKeys, const u64* __restrict__ mask,
                                                               int* __restrict__ keptIndex, u64* __restrict__ keptKeys, int* __restrict__ keptCount) {
  extern __shared__ u64 removed[];
  __shared__ int list[64];
  __shared__ int sListSize, sKept;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  for (int c = blockIdx.x; c < numClasses; c += gridDim.x) {
    const int length = classCount[c];
    if (length == 0) continue;  // keptCount is 0 from the memset
    const int W = (length + 63) / 64;
    const int start = classOffset[c];
    const u64* m = mask + 64ll * tileOffset[c];
    for (int w = tid; w < W; w += blockDim.x) removed[w] = 0ull;
    if (tid == 0) sKept = 0;
    __syncthreads();
    // Warp 0 holds the current row-block's diagonal words and keys (rows lane and lane + 32).
    u64 d0 = 0ull, d1 = 0ull, key0 = 0ull, key1 = 0ull;
    if (warp == 0) {
      const int rows0 = min(64, length);
      if (lane < rows0) {
        d0 = m[lane];
        key0 = sortedKeys[start + lane];
      }
      if (lane + 32 < rows0) {
        d1 = m[lane + 32];
        key1 = sortedKeys[start + lane + 32];
      }
    }
    for (int rb = 0; rb < W; ++rb) {
      const long long tile = tilesBefore(rb, W);
      if (warp == 0) {
        const int rows = min(64, length - 64 * rb);
        const u64 valid = rows >= 64 ? ~0ull : ((1ull << rows) - 1ull);
        const int kept = sKept;
        int budget = maxDetections - kept;
        u64 avail = valid & ~removed[rb];
        u64 keptBits = 0ull;
        while (avail != 0ull && budget > 0) {  // warp-uniform
          const int k = __ffsll(static_cast<long long>(avail)) - 1;
          keptBits |= 1ull << k;
          --budget;
          const u64 d = __shfl_sync(kFull, k < 32 ? d0 : d1, k & 31);
          avail &= ~d & ~(1ull << k);
        }
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int k = lane + 32 * half;
          if ((keptBits >> k) & 1ull) {
            const int nth = __popcll(keptBits & ((1ull << k) - 1ull));
            keptIndex[start + kept + nth] = start + 64 * rb + k;
            keptKeys[start + kept + nth] = half ? key1 : key0;
            list[nth] = k;
          }
        }
        if (rb + 1 < W) {  // prefetch the next diagonal and keys while the block ORs this one's rows
          const long long next = tile + (W - rb);
          const int rows1 = min(64, length - 64 * (rb + 1));
          const int g = start + 64 * (rb + 1);
          d0 = lane < rows1 ? m[64ll * next + lane] : 0ull;
          d1 = lane + 32 < rows1 ? m[64ll * next + lane + 32] : 0ull;
          key0 = lane < rows1 ? sortedKeys[g + lane] : 0ull;
          key1 = lane + 32 < rows1 ? sortedKeys[g + lane + 32] : 0ull;
        }
        __syncwarp();
        if (lane == 0) {
          sListSize = __popcll(keptBits);
          sKept = kept + __popcll(keptBits);
        }
      }
      __syncthreads();
      if (sKept >= maxDetections) break;  // block-uniform: the class is full
      const int nk = sListSize;
      const int words = W - rb - 1;
      if (nk > 0 && words > 0) {
        // One (kept row, later word) pair a thread, kOrBatch loads in flight before the ORs.
        const int items = nk * words;
        const u64* t = m + 64ll * (tile + 1);
        for (int base = tid; base < items; base += kOrBatch * blockDim.x) {
          u64 v[kOrBatch];
          int word[kOrBatch];
#pragma unroll
          for (int k = 0; k < kOrBatch; ++k) {
            const int it = base + k * blockDim.x;
            v[k] = 0ull;
            word[k] = 0;
            if (it < items) {
              const int r = it / words;
              word[k] = it - r * words;
              v[k] = t[64ll * word[k] + list[r]];
            }
          }
#pragma unroll
          for (int k = 0; k < kOrBatch; ++k) {
            if (v[k] != 0ull) atomicOr(&removed[rb + 1 + word[k]], v[k]);
          }
        }
      }
      __syncthreads();
    }
    if (tid == 0) keptCount[c] = sKept;
    __syncthreads();
  }
}

constexpr int kOutputThreads = 1024;
/** Classes and kept keys the output kernel stages in shared memory (40 KB). */
constexpr int kStagedClasses = 2048;
constexpr int kStagedKeys = 2048;

/** The kept boxes in global key order: a kept box's place = its place in its class + the kept
 * boxes of the other classes with larger keys (binary searches in their sorted kept lists). The
 * per-class counts, offsets and kept keys are staged in shared memory when they fit. */
__global__ void __launch_bounds__(kOutputThreads) outputKernel(const Header* h, const int* __restrict__ classOffset, const int* __restrict__ keptCount,
                                                               const int* __restrict__ keptIndex, const u64* __restrict__ keptKeys,
                                                               const float4* __restrict__ sortedBoxes, const int* __restrict__ sortedClasses,
                                                               int numClasses, int maxDetections, Detection* __restrict__ out,
                                                               int* __restrict__ outCount) {
  __shared__ int sCount[kStagedClasses], sOffset[kStagedClasses], sListStart[kStagedClasses];
  __shared__ u64 sKeys[kStagedKeys];
  const int tid = threadIdx.x;
  const bool stagedClasses = numClasses <= kStagedClasses;
  // Total kept, and each class's start in the staged key list (exclusive scan of the counts).
  int totalKept = 0;
  for (int base = 0; base < numClasses; base += blockDim.x) {
    const int c = base + tid;
    const int k = c < numClasses ? keptCount[c] : 0;
    int a = k, b = 0, ta = 0, tb = 0;
    blockExclusiveScan2(a, b, ta, tb);
    if (stagedClasses && c < numClasses) {
      sCount[c] = k;
      sOffset[c] = classOffset[c];
      sListStart[c] = totalKept + a;
    }
    totalKept += ta;
  }
  if (blockIdx.x == 0 && tid == 0) *outCount = totalKept < maxDetections ? totalKept : maxDetections;
  __syncthreads();
  const bool stagedKeys = stagedClasses && totalKept <= kStagedKeys;
  if (stagedKeys) {
    for (int i = tid; i < totalKept; i += blockDim.x) {
      int lo = 0, hi = numClasses - 1;  // the last class whose list starts at or before i
      while (lo < hi) {
        const int mid = (lo + hi + 1) >> 1;
        if (sListStart[mid] <= i) lo = mid;
        else hi = mid - 1;
      }
      sKeys[i] = keptKeys[sOffset[lo] + (i - sListStart[lo])];
    }
    __syncthreads();
  }
  const int* kc = stagedClasses ? sCount : keptCount;
  const int* co = stagedClasses ? sOffset : classOffset;
  const int n = h->participants;
  for (int p = blockIdx.x * blockDim.x + tid; p < n; p += gridDim.x * blockDim.x) {
    const int c = sortedClasses[p];
    const int k = p - co[c];
    if (k >= kc[c] || k >= maxDetections) continue;
    const u64 key = stagedKeys ? sKeys[sListStart[c] + k] : keptKeys[p];
    int place = k;
    for (int c2 = 0; c2 < numClasses && place < maxDetections; ++c2) {
      const int n2 = kc[c2];
      if (n2 == 0 || c2 == c) continue;
      int lo = 0, hi = n2;  // kept keys of c2 greater than ours (each list is in descending order)
      if (stagedKeys) {
        const u64* list = sKeys + sListStart[c2];
        while (lo < hi) {
          const int mid = (lo + hi) >> 1;
          if (list[mid] > key) lo = mid + 1;
          else hi = mid;
        }
      } else {
        const u64* list = keptKeys + co[c2];
        while (lo < hi) {
          const int mid = (lo + hi) >> 1;
          if (list[mid] > key) lo = mid + 1;
          else hi = mid;
        }
      }
      place += lo;
    }
    if (place < maxDetections) {
      const float4 b = sortedBoxes[keptIndex[p]];
      out[place] = Detection{b.x, b.y, b.z, b.w, __uint_as_float(static_cast<unsigned>(key >> 32)), c};
    }
  }
}

}  // namespace

GpuNms::GpuNms(int rows, int cols, const NmsOptions& options) : rows_(rows), cols_(cols), options_(options) {
  PredictionsView shape;
  shape.data = this;  // only the shape is checked here
  shape.rows = rows;
  shape.cols = cols;
  validateNmsOptions(options);
  validatePredictions(shape, options);
  numClasses_ = headClasses(options.head, cols);
  capped_ = rows > options.maxCandidates;
  maxParticipants_ = capped_ ? options.maxCandidates : rows;
  // Mask tiles: one class holding every candidate is the most (W0 (W0 + 1) / 2 for W0 words a
  // row); splitting candidates among k classes adds at most k - 1 tiles (rounding up per class).
  const std::size_t w0 = (static_cast<std::size_t>(maxParticipants_) + 63) / 64;
  const std::size_t maxTiles = w0 * (w0 + 1) / 2 + static_cast<std::size_t>(std::min(numClasses_, maxParticipants_));
  if (maxTiles > static_cast<std::size_t>(INT_MAX)) throw InvalidArgument("too many NMS candidates for the GPU mask: lower maxCandidates");
  int device = 0;
  JB_CUDA(cudaGetDevice(&device));
  JB_CUDA(cudaDeviceGetAttribute(&multiProcessors_, cudaDevAttrMultiProcessorCount, device));
  reduceSharedBytes_ = sizeof(u64) * w0;
  if (reduceSharedBytes_ > 48 * 1024) {
    JB_CUDA(cudaFuncSetAttribute(reduceKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(reduceSharedBytes_)));
  }
  const std::size_t n = static_cast<std::size_t>(maxParticipants_);
  state_ = DeviceBuffer(sizeof(Header) + sizeof(int) * 2 * numClasses_);
  keys_ = DeviceBuffer(sizeof(u64) * rows);
  boxes_ = DeviceBuffer(sizeof(float4) * rows);
  classes_ = DeviceBuffer(sizeof(int) * rows);
  classSlots_ = DeviceBuffer(sizeof(int) * rows);
  classOffset_ = DeviceBuffer(sizeof(int) * (numClasses_ + 1));
  tileOffset_ = DeviceBuffer(sizeof(int) * (numClasses_ + 1));
  groupKeys_ = DeviceBuffer(sizeof(u64) * n);
  groupSlots_ = DeviceBuffer(sizeof(int) * n);
  sortedKeys_ = DeviceBuffer(sizeof(u64) * n);
  sortedBoxes_ = DeviceBuffer(sizeof(float4) * n);
  sortedClasses_ = DeviceBuffer(sizeof(int) * n);
  keptIndex_ = DeviceBuffer(sizeof(int) * n);
  keptKeys_ = DeviceBuffer(sizeof(u64) * n);
  mask_ = DeviceBuffer(sizeof(u64) * 64 * maxTiles);
}

std::size_t GpuNms::deviceBytes() const {
  return state_.bytes() + keys_.bytes() + boxes_.bytes() + classes_.bytes() + classSlots_.bytes() + classOffset_.bytes() + tileOffset_.bytes() +
         groupKeys_.bytes() + groupSlots_.bytes() + sortedKeys_.bytes() + sortedBoxes_.bytes() + sortedClasses_.bytes() + keptIndex_.bytes() +
         keptKeys_.bytes() + mask_.bytes();
}

const char* GpuNms::stageName(int stage) {
  static const char* const names[kStages] = {"memset", "decode", "classify", "group", "rank", "mask", "reduce", "output"};
  return stage >= 0 && stage < kStages ? names[stage] : "?";
}

GpuNms::GraphExec::~GraphExec() {
  if (exec) cudaGraphExecDestroy(exec);
}

void GpuNms::enqueue(const void* pred, TensorType type, Detection* outDetections, int* outCount, cudaStream_t stream, cudaEvent_t* stageEvents) {
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  JB_CUDA(cudaStreamIsCapturing(stream, &capturing));
  if (!useGraph_ || stageEvents != nullptr || capturing != cudaStreamCaptureStatusNone) {
    // The caller's own capture (or per-stage events, or graphs off): plain launches on its stream.
    launch(pred, type, outDetections, outCount, stream, stageEvents);
    return;
  }
  // Eight launches cost the host more than the GPU work at a few hundred candidates, so the
  // sequence is captured once per set of pointers (on a private stream) and replayed as one graph
  // launch on the caller's stream.
  GraphExec* exec = nullptr;
  for (auto& g : graphs_) {
    if (g.pred == pred && g.type == type && g.out == outDetections && g.count == outCount) exec = &g;
  }
  if (exec == nullptr) {
    JB_CUDA(cudaStreamBeginCapture(captureStream_.get(), cudaStreamCaptureModeThreadLocal));
    try {
      launch(pred, type, outDetections, outCount, captureStream_.get(), nullptr);
    } catch (...) {
      cudaGraph_t broken = nullptr;
      cudaStreamEndCapture(captureStream_.get(), &broken);
      if (broken) cudaGraphDestroy(broken);
      throw;
    }
    cudaGraph_t graph = nullptr;
    JB_CUDA(cudaStreamEndCapture(captureStream_.get(), &graph));
    cudaGraphExec_t instance = nullptr;
    const cudaError_t err = cudaGraphInstantiate(&instance, graph, 0);
    cudaGraphDestroy(graph);
    JB_CUDA(err);
    if (graphs_.size() >= kMaxGraphs) graphs_.erase(graphs_.begin());
    graphs_.emplace_back();
    exec = &graphs_.back();
    exec->exec = instance;
    exec->pred = pred;
    exec->type = type;
    exec->out = outDetections;
    exec->count = outCount;
  }
  JB_CUDA(cudaGraphLaunch(exec->exec, stream));
}

void GpuNms::launch(const void* pred, TensorType type, Detection* outDetections, int* outCount, cudaStream_t stream, cudaEvent_t* stageEvents) {
  int stage = 0;
  auto mark = [&]() {
    if (stageEvents) JB_CUDA(cudaEventRecord(stageEvents[stage], stream));
    ++stage;
  };
  Header* h = state_.as<Header>();
  int* classCount = reinterpret_cast<int*>(h + 1);
  int* keptCount = classCount + numClasses_;
  mark();
  JB_CUDA(cudaMemsetAsync(state_.get(), 0, state_.bytes(), stream));
  mark();
  const int decodeBlocks = (rows_ + kDecodeThreads - 1) / kDecodeThreads;
  const float conf = options_.confThreshold;
  auto* keys = keys_.as<u64>();
  auto* boxes = boxes_.as<float4>();
  auto* classes = classes_.as<int>();
  auto* slots = classSlots_.as<int>();
  auto decode = [&](auto zero) {
    using T = decltype(zero);
    const T* p = static_cast<const T*>(pred);
    if (options_.head == HeadLayout::NanoDet) {
      if (capped_) {
        nanodetDecodeKernel<T, false><<<decodeBlocks, kDecodeThreads, 0, stream>>>(p, rows_, cols_, options_.inputSize, conf, h, classCount, keys, boxes,
                                                                                  classes, slots);
      } else {
        nanodetDecodeKernel<T, true><<<decodeBlocks, kDecodeThreads, 0, stream>>>(p, rows_, cols_, options_.inputSize, conf, h, classCount, keys, boxes,
                                                                                 classes, slots);
      }
    } else if (capped_) {
      decodeKernel<T, false><<<decodeBlocks, kDecodeThreads, 0, stream>>>(p, rows_, cols_, conf, h, classCount, keys, boxes, classes, slots);
    } else {
      decodeKernel<T, true><<<decodeBlocks, kDecodeThreads, 0, stream>>>(p, rows_, cols_, conf, h, classCount, keys, boxes, classes, slots);
    }
  };
  if (type == TensorType::Float32) {
    decode(0.f);
  } else {
    decode(__half());
  }
  JB_CUDA_LAUNCHED("decodeKernel");
  mark();
  auto* classOffset = classOffset_.as<int>();
  auto* tileOffset = tileOffset_.as<int>();
  if (capped_) {
    classifyKernel<true><<<1, 1024, 0, stream>>>(h, keys, classes, slots, classCount, numClasses_, options_.maxCandidates, classOffset, tileOffset);
  } else {
    classifyKernel<false><<<1, 1024, 0, stream>>>(h, keys, classes, slots, classCount, numClasses_, options_.maxCandidates, classOffset, tileOffset);
  }
  JB_CUDA_LAUNCHED("classifyKernel");
  mark();
  const int groupBlocks = (rows_ + 255) / 256;
  if (capped_) {
    groupKernel<true><<<groupBlocks, 256, 0, stream>>>(h, keys, classes, slots, classOffset, groupKeys_.as<u64>(), groupSlots_.as<int>());
  } else {
    groupKernel<false><<<groupBlocks, 256, 0, stream>>>(h, keys, classes, slots, classOffset, groupKeys_.as<u64>(), groupSlots_.as<int>());
  }
  JB_CUDA_LAUNCHED("groupKernel");
  mark();
  rankKernel<<<(maxParticipants_ + 31) / 32, 32 * kRankWarps, 0, stream>>>(h, groupKeys_.as<u64>(), groupSlots_.as<int>(), classes, boxes, classCount,
                                                                          classOffset, sortedKeys_.as<u64>(), sortedBoxes_.as<float4>(),
                                                                          sortedClasses_.as<int>());
  JB_CUDA_LAUNCHED("rankKernel");
  mark();
  const bool stageTiles = numClasses_ <= 4096;
  maskKernel<<<multiProcessors_ * 16, 64, stageTiles ? sizeof(int) * numClasses_ : 0, stream>>>(
      h, classCount, classOffset, tileOffset, numClasses_, stageTiles, options_.iouThreshold, sortedBoxes_.as<float4>(), mask_.as<u64>());
  JB_CUDA_LAUNCHED("maskKernel");
  mark();
  const int reduceBlocks = std::min(numClasses_, multiProcessors_ * 8);
  reduceKernel<<<reduceBlocks, kReduceThreads, reduceSharedBytes_, stream>>>(classCount, classOffset, tileOffset, numClasses_, options_.maxDetections,
                                                                            sortedKeys_.as<u64>(), mask_.as<u64>(), keptIndex_.as<int>(),
                                                                            keptKeys_.as<u64>(), keptCount);
  JB_CUDA_LAUNCHED("reduceKernel");
  mark();
  const int outputBlocks = std::max(1, std::min((maxParticipants_ + kOutputThreads - 1) / kOutputThreads, multiProcessors_));
  outputKernel<<<outputBlocks, kOutputThreads, 0, stream>>>(h, classOffset, keptCount, keptIndex_.as<int>(), keptKeys_.as<u64>(),
                                                            sortedBoxes_.as<float4>(), sortedClasses_.as<int>(), numClasses_, options_.maxDetections,
                                                            outDetections, outCount);
  JB_CUDA_LAUNCHED("outputKernel");
  mark();
}

}  // namespace jetbench
