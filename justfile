# Tessera's task recipes. `./tessera <recipe>` runs them on a fresh machine; `just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]
set dotenv-load := false

export PATH := env_var('HOME') + "/.local/bin:" + env_var('HOME') + "/.cargo/bin:" + env_var('PATH')
# Build products live outside the checkout so a fresh clone (CI) reuses them.
export CARGO_TARGET_DIR := env_var_or_default('CARGO_TARGET_DIR', env_var('HOME') + "/.cache/tessera/cargo-target")

# List the recipes
default:
    @just --list

# Install everything Tessera needs: Debian packages, TimescaleDB, Python, npm and Rust deps; build the web app
setup: infra-install py-deps node-deps signer-build web-build

# Install the Debian packages and build TimescaleDB when missing
infra-install:
    infra/local.sh install

# Install the Python dependencies from uv.lock
py-deps:
    uv sync --frozen

# Install the npm workspaces from package-lock.json
node-deps:
    npm ci --no-audit --no-fund --loglevel=error

# Build the web app into frontend/dist (the API serves it)
web-build:
    npm run web:build

# Build the signer binary
signer-build:
    cargo build --locked -p signer

# Start PostgreSQL + TimescaleDB and Redis (idempotent); also: stop, status, reset
infra action="start":
    infra/local.sh {{action}}

# Apply database migrations up to head
migrate: (infra "start")
    uv run python -m server_fastapi migrate

# Run Tessera in the foreground (API with reload at http://127.0.0.1:8000); Ctrl-C stops what it started
dev: setup
    infra/dev.sh

# Write server_fastapi/openapi.json from the code
openapi:
    uv run python -m server_fastapi openapi

# Lint and type-check everything
lint: py-deps
    uv run ruff check .
    uv run ruff format --check .
    uv run mypy
    cargo fmt --all -- --check
    cargo clippy --locked --all-targets -- -D warnings

# Run every test (installs what it needs first)
test: setup helm (infra "start") lint
    npm run web:check
    npm run e2e
    npm run mobile:check
    npm run mobile:e2e
    cargo test --locked --all-targets
    uv run pytest

# Install the pinned helm binary (built from its Go module)
helm:
    infra/helm.sh >/dev/null

# Run the benchmarks; each prints JSON (never part of `just test`)
bench: setup (infra "start")
    uv run python tests/bench/bench_bus.py
    uv run python tests/bench/bench_engine.py
    uv run python tests/bench/bench_sentinel.py
    uv run python tests/bench/bench_signer.py
    uv run python tests/bench/bench_ingest.py
    uv run python tests/bench/bench_candles.py
    uv run python tests/bench/bench_ws_fanout.py
    uv run python tests/bench/bench_orders_http.py
