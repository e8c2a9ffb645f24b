#!/usr/bin/env bash
# The pytorch backend on a CUDA GPU through the whole agent (issue 15): `jetbench bench --backend
# pytorch` on the GPU, fp32 (TF32 off and on), fp16, bf16, both sample spans, CUDA graphs, 3 trials,
# each verified against ONNX Runtime on the CPU, with the agent's NVML telemetry; ONNX Runtime on
# the CPU as the baseline; then `jetbench compare` of them all. Needs node, the built bundle (dist/)
# and a Python with torch (CUDA) and onnx2torch ($JETBENCH_PYTHON or python3).
#   bash bench/gpu/torch.sh [MODEL] [OUT_DIR]
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
MODEL="${1:-yolov5s}"
OUT="${2:-$(mktemp -d)}"
mkdir -p "$OUT"
ITER="${ITERATIONS:-300}"
run() {
  local name="$1"
  shift
  echo "== $name: jetbench bench --model $MODEL $*"
  node dist/cli.js bench --model "$MODEL" --warmup 50 --iterations "$ITER" --label "$name" --out "$OUT/$name.json" "$@" 2>"$OUT/$name.err" | grep -E "^(Median|P99|Mean|Std|Energy|Power|Verification|Verdict|Latency =|Trial medians|FAILED|  (caution|unreliable))"
  echo "   exit ${PIPESTATUS[0]}; stderr: $(grep -v '^next:\|^  jetbench\|^  in VS Code' "$OUT/$name.err" | tail -n 2 | tr '\n' ' ')"
}
run torch-fp32 --backend pytorch --verify
run torch-fp32-tf32 --backend pytorch --tf32 --verify
run torch-fp16 --backend pytorch --precision fp16 --verify
run torch-bf16 --backend pytorch --precision bf16 --verify
run torch-fp32-host --backend pytorch --torch-span host --verify
run torch-fp32-graph --backend pytorch --torch-mode cuda-graph --verify
run torch-fp16-graph --backend pytorch --torch-mode cuda-graph --precision fp16 --verify
run torch-bf16-graph --backend pytorch --torch-mode cuda-graph --precision bf16 --verify
run torch-fp32-trials --backend pytorch --trials 3
run ort-cpu --backend onnxruntime
echo "== compare"
files=()
for f in "$OUT"/*.json; do files+=("$f"); done
node dist/cli.js compare "${files[@]}" --baseline "$OUT/torch-fp32.json"
