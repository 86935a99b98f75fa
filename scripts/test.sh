#!/usr/bin/env bash
# Runs every check and test, installing what they need first. Needs only Rust and
# Python 3; tools go into .tools/ (git-ignored). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
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

step "tools in .tools/ (moto, cargo-lambda, zig, SAM CLI, cfn-lint, checkov)"
install "$venv" scripts/requirements-test.txt
install "$venv" scripts/requirements-deploy.txt
# checkov's dependencies clash with SAM CLI's: it gets a venv of its own.
install "$root/.tools/checkov" scripts/requirements-checkov.txt
export PATH="$venv/bin:$PATH" SAM_CLI_TELEMETRY=0

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets -- -D warnings

step "template: sam validate --lint, cfn-lint, checkov"
sam validate --lint --region us-east-1
cfn-lint template.yaml
"$root/.tools/checkov/bin/checkov" -f template.yaml --framework cloudformation --skip-download --compact --quiet

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

step "sam build: arm64 bootstraps with cargo-lambda and zig"
rustup target add aarch64-unknown-linux-gnu
sam build --region us-east-1
"$venv/bin/python" - <<'PY'
import pathlib, sys
built = sorted(pathlib.Path(".aws-sam/build").glob("*Function/bootstrap"))
if len(built) != 4:
    sys.exit(f"expected 4 bootstraps under .aws-sam/build, found {len(built)}")
for path in built:
    head = path.read_bytes()[:20]
    machine = int.from_bytes(head[18:20], "little")
    if head[:4] != b"\x7fELF" or machine != 0xB7:  # EM_AARCH64
        sys.exit(f"{path} is not an arm64 ELF binary (e_machine {machine:#x})")
    print(f"{path}: arm64, {path.stat().st_size:,} bytes")
PY

step "all checks passed"
