#!/usr/bin/env bash
# Issue 15's acceptance in one run on a machine with a CUDA GPU, side by side in one table
# (bench/gpu/table.py): yolov5s through the whole agent with PyTorch on the GPU in fp32/fp16/bf16,
# eager vs CUDA graphs (and torch.compile in fp32), each verified against ONNX Runtime on the CPU;
# `jetbench pipeline` conventional vs zero-copy with PyTorch inference in the pipeline's device
# buffers; decode + NMS ours vs torchvision at ~450/4,500/9,000/20,000 candidates; letterbox vs the
# memory floor. Needs what bench/gpu/run.sh and bench/gpu/agent.sh need (node, dist/, a CUDA torch
# with torchvision and onnx2torch).
#   bash bench/gpu/all.sh INPUTS OUT [MODEL]   (INPUTS: frame1.bgr, pred1.f32, pred2.f32; the nms*.f32
#   are written here with make-nms-inputs when missing)
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
IN="${1:?inputs directory}"
OUT="${2:?output directory}"
MODEL="${3:-yolov5s}"
ITER="${ITERATIONS:-300}"
FRAMES="${FRAMES:-200}"
ARCH="${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d .)}"
mkdir -p "$OUT/kernels" "$OUT/runs"
started=$(date +%s)
stamp() { echo "   [$(( $(date +%s) - started )) s] $*"; }
if [[ ! -f "$IN/nms20000.f32" ]]; then
  if [[ -f "${NMS_INPUTS_JS:-}" ]]; then node "$NMS_INPUTS_JS" "$IN"; else npx tsx bench/gpu/make-nms-inputs.ts "$IN"; fi
fi
echo "== kernels: letterbox and decode + NMS (bench/gpu/run.sh, benchmarks only)"
BENCH_ONLY=1 bash bench/gpu/run.sh "$IN" "$OUT/kernels" >"$OUT/kernels/run.log" 2>&1
stamp "exit $?"
bench() {
  local name="$1"
  shift
  node dist/cli.js bench --model "$MODEL" --warmup 50 --iterations "$ITER" --verify --label "$name" --out "$OUT/runs/$name.json" "$@" >"$OUT/runs/$name.out" 2>"$OUT/runs/$name.err"
  local rc=$?
  stamp "$name: exit $rc $(grep -h -m1 'Median' "$OUT/runs/$name.out" | tr -s ' ') $(grep -v '^next:\|^  ' "$OUT/runs/$name.err" | grep -i 'error\|failed\|jetbench bench:' | tail -n 1)"
}
echo "== yolov5s with PyTorch on the GPU, through the agent"
for prec in fp32 fp16 bf16; do
  bench "torch-$prec-eager" --backend pytorch --torch-device cuda --precision "$prec"
  bench "torch-$prec-graph" --backend pytorch --torch-device cuda --precision "$prec" --torch-mode cuda-graph
done
bench torch-fp32-compile --backend pytorch --torch-device cuda --torch-mode compile
echo "== native addon with CUDA and libtorch, then the pipeline with PyTorch inference"
node dist/agent.js build-native --cuda-arch "$ARCH" >"$OUT/runs/build-native.log" 2>&1
stamp "build-native exit $?: $(tail -n 1 "$OUT/runs/build-native.log")"
for mode in conventional zerocopy; do
  node dist/cli.js pipeline --backend pytorch --precision fp32 --model "$MODEL" --mode "$mode" --frames "$FRAMES" --warmup 10 --label "pipeline-torch-fp32-$mode" --out "$OUT/runs/pipeline-$mode.json" >"$OUT/runs/pipeline-$mode.out" 2>"$OUT/runs/pipeline-$mode.err"
  stamp "pipeline $mode: exit $? $(tail -n 1 "$OUT/runs/pipeline-$mode.err")"
done
python3 bench/gpu/table.py "$OUT" | tee "$OUT/table.md"
