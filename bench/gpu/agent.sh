#!/usr/bin/env bash
# The whole agent on a machine with a CUDA GPU (issue 15 item 3), from a carried Node and the built
# bundle (dist/): the pytorch backend's runs (bench/gpu/torch.sh: fp32/fp16/bf16, eager and CUDA
# graphs, both sample spans, trials, ONNX Runtime on the CPU for reference), then the native addon
# built there with CUDA (and libtorch, from the Python's torch) and `jetbench pipeline` in both
# modes, its inference by ONNX Runtime on the CPU and by PyTorch on the GPU in the pipeline's device
# buffers (fp32, fp16). PIPELINE_ONLY=1 skips the bench runs; SOURCE=DIR|VIDEO gives the pipeline
# real frames (8 of them, cycled) instead of synthetic scenes (e.g. nanodet-g on vtest's frames). Every run file lands in OUT_DIR;
# bring them back and check them against the schema with
#   node --import tsx bench/gpu/checkRuns.ts OUT_DIR
#   bash bench/gpu/agent.sh [MODEL] [OUT_DIR]
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
MODEL="${1:-yolov5s}"
OUT="${2:-$(mktemp -d)}"
mkdir -p "$OUT"
[[ "${PIPELINE_ONLY:-0}" == 1 ]] || bash bench/gpu/torch.sh "$MODEL" "$OUT"
ARCH="${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d .)}"
echo "== native addon with CUDA (sm_$ARCH)"
node dist/agent.js build-native --cuda-arch "$ARCH" >"$OUT/build-native.log" 2>&1
echo "   exit $?: $(grep -h 'jetbench native:' "$OUT/build-native.log" "$(ls -d ~/.cache/jetbench/native/*/ 2>/dev/null | head -n1)build.log" 2>/dev/null | tail -n 1)"; tail -n 2 "$OUT/build-native.log"
for mode in conventional zerocopy; do
  echo "== pipeline $mode: jetbench pipeline --model $MODEL --mode $mode --frames ${FRAMES:-200}"
  node dist/cli.js pipeline --model "$MODEL" --mode "$mode" --frames "${FRAMES:-200}" --warmup 10 ${SOURCE:+--source "$SOURCE" --frame-count 8} --label "pipeline-$mode" --out "$OUT/pipeline-$mode.json" 2>"$OUT/pipeline-$mode.err" | grep -E "^(Pipeline|Stage|preprocess|inference|postprocess|upload|download|non-inference|end to end|Detections)"
  echo "   exit ${PIPESTATUS[0]}; stderr: $(tail -n 1 "$OUT/pipeline-$mode.err")"
done
for prec in fp32 fp16; do
  for mode in conventional zerocopy; do
    name="pipeline-torch-$prec-$mode"
    echo "== $name: jetbench pipeline --backend pytorch --precision $prec --model $MODEL --mode $mode --frames ${FRAMES:-200}"
    node dist/cli.js pipeline --backend pytorch --precision "$prec" --model "$MODEL" --mode "$mode" --frames "${FRAMES:-200}" --warmup 10 ${SOURCE:+--source "$SOURCE" --frame-count 8} --label "$name" --out "$OUT/$name.json" 2>"$OUT/$name.err" | grep -E "^(Pipeline|Stage|preprocess|inference|postprocess|upload|download|non-inference|end to end|Detections|Inference)"
    echo "   exit ${PIPESTATUS[0]}; stderr: $(tail -n 2 "$OUT/$name.err" | tr '\n' ' ')"
  done
done
