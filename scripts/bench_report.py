#!/usr/bin/env python3
"""Turns the files scripts/bench.sh wrote into one Markdown report with targets and ratios."""
import datetime
import glob
import json
import os
import platform
import re
import sys

out = sys.argv[1]
lam = json.load(open(f"{out}/lambda.json"))
sizes = json.load(open(f"{out}/sizes.json"))
weights = json.load(open(f"{out}/weights.json"))


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def ok(good):
    return "met" if good else "**missed**"


print(f"Run {datetime.date.today()} on {os.cpu_count()} cores ({cpu()}), {platform.system()} {platform.release()}.\n")

# Cold starts under each memory size's CPU share
READ = ["home", "post", "tags", "feed"]
LABEL = {"post-http": "post, plain HTTP (no TLS)", "hello": "hello-world (lambda_http)",
         "flask": "Flask peer (apig-wsgi, awslambdaric)"}
# Lambda arm64, us-east-1: $0.20 per million requests, $0.0000133334 per GB-second, billed per ms.
REQUEST_PRICE, GB_SECOND_PRICE = 0.20 / 1e6, 0.0000133334


def deployed_memory():
    """Each read function's MemorySize in template.yaml: its own, or the Globals value."""
    text = open("template.yaml").read()
    default = int(re.search(r"^Globals:.*?MemorySize: (\d+)", text, re.S | re.M).group(1))
    sizes = {}
    for name in READ:
        block = re.search(rf"^  {name.capitalize()}Function:\n(.*?)(?=^  \w)", text, re.S | re.M).group(1)
        own = re.search(r"^      MemorySize: (\d+)", block, re.M)
        sizes[name] = int(own.group(1)) if own else default
    return sizes


cold = lam["cold_start"]
sizes_mb = sorted((k for k in cold if k != "unlimited"), key=int)
deployed = deployed_memory()
base = str(min(deployed.values()))
missing = {str(mb) for mb in deployed.values()} - set(cold)
if missing:
    sys.exit(f"template.yaml deploys a memory size the bench did not run: {sorted(missing)} MB "
             "(add it to MEMORY_SIZES in tests/src/bin/bench_lambda.rs)")


def at(name):
    """The function's figures at its deployed size (the yardsticks at the smallest one)."""
    return cold[str(deployed.get(name, int(base)))][name]


hello = cold[base]["hello"]
print("### Cold start at the deployed memory sizes\n")
print("Each start runs in a fresh cgroup whose CPU quota is the memory size's share of one vCPU "
      "(Lambda gives a full vCPU at 1,769 MB: 128 MB gets 7.24 ms of every 100 ms). "
      "Init: spawn to the first poll of the Runtime API. First response: spawn to the first answer, "
      "its DynamoDB request over TLS included. Warm: one invocation on the warm function, "
      f"{lam.get('warm_invocations', 200)} back to back.\n")
