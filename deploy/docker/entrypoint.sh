#!/bin/sh
# Entrypoint of the Pipewright image (deploy/docker/Dockerfile).
#   (no arguments)          start the component named by $SERVICE
#   healthcheck [live|ready] exit 0 when its /health/<live|ready> answers 2xx, else 1
#   any other command       run it instead (e.g. `sh` to look around)
# SERVICE: gateway | environments | pipelines | executions | builds | triggers (default: gateway).
# PORT defaults to the component's usual port: 4000, 4101, 4102, 4103, 4104.
set -eu

# The image root (/app): this script lives in <root>/deploy/docker/.
APP_ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
SERVICE="${SERVICE:-gateway}"

case "$SERVICE" in
  gateway)      default_port=4000 ;;
  environments) default_port=4101 ;;
  pipelines)    default_port=4102 ;;
  executions)   default_port=4103 ;;
  builds)       default_port=4104 ;;
  triggers)     default_port=4106 ;;
  *)            default_port= ;;
esac

if [ "$SERVICE" = gateway ]; then
  main="$APP_ROOT/gateway/dist/main.js"
else
  main="$APP_ROOT/services/$SERVICE/dist/main.js"
fi
if [ ! -f "$main" ]; then
  echo "pipewright: unknown SERVICE \"$SERVICE\" (no $main); use gateway, environments, pipelines, executions, builds or triggers" >&2
  exit 64
fi

if [ -z "${PORT:-}" ]; then
  if [ -z "$default_port" ]; then
    echo "pipewright: PORT is required for SERVICE \"$SERVICE\"" >&2
    exit 64
  fi
  PORT=$default_port
fi
export PORT SERVICE

if [ "${1:-}" = healthcheck ]; then
  probe="${2:-live}"
  case "$probe" in live | ready) ;; *) echo "pipewright: healthcheck takes live or ready" >&2; exit 64 ;; esac
  # shellcheck disable=SC2016 # a JavaScript template literal, not shell
  exec node -e '
    fetch(`http://127.0.0.1:${process.env.PORT}/health/${process.argv[1]}`, { signal: AbortSignal.timeout(4000) })
      .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
  ' "$probe"
fi

if [ "$#" -gt 0 ]; then
  exec "$@"
fi

# The V8 heap's ceiling in MB (as scripts/start.mjs and the tests' startProcess set it): V8 collects
# garbage well before it, instead of letting the heap grow toward the machine's memory.
heap_mb="${PIPEWRIGHT_HEAP_MB:-384}"
case "$heap_mb" in
  '' | *[!0-9]*) echo "pipewright: PIPEWRIGHT_HEAP_MB must be a whole number of megabytes (got \"$heap_mb\")" >&2; exit 64 ;;
esac

cd "$APP_ROOT"
exec node --enable-source-maps --max-old-space-size="$heap_mb" "$main"
