#!/usr/bin/env bash
# Issue 16 on a machine with a CUDA GPU: nanodet-g with PyTorch on the GPU in fp32/fp16/bf16,
# interleaved, each with its fidelity against ONNX Runtime's fp32 on the same real frames and its
# energy per inference from NVML; then the adaptive-precision comparison fp32 <-> fp16 and
# fp32 <-> bf16 (energy per frame from those runs); then a CUDA-graph run's fidelity (frames
# copied into the captured inputs). Needs node, dist/, onnxruntime-node, a CUDA torch with
# onnx2torch, and nanodet-g in $JETBENCH_CACHE_DIR (the machine may have no internet).
#   bash bench/gpu/accuracy.sh FRAMES OUT   (FRAMES: a directory of images, or a video if ffmpeg is there)
#   PARTS="table adaptive graph" (the default) picks the parts to run.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
FRAMES="${1:?frames: a directory of images or a video}"
OUT="${2:?output directory}"
N="${FRAME_COUNT:-100}"
mkdir -p "$OUT/runs"
started=$(date +%s)
stamp() { echo "   [$(( $(date +%s) - started )) s] $*"; }
torch=(--backend pytorch --torch-device cuda)
PARTS="${PARTS:-table adaptive graph}"
if [[ " $PARTS " == *" table "* ]]; then
echo "== nanodet-g, PyTorch on the GPU: fp32 / fp16 / bf16 interleaved, with --fidelity $N"
node dist/cli.js bench --model nanodet-g "${torch[@]}" --vs '--precision fp16' --vs '--precision bf16' \
  --warmup 50 --iterations 300 --fidelity "$N" --fidelity-source "$FRAMES" --out "$OUT/runs/" >"$OUT/table.out" 2>"$OUT/table.err"
stamp "table: exit $?"
sed -n '/^Run  /,/^$/p' "$OUT/table.out"
grep '^Fidelity' "$OUT/table.out"
fi
if [[ " $PARTS " == *" adaptive "* ]]; then
for low in fp16 bf16; do
  echo "== adaptive fp32 <-> $low"
  node dist/cli.js adaptive --model nanodet-g "${torch[@]}" --high fp32 --low "$low" --frames "$N" --source "$FRAMES" \
    --iterations 300 --out "$OUT/adaptive-$low.json" >"$OUT/adaptive-$low.out" 2>"$OUT/adaptive-$low.err"
  stamp "adaptive $low: exit $?"
  cat "$OUT/adaptive-$low.out"
  grep -v 'frame [0-9]*/\|iterations' "$OUT/adaptive-$low.err" | tail -n 3
done
fi
if [[ " $PARTS " == *" graph "* ]]; then
echo "== fp16 in a CUDA graph: frames copied into the captured inputs"
node dist/cli.js bench --model nanodet-g "${torch[@]}" --torch-mode cuda-graph --precision fp16 --iterations 100 \
  --fidelity 20 --fidelity-source "$FRAMES" --out "$OUT/runs/graph-fp16.json" >"$OUT/graph.out" 2>"$OUT/graph.err"
stamp "cuda-graph fp16: exit $?"
grep -A1 '^Fidelity\|^Model' "$OUT/graph.out"
tail -n 3 "$OUT/graph.err"
fi
