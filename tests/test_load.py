"""Load on loopback: concurrent ``gradio_client`` users of the served ``/ask`` API.

Every client asks the same questions (each from its own starting point, so different questions
run at the same time); every answer must equal the single-user answer, with zero errors.
The always-on test is small (4 clients × 5 questions, fake retriever); the full one (20 × 50,
``slow``) uses the real Assistant over the real index when the model and index are ready.
"""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT, Settings

QA_FILE = REPO_ROOT / "eval" / "qa.jsonl"
FALLBACK = ["令和4年度に選定された事業はいくつですか？", "地域実装協議会は支援終了後も継続できますか？",
            "スマートシティの選定数の目標はいくつですか？", "札幌市の予算は？", "5Gを使っている自治体は？"]


def questions(n: int) -> list[tuple[str, list[str]]]:
    """The first ``n`` questions (with history) of the QA set; a few fixed ones without it."""
    items = []
    if QA_FILE.exists():
        for line in QA_FILE.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                items.append((item["question"], list(item.get("history") or [])))
    items = items or [(q, []) for q in FALLBACK]
    return [items[i % len(items)] for i in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LoadResult:
    requests: int
    errors: list[str]
    mismatches: list[str]
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def p(self, q: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    def summary(self, label: str) -> str:
        return (f"{label}: {self.requests} requests in {self.seconds:.1f} s = {self.throughput:.1f} req/s; "
                f"latency p50 {self.p(50):.0f} ms, p95 {self.p(95):.0f} ms, max {max(self.latencies_ms):.0f} ms; "
                f"errors {len(self.errors)}, mismatches {len(self.mismatches)}")


def run_load(asker, tmp_path: Path, clients: int, per_client: int) -> LoadResult:
    """Serve ``asker`` on a free loopback port; single-user answers first, then ``clients`` at once."""
    from gradio_client import Client

    from assistant.ui.app import launch

    settings = Settings(port=free_port(), feedback_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    assert settings.host == "127.0.0.1"
    qs = questions(per_client)
    demo = launch(settings, asker=asker, block=False)
    try:
        url = f"http://127.0.0.1:{settings.port}/"
        single = Client(url, verbose=False)
        expected = {i: single.predict(q, h, api_name="/ask") for i, (q, h) in enumerate(qs)}
        assert not [e for e in expected.values() if "error" in e], expected
        errors: list[str] = []
        mismatches: list[str] = []
        latencies: list[float] = []
        lock = threading.Lock()
        start = threading.Barrier(clients)

        def user(c: int) -> None:
            client = Client(url, verbose=False)
            start.wait()
            for k in range(per_client):
                i = (c + k) % len(qs)
                t0 = time.perf_counter()
                try:
                    out = client.predict(*qs[i], api_name="/ask")
                except Exception as exc:  # noqa: BLE001 - counted, reported below
                    with lock:
                        errors.append(f"client {c} q{i}: {type(exc).__name__}: {exc}")
                    continue
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(ms)
                    if "error" in out:
                        errors.append(f"client {c} q{i}: {out['error']}")
                    elif out != expected[i]:
                        mismatches.append(f"client {c} q{i}: {out.get('answer', '')[:80]!r}")

        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(user, range(clients)))
        seconds = time.perf_counter() - t0
    finally:
        demo.close()
    return LoadResult(clients * per_client, errors, mismatches, seconds, latencies)


def check(result: LoadResult, label: str) -> None:
    print("\n" + result.summary(label))
    assert result.errors == [], result.errors[:5]
    assert result.mismatches == [], result.mismatches[:5]
    assert len(result.latencies_ms) == result.requests


def test_small_load_matches_single_user(fake_assistant, tmp_path):
    check(run_load(fake_assistant, tmp_path, clients=4, per_client=5), "4 clients x 5 questions (fake retriever)")


def real_assistant_or_none():
    """The real Assistant over ``index/`` when the model is prepared and the index opens; else None."""
    from assistant.config import get_settings
    from assistant.index import store
    from assistant.models import check_prepared, model_dir

    s = get_settings()
    if store.current_version(s.index_path) is None or not check_prepared(model_dir(s))[0]:
        return None
    from assistant.answer.pipeline import Assistant

    try:
        a = Assistant(s)
        a.warm_up()
        return a
    except Exception as exc:  # noqa: BLE001 - e.g. an index built with another model: use the fake
        print(f"\nreal assistant unavailable ({type(exc).__name__}: {exc}); using the fake retriever")
        return None


@pytest.mark.slow
def test_full_load_20_clients_x_50_questions(fake_assistant, tmp_path):
    real = real_assistant_or_none()
    label = "real Assistant over index/" if real is not None else "fake retriever (no index/model)"
    check(run_load(real or fake_assistant, tmp_path, clients=20, per_client=50), f"20 clients x 50 questions, {label}")
