#!/usr/bin/env python3
"""Runs the README's shell blocks, so every command it shows keeps working.

Each ```sh block must follow a marker comment saying how it is checked:

  <!-- readme: run [expect=TEXT] [creates=PATH] -->
      run with bash -e in a fresh copy of the repository; must exit 0 (within
      10 minutes), print TEXT if given, and leave PATH if given. Background jobs the
      block starts are stopped when it ends.
  <!-- readme: serve URL [lines=N] -->
      start the block (or its first N lines) in a fresh copy; it passes once URL
      answers 200, then it is stopped.
  <!-- readme: aws -->
      needs an AWS account: each `aws SERVICE OPERATION --option ...` must exist in
      the AWS CLI (`--generate-cli-skeleton`, offline), each `sam` command and option
      in SAM's help, and the names it uses (stack outputs in CamelCase, the stack
      name, the token's parameter `/<stack>/publish-token`) must be the template's and
      samconfig.toml's.
  <!-- readme: skip REASON -->
      not run here, for the reason given.

A block without a marker fails the run. Each block gets a fresh copy of the files git tracks
(at target/readme/work, recreated per block), `.tools` linked from the repository,
and the repository's `target/` as CARGO_TARGET_DIR, so nothing is built twice.

Usage: scripts/readme.py [README.md] [--only LINE]
"""

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = re.compile(r"<!--\s*readme:\s*(\w+)\s*(.*?)\s*-->")
RUN_TIMEOUT = 600
SERVE_TIMEOUT = 600
# Options every aws command takes (not part of an operation's input).
AWS_GLOBAL = {"--region", "--query", "--output", "--profile", "--endpoint-url", "--no-cli-pager"}


class Block:
    def __init__(self, line, kind, args, text):
        self.line, self.kind, self.args, self.text = line, kind, args, text

    def opt(self, name):
        for word in shlex.split(self.args):
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
        return None


def blocks(readme):
    """Every ```sh block with its marker; a missing marker is an error."""
    lines = open(readme, encoding="utf-8").read().split("\n")
    found, errors = [], []
    i = 0
    while i < len(lines):
        fence = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        indent, lang = fence.group(1), fence.group(2)
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if lang in ("sh", "bash", "shell"):
            body = "\n".join(l[len(indent):] if l.startswith(indent) else l for l in lines[i + 1:end])
            before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.search(before)
            if marker:
                found.append(Block(i + 1, marker.group(1), marker.group(2), body))
            else:
                errors.append(f"{readme}:{i + 1}: a sh block without a <!-- readme: ... --> marker before it")
        i = end + 1
    return found, errors


