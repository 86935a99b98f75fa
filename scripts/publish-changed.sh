#!/usr/bin/env bash
# Publishes what changed in content/ between two commits: every added or modified
# post with `blog publish`, and every removed post taken down with `blog delete`
# (its slug read from the file as it was). The pipeline passes the pushed range
# (before, after); run it by hand with any two commits.
#
# The API: BLOG_ENDPOINT and BLOG_TOKEN when set; otherwise STACK_NAME (default
# serverless-blog) and the AWS CLI find the SiteUrl output and the token secret.
# BLOG runs the blog command (default: a release build of the checkout this runs in).
set -euo pipefail
before=${1:?usage: publish-changed.sh BEFORE AFTER}
after=${2:?usage: publish-changed.sh BEFORE AFTER}
# The repository the posts are kept in: the one this runs in.
root=$(git rev-parse --show-toplevel)
cd "$root"

# A first push (GitHub sends forty zeros as "before"), or a range git does not
# know: every post in the tree is published, since nothing says what is live.
if [ -z "${before//0/}" ] || ! git cat-file -e "$before^{commit}" 2>/dev/null; then
  before=$(git hash-object -t tree /dev/null)
fi

changed=() removed=()
while IFS=$'\t' read -r status path; do
  case "$status" in
    D) removed+=("$path") ;;
    *) changed+=("$path") ;;
  esac
done < <(git diff --name-status --no-renames "$before" "$after" -- 'content/*.md' 'content/*.markdown' \
  | grep -v $'\tcontent/[^/]*/' || true)

if [ ${#changed[@]} -eq 0 ] && [ ${#removed[@]} -eq 0 ]; then
  echo "no post changed in content/ between ${before:0:12} and ${after:0:12}"
  exit 0
fi

if [ -z "${BLOG_ENDPOINT:-}" ]; then
  stack=${STACK_NAME:-serverless-blog}
  BLOG_ENDPOINT=$(aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='SiteUrl'].OutputValue" --output text)
  export BLOG_ENDPOINT
fi
if [ -z "${BLOG_TOKEN:-}" ]; then
  # Into the environment only: never on a command line or in the log.
  BLOG_TOKEN=$(aws secretsmanager get-secret-value --secret-id "${STACK_NAME:-serverless-blog}-publish" \
    --query SecretString --output text | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export BLOG_TOKEN
fi

if [ -n "${BLOG:-}" ]; then
  read -r -a blog <<< "$BLOG"
else
  cargo build --release --quiet --bin blog
  blog=("$root/target/release/blog")
fi

if [ ${#changed[@]} -gt 0 ]; then
  echo "publishing ${#changed[@]} changed post(s)"
  "${blog[@]}" publish "${changed[@]}"
fi
if [ ${#removed[@]} -gt 0 ]; then
  old=$(mktemp -d)
  trap 'rm -rf "$old"' EXIT
  for path in "${removed[@]}"; do
    git show "$before:$path" > "$old/$(basename "$path")"
    "${blog[@]}" delete "$old/$(basename "$path")"
  done
fi
