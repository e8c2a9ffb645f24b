#!/usr/bin/env bash
# Runs a command with the clone's test Python first on PATH (scripts/setup-python.sh made it), so
# `python3` in the tests and in the agents they start is .venv's, with onnx and TVM. Without .venv
# the command runs with PATH as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -x .venv/bin/python3 ]]; then
  export PATH="$PWD/.venv/bin:$PATH"
  export VIRTUAL_ENV="$PWD/.venv"
fi
exec "$@"
