#!/usr/bin/env bash
# Installs everything jetbench needs on a fresh machine and builds the bundles.
#   scripts/setup.sh          npm packages + build
#   scripts/setup.sh --test   also the Python packages the tests use (onnx checker), and the VS Code
#                             suites' tools (scripts/setup-vscode.sh: Chromium, code-server, Node 24)
set -euo pipefail
cd "$(dirname "$0")/.."
# onnxruntime-node's install script would download CUDA provider files; the CPU build ships in
# the package itself, so it is never needed.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund --loglevel=error
if [[ "${1:-}" == "--test" ]]; then
  python3 -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
  bash scripts/setup-vscode.sh
fi
npm run --silent build
