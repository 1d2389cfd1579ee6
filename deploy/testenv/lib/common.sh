# Shared by deploy/testenv/up and deploy/testenv/down (sourced, not executed).
# shellcheck shell=bash

TESTENV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "$TESTENV_DIR/../.." && pwd)"
CACHE_DIR="${PIPEWRIGHT_CACHE:-$HOME/.cache/pipewright}"
# Machine-level state: survives fresh clones of the repository (CI), shared by all of them.
TE_HOME="${PIPEWRIGHT_TESTENV_HOME:-$HOME/.cache/pipewright/testenv}"
BIN_DIR="$CACHE_DIR/bin"
KUBE_BIN_DIR="$CACHE_DIR/kube"
RUN_DIR="$TE_HOME/run"
LOG_DIR="$TE_HOME/logs"

# Ports (127.0.0.1 only); each can be overridden, e.g. to run a second environment side by side.
PG_PORT="${TESTENV_PG_PORT:-5432}"
NATS_PORT="${TESTENV_NATS_PORT:-14223}"
NATS_MONITOR_PORT="${TESTENV_NATS_MONITOR_PORT:-14224}"
ETCD_PORT="${TESTENV_ETCD_PORT:-12379}"
ETCD_PEER_PORT="${TESTENV_ETCD_PEER_PORT:-12380}"
KUBE_PORT="${TESTENV_KUBE_PORT:-16443}"
KCM_PORT="${TESTENV_KCM_PORT:-16444}"
REGISTRY_PORT="${TESTENV_REGISTRY_PORT:-5000}"
REGISTRY_AUTH_PORT="${TESTENV_REGISTRY_AUTH_PORT:-5001}"
GIT_PORT="${TESTENV_GIT_PORT:-18080}"
CHART_PORT="${TESTENV_CHART_REPO_PORT:-18081}"
JENKINS_PORT="${TESTENV_JENKINS_PORT:-18082}"
STANDIN_PORT="${TESTENV_STANDIN_PORT:-18083}"
OIDC_PORT="${TESTENV_OIDC_PORT:-18084}"

log() { echo "[testenv] $*" >&2; }
die() {
  echo "[testenv] ERROR: $*" >&2
  exit 1
}

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pidfile() { echo "$RUN_DIR/$1.pid"; }
# alive PID: the process exists and is not a zombie waiting for its (init) parent to reap it.
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}
# pid_of NAME: prints the pid of a daemon this environment started, if it is alive.
pid_of() {
  local f pid
  f="$(pidfile "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  echo "$pid"
}

# stop_daemon NAME: TERM (then KILL after 15 s) the process recorded in NAME.pid.
stop_daemon() {
  local name="$1" pid i
  if pid="$(pid_of "$name")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "$name (pid $pid) did not stop; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$(pidfile "$name")" "$RUN_DIR/$name.sig"
}
