#!/usr/bin/python3
"""Docs that run (issue 15): the shell blocks of README.md and docs/*.md.

`commands` finds every fenced shell block of README.md and docs/*.md. Each
must be marked by an HTML comment right before it (docs/doc-tests.md):

    <!-- doc-test: run -->                    run every command of the block
    <!-- doc-test: skip: needs Docker -->     never run; the reason is printed

An unmarked shell block fails the test, so a command added to the docs is a
command tested. The runnable ones run, in document order, in a workspace
that looks like a fresh clone after `scripts/run` (build/distiller,
config/, docker/, var/ as the data directory of a node this test started on
a free port), with 127.0.0.1:8000 replaced by that node's address; each
command's exit code, a curl's HTTP status and the output documented next to
it are checked.

`config` feeds every key of docs/configuration.md to the loader
(`distiller config check` and `config show`): its documented default, the
bounds of its documented range (and one step beyond, which must fail), every
value of an enumeration; and checks that every `section.key` the docs name
exists.

Python 3 standard library only (Debian's python3).
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

SHELL_INFOS = {"sh", "bash", "shell", "console", "sh-session", "zsh"}
# A bare (or `text`) block whose first line reads like a command is a shell
# block without its info string: it must be marked too.
COMMAND_LIKE = re.compile(
    r"^(\$ |curl |build/|distiller |scripts/|psql |kcat |docker |docker-compose"
    r" |promtool |sudo |cd |rm |cp |export |cat |[A-Z_]+=\S* )")
MARKER = re.compile(r"<!--\s*doc-test:(.*?)-->", re.S)
FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)(.*)$")
PLACEHOLDER = re.compile(r"<([a-z][a-z0-9_]*)>")
STATUS_COMMENT = re.compile(r"^#\s*([1-5]\d\d)\b\s*(.*)$")
JSON_PAIR = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:\s*("(?:[^"\\]|\\.)*"'
                       r'|-?\d+(?:\.\d+)?|true|false|null|[\[{])')
HTTP_CODE = re.compile(r"^doc-test: http_code=(\d{3})$", re.M)


class Failure(Exception):
    pass


def parse_duration(text):
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", text)
    if not m:
        raise Failure(f"bad duration {text!r} (e.g. 500ms, 5s, 2m)")
    value = float(m.group(1))
    return value / 1000 if m.group(2) == "ms" else value * (
        60 if m.group(2) == "m" else 1)


# -- Markdown ---------------------------------------------------------------


class Block:
    def __init__(self, path, line, info, lines, marker):
        self.path, self.line, self.info = path, line, info
        self.lines, self.marker = lines, marker

    @property
    def where(self):
        return f"{self.path}:{self.line}"

    def is_shell(self):
        if self.info in SHELL_INFOS:
            return True
        if self.info not in ("", "text"):
            return False
        first = next((l for l in self.lines if l.strip()), "")
        return bool(COMMAND_LIKE.match(first.strip()))


def read_blocks(path, shown):
    """Every fenced block of `path` with the doc-test marker right before it
    (only blank lines in between)."""
    blocks, lines = [], open(path, encoding="utf-8").read().split("\n")
    i, marker, marker_line = 0, None, 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("<!--"):
            end = i
            while end + 1 < len(lines) and "-->" not in lines[end]:
                end += 1
            m = MARKER.fullmatch("\n".join(lines[i:end + 1]).strip())
            if m:
                if marker is not None:
                    raise Failure(f"{shown}:{marker_line + 1}: a doc-test "
                                  "marker with no code block after it")
                marker, marker_line = m.group(1), i
                i = end + 1
                continue
        f = FENCE.match(line)
        if f:
            fence, info = f.group(2), f.group(3).lower()
            body, j = [], i + 1
            while j < len(lines) and not lines[j].strip().startswith(fence):
                body.append(lines[j])
                j += 1
            blocks.append(Block(shown, i + 1, info, body, marker))
            marker = None
            i = j + 1
            continue
        if line.strip() and marker is not None:
            raise Failure(f"{shown}:{marker_line + 1}: a doc-test marker "
                          "must come right before its code block")
        i += 1
    if marker is not None:
        raise Failure(f"{shown}:{marker_line + 1}: a doc-test marker with no "
                      "code block after it")
    return blocks


class Plan:
    """A parsed marker: run or skip, and the per-command directives."""

    def __init__(self, text, where):
        rows = [r.strip() for r in text.strip().split("\n") if r.strip()]
        head = rows[0] if rows else ""
        self.run, self.reason = False, ""
        self.files, self.uploads, self.commands = {}, [], {}
        self.timeout = 60.0
        if head == "run":
            self.run = True
        elif head.startswith("skip:") and head[5:].strip():
            self.reason = head[5:].strip()
        else:
            raise Failure(f"{where}: the marker must start with 'run' or "
                          f"'skip: <reason>', got {head!r}")
        for row in rows[1:]:
            m = re.fullmatch(r"command (\d+) (skip|exit|interrupt|expect|"
                             r"stream):\s*(.*)", row)
            if m:
                n = int(m.group(1))
                self.commands.setdefault(n, {})[m.group(2)] = m.group(3)
                continue
            m = re.fullmatch(r"(files|upload|timeout):\s*(.*)", row)
            if not m:
                raise Failure(f"{where}: unknown marker line {row!r}")
            key, value = m.groups()
            if key == "timeout":
                self.timeout = parse_duration(value)
            elif key == "files":
                for item in value.split(","):
                    name, _, source = item.strip().partition(" from ")
                    if not source:
                        raise Failure(f"{where}: files: NAME from PATH, got "
                                      f"{item!r}")
                    self.files[name.strip()] = source.strip()
            else:
                self.uploads += [u.strip() for u in value.split(",")]


class Command:
    def __init__(self, text, line):
        self.text, self.line = text, line
        self.status, self.shape = None, None


def split_commands(block):
    """The block's commands: continuation lines joined, here-documents kept
    with their command, comment lines dropped except `# 202 {…}` right after
    a command (its documented status and answer)."""
    out, i, lines = [], 0, block.lines
    transcript = block.info == "console" or any(
        l.startswith("$ ") for l in lines)
    while i < len(lines):
        line, start = lines[i], block.line + 1 + i
        stripped = line.strip()
        if transcript:
            if not stripped.startswith("$ "):
                i += 1
                continue
            line = stripped[2:]
            stripped = line
        if not stripped:
            i += 1
            continue
        if stripped.startswith("#"):
            m = STATUS_COMMENT.match(stripped)
            if m and out and out[-1].status is None:
                out[-1].status = int(m.group(1))
                out[-1].shape = m.group(2).strip() or None
            i += 1
            continue
        text = line
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text + "\n" + lines[i]
        here = re.search(r"<<-?\s*'?\"?([A-Za-z_]+)'?\"?", text)
        if here:
            word = here.group(1)
            while i + 1 < len(lines):
                i += 1
                text += "\n" + lines[i]
                if lines[i].strip() == word:
                    break
        out.append(Command(text, start))
        i += 1
    return out


# -- the workspace and its node ----------------------------------------------


def text_pdf(text):
    """A one-font PDF with `text` (Latin-1; others become '?'), wrapped at 90
    columns, 50 lines a page — enough for poppler."""
    words, lines, cur = text.split(), [], ""
    for w in words:
        if len(cur) + len(w) + 1 > 90:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    if cur:
        lines.append(cur)
    pages = [lines[i:i + 50] for i in range(0, len(lines), 50)] or [[]]
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None,
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
               "/Encoding /WinAnsiEncoding >>"]
    kids = []
    for page in pages:
        ops = ["BT /F1 11 Tf 14 TL 50 750 Td"]
        for l in page:
            l = l.encode("latin-1", "replace").decode("latin-1")
            l = l.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({l}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops)
        objects.append(f"<< /Length {len(stream.encode('latin-1'))} >>\n"
                       f"stream\n{stream}\nendstream")
        content = len(objects)
        objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       f"/Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {content} 0 R >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = (f"<< /Type /Pages /Kids [{' '.join(kids)}] "
                  f"/Count {len(kids)} >>")
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return out


def clean_env(ws):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DISTILLER_") and k not in (
               "KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "CONSUMER_ID")}
    env["PATH"] = f"{ws}/bin:/usr/local/bin:/usr/bin:/bin"
    env["HOME"] = f"{ws}/home"
    env["LC_ALL"] = "C.UTF-8"
    return env


class Node:
    """`build/distiller up --port 0` in the workspace (data in var/)."""

    def __init__(self, ws, env):
        self.ws, self.env = ws, env
        self.out = open(f"{ws}/up.out", "w+")
        self.err = open(f"{ws}/up.err", "w+")
        self.proc = subprocess.Popen(
            ["build/distiller", "up", "--port", "0"], cwd=ws, env=env,
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err,
            start_new_session=True)
        self.port = None

    def log(self):
        self.err.flush()
        return open(f"{self.ws}/up.err").read()

    def banner(self):
        self.out.flush()
        return open(f"{self.ws}/up.out").read()

    def wait_ready(self, deadline):
        info = f"{self.ws}/var/node.json"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure("the node exited with code "
                              f"{self.proc.returncode}:\n{self.log()[-3000:]}")
            if os.path.exists(info) and self.port is None:
                try:
                    self.port = json.load(open(info))["http_port"]
                except (ValueError, KeyError):
                    pass
            if self.port is not None:
                try:
                    with urllib.request.urlopen(self.url("/ready"),
                                                timeout=2) as r:
                        if r.status == 200:
                            return
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.1)
        raise Failure("the node was not ready in time:\n" + self.log()[-3000:])

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.kill_postmaster()
        return self.proc.returncode

    def kill_postmaster(self):
        pid_file = f"{self.ws}/var/pg/postmaster.pid"
        try:
            pid = int(open(pid_file).readline())
            os.kill(pid, signal.SIGQUIT)
        except (OSError, ValueError):
            return
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.05)


def http_json(url, data=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def upload(node, path, deadline):
    """Uploads `path` and waits until its job is completed."""
    name = os.path.basename(path)
    boundary = "doctestboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\n\r\n").encode() + open(path, "rb").read() \
        + f"\r\n--{boundary}--\r\n".encode()
    job = http_json(node.url("/api/v2/documents/upload"), body, {
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    while time.monotonic() < deadline:
        st = http_json(node.url(f"/api/v2/documents/status/{job['job_id']}"))
        if st["status"] == "completed":
            return
        if st["status"] == "failed":
            raise Failure(f"upload of {name} failed: {st.get('error')}")
        time.sleep(0.1)
    raise Failure(f"upload of {name} did not complete in time")


# -- running commands ---------------------------------------------------------


class Runner:
    def __init__(self, source, ws, node):
        self.source, self.ws, self.node = source, ws, node
        self.values = {}  # placeholder name -> last value seen in an answer
        self.state = f"{ws}/shell.state"
        open(self.state, "w").close()
        self.env = clean_env(ws)
        self.ran = 0
        self.skipped = []  # (where, reason)
        self.failures = []

    def substitute(self, text, where):
        port = str(self.node.port)
        for host in ("127.0.0.1:8000", "localhost:8000"):
            text = text.replace(host, f"127.0.0.1:{port}")

        def fill(m):
            name = m.group(1)
            if name not in self.values:
                raise Failure(f"{where}: no value for <{name}>: no earlier "
                              f"answer had a \"{name}\" field")
            return self.values[name]

        # Here-documents and redirections have no <word> of this form.
        return PLACEHOLDER.sub(fill, text)

    def learn(self, stdout):
        try:
            doc = json.loads(stdout)
        except ValueError:
            return
        if isinstance(doc, dict):
            for k, v in doc.items():
                if k.endswith("_id") and isinstance(v, str):
                    self.values[k] = v

    def run_block(self, block, plan):
        for name, src in plan.files.items():
            data = open(os.path.join(self.source, src), "rb").read()
            if name.endswith(".pdf") and not src.endswith(".pdf"):
                data = text_pdf(data.decode("utf-8"))
            with open(os.path.join(self.ws, name), "wb") as f:
                f.write(data)
        for name in plan.uploads:
            upload(self.node, os.path.join(self.ws, name),
                   time.monotonic() + 180)  # sanitizer builds are slow
        commands = split_commands(block)
        for n in plan.commands:
            if n < 1 or n > len(commands):
                raise Failure(f"{block.where}: the marker names command {n}; "
                              f"the block has {len(commands)}")
        for n, cmd in enumerate(commands, 1):
            opts = plan.commands.get(n, {})
            where = f"{block.path}:{cmd.line}"
            first = cmd.text.split("\n")[0]
            if "skip" in opts:
                self.skipped.append((where, opts["skip"]))
                print(f"  - #{n} {first}\n      not run: {opts['skip']}")
                continue
            try:
                self.run_command(cmd, opts, plan, where)
                self.ran += 1
                print(f"  ✓ #{n} {first}")
            except Failure as e:
                self.failures.append(str(e))
                print(f"  ✗ #{n} {first}\n      {e}")

    def run_command(self, cmd, opts, plan, where):
        text = self.substitute(cmd.text, where)
        names = set(re.findall(r"(?:^|[;&|(]\s*)([A-Za-z_][A-Za-z0-9_]*)=",
                               text, re.M))
        dump = "".join(f"declare -p {n} >> {self.state} 2>/dev/null\n"
                       for n in sorted(names))
        script = (f". {self.state}\n{text}\n__doc_rc=$?\n{dump}"
                  "exit $__doc_rc\n")
        stream = "stream" in opts or re.search(r"\bcurl\b.*\s-N\b", text)
        interrupt = opts.get("interrupt")
        limit = parse_duration(interrupt or opts.get("stream") or "4s") \
            if (interrupt or stream) else plan.timeout
        proc = subprocess.Popen(["bash", "-c", script], cwd=self.ws,
                                env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        stopped = False
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            stopped = True
            os.killpg(proc.pid, signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
        out = out.decode("utf-8", "replace")
        err = err.decode("utf-8", "replace")
        codes = HTTP_CODE.findall(err)
        err = HTTP_CODE.sub("", err).strip()
        rc = proc.returncode
        tail = f"\n      stdout: {out[-800:]!r}\n      stderr: {err[-800:]!r}"
        if stopped and not (interrupt or stream):
            raise Failure(f"still running after {limit:.0f} s (declare "
                          "'command N interrupt: 5s' if it runs until "
                          f"Ctrl-C){tail}")
        want = int(opts.get("exit", "0"))
        if stream and stopped:
            if not re.search(r"^(event|data|retry|id):|^: ", out, re.M):
                raise Failure(f"no Server-Sent Events within {limit} s{tail}")
        elif rc != want:
            raise Failure(f"exit code {rc}, documented {want}{tail}")
        if codes:
            code = int(codes[-1])
            if cmd.status is not None and code != cmd.status:
                raise Failure(f"HTTP {code}, documented {cmd.status}{tail}")
            if cmd.status is None and not 200 <= code < 400:
                raise Failure(f"HTTP {code}{tail}")
        if cmd.shape and cmd.shape.startswith("{"):
            check_shape(cmd.shape, out, tail)
        if "expect" in opts:
            pattern = opts["expect"].strip()
            if pattern.startswith("/") and pattern.endswith("/"):
                pattern = pattern[1:-1]
            if not re.search(pattern, out + "\n" + err, re.M):
                raise Failure(f"output does not match /{pattern}/{tail}")
        self.learn(out)


def check_shape(shape, out, tail):
    """`{"job_id":"…","status":"pending",…}`: every key must be in the
    answer; a value other than "…" must equal."""
    try:
        doc = json.loads(out)
    except ValueError:
        raise Failure(f"documented a JSON answer, got none{tail}")
    if not isinstance(doc, dict):
        raise Failure(f"documented a JSON object{tail}")
    for key, raw in JSON_PAIR.findall(shape):
        if key not in doc:
            raise Failure(f"the answer has no \"{key}\" (documented {shape})"
                          f"{tail}")
        if raw in ("[", "{") or "…" in raw:
            continue
        if json.loads(raw) != doc[key]:
            raise Failure(f"\"{key}\" is {json.dumps(doc[key])}, documented "
                          f"{raw}{tail}")


# -- commands -----------------------------------------------------------------


def doc_files(source):
    files = ["README.md"] + sorted(
        f"docs/{n}" for n in os.listdir(os.path.join(source, "docs"))
        if n.endswith(".md"))
    return files


def make_workspace(source, binary):
    ws = tempfile.mkdtemp(prefix="distiller-docs-")
    os.chmod(ws, 0o777)  # the private PostgreSQL runs as `postgres` as root
    for d in ("build", "bin", "home"):
        os.mkdir(os.path.join(ws, d))
    os.symlink(binary, f"{ws}/build/distiller")
    os.symlink(binary, f"{ws}/bin/distiller")
    for d in ("config", "docker", "tests"):
        os.symlink(os.path.join(source, d), f"{ws}/{d}")
    curl = shutil.which("curl", path="/usr/bin:/bin")
    with open(f"{ws}/bin/curl", "w") as f:
        # The real curl, with its HTTP status on stderr for the checks.
        f.write("#!/bin/sh\nexec " + curl +
                " -sS -w '%{stderr}\\ndoc-test: http_code=%{http_code}\\n'"
                ' "$@"\n')
    os.chmod(f"{ws}/bin/curl", 0o755)
    return ws


def commands_test(args):
    started = time.monotonic()
    blocks, unmarked = [], []
    for rel in doc_files(args.source):
        for b in read_blocks(os.path.join(args.source, rel), rel):
            if not b.is_shell():
                if b.marker is not None:
                    raise Failure(f"{b.where}: a doc-test marker on a block "
                                  f"that is not a shell block ({b.info!r})")
                continue
            if b.marker is None:
                unmarked.append(b)
            else:
                blocks.append((b, Plan(b.marker, b.where)))
    if unmarked:
        for b in unmarked:
            print(f"{b.where}: shell block without a doc-test marker "
                  "(<!-- doc-test: run --> or <!-- doc-test: skip: why -->, "
                  "docs/doc-tests.md)")
        raise Failure(f"{len(unmarked)} unmarked shell blocks")
    runnable = [(b, p) for b, p in blocks if p.run]
    skipped = [(b, p) for b, p in blocks if not p.run]
    ws = make_workspace(args.source, args.distiller)
    node = None
    try:
        env = clean_env(ws)
        node = Node(ws, env)
        node.wait_ready(time.monotonic() + 180)
        banner = node.banner()
        print(f"node up on port {node.port} in {time.monotonic() - started:.1f}"
              " s")
        runner = Runner(args.source, ws, node)
        for want in (node.url("/"), node.url("/docs")):
            if want not in banner:
                runner.failures.append(f"the start banner does not name "
                                       f"{want}:\n{banner}")
        for b, p in blocks:
            if not p.run:
                print(f"{b.where}: not run: {p.reason}")
                continue
            print(f"{b.where}: run")
            try:
                runner.run_block(b, p)
            except Failure as e:
                runner.failures.append(str(e))
                print(f"  ✗ {e}")
        runner.failures += check_error_codes(args.source, node)
        runner.failures += check_links_and_paths(args.source, ws, node)
        code = node.stop()
        if code != 0:
            runner.failures.append(f"Ctrl-C: the node exited with {code}, "
                                   "documented 0")
        errors = [l for l in node.log().split("\n") if " level=error " in l]
        if errors:
            runner.failures.append("the node logged errors while the docs' "
                                   "commands ran:\n" + "\n".join(errors[:10]))
        print(f"\ndocs: {len(blocks)} shell blocks in "
              f"{len(doc_files(args.source))} files: {len(runnable)} run "
              f"({runner.ran} commands executed, {len(runner.skipped)} "
              f"commands in them not run), {len(skipped)} not run; "
              f"{time.monotonic() - started:.0f} s")
        for b, p in skipped:
            print(f"  not run: {b.where}: {p.reason}")
        for where, reason in runner.skipped:
            print(f"  not run: {where}: {reason}")
        if runner.failures:
            print(f"\n{len(runner.failures)} failures:")
            for f in runner.failures:
                print("  - " + f.replace("\n", "\n    "))
            return 1
        return 0
    finally:
        if node is not None:
            node.stop()
        if args.keep:
            print(f"workspace kept: {ws}")
        else:
            shutil.rmtree(ws, ignore_errors=True)


# -- what the docs say around the blocks -------------------------------------

NODE_URL = re.compile(r"<(http://127\.0\.0\.1:8000(/[^>\s]*))>")
DATA_ROW = re.compile(r"^\| `(var/[^`]*)` \|")
LAYOUT_ROW = re.compile(r"^\| `([a-z][a-z0-9_.-]*/)` \|")


def check_links_and_paths(source, ws, node):
    """README's and the docs' links to the node answer 200; the data
    directory holds what operations.md's table lists; README's layout
    table names folders that exist, and its scripts/ row the scripts."""
    failures, links, paths = [], 0, 0
    for rel in doc_files(source):
        text = open(os.path.join(source, rel), encoding="utf-8").read()
        for full, path in sorted(set(NODE_URL.findall(text))):
            links += 1
            try:
                with urllib.request.urlopen(node.url(path), timeout=10) as r:
                    if r.status != 200:
                        failures.append(f"{rel}: {full} answers {r.status}")
            except (urllib.error.URLError, OSError) as e:
                failures.append(f"{rel}: {full}: {e}")
    ops = open(os.path.join(source, "docs/operations.md"), encoding="utf-8")
    for line in ops:
        m = DATA_ROW.match(line)
        if m:
            paths += 1
            if not os.path.exists(os.path.join(ws, m.group(1))):
                failures.append(f"docs/operations.md: {m.group(1)} is not "
                                "in the data directory of a running node")
    readme = open(os.path.join(source, "README.md"), encoding="utf-8").read()
    for line in readme.split("\n"):
        m = LAYOUT_ROW.match(line)
        if not m:
            continue
        paths += 1
        if not os.path.isdir(os.path.join(source, m.group(1))):
            failures.append(f"README.md: the layout lists {m.group(1)}, "
                            "which does not exist")
        if m.group(1) == "scripts/":
            for name in re.findall(r"`([a-z][a-z0-9-]*)`", line)[1:]:
                if not os.path.exists(os.path.join(source, "scripts", name)):
                    failures.append(f"README.md: scripts/{name} does not "
                                    "exist")
        for sub in re.findall(r"`([a-z][a-z0-9_]*/)`", line.split("|")[2]):
            if m.group(1) in ("tests/", "actors/") and not os.path.isdir(
                    os.path.join(source, m.group(1), sub)):
                failures.append(f"README.md: {m.group(1)}{sub} does not "
                                "exist")
    print(f"{links} links to the node answered, {paths} documented paths "
          "checked")
    return failures


# -- error codes: docs vs /openapi.json ---------------------------------------

ROUTE_ROW = re.compile(r"^\|\s*`(GET|POST|PUT|DELETE|PATCH) (/[^`? ]*)[^`]*`")
ERROR_TOKEN = re.compile(r"`([a-z][a-z0-9_]*)`|(?<![\w.,])([45]\d\d)(?![\w.,])")


def documented_errors(path):
    """(method, route) -> {(status, code)} from the route tables' last
    column."""
    out = {}
    for line in open(path, encoding="utf-8"):
        m = ROUTE_ROW.match(line)
        if not m:
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) < 3:
            continue
        # Codes only: what is in parentheses explains them.
        errors = cells[-1]
        while True:
            shorter = re.sub(r"\([^()]*\)", "", errors)
            if shorter == errors:
                break
            errors = shorter
        status, pairs = None, set()
        for code, number in ERROR_TOKEN.findall(errors):
            if number:
                status = int(number)
            elif status is not None:
                pairs.add((status, code))
        out[(m.group(1).lower(), m.group(2))] = pairs
    return out


def check_error_codes(source, node):
    """The error codes of the pipelines' route tables are the ones the
    node's /openapi.json declares (x-error-codes), status by status."""
    spec = http_json(node.url("/openapi.json"))
    failures, compared = [], 0
    for rel in ("docs/document-pipeline.md", "docs/thought-pipeline.md"):
        for (method, route), documented in documented_errors(
                os.path.join(source, rel)).items():
            op = spec.get("paths", {}).get(route, {}).get(method)
            if op is None:
                failures.append(f"{rel}: {method.upper()} {route} is not in "
                                "/openapi.json")
                continue
            declared = set()
            for status, resp in op.get("responses", {}).items():
                for code in resp.get("x-error-codes", []):
                    declared.add((int(status), code))
            compared += 1
            # The table may leave out what every route can answer when the
            # database is away (the text above the table says it).
            missing = declared - documented - {(503, "unavailable")}
            extra = documented - declared
            if missing or extra:
                failures.append(
                    f"{rel}: {method.upper()} {route}: error codes differ "
                    f"from /openapi.json: not documented {sorted(missing)}, "
                    f"not declared {sorted(extra)}")
    print(f"error codes of {compared} documented routes compared with "
          "/openapi.json")
    if compared < 10:
        failures.append(f"only {compared} routes found in the route tables")
    return failures


