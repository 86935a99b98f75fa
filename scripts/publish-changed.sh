#!/usr/bin/env bash
# Publishes what changed in content/ between two commits: every removed post taken
# down with `blog delete` (its slug read from the file as it was), then every added
# or modified post published with `blog publish` (removals first, so a renamed file
# that keeps its slug ends published). The pipeline passes the last deployed
# commit (the `deployed` tag) and the pushed one; run it by hand with any two.
# Safe to run again: unchanged posts are not written, and a post already gone is
# not an error.
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

git cat-file -e "$after^{commit}" || { echo "unknown commit $after" >&2; exit 1; }
# No deploy yet (no tag; GitHub sends forty zeros as "before" for a first push) or
# a commit git does not know: every post in the tree, since nothing says what is live.
if ! git cat-file -e "$before^{commit}" 2>/dev/null; then
  before=$(git hash-object -t tree /dev/null)
fi

# NUL-separated, so no path is quoted or split; files directly in content/.
changed=() removed=()
while IFS= read -r -d '' status && IFS= read -r -d '' path; do
  case "$path" in
    content/*/*) continue ;;
    content/*.md | content/*.markdown) ;;
    *) continue ;;
  esac
  if [ "$status" = D ]; then removed+=("$path"); else changed+=("$path"); fi
done < <(git diff -z --name-status --no-renames "$before" "$after" -- content)

if [ ${#changed[@]} -eq 0 ] && [ ${#removed[@]} -eq 0 ]; then
  echo "no post changed in content/ between ${before:0:12} and ${after:0:12}"
  exit 0
fi

stack=${STACK_NAME:-serverless-blog}
if [ -z "${BLOG_ENDPOINT:-}" ]; then
  BLOG_ENDPOINT=$(aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='SiteUrl'].OutputValue" --output text)
  export BLOG_ENDPOINT
fi
if [ -z "${BLOG_TOKEN:-}" ]; then
  # Into the environment only: never on a command line or in the log.
  BLOG_TOKEN=$(aws ssm get-parameter --name "/$stack/publish-token" --with-decryption \
    --query Parameter.Value --output text)
  export BLOG_TOKEN
fi

if [ -n "${BLOG:-}" ]; then
  read -r -a blog <<< "$BLOG"
else
  cargo build --release --quiet --bin blog
  blog=("$root/target/release/blog")
fi

if [ ${#removed[@]} -gt 0 ]; then
  old=$(mktemp -d)
  trap 'rm -rf "$old"' EXIT
  for path in "${removed[@]}"; do
    git show "$before:$path" > "$old/$(basename "$path")"
    "${blog[@]}" delete --missing-ok "$old/$(basename "$path")"
  done
fi
if [ ${#changed[@]} -gt 0 ]; then
  echo "publishing ${#changed[@]} changed post(s)"
  "${blog[@]}" publish "${changed[@]}"
fi