print("| function | memory | init p50 | init p95 | first response p50 | first response p95 | warm p50 | warm p99 | init / hello-world |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in READ + ["post-http", "hello", "flask"]:
    c = at(name)
    mb = deployed.get(name, int(base))
    print(f"| {LABEL.get(name, name)} | {mb} MB | {c['init_p50_ms']:.1f} ms | {c['init_p95_ms']:.1f} ms "
          f"| {c['first_p50_ms']:.1f} ms | {c['first_p95_ms']:.1f} ms | {c['warm_p50_ms']:.2f} ms "
          f"| {c['warm_p99_ms']:.2f} ms | {c['init_p50_ms'] / hello['init_p50_ms']:.2f}× |")
worst_first = max(at(n)["first_p50_ms"] for n in READ)
worst_first95 = max(at(n)["first_p95_ms"] for n in READ)
worst_init = max(at(n)["init_p50_ms"] / hello["init_p50_ms"] for n in READ)
flask_ratio = cold[base]["flask"]["first_p50_ms"] / cold[base]["post"]["first_p50_ms"]
print(f"\nRuns: {hello['runs']} cold starts each. Goals: cold first response ≤ 100 ms: worst p50 "
      f"{worst_first:.1f} ms, worst p95 {worst_first95:.1f} ms ({ok(worst_first <= 100)}); ≥ 50× faster than the "
      f"Flask peer under the same {base} MB quota (post page, first response): {flask_ratio:.0f}× "
      f"({ok(flask_ratio >= 50)}); init ≤ 1.3× the hello-world: worst {worst_init:.2f}× ({ok(worst_init <= 1.3)}).\n")

print("### Cold first response (p50) by memory size\n")
print("| function | " + " | ".join(f"{mb} MB" for mb in sizes_mb) + " | unlimited (2 cores) |")
print("|---|" + "---:|" * (len(sizes_mb) + 1))
for name in READ + ["post-http", "hello", "flask"]:
    cells = [f"{cold[k][name]['first_p50_ms']:.1f} ms" for k in sizes_mb + ["unlimited"]]
    print(f"| {LABEL.get(name, name)} | " + " | ".join(cells) + " |")
print("\nThe TLS handshake to the DynamoDB endpoint, as the TLS proxy timed it (accept to the client's "
      "Finished; p50 / p95 of the post function's first connection): " + ", ".join(
    f"{k}{' MB' if k != 'unlimited' else ''} {cold[k]['post']['tls_handshake_p50_ms']:.1f} / "
    f"{cold[k]['post']['tls_handshake_p95_ms']:.1f} ms"
    for k in sizes_mb + ["unlimited"] if cold[k]['post'].get('tls_handshake_p50_ms') is not None) + ".")
print("\nWhat TLS adds to the post function's first response (p50, HTTPS minus plain HTTP): " + ", ".join(
    f"{k}{' MB' if k != 'unlimited' else ''} {cold[k]['post']['first_p50_ms'] - cold[k]['post-http']['first_p50_ms']:+.1f} ms"
    for k in sizes_mb + ["unlimited"]) + ".\n")

print("### Memory size against cost\n")
print("Lambda's part of a million page views: requests plus GB-seconds, each warm view billed at its "
      "duration rounded up to the next ms, as Lambda bills (arm64, us-east-1); the mean of the "
      "back-to-back warm views, so time spent throttled by the quota is billed too.\n")
print("| function | memory | warm p50 | warm p99 | billed mean | Lambda per million views, 0% CDN hits "
      "| at 95% CDN hits | cold first response p50 | p95 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in READ:
    for k in sizes_mb:
        c = cold[k][name]
        billed = c.get("warm_billed_mean_ms", max(1, -(-c["warm_p50_ms"] // 1)))
        per_view = REQUEST_PRICE + int(k) / 1024 * billed / 1000 * GB_SECOND_PRICE
        mark = " (deployed)" if int(k) == deployed[name] else ""
        print(f"| {name} | {k} MB{mark} | {c['warm_p50_ms']:.2f} ms | {c['warm_p99_ms']:.2f} ms | {billed:.1f} ms "
              f"| ${per_view * 1e6:.3f} | ${per_view * 0.05e6:.4f} | {c['first_p50_ms']:.1f} ms "
              f"| {c['first_p95_ms']:.1f} ms |")
print()

# Criterion
print("### In-process latency (criterion, median)\n")
print("| benchmark | median | target |")
print("|---|---:|---|")
rows = []
for path in glob.glob("target/criterion/**/new/benchmark.json", recursive=True):
    bench = json.load(open(path))
    est = json.load(open(os.path.join(os.path.dirname(path), "estimates.json")))
    rows.append((bench["full_id"], est["median"]["point_estimate"]))
for name, ns in sorted(rows):
    target = ""
    if name == "handler/post page":
        target = f"≤ 50 µs: {ok(ns <= 50_000)}"
    elif name.startswith("publish render/medium"):
        target = f"< 1 ms: {ok(ns < 1_000_000)}"
    value = f"{ns / 1000:.1f} µs" if ns < 1_000_000 else f"{ns / 1e6:.2f} ms"
    print(f"| {name} | {value} | {target} |")

# HTTP
print("\n### HTTP on loopback (wrk -t2 -c32 -d10s; the server and wrk share the machine)\n")
print("| server | post page req/s | post p99 | home req/s | home p99 |")
print("|---|---:|---:|---:|---:|")
results = {}
for name in ["blog", "flask", "nginx"]:
    row = {}
    for page in ["post", "home"]:
        text = open(f"{out}/wrk-{name}-{page}.txt").read()
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
        p99 = re.search(r"99%\s+([\d.]+\w+)", text).group(1)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        row[page] = (rps, p99, int(errors.group(1)) if errors else 0)
    results[name] = row
    label = {"blog": "blog serve (Rust)", "flask": "Flask peer (Gunicorn)", "nginx": "nginx, static files"}[name]
    print(f"| {label} | {row['post'][0]:,.0f} | {row['post'][1]} | {row['home'][0]:,.0f} | {row['home'][1]} |")
blog_post = results["blog"]["post"][0]
vs_nginx = blog_post / results["nginx"]["post"][0]
vs_flask = blog_post / results["flask"]["post"][0]
print(f"\nPost page: blog serve is {vs_nginx:.2f}× nginx (target ≥ 0.5×: {ok(vs_nginx >= 0.5)}) and "
      f"{vs_flask:.1f}× the Flask peer (target ≥ 20×: {ok(vs_flask >= 20)}).")
bad = {n: r for n, r in results.items() if any(p[2] for p in r.values())}
if bad:
    print(f"\nNon-2xx responses seen: {bad}")

# Sizes, memory, weight, requests
print("\n### Size, memory, page weight, DynamoDB requests\n")
print("| function | bootstrap x86_64 | zipped x86_64 | bootstrap arm64 (deployed) | zipped arm64 (target ≤ 3 MB) | peak RSS after 1,000 invocations (target ≤ 24 MB) | DynamoDB requests per view |")
print("|---|---:|---:|---:|---:|---:|---|")
for name in ["home", "post", "tags", "feed", "hello"]:
    s = sizes[name]
    rss = lam["peak_rss_kib_after_1000"].get(name)
    reqs = lam["dynamodb_requests_per_view"].get(name)
    rss_text = f"{rss / 1024:.1f} MB ({ok(rss <= 24 * 1024)})" if rss else "–"
    req_text = f"{len(reqs)} ({', '.join(reqs)})" if reqs is not None else "–"
    arm_zip = f"{s['arm64_zip'] / 1e6:.2f} MB" + ("" if name == "hello" else f" ({ok(s['arm64_zip'] <= 3e6)})")
    print(f"| {name} | {s['bootstrap'] / 1e6:.2f} MB | {s['zip'] / 1e6:.2f} MB | {s['arm64'] / 1e6:.2f} MB | {arm_zip} | {rss_text} | {req_text} |")
print("\n| page (200-post corpus) | bytes | gzipped |")
print("|---|---:|---:|")
for name, w in weights.items():
    target = f" ({ok(w['gzipped'] <= 14 * 1024)})" if name == "post" else ""
    print(f"| {name} | {w['bytes']:,} | {w['gzipped']:,}{target} |")