# -- configuration -------------------------------------------------------------

KEY_ROW = re.compile(r"^\| `([a-z0-9_]+\.[a-z0-9_]+)` \| (.*?) \| (.*?) \| "
                     r"(.*?) \| (.*) \|$")


def config_rows(source):
    text = open(os.path.join(source, "docs/configuration.md"),
                encoding="utf-8").read()
    rows = {}
    for line in text.split("\n"):
        m = KEY_ROW.match(line)
        if m:
            default = m.group(2)
            default = "" if default == "(empty)" else default.strip("`")
            rows[m.group(1)] = (default, m.group(3).replace("\\|", "|"),
                                m.group(4), m.group(5))
    return rows


SIZE_UNITS = {"": 1, "KiB": 1024, "MiB": 1 << 20, "GiB": 1 << 30}
DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}


def probes(key, allowed):
    """(value, accepted?) pairs for `allowed` as the table writes it."""
    m = re.fullmatch(r"integer (-?\d+)\.\.(-?\d+)", allowed)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        return [(str(lo), True), (str(hi), True), (str(lo - 1), False),
                (str(hi + 1), False), ("abc", False)]
    m = re.fullmatch(r"number (-?[\d.]+)\.\.(-?[\d.]+)", allowed)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        return [(m.group(1), True), (m.group(2), True),
                (repr(lo - 0.5), False), (repr(hi + 0.5), False),
                ("abc", False)]
    m = re.fullmatch(r"size (\d+)(KiB|MiB|GiB)?\.\.(\d+)(KiB|MiB|GiB)? .*",
                     allowed)
    if m:
        lo = int(m.group(1)) * SIZE_UNITS[m.group(2) or ""]
        hi = int(m.group(3)) * SIZE_UNITS[m.group(4) or ""]
        return [(m.group(1) + (m.group(2) or ""), True),
                (m.group(3) + (m.group(4) or ""), True), (str(lo), True),
                (str(lo - 1), False), (str(hi + 1), False), ("1XB", False)]
    m = re.fullmatch(r"duration >= (\d+)(ms|s|m|h) .*", allowed)
    if m:
        lo = int(m.group(1)) * DURATION_UNITS[m.group(2)]
        cases = [(m.group(1) + m.group(2), True), ("1h", True),
                 ("5 parsecs", False)]
        if lo > 0:
            cases.append((f"{lo - 1}ms", False))
        return cases
    if allowed == "true|false":
        return [("true", True), ("false", True), ("maybe", False)]
    if re.fullmatch(r"[a-z0-9_-]+(\|[a-z0-9_-]+)+", allowed):
        return [(v, True) for v in allowed.split("|")] + [("bogus", False)]
    if allowed in ("string", "comma-separated list"):
        return []
    raise Failure(f"{key}: the test cannot read the range {allowed!r}")


