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
# Extra arguments go to `sam deploy`.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$root"

step "tools in .tools/ (SAM CLI, cargo-lambda, zig)"
install "$venv" scripts/requirements-test.txt
install "$venv" scripts/requirements-deploy.txt
export PATH="$venv/bin:$PATH" SAM_CLI_TELEMETRY=0
rustup target add aarch64-unknown-linux-gnu

step "sam build"
sam build

step "sam deploy"
args=()
if [ -n "${ARTIFACTS_BUCKET:-}" ]; then
  # Non-interactive, into the pipeline's bucket, with CloudFormation's own role.
  args+=(--config-env pipeline --s3-bucket "$ARTIFACTS_BUCKET" --role-arn "${CLOUDFORMATION_ROLE_ARN:?set CLOUDFORMATION_ROLE_ARN with ARTIFACTS_BUCKET}")
fi
if [ -n "${STACK_NAME:-}" ]; then
  args+=(--stack-name "$STACK_NAME")
fi
sam deploy "${args[@]}" "$@"
