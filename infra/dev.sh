#!/usr/bin/env bash
# `just dev`: PostgreSQL + TimescaleDB, Redis, migrations, demo accounts, then the API with reload and the
# market-maker bot, in the foreground.
# Ctrl-C (or any exit) stops what this script started; servers that were already running are left alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

started_infra=0
if ! infra/local.sh status | grep -q "postgres: running" || ! infra/local.sh status | grep -q "redis: running"; then
  started_infra=1
fi
infra/local.sh start >/dev/null
# Point the API at this project's servers unless the caller chose others.
while IFS='=' read -r name value; do
  [ -n "${!name:-}" ] || export "$name=$value"
done < <(infra/local.sh env)

# The demo market maker quotes both sides all day: exempt its accounts from round-trip alerts.
export SENTINEL_MARKET_MAKER_EMAILS="${SENTINEL_MARKET_MAKER_EMAILS:-market-maker@demo.tessera.test,market-maker+taker@demo.tessera.test}"

children=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${children[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Give Granian a few seconds to drain, then make sure nothing outlives us.
  for _ in $(seq 100); do
    alive=0
    for pid in "${children[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${children[@]}"; do pkill -KILL -P "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; done
  if [ "$started_infra" = 1 ]; then infra/local.sh stop; fi
}
trap cleanup EXIT INT TERM

"$ROOT/.venv/bin/python" -m server_fastapi migrate
"$ROOT/.venv/bin/python" -m server_fastapi.auth.demo

cat <<BANNER

  Tessera is starting at http://127.0.0.1:${TESSERA_PORT:-8000}
    API docs   http://127.0.0.1:${TESSERA_PORT:-8000}/docs
    readiness  http://127.0.0.1:${TESSERA_PORT:-8000}/readyz
    metrics    http://127.0.0.1:${TESSERA_PORT:-8000}/metrics
  Ctrl-C stops it.

BANNER

# The signer holds the dev hot wallet (key id `hot`, Sepolia only), made once in the state folder, so approved
# withdrawals get signed; with no EVM_RPC_URL they stop at `signed`.
signer_dir="${TESSERA_STATE_DIR:-$ROOT/.state}/signer"
export SIGNER_URL="${SIGNER_URL:-unix://$signer_dir/signer.sock}" SIGNER_TOKEN_FILE="${SIGNER_TOKEN_FILE:-$signer_dir/token}"
signer_bin="${CARGO_TARGET_DIR:-$HOME/.cache/tessera/cargo-target}/debug/signer"
mkdir -p "$signer_dir" && chmod 700 "$signer_dir"
(
  umask 077
  [ -s "$signer_dir/password" ] || head -c 24 /dev/urandom | base64 >"$signer_dir/password"
  [ -s "$signer_dir/token" ] || head -c 32 /dev/urandom | base64 >"$signer_dir/token"
  [ -f "$signer_dir/keystore/hot.json" ] ||
    "$signer_bin" keys new --keystore-dir "$signer_dir/keystore" --id hot --password-file "$signer_dir/password" >/dev/null
  cat >"$signer_dir/policy.toml" <<'POLICY'
[keys.hot]
chain_ids = [11155111]
max_value_wei = "1000000000000000000"
max_value_per_day_wei = "5000000000000000000"
POLICY
)
"$signer_bin" serve --keystore-dir "$signer_dir/keystore" --socket "$signer_dir/signer.sock" \
  --token-file "$signer_dir/token" --policy "$signer_dir/policy.toml" --password-file "$signer_dir/password" \
  2>>"$signer_dir/signer.log" &
children+=($!)

# The venv's interpreter directly (not `uv run`), so signals reach Granian without a wrapper in between.
"$ROOT/.venv/bin/python" -m server_fastapi dev &
api_pid=$!
children+=("$api_pid")
# The market maker trades through the public API like any client, keeping every demo market moving.
"$ROOT/.venv/bin/python" -m server_fastapi market-maker &
children+=($!)
# The API's life is the session's; the bot may stop on its own (it logs why) without ending it.
wait "$api_pid"
