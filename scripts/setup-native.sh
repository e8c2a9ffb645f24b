#!/usr/bin/env bash
# Installs what the native suite needs (called by scripts/setup.sh --test; not by the quickstart:
# the agent runs ONNX Runtime and TVM without the native addon):
#   - CMake, a C++17 compiler, GoogleTest and FFmpeg (Debian packages), where missing;
#   - CUDA's nvcc with its runtime headers, from PyPI wheels into .cache/cuda-toolkit, so every .cu
#     file is compiled in CI (no GPU is needed to compile);
#   - the native addon itself, built into the test cache (node dist/agent.js build-native).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
[[ -f /usr/include/gtest/gtest.h ]] || missing+=(libgtest-dev)
# FFmpeg: the pipeline's video frame sources (--source FILE.avi/.mp4; the tests decode one).
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
# The built-in frame set vtest comes from opencv-doc by `apt-get download` (no root needed), which
# needs the package lists: fetch them where they are missing.
apt_lists_missing() { command -v apt-cache >/dev/null && ! apt-cache show opencv-doc >/dev/null 2>&1; }
if (( ${#missing[@]} )) || apt_lists_missing; then
  if [[ $(id -u) -eq 0 ]] && (( ${#missing[@]} == 0 )); then
    apt-get update -qq
  elif [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif (( ${#missing[@]} )); then
    echo "setup-native: install ${missing[*]} (e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
# CUDA 13.5's compiler (nvcc, cicc/nvvm, crt headers) and runtime/CCCL headers: ~125 MB of wheels.
TOOLKIT=.cache/cuda-toolkit
if [[ ! -x $TOOLKIT/nvidia/cu13/bin/nvcc ]]; then
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$TOOLKIT" \
    nvidia-cuda-nvcc==13.5.37 nvidia-cuda-crt==13.5.37 nvidia-nvvm==13.5.37 nvidia-cuda-runtime==13.5.37 nvidia-cuda-cccl==13.3.5.0.6
fi
"$TOOLKIT/nvidia/cu13/bin/nvcc" --version | tail -n 2 | head -n 1
JETBENCH_CACHE_DIR=test-output/cache node dist/agent.js build-native | tail -n 1
