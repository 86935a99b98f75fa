#!/usr/bin/env bash
# Moves the `deployed` tag to COMMIT and pushes it: the pipeline's last step, so
# the next run's publish-changed.sh starts from what is live.
set -euo pipefail
commit=${1:?usage: mark-deployed.sh COMMIT}
git tag --force deployed "$commit"
git push --force origin refs/tags/deployed
