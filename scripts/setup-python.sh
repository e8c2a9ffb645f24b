#!/usr/bin/env bash
# The Python packages the tests use (requirements-test.txt: the ONNX checker, TVM, PyTorch) in a virtual
# environment under the clone, .venv/, so nothing is installed into the system's or the user's
# Python. The test scripts put .venv/bin first on PATH (scripts/venv-run.sh); to run TVM yourself
# from it: `jetbench bench --backend tvm --python .venv/bin/python3` or
# `export JETBENCH_PYTHON=$PWD/.venv/bin/python3`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x .venv/bin/python3 ]]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    # Debian's python3 ships venv separately (python3-venv); without it `python3 -m venv` fails.
    rm -rf .venv
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv .venv
    else
      echo "setup-python: 'python3 -m venv' failed: install Python's venv module (e.g. sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi
.venv/bin/python3 -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
.venv/bin/python3 -c 'import onnx, tvm, torch, onnx2torch; print(f"setup-python: .venv has onnx {onnx.__version__}, tvm {tvm.__version__}, torch {torch.__version__}")'
