#!/usr/bin/env bash
# Runs every check and test, installing what they need first. Safe on a fresh
# machine with only Rust and Python 3; CI runs exactly this (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets -- -D warnings

step "tests"
cargo test --workspace

step "all checks passed"
