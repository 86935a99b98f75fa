#!/usr/bin/env bash
# The benchmark: one run, one machine, one table. Builds what it measures, makes the
# corpus (../shared/bench/make_corpus.py --posts 200), and compares the blog with a
# minimal lambda_http function, the Flask peer (../shared/peers/flask-blog) and nginx
# serving the same pages as static files. Not part of the test command.
# Usage: scripts/bench.sh [RUNS]   (cold starts per function, default 30)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$root"
runs=${1:-30}
shared=$root/../shared
out=$root/target/bench
mkdir -p "$out"

step "tools (moto, cargo-lambda, zig; wrk and nginx from Debian)"
install "$venv" scripts/requirements-test.txt
export PATH="$venv/bin:$PATH"
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get install -y -qq wrk nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk nginx >/dev/null; }
fi

step "corpus: 200 posts"
rm -rf "$out/corpus"
python3 "$shared/bench/make_corpus.py" "$out/corpus" --posts 200

step "build: release bootstraps, blog, harness"
cargo lambda build --release -p blog-home -p blog-post -p blog-tags -p blog-feed -p blog-hello
# Sizes are also measured as deployed: arm64, one function per build as `sam build` does.
rustup target add aarch64-unknown-linux-gnu
for f in home post tags feed hello; do
  cargo lambda build --release --arm64 -p "blog-$f" --lambda-dir "$out/arm64"
done
cargo build --release -p blog-cli
cargo build -p blog-e2e --bin bench-lambda

step "moto's server on 127.0.0.1"
start_moto

step "Lambda: cold starts ($runs each), peak RSS after 1,000 invocations, DynamoDB requests"
target/debug/bench-lambda "$runs" "$out/corpus" "$shared/peers/flask-blog/bootstrap" > "$out/lambda.json"

step "in-process latency (criterion)"
BENCH_CORPUS="$out/corpus" cargo bench -p blog-core --bench handlers -- --warm-up-time 1 --measurement-time 3 --noplot \
  > "$out/criterion.log"

step "HTTP: blog serve, the Flask peer (Gunicorn) and nginx, same pages"
blog_port=$(free_port); flask_port=$(free_port); nginx_port=$(free_port)
BLOG_LOG=warn target/release/blog serve --port "$blog_port" --content "$out/corpus" --config /nonexistent > "$out/blog.log" 2>&1 &
cleanup+=("$!")
"$shared/peers/flask-blog/serve.sh" "$out/corpus" "$flask_port" > "$out/flask.log" 2>&1 &
cleanup+=("$!")
wait_http "http://127.0.0.1:$blog_port/" "$out/blog.log"
wait_http "http://127.0.0.1:$flask_port/" "$out/flask.log"
slug=$("$venv/bin/python" - "http://127.0.0.1:$blog_port/" <<'PY'
import re, sys, urllib.request
html = urllib.request.urlopen(sys.argv[1]).read().decode()
print(re.search(r'href="/posts/([^/"]+)/"', html).group(1))
PY
)
# The same HTML, as static files for nginx.
rm -rf "$out/static"; mkdir -p "$out/static/posts/$slug" "$out/nginx"
"$venv/bin/python" - "http://127.0.0.1:$blog_port" "$slug" "$out" <<'PY'
import gzip, json, sys, urllib.request
base, slug, out = sys.argv[1:]
def get(path):
    return urllib.request.urlopen(base + path).read()
open(f"{out}/static/index.html", "wb").write(get("/"))
open(f"{out}/static/posts/{slug}/index.html", "wb").write(get(f"/posts/{slug}/"))
weights = {}
for name, path in [("home", "/"), ("post", f"/posts/{slug}/"), ("tag index", "/tags/"),
                   ("tag page", "/tags/rust/"), ("Atom feed", "/feed.xml"), ("sitemap", "/sitemap.xml")]:
    body = get(path)
    weights[name] = {"bytes": len(body), "gzipped": len(gzip.compress(body, 6))}
json.dump(weights, open(f"{out}/weights.json", "w"))
PY
cat > "$out/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes 2;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $out/nginx/tmp; proxy_temp_path $out/nginx/tmp;
  fastcgi_temp_path $out/nginx/tmp; uwsgi_temp_path $out/nginx/tmp; scgi_temp_path $out/nginx/tmp;
  types { text/html html; }
  server { listen 127.0.0.1:$nginx_port; root $out/static; index index.html; }
}
NGINX
nginx -c "$out/nginx/nginx.conf" -p "$out/nginx/" &
cleanup+=("$!")
wait_http "http://127.0.0.1:$nginx_port/" "$out/nginx/error.log"
: > "$out/wrk.txt"
for server in "blog:$blog_port" "flask:$flask_port" "nginx:$nginx_port"; do
  name=${server%%:*}; port=${server##*:}
  for page in "post:/posts/$slug/" "home:/"; do
    wrk -t2 -c32 -d10s --latency "http://127.0.0.1:$port${page#*:}" > "$out/wrk-$name-${page%%:*}.txt"
    echo "$name ${page%%:*} $(grep 'Requests/sec' "$out/wrk-$name-${page%%:*}.txt")" >> "$out/wrk.txt"
  done
done

step "sizes: zipped bootstraps"
"$venv/bin/python" - "$out" <<'PY'
import json, os, sys, zipfile
out = sys.argv[1]
sizes = {}
for name in ["home", "post", "tags", "feed", "hello"]:
    path = f"target/lambda/blog-{name}/bootstrap"
    z = f"{out}/{name}.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as f:
        f.write(path, "bootstrap")
    sizes[name] = {"bootstrap": os.path.getsize(path), "zip": os.path.getsize(z)}
    arm = f"{out}/arm64/blog-{name}/bootstrap"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as f:
        f.write(arm, "bootstrap")
    sizes[name].update(arm64=os.path.getsize(arm), arm64_zip=os.path.getsize(z))
json.dump(sizes, open(f"{out}/sizes.json", "w"))
PY

step "results"
"$venv/bin/python" scripts/bench_report.py "$out" | tee "$out/report.md"