def fresh_copy():
    """A fresh copy of the tracked files, `.tools` linked, at one fixed path: Cargo keys
    a path package's build on its path, so a new path per block would rebuild the
    workspace each time; copies keep their files' times, so nothing is rebuilt."""
    work = os.path.join(ROOT, "target", "readme", "work")
    shutil.rmtree(work, ignore_errors=True)
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = os.path.join(ROOT, f)
        if not os.path.isfile(src):
            continue
        dst = os.path.join(work, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    os.symlink(os.path.join(ROOT, ".tools"), os.path.join(work, ".tools"))
    return work


def env_for():
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = os.path.join(ROOT, "target")
    # The blocks' own settings only: none from the test run around them.
    for k in ("AWS_ENDPOINT_URL", "MOTO_ENDPOINT", "BLOG_TOKEN", "BLOG_ENDPOINT", "BLOG_TABLE", "BLOG_BUCKET"):
        env.pop(k, None)
    return env


def ports_free(text):
    """The fixed loopback ports a block listens on must be free, or it would test another server."""
    busy = []
    for port in sorted({int(p) for p in re.findall(r"(?:127\.0\.0\.1:|-P |-p )(\d{4,5})", text)}):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


def stop(proc):
    """Stops the block and everything it started (one process group), and waits until
    all of it is gone, so the next block finds its ports free."""
    def gone():
        proc.poll()
        try:
            os.killpg(proc.pid, 0)
            return False
        except ProcessLookupError:
            return True

    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if gone():
            return
        os.killpg(proc.pid, sig)
        deadline = time.time() + wait
        while time.time() < deadline and not gone():
            time.sleep(0.2)
    if not gone():
        raise RuntimeError(f"processes of the block (group {proc.pid}) survived SIGKILL")


RUNNING = []


def on_signal(signum, _frame):
    """Killed from outside: stop the block's processes first, then go."""
    for proc in RUNNING:
        stop(proc)
    sys.exit(128 + signum)


def start(block, script, log):
    busy = ports_free(script)
    if busy:
        raise RuntimeError(f"port(s) {busy} already in use: stop what listens there and run again")
    cwd = fresh_copy()
    proc = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, env=env_for(),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    RUNNING.append(proc)
    return proc, cwd


def check_run(block, log_path):
    with open(log_path, "w") as log:
        proc, cwd = start(block, block.text, log)
        try:
            code = proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            code = "timeout"
        finally:
            stop(proc)
            RUNNING.remove(proc)
    out = open(log_path, encoding="utf-8", errors="replace").read()
    if code != 0:
        raise RuntimeError(f"exited with {code}")
    expect = block.opt("expect")
    if expect and expect not in out:
        raise RuntimeError(f"output lacks {expect!r}")
    creates = block.opt("creates")
    if creates and not os.path.exists(os.path.join(cwd, creates)):
        raise RuntimeError(f"did not create {creates}")


def check_serve(block, log_path):
    words = shlex.split(block.args)
    url = words[0]
    lines = block.opt("lines")
    script = "\n".join(block.text.split("\n")[: int(lines)]) if lines else block.text
    with open(log_path, "w") as log:
        proc, cwd = start(block, script, log)
        try:
            deadline = time.time() + SERVE_TIMEOUT
            while time.time() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"stopped with {proc.returncode} before {url} answered")
                try:
                    with urllib.request.urlopen(url, timeout=5) as res:
                        if res.status == 200:
                            return
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(1)
            raise RuntimeError(f"{url} did not answer 200 within {SERVE_TIMEOUT} s")
        finally:
            stop(proc)
            RUNNING.remove(proc)


