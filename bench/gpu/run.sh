#!/usr/bin/env bash
# The GPU suite and benchmarks in one go, for a machine with a CUDA GPU, nvcc, CMake, GoogleTest
# (optional) and PyTorch/torchvision/OpenCV for the anchors:  bash bench/gpu/run.sh INPUTS OUTDIR
#   INPUTS: frame1.bgr, pred1.f32, pred2.f32, nms4500.f32, nms9000.f32, nms20000.f32 from
#   bench/gpu/make-inputs.ts.
# Builds native/ with CUDA, runs the GPU tests (kernels vs CPU references, every memory mode), then
# the benchmarks side by side, and prints the table (bench/gpu/summarize.py).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
IN="${1:?inputs directory}"
OUT="${2:?output directory}"
ARCH="${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d .)}"
BUILD="${BUILD_DIR:-$(mktemp -d)}"
mkdir -p "$OUT"
status=0
cmake -S "$ROOT/native" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DJETBENCH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" ${GTEST_SOURCE:+-DJETBENCH_GTEST_SOURCE=$GTEST_SOURCE} >"$OUT/cmake.log" 2>&1 || { cat "$OUT/cmake.log"; exit 1; }
grep "jetbench native:" "$OUT/cmake.log"
# BENCH_ONLY=1: the benchmarks alone (bench/gpu/all.sh), without building or running the tests.
cmake --build "$BUILD" -j"$(nproc)" ${BENCH_ONLY:+--target jetbench_gpu_bench} >"$OUT/build.log" 2>&1 || { tail -n 40 "$OUT/build.log"; exit 1; }
if [[ "${BENCH_ONLY:-}" == 1 ]]; then
  echo "GPU tests not run here (BENCH_ONLY=1: npm run test:gpu runs them)"
elif [[ -x "$BUILD/jetbench_gpu_tests" ]]; then
  "$BUILD/jetbench_tests" --gtest_brief=1 2>&1 | tail -n 3
  "$BUILD/jetbench_gpu_tests" 2>&1 | tee "$OUT/gpu-tests.log" | grep -E "^\[ *(OK|FAILED|PASSED) *\]|Failure|error" || status=1
  grep -q "PASSED" "$OUT/gpu-tests.log" || status=1
else
  echo "SKIPPED: GPU tests (GoogleTest not found: install libgtest-dev or set GTEST_SOURCE to its sources)"
fi
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
"$BUILD/jetbench_gpu_bench" preprocess "$IN/frame1.bgr" 1920 1080 500 >>"$RESULTS" || status=1
python3 "$ROOT/bench/gpu/anchors.py" preprocess "$IN/frame1.bgr" 1920 1080 500 >>"$RESULTS" || status=1
# yolov5s's real output (~450 candidates), then the synthetic 4,500 / 9,000 / 20,000 candidates.
for name in pred1 pred2 nms4500 nms9000 nms20000; do
  [[ -f "$IN/$name.f32" ]] || { echo "missing $IN/$name.f32 (bench/gpu/make-inputs.ts writes it)"; status=1; continue; }
  "$BUILD/jetbench_gpu_bench" nms "$IN/$name.f32" 25200 85 500 "$OUT/ours-$name.det" >>"$RESULTS" || status=1
  python3 "$ROOT/bench/gpu/anchors.py" nms "$IN/$name.f32" 25200 85 500 "$OUT/ours-$name.det" >>"$RESULTS" || status=1
done
"$BUILD/jetbench_gpu_bench" pipeline "$IN/frame1.bgr" 1920 1080 "$IN/pred1.f32" 300 >>"$RESULTS" || status=1
python3 "$ROOT/bench/gpu/summarize.py" "$RESULTS" | tee "$OUT/summary.txt"
exit $status
