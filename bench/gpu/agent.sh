#!/usr/bin/env bash
# The whole agent on a machine with a CUDA GPU (issue 15 item 3), from a carried Node and the built
# bundle (dist/): the pytorch backend's runs (bench/gpu/torch.sh: fp32/fp16/bf16, eager and CUDA
# graphs, both sample spans, trials, ONNX Runtime on the CPU for reference), then the native addon
# built there with CUDA and `jetbench pipeline` in both modes. Every run file lands in OUT_DIR;
# bring them back and check them against the schema with
#   node --import tsx bench/gpu/checkRuns.ts OUT_DIR
#   bash bench/gpu/agent.sh [MODEL] [OUT_DIR]
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
MODEL="${1:-yolov5s}"
OUT="${2:-$(mktemp -d)}"
mkdir -p "$OUT"
bash bench/gpu/torch.sh "$MODEL" "$OUT"
ARCH="${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d .)}"
echo "== native addon with CUDA (sm_$ARCH)"
node dist/agent.js build-native --cuda-arch "$ARCH" 2>&1 | tail -n 1
for mode in conventional zerocopy; do
  echo "== pipeline $mode: jetbench pipeline --model $MODEL --mode $mode --frames ${FRAMES:-200}"
  node dist/cli.js pipeline --model "$MODEL" --mode "$mode" --frames "${FRAMES:-200}" --warmup 10 --label "pipeline-$mode" --out "$OUT/pipeline-$mode.json" 2>"$OUT/pipeline-$mode.err" | grep -E "^(Pipeline|Stage|preprocess|inference|postprocess|upload|download|non-inference|end to end|Detections)"
  echo "   exit ${PIPESTATUS[0]}; stderr: $(tail -n 1 "$OUT/pipeline-$mode.err")"
done
