#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager v1.20.2 from Debian's `kubernetes` source
# package, once, into the cache (default ~/.cache/pipewright/kube). About five minutes on two cores.
set -euo pipefail

CACHE_DIR="${PIPEWRIGHT_CACHE:-$HOME/.cache/pipewright}"
OUT="$CACHE_DIR/kube"
# Bumped when the recipe changes, so binaries cached by an older recipe are rebuilt.
BUILD_ID="v1.20.2+reflect2-1.0.2"
if [[ -x "$OUT/kube-apiserver" && -x "$OUT/kube-controller-manager" && "$(cat "$OUT/build-id" 2>/dev/null)" == "$BUILD_ID" ]]; then
  exit 0
fi

log() { echo "[build-kube] $*" >&2; }
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"

need_pkgs=()
# golang-github-modern-go-reflect2-dev: the tree vendors reflect2 1.0.1, which Go 1.19 miscompiles
# into an API server that crashes on any JSON map (ConfigMap data, labels); 1.0.2 fixes it.
for p in golang-go rsync etcd-server dpkg-dev make golang-github-modern-go-reflect2-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]}"
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

SRC_LIST=/etc/apt/sources.list.d/pipewright-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  log "adding a deb-src entry for bookworm"
  $SUDO tee "$SRC_LIST" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  $SUDO apt-get update -qq || true
fi

WORK="$CACHE_DIR/kube-src"
mkdir -p "$WORK" "$OUT"
cd "$WORK"
if ! ls kubernetes_*.orig.tar.* >/dev/null 2>&1; then
  log "downloading the kubernetes source package"
  apt-get source --download-only kubernetes >/dev/null
fi
if [[ ! -d tree ]]; then
  log "unpacking"
  rm -rf tree.tmp && mkdir tree.tmp
  tar -xf "$(ls kubernetes_*.orig.tar.* | head -n1)" -C tree.tmp --strip-components=1
  mv tree.tmp tree
fi

REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
if [[ ! -f "$WORK/tree/vendor/github.com/modern-go/reflect2/.pipewright-1.0.2" ]]; then
  log "replacing the vendored reflect2 1.0.1 with Debian's 1.0.2 (Go 1.19 needs it)"
  rm -rf "$WORK/tree/vendor/github.com/modern-go/reflect2"
  cp -a "$REFLECT2" "$WORK/tree/vendor/github.com/modern-go/reflect2"
  rm -f "$WORK/tree/vendor/github.com/modern-go/reflect2/go.mod"
  touch "$WORK/tree/vendor/github.com/modern-go/reflect2/.pipewright-1.0.2"
  rm -rf "$WORK/tree/_output"
fi

export GOPATH="$WORK/gopath"
mkdir -p "$GOPATH/src/k8s.io"
ln -sfn "$WORK/tree" "$GOPATH/src/k8s.io/kubernetes"
cd "$GOPATH/src/k8s.io/kubernetes"
log "building kube-apiserver and kube-controller-manager (several minutes)"
export GO111MODULE=off GOFLAGS=-mod=vendor GOCACHE="$CACHE_DIR/go-build"
# Debian's golang 1.19 builds this tree; the version stamp keeps `kubectl version` meaningful.
export KUBE_GIT_VERSION=v1.20.2 KUBE_GIT_TREE_STATE=clean
CGO_ENABLED=0 make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$WORK/build.log" 2>&1 || {
  tail -n 40 "$WORK/build.log" >&2
  exit 1
}
for b in kube-apiserver kube-controller-manager; do
  f=$(find _output -type f -name "$b" -perm -u+x | head -n1)
  cp "$f" "$OUT/$b.tmp" && mv "$OUT/$b.tmp" "$OUT/$b"
done
echo "$BUILD_ID" >"$OUT/build-id"
log "done: $OUT"
