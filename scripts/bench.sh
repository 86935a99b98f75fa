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
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null || ! command -v openssl >/dev/null; then
  apt-get install -y -qq wrk nginx openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk nginx openssl >/dev/null; }
fi
# A Lambda-sized CPU is a cgroup with a CPU quota (tests/src/cpu_share.rs).
if [ ! -w /sys/fs/cgroup/cpu ]; then
  echo "the benchmark needs a writable cgroup v1 cpu hierarchy at /sys/fs/cgroup/cpu (run as root)" >&2
  exit 1
fi
# Groups a killed run left behind (tests/src/cpu_share.rs's PREFIX).
rmdir /sys/fs/cgroup/cpu/blog-bench-* 2>/dev/null || true

step "a bench-only CA chain for the TLS proxy in front of the emulator"
tls=$out/tls
if [ ! -f "$tls/chain.pem" ]; then
  rm -rf "$tls"; mkdir -p "$tls"
  # Shaped like Amazon's: an RSA 2,048 root, an intermediate and a leaf (for 127.0.0.1).
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=blog bench root" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=blog bench intermediate" \
    -keyout "$tls/int.key" -out "$tls/int.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$tls/int.ext"
  openssl x509 -req -days 3650 -in "$tls/int.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -extfile "$tls/int.ext" -out "$tls/int.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/leaf.key" -out "$tls/leaf.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$tls/leaf.ext"
  openssl x509 -req -days 825 -in "$tls/leaf.csr" -CA "$tls/int.pem" -CAkey "$tls/int.key" \
    -CAcreateserial -extfile "$tls/leaf.ext" -out "$tls/leaf.pem" 2>/dev/null
  cat "$tls/leaf.pem" "$tls/int.pem" > "$tls/chain.pem"
fi

step "corpus: 200 posts"
rm -rf "$out/corpus"
python3 "$shared/bench/make_corpus.py" "$out/corpus" --posts 200

step "build: release bootstraps, blog, harness"
cargo lambda build --release -p blog-home -p blog-post -p blog-tags -p blog-feed -p blog-hello
# The read functions as the cold starts run them: the same build plus the bench CA
# (blog-core's bench-tls feature), so they reach the emulator over HTTPS.
cargo lambda build --release -p blog-home -p blog-post -p blog-tags -p blog-feed \
  --features blog-core/bench-tls --lambda-dir "$out/tls-lambda"
# Sizes are also measured as deployed: arm64, one function per build as `sam build` does.
rustup target add aarch64-unknown-linux-gnu
for f in home post tags feed hello; do
  cargo lambda build --release --arm64 -p "blog-$f" --lambda-dir "$out/arm64"
done
cargo build --release -p blog-cli
cargo build -p blog-e2e --bin bench-lambda

step "moto's server on 127.0.0.1"
start_moto

step "Lambda: cold starts ($runs each at 128, 256, 512, 1,024 MB's CPU share and unlimited), peak RSS after 1,000 invocations, DynamoDB requests"
target/debug/bench-lambda "$runs" "$out/corpus" "$shared/peers/flask-blog/bootstrap" "$tls" "$out/tls-lambda" \
  > "$out/lambda.json"

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
