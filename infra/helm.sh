#!/usr/bin/env bash
# Installs the Helm CLI once and prints the path of its binary on standard output.
#
# Helm is built from its own Go module (helm.sh/helm/v4), fetched through the Go module proxy, with the
# version stamped in as the official release build does. The binary is cached outside the checkout, so a
# second run returns at once:
#   ${TESSERA_TOOLS_DIR:-~/.cache/tessera/tools}/helm-<version>/helm
#
#   infra/helm.sh                 install if needed, print the path
#   HELM_VERSION=v4.3.1 infra/helm.sh
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v4.3.1}"
TOOLS_DIR="${TESSERA_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera/tools}"
DEST_DIR="$TOOLS_DIR/helm-$HELM_VERSION"
HELM_BIN="$DEST_DIR/helm"
MAJOR="${HELM_VERSION%%.*}"

log() { printf '\033[1;34m[helm]\033[0m %s\n' "$*" >&2; }

installed() { [ -x "$HELM_BIN" ] && "$HELM_BIN" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; }

if installed; then
  echo "$HELM_BIN"
  exit 0
fi

GO="$(command -v go || true)"
[ -n "$GO" ] || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; }
if [ -z "$GO" ]; then
  log "the Go toolchain is needed to build Helm (https://go.dev/doc/install, or your OS package)"
  exit 1
fi

mkdir -p "$DEST_DIR"
# One build at a time, however many test runs ask for it.
exec 9>"$DEST_DIR.lock"
if command -v flock >/dev/null; then flock 9; fi
if installed; then
  echo "$HELM_BIN"
  exit 0
fi

log "building Helm $HELM_VERSION from its Go module (once; a few minutes on 2 cores)"
start=$SECONDS
staging="$(mktemp -d "$DEST_DIR.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
GOBIN="$staging" CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" "$GO" install \
  -ldflags "-s -w -X helm.sh/helm/$MAJOR/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/$MAJOR/cmd/helm@$HELM_VERSION" >&2
mv -f "$staging/helm" "$HELM_BIN"
installed || { log "built $HELM_BIN but it does not report version $HELM_VERSION"; exit 1; }
log "Helm $HELM_VERSION installed in $((SECONDS - start)) s"
echo "$HELM_BIN"