# Keys whose valid values depend on another key: the probe also sets these.
COMPANIONS = {
    "kafka.heartbeat_interval": ["kafka.session_timeout=10h",
                                 "kafka.embedded_session_timeout=10h"],
    "kafka.session_timeout": ["kafka.heartbeat_interval=100ms"],
    "kafka.embedded_session_timeout": ["kafka.heartbeat_interval=100ms"],
    "documents.chunk_overlap": ["documents.chunk_size=100000"],
    "documents.chunk_size": ["documents.chunk_overlap=0"],
    "cluster.unreachable_after": ["cluster.down_after=2h",
                                  "cluster.heartbeat=50ms"],
    "cluster.down_after": ["cluster.unreachable_after=100ms",
                           "cluster.heartbeat=50ms"],
    "cluster.heartbeat": ["cluster.unreachable_after=2h",
                          "cluster.down_after=3h"],
    "embedder.kind": ["embedder.url=http://127.0.0.1:9"],
}
# Requiring tokens needs one (an entry as `distiller auth entry` prints it).
COMPANIONS["auth.required"] = [
    "auth.tokens=sha256:" + hashlib.sha256(b"doc-test").hexdigest() + ":admin"]
for agent in ("backend", "classify", "analyse", "value", "plan", "summarise"):
    COMPANIONS[f"agents.{agent}"] = ["agents.chat_url=http://127.0.0.1:9"]