def commands(text, program):
    """Each `program ...` command in the block: continuations joined, cut at | ; & ) and comments."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.split("\n"):
        line = line.split(" #")[0]
        for m in re.finditer(r"(?:^|[\s(&;|])" + program + r"\s", line):
            rest = line[m.end():]
            rest = re.split(r"\s[|;)]|\s&&|\)|\|", rest)[0]
            out.append(shlex.split(rest))
    return out


def template_names():
    """The templates' parameter and output names (the stack's and the pipeline's), and
    the stack name samconfig.toml sets."""
    names = set()
    for template in ("template.yaml", os.path.join("pipeline", "deploy-role.yaml")):
        text = open(os.path.join(ROOT, template), encoding="utf-8").read()
        for section in ("Parameters", "Outputs"):
            m = re.search(r"^" + section + r":\n((?:  .*\n|\n)+)", text, re.M)
            if m:
                names |= set(re.findall(r"^  (\w+):", m.group(1), re.M))
    stack = re.search(r'stack_name\s*=\s*"([^"]+)"', open(os.path.join(ROOT, "samconfig.toml")).read()).group(1)
    return names, stack


def aws_cli():
    path = os.path.join(ROOT, ".tools", "awscli", "bin", "aws")
    if not os.path.exists(path):
        raise RuntimeError(f"{path} is missing: scripts/test.sh installs it")
    return path


def skeleton(aws, service, operation):
    res = subprocess.run([aws, service, operation, "--generate-cli-skeleton", "input"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})
    if res.returncode != 0:
        raise RuntimeError(f"aws {service} {operation} is no AWS CLI operation: {res.stderr.strip()[:200]}")
    return json.loads(res.stdout)


def option_ok(option, fields):
    """`--stack-name` is StackName; `--no-x` sets X false."""
    name = option[2:]
    if name.startswith("no-"):
        name = name[3:]
    camel = "".join(p.capitalize() for p in name.split("-"))
    return camel.lower() in {f.lower() for f in fields}


def check_aws(block, _log_path):
    names, stack = template_names()
    text = block.text
    problems = []
    aws = aws_cli() if commands(text, "aws") else None
    for words in commands(text, "aws"):
        if len(words) < 2 or words[0].startswith("-"):
            problems.append(f"cannot read the aws command {' '.join(words)!r}")
            continue
        service, operation = words[0], words[1]
        fields = skeleton(aws, service, operation)
        for w in words[2:]:
            if w.startswith("--") and w not in AWS_GLOBAL and not option_ok(w, fields):
                problems.append(f"aws {service} {operation} has no option {w}")
    sam = os.path.join(ROOT, ".tools", "venv", "bin", "sam")
    for words in commands(text, "sam"):
        res = subprocess.run([sam, words[0], "--help"], capture_output=True, text=True, timeout=120)
        help_text = res.stdout
        if res.returncode != 0 or not help_text.strip():
            problems.append(f"sam {words[0]} is no SAM CLI command")
            continue
        for w in words[1:]:
            if w.startswith("--") and not re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", help_text):
                problems.append(f"sam {words[0]} has no option {w}")
    # Names the block relies on: CamelCase words in quotes or <...> are outputs or
    # parameters; the stack and token parameter names follow samconfig.toml.
    for name in set(re.findall(r"'(\w+)'|<(\w+)>", text)):
        n = name[0] or name[1]
        if re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+", n) and n not in names:
            problems.append(f"{n} is no parameter or output of template.yaml")
    for m in re.finditer(r"--stack-name\s+(\S+)", text):
        if m.group(1) not in (stack, f"{stack}-pipeline"):
            problems.append(f"stack {m.group(1)} is not samconfig.toml's {stack} (or its {stack}-pipeline)")
    for m in re.finditer(r"ssm get-parameter[^\n]*--name\s+(\S+)", text):
        if m.group(1) != f"/{stack}/publish-token":
            problems.append(f"parameter {m.group(1)} is not the template's /{stack}/publish-token")
    if problems:
        raise RuntimeError("; ".join(problems))


CHECKS = {"run": check_run, "serve": check_serve, "aws": check_aws}


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        if i + 1 >= len(args) or not args[i + 1].isdigit():
            sys.exit("--only takes the line number of a block's opening fence")
        only = int(args[i + 1])
        del args[i:i + 2]
    readme = args[0] if args else os.path.join(ROOT, "README.md")
    found, errors = blocks(readme)
    if any("curl " in b.text for b in found if b.kind in ("run", "serve")) and not shutil.which("curl"):
        errors.append("the README's examples use curl: install it (Debian: apt-get install curl)")
        found = []
    logs = os.path.join(ROOT, "target", "readme")
    os.makedirs(logs, exist_ok=True)
    rows = []
    for b in found:
        if only and b.line != only:
            continue
        if b.kind == "skip":
            rows.append((b.line, "skip", b.args, ""))
            continue
        check = CHECKS.get(b.kind)
        if check is None:
            errors.append(f"{readme}:{b.line}: unknown marker kind {b.kind!r}")
            continue
        log_path = os.path.join(logs, f"block-{b.line}.log")
        started = time.time()
        try:
            check(b, log_path)
            rows.append((b.line, b.kind, "ok", f"{time.time() - started:.0f} s"))
        except Exception as e:  # noqa: BLE001 - every failure is reported with its block
            rows.append((b.line, b.kind, "FAILED", f"{e} (log: {log_path})"))
            errors.append(f"{readme}:{b.line}: {b.kind} block failed: {e}; its output is in {log_path}")
    if only and not rows and not errors:
        errors.append(f"{readme}: no sh block opens at line {only}")
    print("| line | check | result | |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    for e in errors:
        print(e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
