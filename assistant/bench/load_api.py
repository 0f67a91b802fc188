"""Load benchmark of the served API: 20 concurrent users × 50 questions (issue 16, part 4).

    .venv/bin/python -m assistant.bench.load_api --target api --workers 2
    .venv/bin/python -m assistant.bench.load_api --target gradio        # the Gradio /ask (before)
    .venv/bin/python -m assistant.bench.load_api --target gradio-http   # the same, without gradio_client
    .venv/bin/python -m assistant.bench.load_api --url http://host:7861  # a server already running

Starts the server in its own process(es) on a free loopback port (real model and index, the
configured pipeline, a throwaway SQLite feedback file), asks a few warm-up questions, then every
user asks its own slice of eval/qa.jsonl + ../shared/eval/qa-uservoice.jsonl (with history) at
once. No answer cache: each answer is computed (the embedder's query-vector LRU is the app's own
and starts empty with the server). Prints errors, answers that differ for the same question,
p50/p95/max latency, questions/s, server and client CPU per question and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.bench.server import free_port
from assistant.config import REPO_ROOT

QA_FILES = (REPO_ROOT / "eval" / "qa.jsonl", REPO_ROOT.parent / "shared" / "eval" / "qa-uservoice.jsonl")
WARM_UP = ["ウォームアップ: 令和4年度に選定された事業は？", "ウォームアップ: 自動運転の事業はありますか？"]

Item = tuple[str, list[str]]


def load_questions(files: tuple[Path, ...] = QA_FILES) -> list[Item]:
    items: list[Item] = []
    for f in files:
        if not f.exists():
            print(f"note: {f} not found, skipped", file=sys.stderr)
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                items.append((d["question"], list(d.get("history") or [])))
    if not items:
        raise SystemExit("no questions found")
    return items


@dataclass
class Result:
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answers: dict[int, set[str]] = field(default_factory=dict)

    def p(self, q: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    @property
    def mismatches(self) -> int:
        return sum(1 for a in self.answers.values() if len(a) > 1)


# --- clients ---------------------------------------------------------------------------------------
def api_caller(url: str) -> Callable[[], Callable[[Item], dict[str, Any]]]:
    """``url`` may list several servers (comma-separated): the users are spread over them in turn."""
    import itertools

    import httpx

    urls = itertools.cycle(u.strip().rstrip("/") for u in url.split(",") if u.strip())

    def make() -> Callable[[Item], dict[str, Any]]:
        client = httpx.Client(base_url=next(urls), timeout=60)

        def call(item: Item) -> dict[str, Any]:
            r = client.post("/api/ask", json={"question": item[0], "history": item[1]})
            r.raise_for_status()
            return r.json()

        return call

    return make


def gradio_http_caller(url: str) -> Callable[[], Callable[[Item], dict[str, Any]]]:
    """Gradio's queue through its REST route (``POST /gradio_api/call/ask``, then the SSE result),
    with plain httpx: the server's side of the Gradio path without gradio_client's own cost."""
    import httpx

    def make() -> Callable[[Item], dict[str, Any]]:
        client = httpx.Client(base_url=url, timeout=60)

        def call(item: Item) -> dict[str, Any]:
            r = client.post("/gradio_api/call/ask", json={"data": [item[0], item[1]]})
            r.raise_for_status()
            event = r.json()["event_id"]
            with client.stream("GET", f"/gradio_api/call/ask/{event}") as s:
                kind = ""
                for line in s.iter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:") and kind in ("complete", "error"):
                        if kind == "error":
                            raise RuntimeError(f"gradio error: {line[5:].strip()}")
                        return json.loads(line[5:])[0]
            raise RuntimeError("no result in the event stream")

        return call

    return make


def gradio_caller(url: str) -> Callable[[], Callable[[Item], dict[str, Any]]]:
    from gradio_client import Client

    def make() -> Callable[[Item], dict[str, Any]]:
        client = Client(url, verbose=False)
        return lambda item: client.predict(item[0], item[1], api_name="/ask")

    return make


def run(make: Callable[[], Callable[[Item], dict[str, Any]]], items: list[Item], users: int,
        per_user: int) -> Result:
    res = Result(requests=users * per_user)
    lock = threading.Lock()
    callers = [make() for _ in range(users)]  # connections set up before the clock starts
    barrier = threading.Barrier(users + 1)

    def user(c: int) -> None:
        call = callers[c]
        barrier.wait()
        for k in range(per_user):
            i = (c * per_user + k) % len(items)
            t0 = time.perf_counter()
            try:
                out = call(items[i])
            except Exception as exc:  # noqa: BLE001 - counted and printed
                with lock:
                    res.errors.append(f"user {c} q{i}: {type(exc).__name__}: {exc}")
                continue
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                res.latencies_ms.append(ms)
                if "error" in out:
                    res.errors.append(f"user {c} q{i}: {out['error']}")
                else:
                    res.answers.setdefault(i, set()).add(out.get("answer", ""))

    threads = [threading.Thread(target=user, args=(c,)) for c in range(users)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    res.seconds = time.perf_counter() - t0
    return res


# --- servers ---------------------------------------------------------------------------------------
def start_server(target: str, port: int, workers: int, threads: int, work: Path) -> subprocess.Popen:
    env = dict(os.environ, ASSISTANT_FEEDBACK_URL=f"sqlite:///{work / 'feedback.sqlite3'}",
               ASSISTANT_API_THREADS=str(threads), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False")
    if target == "api":
        cmd = [sys.executable, "-m", "assistant.serve_api", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]
    else:
        cmd = [sys.executable, "-m", "assistant.bench.load_api", "--serve-gradio", str(port)]
    log = open(work / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)


def wait_ready(url: str, target: str, proc: subprocess.Popen | None, timeout: float = 600) -> None:
    import httpx

    path = "/api/health" if target == "api" else "/config"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server not ready in time")


def serve_gradio(port: int) -> None:
    """The app as ``make run`` serves it (Gradio queue, ``/ask``), on ``port``."""
    from assistant.config import get_settings
    from assistant.ui.app import launch

    launch(get_settings().model_copy(update={"port": port, "host": "127.0.0.1"}), block=True)


def cpu_seconds(pid: int) -> float:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for q in procs:
        try:
            t = q.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant.bench.load_api", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", choices=("api", "gradio", "gradio-http"), default="api",
                   help="api: POST /api/ask; gradio: gradio_client on /ask; gradio-http: /ask by plain HTTP")
    p.add_argument("--url", help="a running server, or several comma-separated (api; default: start one)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (api)")
    p.add_argument("--threads", type=int, default=4, help="handler threads per process (api)")
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--per-user", type=int, default=50)
    p.add_argument("--serve-gradio", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_gradio:
        serve_gradio(args.serve_gradio)
        return 0

    items = load_questions()
    proc = None
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    url = args.url
    if url is None:
        port = free_port()
        proc = start_server("api" if args.target == "api" else "gradio", port, args.workers, args.threads, work)
        url = f"http://127.0.0.1:{port}"
    try:
        t_ready = time.perf_counter()
        for one in url.split(","):
            wait_ready(one.strip().rstrip("/"), "api" if args.target == "api" else "gradio", proc)
        make = {"api": api_caller, "gradio": lambda u: gradio_caller(u + "/"),
                "gradio-http": gradio_http_caller}[args.target](url.rstrip("/"))
        warm = make()
        for q in WARM_UP * max(2, args.workers * 2):
            warm((q, []))
        print(f"server ready in {time.perf_counter() - t_ready:.0f} s; {len(items)} questions; "
              f"{args.users} users x {args.per_user}", file=sys.stderr)
        load_before = os.getloadavg()
        cpu0 = cpu_seconds(proc.pid) if proc else 0.0
        own0 = time.process_time()
        res = run(make, items, args.users, args.per_user)
        cpu1 = cpu_seconds(proc.pid) if proc else 0.0
        own1 = time.process_time()
        load_after = os.getloadavg()
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    label = (f"{args.target}" + (f", {args.workers} worker(s) x {args.threads} threads"
                                 if args.target == "api" and not args.url
                                 else f", Gradio queue ({args.target})") + (f", {url}" if args.url else ""))
    n = len(res.latencies_ms)
    print(f"\n{label}: {res.requests} requests, {n} answered in {res.seconds:.1f} s = "
          f"{res.requests / res.seconds:.1f} q/s")
    if n:
        print(f"latency ms: p50 {res.p(50):.0f}, p95 {res.p(95):.0f}, max {max(res.latencies_ms):.0f}")
    print(f"errors {len(res.errors)}, questions answered differently {res.mismatches}")
    for e in res.errors[:5]:
        print("  ", e)
    if proc:
        print(f"CPU per question: server {1000 * (cpu1 - cpu0) / res.requests:.1f} ms, "
              f"client {1000 * (own1 - own0) / res.requests:.1f} ms")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; {os.cpu_count()} CPUs")
    return 1 if res.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