def config_test(args):
    rows = config_rows(args.source)
    if len(rows) < 50:
        raise Failure(f"only {len(rows)} keys found in docs/configuration.md")
    ws = tempfile.mkdtemp(prefix="distiller-docs-config-")
    env = clean_env(ws)
    env["PATH"] = "/usr/bin:/bin"

    def check(values):
        argv = [args.distiller, "config", "check", "--config", "/dev/null"]
        for v in values:
            argv += ["--set", v]
        r = subprocess.run(argv, cwd=ws, env=env, capture_output=True,
                           text=True, timeout=60)
        return r.returncode, r.stderr.strip()

    try:
        show = subprocess.run(
            [args.distiller, "config", "show", "--config", "/dev/null"],
            cwd=ws, env=env, capture_output=True, text=True, timeout=60)
        if show.returncode != 0:
            raise Failure(f"config show failed: {show.stderr}")
        shown, section = {}, ""
        for line in show.stdout.split("\n"):
            m = re.fullmatch(r"\[([a-z0-9_]+)\]", line)
            if m:
                section = m.group(1)
            m = re.fullmatch(r"([a-z0-9_]+) = (.*)", line)
            if m:
                shown[f"{section}.{m.group(1)}"] = m.group(2)
        failures, cases, env_cases = [], [], []
        for key, (default, allowed, names, meaning) in rows.items():
            if key not in shown:
                failures.append(f"{key}: documented, but `config show` has "
                                "no such key")
                continue
            # "empty means <node.data_dir>/pg": show prints the resolved path.
            m = re.search(r"empty means <node\.data_dir>/([\w.]+)", meaning)
            if not default and m:
                default = f"var/{m.group(1).rstrip('.')}"
            if not show_matches(default, shown[key], allowed):
                failures.append(f"{key}: documented default {default!r}, "
                                f"`config show` prints {shown[key]}")
            extra = COMPANIONS.get(key, [])
            cases.append((key, default, True, extra))
            for value, ok in probes(key, allowed):
                cases.append((key, value, ok, extra))
            # Every documented variable sets the key (seed aliases in their
            # own unit where the table says so).
            env_names = re.findall(r"`([A-Z][A-Z0-9_]*)`( \(in seconds\))?",
                                   names)
            if len(env_names) != len(set(n for n, _ in env_names)):
                failures.append(f"{key}: a variable is listed twice: {names}")
            other = next((v for v, ok in probes(key, allowed)
                          if ok and v != default), None)
            for name, seconds in env_names:
                value = default if other is None else other
                if seconds:  # whole seconds
                    value = "3600"
                elif name.endswith("_MS"):
                    value = "3600000"
                env_cases.append((key, name, value, other is not None))
        for key in shown:
            if key not in rows:
                failures.append(f"{key}: `config show` prints it, "
                                "docs/configuration.md does not list it")

        def probe(case):
            key, value, ok, extra = case
            rc, err = check(extra + [f"{key}={value}"])
            if ok and rc != 0:
                return f"{key}={value!r}: documented as valid, exit {rc}: {err}"
            if not ok and rc != 2:
                return (f"{key}={value!r}: outside the documented range, "
                        f"exit {rc} (expected 2)")
            if not ok and key not in err:
                return f"{key}={value!r}: the message does not name the " \
                       f"key: {err}"
            return None

        def probe_env(case):
            key, name, value, changes = case
            argv = [args.distiller, "config", "show", "--config", "/dev/null"]
            for v in COMPANIONS.get(key, []):
                argv += ["--set", v]
            r = subprocess.run(argv, cwd=ws, env=dict(env, **{name: value}),
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                return f"{name}={value!r}: exit {r.returncode}: {r.stderr}"
            section, _, field = key.partition(".")
            m = re.search(rf"^\[{section}\]\n(?:[^\[].*\n)*?{field} = (.*)$",
                          r.stdout, re.M)
            if changes and (m is None or m.group(1) == shown[key]):
                return f"{name}={value!r} does not change {key}"
            return None

        with ThreadPoolExecutor(max_workers=4) as pool:
            failures += [f for f in pool.map(probe, cases) if f]
            failures += [f for f in pool.map(probe_env, env_cases) if f]
        failures += unknown_keys_in_docs(args.source, set(shown))
        failures += generated_files(args, ws, env)
        print(f"config: {len(rows)} documented keys, {len(cases)} values fed "
              f"to `distiller config check`, {len(env_cases)} variables to "
              "`config show`")
        for f in failures:
            print("  - " + f)
        return 1 if failures else 0
    finally:
        shutil.rmtree(ws, ignore_errors=True)


def generated_files(args, ws, env):
    """docs/configuration.md's table is `config docs`; config/distiller.toml
    is `config defaults`."""
    failures = []

    def output(what):
        r = subprocess.run([args.distiller, "config", what], cwd=ws,
                           env=env, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            failures.append(f"config {what}: exit {r.returncode}: {r.stderr}")
        return r.stdout

    table = output("docs").strip("\n")
    doc = open(os.path.join(args.source, "docs/configuration.md"),
               encoding="utf-8").read()
    start = doc.find("\n| key | default")
    if start < 0 or doc[start + 1:start + 1 + len(table)] != table:
        failures.append("docs/configuration.md: the table from '| key | "
                        "default' on is not `distiller config docs`")
    shipped = open(os.path.join(args.source, "config/distiller.toml"),
                   encoding="utf-8").read()
    if output("defaults") != shipped:
        failures.append("config/distiller.toml is not `distiller config "
                        "defaults`")
    return failures


def show_matches(default, shown, allowed):
    value = shown.strip()
    if value.startswith('"') and value.endswith('"'):
        value = json.loads(value)
    if value.startswith("[") and value.endswith("]"):
        value = ",".join(json.loads(value))
    return value == default


# Backticked file names that look like keys.
NOT_KEYS = {"node.json", "node.lock", "node.log", "node.args",
            "kafka.bootstrap"}


def unknown_keys_in_docs(source, keys):
    """Every `section.key` written in README.md or docs/ names a key."""
    sections = sorted({k.split(".")[0] for k in keys})
    dotted = re.compile(r"`(" + "|".join(sections) +
                        r")\.([a-z0-9_]+)(?:\s*=[^`]*)?`")
    failures = []
    for rel in doc_files(source):
        if rel == "docs/status.md":
            continue  # history: names keys as they were then
        for n, line in enumerate(open(os.path.join(source, rel),
                                      encoding="utf-8"), 1):
            for section, name in dotted.findall(line):
                key = f"{section}.{name}"
                if key not in keys and key not in NOT_KEYS:
                    failures.append(f"{rel}:{n}: `{key}` is not a key")
    return failures


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["commands", "config"])
    p.add_argument("--distiller", required=True, help="the built binary")
    p.add_argument("--source", default=os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    p.add_argument("--keep", action="store_true",
                   help="keep the workspace (commands)")
    args = p.parse_args()
    args.distiller = os.path.abspath(args.distiller)
    # ctest's timeout: clean up (node, PostgreSQL, workspace) on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    try:
        return commands_test(args) if args.what == "commands" \
            else config_test(args)
    except Failure as e:
        print(f"FAILED: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
