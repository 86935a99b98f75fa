#!/usr/bin/env bash
# Builds the arm64 bootstraps and deploys the stack: what the pipeline's deploy job
# runs (.github/workflows/pipeline.yml), and what an author runs from a laptop
# after the first `sam deploy --guided`. The stack brings itself up to date: the
# SiteRender custom resource re-renders stored posts when the renderer changed
# and queues one "/*" when the pages changed (README "Deploys").
#
# In the pipeline, set ARTIFACTS_BUCKET and CLOUDFORMATION_ROLE_ARN (outputs of
# pipeline/deploy-role.yaml): the deploy then uses that bucket and lets
# CloudFormation act with that role, so the pipeline's own role needs neither.
#
#   deploy.sh [build|deploy] [sam deploy options...]
#
# `build` only builds (the bootstraps and the blog command: no AWS credentials
# needed, so the pipeline fetches them after); `deploy` only deploys what was
# built; neither does both.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$root"

what=all
case "${1:-}" in
  build | deploy) what=$1; shift ;;
esac
config=()
if [ -n "${ARTIFACTS_BUCKET:-}" ]; then
  # Non-interactive, into the pipeline's bucket, with CloudFormation's own role.
  config=(--config-env pipeline)
fi

step "tools in .tools/ (SAM CLI, cargo-lambda, zig)"
install "$venv" scripts/requirements-test.txt
install "$venv" scripts/requirements-deploy.txt
export PATH="$venv/bin:$PATH" SAM_CLI_TELEMETRY=0

if [ "$what" != deploy ]; then
  step "sam build, and the blog command that publishes afterwards"
  rustup target add aarch64-unknown-linux-gnu
  sam build ${config[@]+"${config[@]}"}
  cargo build --release --quiet --bin blog
fi

if [ "$what" != build ]; then
  step "sam deploy"
  args=(${config[@]+"${config[@]}"})
  if [ -n "${ARTIFACTS_BUCKET:-}" ]; then
    args+=(--s3-bucket "$ARTIFACTS_BUCKET" --role-arn "${CLOUDFORMATION_ROLE_ARN:?set CLOUDFORMATION_ROLE_ARN with ARTIFACTS_BUCKET}")
  fi
  if [ -n "${STACK_NAME:-}" ]; then
    args+=(--stack-name "$STACK_NAME")
  fi
  sam deploy ${args[@]+"${args[@]}"} "$@"
fi
