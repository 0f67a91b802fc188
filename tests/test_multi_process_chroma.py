"""The deployed layout for real (issue 16, part 3): one Chroma server, one PostgreSQL, two app
processes (``serve_api --workers 2``) with the default pipeline and the real model.

The index is built into a temporary folder with its vectors in the Chroma server; then concurrent
users ask through ``POST /api/ask`` and vote through ``POST /api/feedback``. Both workers answer
(dense retrieval from the shared server), a question gets the same answer from either worker, and
every acknowledged vote is stored once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from assistant.bench.server import chroma_cli, chroma_server, free_port
from assistant.config import REPO_ROOT
from assistant.feedback import FeedbackRow, FeedbackStore
from tests.pg_server import pg_url  # noqa: F401 - the fixture
from tests.test_multi_process import _worker_pids

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

if chroma_cli() is None or not (REPO_ROOT / "models").is_dir():
    pytest.skip("needs the chroma CLI and the prepared model (make models)", allow_module_level=True)


def _questions(n: int) -> list[str]:
    items = [json.loads(line) for line in (REPO_ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    first: dict[str, str] = {}  # the first answerable question of each category: records and documents
    for i in items:
        if i.get("answerable", True) and not i.get("history"):
            first.setdefault(i["category"], i["question"])
    return list(first.values())[:n]


def test_two_workers_share_one_chroma_server_and_one_postgresql(pg_url, tmp_path: Path) -> None:  # noqa: F811
    engine = create_engine(pg_url)
    FeedbackRow.__table__.drop(engine, checkfirst=True)  # the workers create it
    engine.dispose()
    with chroma_server(tmp_path / "chroma") as chroma:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "ANONYMIZED_TELEMETRY": "False", "ASSISTANT_CHROMA_URL": chroma.url,
               "ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_FEEDBACK_URL": pg_url}
        assistant_cli = str(Path(sys.executable).parent / "assistant")
        built = subprocess.run([assistant_cli, "index"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                               timeout=600)
        assert built.returncode == 0, built.stderr[-2000:]
        port = free_port()
        log = (tmp_path / "server.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "assistant.serve_api", "--port", str(port), "--workers", "2"],
                                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            assert len(_worker_pids(url, 2)) == 2, (tmp_path / "server.log").read_text(errors="replace")[-2000:]
            questions = _questions(12)

            def ask(i: int) -> tuple[str, dict, int]:
                q = questions[i % len(questions)]
                r = httpx.post(f"{url}/api/ask", json={"question": q}, timeout=60)  # a new connection each time
                r.raise_for_status()
                out = r.json()
                vote = httpx.post(f"{url}/api/feedback", timeout=60, json={
                    "vote": "up", "question": f"{q}#{i}", "answer": out["answer"], "citations": out["citations"]})
                vote.raise_for_status()
                return q, out, vote.json()["pid"]

            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(ask, range(60)))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    answers: dict[str, set[str]] = defaultdict(set)
    for q, out, _ in results:
        assert "error" not in out, out
        answers[q].add(out["answer"])
    assert all(len(a) == 1 for a in answers.values()), answers  # either worker gives the same answer
    assert len({pid for _, _, pid in results}) == 2  # both workers took requests
    documents = [out for _, out, _ in results if out["route"] == "documents"]
    assert documents and all(out["citations"] for out in documents)  # dense retrieval from the shared server
    store = FeedbackStore(pg_url)
    stored = [r.question for r in store.rows()]
    store.close()
    assert sorted(stored) == sorted(f"{q}#{i}" for i, (q, _, _) in enumerate(results))  # once each, none lost
