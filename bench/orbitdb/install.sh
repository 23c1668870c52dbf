#!/usr/bin/env bash
# Installs the OrbitDB baseline into bench/orbitdb/node_modules (never into the project root).
# --ignore-scripts: no install step may download anything (this machine reaches only registries).
set -euo pipefail
cd "$(dirname "$0")"
if [ -f node_modules/@orbitdb/core/package.json ] && [ "${1:-}" != "--force" ]; then
  echo "bench/orbitdb: already installed"
  exit 0
fi
npm install --ignore-scripts --no-audit --no-fund --loglevel=error
echo "bench/orbitdb: installed"
