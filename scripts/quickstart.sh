#!/usr/bin/env bash
# Sets up a fresh clone and runs the main job: a benchmark of the built-in YOLOv5s on the local
# device with ONNX Runtime. Extra arguments go to `jetbench bench` (e.g. --iterations 200).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/cli.js bench --device local --model yolov5s --backend onnxruntime --precision fp32 --warmup 20 --iterations 100 "$@"
