#!/usr/bin/env bash
# The GPU suite, for a machine with a CUDA GPU (npm run test:gpu):
#   1. the native GPU tests: the CUDA kernels equal the CPU references on many random frames and
#      sizes, NMS keeps the reference's boxes (fp32 and fp16), every memory mode in both pipeline
#      forms, out-of-memory frees everything (GoogleTest; GTEST_SOURCE=DIR builds it from sources);
#   2. with Node and the built bundle (dist/): the addon built with CUDA by build-native, and
#      `jetbench pipeline` through the agent in both modes and every memory mode
#      (test/gpu/pipeline-modes.js checks each run file).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
ARCH="${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d .)}"
BUILD="${BUILD_DIR:-$(mktemp -d)}"
cmake -S native -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DJETBENCH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" ${GTEST_SOURCE:+-DJETBENCH_GTEST_SOURCE=$GTEST_SOURCE} | grep "jetbench native:"
cmake --build "$BUILD" --target jetbench_gpu_tests --parallel "$(nproc)" >/dev/null
"$BUILD/jetbench_gpu_tests"
if ! command -v node >/dev/null || [[ ! -f dist/cli.js ]]; then
  echo "SKIPPED: the pipeline through the CLI (needs node and the built bundle: npm run build)"
  exit 0
fi
node dist/agent.js build-native --cuda-arch "$ARCH" | tail -n 1
node test/gpu/pipeline-modes.js "${MODEL:-tiny}"
