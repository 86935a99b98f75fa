#!/usr/bin/env bash
# Runs every check and test, installing what they need first. Needs only Rust and
# Python 3; tools go into .tools/ (git-ignored). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$root/.tools/venv
step() { printf '\n==> %s\n' "$*"; }

step "tools in .tools/venv (moto, cargo-lambda, zig)"
if ! cmp -s scripts/requirements-test.txt "$venv/requirements-test.txt" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  cp scripts/requirements-test.txt "$venv/requirements-test.txt"
fi
export PATH="$venv/bin:$PATH"

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets -- -D warnings

step "release bootstraps (cargo lambda build --release)"
cargo lambda build --release -p blog-home -p blog-post -p blog-tags -p blog-feed

step "moto's server on 127.0.0.1"
mkdir -p target
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
export MOTO_ENDPOINT="http://127.0.0.1:$port"
"$venv/bin/python" - "$MOTO_ENDPOINT" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("moto did not start: see target/moto.log")
PY
echo "moto at $MOTO_ENDPOINT"

step "tests"
cargo test --workspace

step "all checks passed"
