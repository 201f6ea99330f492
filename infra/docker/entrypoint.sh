#!/bin/sh
# Entry point of the Simpul image (infra/Dockerfile). One image, four services: SIMPUL_SERVICE picks one.
#
#   serve        (the default CMD) run SIMPUL_SERVICE under uvicorn, listening on 0.0.0.0
#   healthcheck  exit 0 when that service's /ready answers 200 (database and Kafka reachable)
#   <anything>   run it as given, e.g. `simpul infra topics provision --bootstrap kafka:9092`
#
# Host and port use the settings' own variable names, <PREFIX>_HTTP_HOST and <PREFIX>_HTTP_PORT (REGISTRY_,
# IDENTITY_, REFERRAL_, REPORTING_), with the per-service port defaults of services/*/src/*/config.py. The host
# default is 0.0.0.0 here, not the settings' 127.0.0.1: loopback inside a container is unreachable from outside.
set -eu

service="${SIMPUL_SERVICE:-}"

resolve() {
  case "$service" in
    registry)  prefix=REGISTRY;  default_port=8001 ;;
    identity)  prefix=IDENTITY;  default_port=8002 ;;
    referral)  prefix=REFERRAL;  default_port=8003 ;;
    reporting) prefix=REPORTING; default_port=8004 ;;
    "")
      echo "entrypoint: set SIMPUL_SERVICE to registry, identity, referral or reporting" >&2
      exit 64 ;;
    *)
      echo "entrypoint: unknown SIMPUL_SERVICE '$service' (registry, identity, referral or reporting)" >&2
      exit 64 ;;
  esac
  # $prefix comes from the fixed list above, so this eval only ever reads one of eight known variables.
  eval "host=\${${prefix}_HTTP_HOST:-0.0.0.0}"
  eval "port=\${${prefix}_HTTP_PORT:-$default_port}"
}

command="${1:-serve}"
case "$command" in
  serve)
    resolve
    echo "entrypoint: starting $service on $host:$port" >&2
    exec uvicorn "$service.bootstrap:build" --factory --host "$host" --port "$port"
    ;;
  healthcheck)
    resolve
    exec python - "$port" <<'PY'
import sys
import urllib.request

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/ready", timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:  # refused, timeout, 503 "not ready": all mean unhealthy
    sys.exit(1)
PY
    ;;
  *)
    exec "$@"
    ;;
esac
