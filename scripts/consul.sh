#!/usr/bin/env bash
# Finds a Consul binary for vtdirect's tests and prints its path on stdout (progress goes to
# stderr). In order:
#   1. $VTDIRECT_CONSUL_BIN, when set (it must be an executable file);
#   2. a `consul` on PATH;
#   3. the cached build in ${XDG_CACHE_HOME:-$HOME/.cache}/vtdirect/consul-$VERSION/consul;
#   4. otherwise it builds Consul $VERSION from the Go module proxy into that cache (a few
#      minutes on 2 cores, once).
# Debian has no Consul package, hence the build. The sum database lacks entries for some of
# Consul's HashiCorp dependencies, so the throw-away build module (and only it) sets GONOSUMDB.
set -euo pipefail

VERSION="${VTDIRECT_CONSUL_VERSION:-1.20.6}"
GO="${GO:-go}"

if [ -n "${VTDIRECT_CONSUL_BIN:-}" ]; then
  if [ ! -x "$VTDIRECT_CONSUL_BIN" ]; then
    echo "consul.sh: VTDIRECT_CONSUL_BIN=$VTDIRECT_CONSUL_BIN is not an executable file" >&2
    exit 1
  fi
  echo "$VTDIRECT_CONSUL_BIN"
  exit 0
fi
if onpath="$(command -v consul 2>/dev/null)"; then
  echo "$onpath"
  exit 0
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/vtdirect/consul-$VERSION"
bin="$cache/consul"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$cache"
# One build at a time: test packages that need Consul at once (go test ./... runs them in
# parallel) wait here for the first one's build instead of building over each other.
exec 9>"$cache/.build.lock"
if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
  echo "consul.sh: another process is building Consul; waiting for $cache/.build.lock..." >&2
  flock 9
fi
if [ -x "$bin" ]; then # another process built it while we waited
  echo "$bin"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "consul.sh: building Consul v$VERSION into $bin (once; a few minutes on 2 cores)..." >&2
cd "$work"
cat >go.mod <<EOF
module vtdirect.local/consulbuild

go 1.22

require github.com/hashicorp/consul v$VERSION
EOF
# The blank import keeps `go mod` honest about what the build needs.
cat >tools.go <<'EOF'
//go:build tools

package consulbuild

import _ "github.com/hashicorp/consul"
EOF
export GONOSUMDB='github.com/hashicorp/*'
export GOFLAGS=-mod=mod
# GOTOOLCHAIN=local: use the Go that is installed, never download another.
export GOTOOLCHAIN=local
echo "consul.sh: resolving modules (go get)..." >&2
"$GO" get "github.com/hashicorp/consul@v$VERSION" >&2
echo "consul.sh: compiling (a line every 50 packages)..." >&2
# -v prints each package as it is compiled: the progress on a slow machine.
if ! "$GO" build -v -trimpath -o "$bin.tmp" github.com/hashicorp/consul 2>&1 |
  tee "$work/build.log" |
  awk '{ n++; if (n % 50 == 0) { printf "consul.sh:   %d packages (%s)\n", n, $0; fflush() } }' >&2; then
  echo "consul.sh: the build failed; its last lines:" >&2
  tail -n 30 "$work/build.log" >&2
  exit 1
fi
if [ ! -x "$bin.tmp" ]; then
  echo "consul.sh: the build did not produce $bin.tmp" >&2
  exit 1
fi
mv "$bin.tmp" "$bin"
echo "consul.sh: built $("$bin" version | head -1) at $bin" >&2
echo "$bin"
