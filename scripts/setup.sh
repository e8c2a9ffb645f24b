#!/usr/bin/env bash
# Installs everything jetbench needs on a fresh machine and builds the bundles.
#   scripts/setup.sh          npm packages + build
#   scripts/setup.sh --test   also what the tests use: Python packages (onnx checker, TVM, PyTorch) in .venv/
#                             (scripts/setup-python.sh), sshd and
#                             the SSH suites' test user (scripts/setup-ssh.sh), the VS Code suites'
#                             tools (scripts/setup-vscode.sh: Chromium, code-server, Node 24), and
#                             the native toolchain and addon (scripts/setup-native.sh), and the
#                             emulated aarch64 device (scripts/setup-aarch64.sh: QEMU, an arm64 rootfs)
set -euo pipefail
cd "$(dirname "$0")/.."
# onnxruntime-node's install script would download CUDA provider files; the CPU build ships in
# the package itself, so it is never needed.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund --loglevel=error
if [[ "${1:-}" == "--test" ]]; then
  # The emulated aarch64 device: its root filesystem takes minutes (package scripts under QEMU),
  # so it is built in the background while the rest of the set-up runs; its log is shown after.
  bash scripts/setup-aarch64.sh tools
  mkdir -p test-output
  bash scripts/setup-aarch64.sh rootfs > test-output/setup-aarch64.log 2>&1 &
  aarch64_pid=$!
  bash scripts/setup-python.sh
  # The SSH suites: OpenSSH's sshd and a dedicated non-root test user.
  bash scripts/setup-ssh.sh
  bash scripts/setup-vscode.sh
fi
npm run --silent build
if [[ "${1:-}" == "--test" ]]; then
  bash scripts/setup-native.sh
  if ! wait "$aarch64_pid"; then
    cat test-output/setup-aarch64.log >&2
    echo "setup: the emulated aarch64 device could not be built (log above)" >&2
    exit 1
  fi
  cat test-output/setup-aarch64.log
fi
