#!/usr/bin/env bash
# Tessera's own local infrastructure: a PostgreSQL 15 cluster with TimescaleDB preloaded and a Redis
# server, both on loopback, with their state under the git-ignored .state/ folder.
#
#   infra/local.sh install   install the Debian packages and build TimescaleDB when it is missing
#   infra/local.sh start     install if needed, then start both servers (idempotent)
#   infra/local.sh stop      stop both servers
#   infra/local.sh status    say what runs
#   infra/local.sh reset     stop, delete the state, start afresh
#   infra/local.sh pg-stop | pg-start   stop or start PostgreSQL alone (used by tests)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${TESSERA_STATE_DIR:-$ROOT/.state}"
PG_PORT="${TESSERA_PG_PORT:-55432}"
REDIS_PORT="${TESSERA_REDIS_PORT:-56379}"
PG_USER=tessera
PG_PASSWORD=tessera
PG_DB=tessera
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
PGDATA="$STATE/postgres"
REDIS_DIR="$STATE/redis"
TIMESCALEDB_VERSION=2.19.3

log() { printf '\033[1;34m[infra]\033[0m %s\n' "$*" >&2; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

timescaledb_installed() {
  [ -f "/usr/share/postgresql/$PG_VERSION/extension/timescaledb--$TIMESCALEDB_VERSION.sql" ]
}

# Debian bookworm ships no TimescaleDB; trixie's source package builds against bookworm's server headers.
# A private apt configuration fetches it without touching the machine's own package lists.
build_timescaledb() {
  timescaledb_installed && return 0
  apt_install postgresql-server-dev-$PG_VERSION build-essential cmake dpkg-dev libssl-dev libkrb5-dev
  local work; work="$(mktemp -d /tmp/tessera-timescaledb.XXXXXX)"
  log "building TimescaleDB $TIMESCALEDB_VERSION from Debian trixie's source package in $work"
  mkdir -p "$work/lists/partial" "$work/etc"
  echo "deb-src http://deb.debian.org/debian trixie main" >"$work/etc/sources.list"
  local apt_opts=(-o "Dir::Etc::sourcelist=$work/etc/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$work/lists" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work" && apt-get "${apt_opts[@]}" source --download-only -qq timescaledb >/dev/null \
    && dpkg-source --no-check -x timescaledb_*.dsc src >/dev/null)
  (cd "$work/src" && ./bootstrap -DAPACHE_ONLY=ON -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
      -DPG_CONFIG="$PG_BIN/pg_config" >/dev/null \
    && cd build && make -j"$(nproc)" >/dev/null && make install >/dev/null)
  rm -rf "$work"
  timescaledb_installed || { log "TimescaleDB build did not install"; exit 1; }
  log "TimescaleDB $TIMESCALEDB_VERSION installed"
}

install_infra() {
  apt_install postgresql-$PG_VERSION postgresql-contrib redis-server chromium fonts-dejavu-core
  build_timescaledb
}

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }
redis_running() { redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; }

init_postgres() {
  [ -f "$PGDATA/PG_VERSION" ] && return 0
  log "creating the PostgreSQL cluster in $PGDATA"
  mkdir -p "$STATE"
  install -d -o postgres -g postgres -m 700 "$PGDATA"
  local pwfile; pwfile="$(mktemp)"; echo "$PG_PASSWORD" >"$pwfile"; chown postgres "$pwfile"
  as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U "$PG_USER" --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDATA'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
max_connections = 300
shared_buffers = 256MB
fsync = on
logging_collector = off
CONF
}

start_postgres() {
  init_postgres
  if pg_running; then return 0; fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 start >/dev/null
  if ! PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1; then
    PGPASSWORD=$PG_PASSWORD "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
  fi
}

stop_postgres() {
  pg_running || return 0
  log "stopping PostgreSQL"
  as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
}

start_redis() {
  redis_running && return 0
  mkdir -p "$REDIS_DIR"
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" --daemonize yes \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do redis_running && return 0; sleep 0.1; done
  log "Redis did not start; see $REDIS_DIR/redis.log"; exit 1
}

stop_redis() {
  redis_running || return 0
  log "stopping Redis"
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

status() {
  if pg_running; then echo "postgres: running on 127.0.0.1:$PG_PORT"; else echo "postgres: stopped"; fi
  if redis_running; then echo "redis: running on 127.0.0.1:$REDIS_PORT"; else echo "redis: stopped"; fi
}

case "${1:-}" in
  install) install_infra ;;
  start) install_infra; start_postgres; start_redis; status ;;
  stop) stop_postgres; stop_redis ;;
  status) status ;;
  reset) stop_postgres; stop_redis; rm -rf "$PGDATA" "$REDIS_DIR"; install_infra; start_postgres; start_redis; status ;;
  pg-stop) stop_postgres ;;
  pg-start) start_postgres ;;
  env)
    echo "DATABASE_URL=postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
    echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" ;;
  *) echo "usage: $0 install|start|stop|status|reset|pg-stop|pg-start|env" >&2; exit 2 ;;
esac
