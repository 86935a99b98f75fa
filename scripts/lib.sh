# Shared by scripts/test.sh and scripts/bench.sh: project-local tools and moto.
# shellcheck shell=bash

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/.tools/venv

step() { printf '\n==> %s\n' "$*"; }

# Installs a requirements file into a venv unless that exact file was installed there.
install() {
  local venv=$1 requirements=$2 stamp=$1/installed-$(basename "$2")
  if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
  fi
}

# A free TCP port on 127.0.0.1.
free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until URL answers (any status), or fails naming LOG.
wait_http() {
  "$venv/bin/python" - "$1" "$2" <<'PY'
import sys, time, urllib.request, urllib.error
for _ in range(600):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(f"{sys.argv[1]} did not answer: see {sys.argv[2]}")
PY
}

# Starts moto's server on a free loopback port, exports MOTO_ENDPOINT, and stops it
# when the calling script exits (also on failure).
start_moto() {
  mkdir -p "$root/target"
  local port
  port=$(free_port)
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > "$root/target/moto.log" 2>&1 &
  moto_pid=$!
  cleanup+=("$moto_pid")
  export MOTO_ENDPOINT="http://127.0.0.1:$port"
  wait_http "$MOTO_ENDPOINT/moto-api/" target/moto.log
  echo "moto at $MOTO_ENDPOINT"
}

cleanup=()
stop_all() { for pid in "${cleanup[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_all EXIT
