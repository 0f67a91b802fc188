"""Two app processes (``serve_api --workers 2``) writing feedback to one PostgreSQL (issue 16, part 3).

Clients post votes on new connections, so both workers take them; one worker is SIGKILLed in the
middle. Every acknowledged vote is stored exactly once, and the service keeps answering. (The
workers use the naive pipeline over the local index: feedback does not depend on the answerer.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from assistant.config import REPO_ROOT
from assistant.feedback import FeedbackRow, FeedbackStore
from tests.pg_server import pg_url  # noqa: F401 - the fixture

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker_pids(url: str, want: int, timeout: float = 180) -> set[int]:
    pids: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(pids) < want and time.monotonic() < deadline:
        try:
            pids.add(httpx.get(f"{url}/api/health", timeout=5).json()["pid"])  # a new connection each time
        except httpx.HTTPError:
            time.sleep(0.3)
    return pids


@pytest.fixture()
def two_workers(pg_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:  # noqa: F811
    engine = create_engine(pg_url)
    FeedbackRow.__table__.drop(engine, checkfirst=True)  # the workers create it, both at once
    engine.dispose()
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ASSISTANT_PIPELINE": "naive", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "ASSISTANT_FEEDBACK_URL": pg_url}
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "assistant.serve_api", "--port", str(port), "--workers", "2"],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_votes_from_two_workers_land_once_when_one_is_killed(two_workers, pg_url):  # noqa: F811
    url, proc = two_workers
    pids = _worker_pids(url, 2)
    assert len(pids) == 2 and proc.pid not in pids, pids
    acked: dict[str, tuple[int, int]] = {}  # question → (row id, worker pid)
    failed: list[str] = []
    lock = threading.Lock()
    victim = min(pids)
    killed = threading.Event()

    def vote(i: int) -> None:
        if i == 60:  # a third of the way in
            os.kill(victim, signal.SIGKILL)
            killed.set()
        q = f"質問{i}"
        try:
            r = httpx.post(f"{url}/api/feedback", timeout=30, json={
                "vote": "down" if i % 2 else "up", "question": q, "answer": f"回答{i}",
                "citations": [{"source": "corpus/documents/a.md", "locator": "概要", "quote": "引用", "title": "資料"}],
                "comment": "数字が違う" if i % 5 == 0 else "", "session_id": f"s{i % 7}"})
            r.raise_for_status()
        except httpx.HTTPError as exc:
            with lock:
                failed.append(f"{q}: {type(exc).__name__}")
            return
        with lock:
            acked[q] = (r.json()["id"], r.json()["pid"])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(vote, range(180)))
    assert killed.is_set()
    assert {pid for _, pid in acked.values()} >= pids - {victim} and len({p for _, p in acked.values()}) >= 2
    assert len(acked) >= 150, (len(acked), failed[:5])  # the other worker took the load
    after = httpx.post(f"{url}/api/feedback", timeout=30, json={"vote": "up", "question": "後", "answer": "a"})
    assert after.status_code == 200  # still serving

    store = FeedbackStore(pg_url)
    rows = store.rows()
    store.close()
    by_question: dict[str, list[int]] = {}
    for r in rows:
        by_question.setdefault(r.question, []).append(r.id)
    assert all(len(ids) == 1 for ids in by_question.values())  # nothing stored twice
    for q, (row_id, _) in acked.items():
        assert by_question[q] == [row_id]  # every acknowledged vote is there
    assert len(rows) - len(acked) - 1 <= len(failed)  # at most the ones whose answer was lost
    assert all(r.created_at.endswith("+00:00") for r in rows)
