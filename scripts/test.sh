#!/usr/bin/env bash
# Sets up a fresh clone and runs every test suite: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The set-up needs ~8 GB (PyTorch's CUDA wheel alone puts 5.3 GB in .venv): say so up front, since a
# full disk otherwise shows up as a bare "No space left on device" from pip.
free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
echo "test.sh: $((free_kb / 1048576)) GiB free on $(df -P . | awk 'NR==2 {print $6}') (the set-up needs ~8 GiB on a clean clone)"
if (( free_kb < 2 * 1048576 )); then
  echo "test.sh: warning: less than 2 GiB free; the set-up will likely fail with 'No space left on device'" >&2
fi
bash scripts/setup.sh --test
npm test
