#!/usr/bin/env bash
# Image processing at upload, measured: photo-like test JPEGs (3, 12 and 48 MP, made by
# bench/images with EXIF and GPS blocks, at phone quality) processed by the same code as
# the publish function, built with its release profile, each in its own process under a
# cgroup CPU quota equal to a Lambda memory size's share (1,769 MB = one vCPU). Prints a
# table: time, peak memory, per megapixel; bytes of each variant against the upload.
# Not part of the test command. Usage: scripts/bench_images.sh [MB ...] (default 1024 2048)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$root"
sizes=("${@:-1024 2048}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})
out=$root/target/bench/images
mkdir -p "$out"

step "tools (cargo-lambda, zig)"
install "$venv" scripts/requirements-test.txt
export PATH="$venv/bin:$PATH"
if [ ! -w /sys/fs/cgroup/cpu ]; then
  echo "the benchmark needs a writable cgroup v1 cpu hierarchy at /sys/fs/cgroup/cpu (run as root)" >&2
  exit 1
fi

step "build: the processor with the release profile"
cargo lambda build --release -p blog-bench-images
bin=$root/target/lambda/bench-images/bootstrap

step "photos"
"$bin" make "$out/photos"
ls -l "$out/photos"

results=$out/results.jsonl
: > "$results"
for mb in "${sizes[@]}"; do
  group=/sys/fs/cgroup/cpu/blog-bench-images-$$-$mb
  mkdir -p "$group"
  echo 100000 > "$group/cpu.cfs_period_us"
  # The share of one vCPU a function of this size gets (tests/src/cpu_share.rs).
  echo $(( (mb * 100000 + 884) / 1769 )) > "$group/cpu.cfs_quota_us"
  for photo in "$out"/photos/*.jpg; do
    step "$(basename "$photo") at $mb MB"
    # The subshell joins the group, then becomes the processor.
    (echo "$BASHPID" > "$group/cgroup.procs"; exec "$bin" process "$photo") \
      | python3 -c "import json,sys; r=json.loads(sys.stdin.read()); r['mb']=$mb; print(json.dumps(r))" >> "$results"
  done
  rmdir "$group"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| photo | memory | upload | time | time / MP | peak RSS | peak / MP |")
print("|---|---:|---:|---:|---:|---:|---:|")
for r in rows:
    mp = r["width"] * r["height"] / 1e6
    print(f"| {r['width']}×{r['height']} ({mp:.1f} MP) | {r['mb']} MB | {r['bytes']/1e6:.2f} MB | "
          f"{r['ms']/1e3:.2f} s | {r['ms']/mp:.0f} ms | {r['peak_kb']/1024:.0f} MiB | {r['peak_kb']/1024/mp:.1f} MiB |")
print()
print("| photo | variant | bytes | upload ÷ variant |")
print("|---|---|---:|---:|")
seen = set()
for r in rows:
    if r["file"] in seen:
        continue
    seen.add(r["file"])
    for v in r["variants"]:
        name = v["key"].split("/", 1)[1]
        print(f"| {r['width']}×{r['height']} | {name} | {v['bytes']:,} | {r['bytes']/v['bytes']:.1f}× |")
PY
