#!/usr/bin/env bash
# Compiles what CI cannot run: every .cu file with nvcc, the CUDA-side C++ (pipeline, memory
# modes, GPU tests, GPU benchmark) against the CUDA headers, and the TensorRT runner against every
# TensorRT header set found under native/.deps/tensorrt-*/include (fetched, never committed).
#   NVCC=path/to/nvcc (default: nvcc on PATH, else the toolkit scripts/setup-native.sh installs)
set -euo pipefail
cd "$(dirname "$0")/.."
NVCC="${NVCC:-$(command -v nvcc || echo ../.cache/cuda-toolkit/nvidia/cu13/bin/nvcc)}"
if [[ ! -x "$NVCC" ]]; then
  echo "compile-check: nvcc not found (looked for \$NVCC, nvcc on PATH, ../.cache/cuda-toolkit): run scripts/setup-native.sh" >&2
  exit 1
fi
CUDA_HOME="$(cd "$(dirname "$NVCC")/.." && pwd)"
ARCH="${JETBENCH_CHECK_ARCH:-sm_87}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
echo "nvcc: $("$NVCC" --version | tail -n 2 | head -n 1)"
for cu in src/cuda/*.cu; do
  "$NVCC" -std=c++17 --fmad=false -arch="$ARCH" -DJETBENCH_WITH_CUDA=1 -Iinclude -c "$cu" -o "$OUT/$(basename "$cu").o"
  echo "ok   nvcc -arch=$ARCH $cu"
done
CXXFLAGS=(-std=c++17 -fsyntax-only -Wall -Wextra -DJETBENCH_WITH_CUDA=1 -Iinclude -isystem "$CUDA_HOME/include")
for cpp in src/memory.cpp src/pipeline.cpp; do
  g++ "${CXXFLAGS[@]}" "$cpp" && echo "ok   g++ (CUDA) $cpp"
done
if [[ -f /usr/include/gtest/gtest.h ]]; then
  g++ "${CXXFLAGS[@]}" test/gpu_test.cpp && echo "ok   g++ (CUDA) test/gpu_test.cpp"
fi
g++ "${CXXFLAGS[@]}" bench/gpu_bench.cpp && echo "ok   g++ (CUDA) bench/gpu_bench.cpp"
shopt -s nullglob
trt=(.deps/tensorrt-*/include)
if (( ${#trt[@]} == 0 )); then
  echo "SKIPPED: TensorRT runner compile check: no TensorRT headers under native/.deps (fetch NVIDIA's public TensorRT include/ there, see README)"
  exit 0
fi
for inc in "${trt[@]}"; do
  version=$(grep -hoE "define (NV_TENSORRT|TRT)_(MAJOR|MINOR|PATCH)(_ENTERPRISE)? +[0-9]+" "$inc/NvInferVersion.h" | awk '{print $3}' | paste -sd. -)
  g++ "${CXXFLAGS[@]}" -DJETBENCH_WITH_TENSORRT=1 -isystem "$inc" src/tensorrt/runner.cpp && echo "ok   g++ TensorRT $version ($inc) src/tensorrt/runner.cpp"
  if [[ -d ../node_modules/node-api-headers/include && -d ../node_modules/node-addon-api ]]; then
    mkdir -p "$OUT/gen/jetbench" && sed 's/@[A-Z_]*@/0/g' src/build_info.h.in >"$OUT/gen/jetbench/build_info.h"
    g++ "${CXXFLAGS[@]}" -DJETBENCH_WITH_TENSORRT=1 -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -isystem "$inc" -I"$OUT/gen" \
      -isystem ../node_modules/node-api-headers/include -isystem ../node_modules/node-addon-api src/node/addon.cpp &&
      echo "ok   g++ TensorRT $version + Node-API src/node/addon.cpp (tensorrt_binding.h)"
  fi
done
