#!/usr/bin/env bash
# The long runs behind README "Reliability", not part of the test command:
#   1. every property/fuzz target in blog-core (shared/src/fuzz.rs) for CASES inputs
#      each (default 1,000,000; the test command runs 256);
#   2. 60 seconds of wrk at saturation against `blog serve` with a writer publishing
#      edits through the API at the same time: errors, throughput, peak RSS.
# Usage: scripts/reliability.sh [CASES] [SECONDS]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$root"
cases=${1:-1000000}
seconds=${2:-60}
out=$root/target/reliability
mkdir -p "$out"

step "tools (moto, wrk from Debian)"
install "$venv" scripts/requirements-test.txt
if ! command -v wrk >/dev/null; then
  apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi

step "fuzz: $cases cases per target"
# The fuzz module is test code: built once in the test profile, then each target
# runs alone so its time is its own. Failures are saved in proptest-regressions/.
cargo test -p blog-core --features lambda --lib --no-run
printf '| target | cases | time (s) | failures |\n|---|---|---|---|\n' > "$out/fuzz.md"
for target in front_matter markdown compile api_request api_query slug_and_tag alias_paths \
  sort_key_order date_range api_gateway_event; do
  started=$(date +%s)
  if PROPTEST_CASES=$cases cargo test -q -p blog-core --features lambda --lib \
    "fuzz::$target" -- --exact > "$out/fuzz-$target.log" 2>&1; then
    failures=0
  else
    failures="see target/reliability/fuzz-$target.log"
  fi
  printf '| %s | %s | %s | %s |\n' "$target" "$cases" "$(( $(date +%s) - started ))" "$failures" \
    | tee -a "$out/fuzz.md"
done

step "load: wrk for ${seconds}s against blog serve, with edits published meanwhile"
cargo build --release -p blog-cli
rm -rf "$out/content" && cp -r content "$out/content"
port=$(free_port)
token=reliability-load-token-0123456789abcdef
BLOG_TOKEN=$token BLOG_LOG=warn target/release/blog serve --port "$port" \
  --content "$out/content" --config /nonexistent > "$out/serve.log" 2>&1 &
serve_pid=$!
cleanup+=("$serve_pid")
wait_http "http://127.0.0.1:$port/" "$out/serve.log"
cat > "$out/paths.lua" <<'LUA'
local paths = {"/", "/posts/how-this-blog-works/", "/posts/markdown-showcase/", "/tags/",
  "/tags/rust/", "/feed.xml", "/rss.xml", "/sitemap.xml", "/posts/nope/", "/posts/hello-world"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
"$venv/bin/python" - "$port" "$token" "$seconds" "$serve_pid" > "$out/writer.json" <<'PY' &
# Publishes an edit of one post through the API as fast as it can (GET the version,
# PUT with If-Match), and samples the server's RSS once a second.
import json, sys, time, urllib.request
port, token, seconds, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
base = f"http://127.0.0.1:{port}/api/posts/hello-world"
auth = {"Authorization": f"Bearer {token}"}
writes = failures = 0
rss = []
end = time.time() + seconds
next_sample = 0.0
while time.time() < end:
    if time.time() >= next_sample:
        with open(f"/proc/{pid}/status") as f:
            rss.append(next(int(l.split()[1]) for l in f if l.startswith("VmRSS")))
        next_sample = time.time() + 1
    try:
        with urllib.request.urlopen(urllib.request.Request(base, headers=auth), timeout=10) as r:
            post = json.load(r)
            etag = r.headers["ETag"]
        source = post["source"].rstrip("\n") + f"\n\nEdit {writes}.\n"
        req = urllib.request.Request(base, data=source.encode(), method="PUT", headers={
            **auth, "If-Match": etag, "Content-Type": "text/markdown; charset=utf-8"})
        with urllib.request.urlopen(req, timeout=10) as r:
            writes += r.status == 200
    except Exception as e:  # any failed write counts
        failures += 1
        print(f"write failed: {e}", file=sys.stderr)
print(json.dumps({"writes": writes, "write_failures": failures,
                  "rss_kb_first": rss[0], "rss_kb_max": max(rss), "rss_kb_last": rss[-1]}))
PY
writer=$!
wrk -t2 -c64 -d"${seconds}s" -s "$out/paths.lua" "http://127.0.0.1:$port" | tee "$out/wrk.txt"
wait "$writer"
cat "$out/writer.json"
"$venv/bin/python" - "$out/wrk.txt" "$out/writer.json" <<'PY'
import json, re, sys
wrk = open(sys.argv[1]).read()
w = json.load(open(sys.argv[2]))
rate = re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1)
total = re.search(r"(\d+) requests in", wrk).group(1)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
sock = re.search(r"Socket errors: (.*)", wrk)
# /posts/nope/ is a 404 on purpose (one path in ten): wrk counts it as non-2xx.
print(f"| reads | {total} ({rate}/s) | non-2xx/3xx {non2xx.group(1) if non2xx else 0} (404s expected: 1 path in 10) | socket errors: {sock.group(1) if sock else 'none'} |")
print(f"| writes | {w['writes']} published edits | failures {w['write_failures']} | RSS {w['rss_kb_first']//1024} MB first, {w['rss_kb_max']//1024} MB peak, {w['rss_kb_last']//1024} MB last |")
PY
