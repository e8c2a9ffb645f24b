#!/usr/bin/env bash
# Sets up a fresh clone and runs every test suite: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
npm test
