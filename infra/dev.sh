#!/usr/bin/env bash
# `just dev`: PostgreSQL + TimescaleDB, Redis, migrations, then the API with reload, in the foreground.
# Ctrl-C (or any exit) stops what this script started; servers that were already running are left alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

started_infra=0
if ! infra/local.sh status | grep -q "postgres: running" || ! infra/local.sh status | grep -q "redis: running"; then
  started_infra=1
fi
infra/local.sh start >/dev/null

children=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$started_infra" = 1 ]; then infra/local.sh stop; fi
}
trap cleanup EXIT INT TERM

uv run python -m server_fastapi migrate

cat <<BANNER

  Tessera is starting at http://127.0.0.1:${TESSERA_PORT:-8000}
    API docs   http://127.0.0.1:${TESSERA_PORT:-8000}/docs
    readiness  http://127.0.0.1:${TESSERA_PORT:-8000}/readyz
    metrics    http://127.0.0.1:${TESSERA_PORT:-8000}/metrics
  Ctrl-C stops it.

BANNER

uv run python -m server_fastapi dev &
children+=($!)
wait -n "${children[@]}"
