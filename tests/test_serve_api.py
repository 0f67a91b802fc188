"""The plain JSON API ``POST /api/ask`` (assistant/serve_api.py; issue 16, parts 3 and 4)."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.config import REPO_ROOT, Settings
from assistant.serve_api import ERROR_TEXT, ask_payload, create_api
from tests.ui_fakes import ScriptedAsker


def _client(asker, **settings) -> TestClient:
    return TestClient(create_api(asker, Settings(**settings)))


def test_ask_returns_the_answer_with_citations_and_history():
    asker = ScriptedAsker()
    with _client(asker) as c:
        r = c.post("/api/ask", json={"question": "  札幌市の予算は？ ", "history": ["前の質問"]})
    assert r.status_code == 200
    body = r.json()
    assert body["answer"].startswith("テスト回答です。") and body["route"] == "documents"
    assert body["abstained"] is False
    assert body["citations"][0]["quote"] == "H30年度からR4年度までに合計53事業を選定"
    [(question, history)] = asker.calls
    assert str(question).strip() == "札幌市の予算は？" and history == ["前の質問"]


def test_same_payload_as_the_gradio_ask():
    asker = ScriptedAsker()
    with _client(asker) as c:
        via_http = c.post("/api/ask", json={"question": "5Gを使っている自治体は？"}).json()
    assert via_http == ask_payload(asker, Settings(), "5Gを使っている自治体は？", None)


def test_refusals_and_failures_are_japanese_messages_not_tracebacks():
    asker = ScriptedAsker(fail_on="壊れる")
    with _client(asker, max_question_chars=10) as c:
        too_long = c.post("/api/ask", json={"question": "あ" * 11}).json()
        failed = c.post("/api/ask", json={"question": "壊れる質問"}).json()
        empty = c.post("/api/ask", json={"question": "   "}).json()
        malformed = c.post("/api/ask", json={"history": []})
    assert set(too_long) == {"error"} and "10" in too_long["error"]
    assert failed == {"error": ERROR_TEXT} and "secret" not in str(failed)
    assert set(empty) == {"error"} and empty["error"]
    assert malformed.status_code == 422
    assert [q for q, _ in asker.calls] and all("あ" not in str(q) for q, _ in asker.calls)


def test_auth_when_users_are_configured():
    s = dict(auth=SecretStr("staff:pw1,admin:pw2"))
    basic = "Basic " + base64.b64encode(b"staff:pw1").decode()
    wrong = "Basic " + base64.b64encode(b"staff:pw2").decode()
    with _client(ScriptedAsker(), **s) as c:
        assert c.post("/api/ask", json={"question": "質問"}).status_code == 401
        assert c.post("/api/ask", json={"question": "質問"}, headers={"Authorization": wrong}).status_code == 401
        ok = c.post("/api/ask", json={"question": "質問"}, headers={"Authorization": basic})
        assert ok.status_code == 200 and "answer" in ok.json()
        assert c.get("/api/health").json()["ok"] is True  # for the proxy's health check


def test_concurrent_requests_get_their_own_answers():
    with _client(ScriptedAsker(reply="回答:{q}")) as c:
        def one(i: int) -> str:
            return c.post("/api/ask", json={"question": f"質問{i}"}).json()["answer"]

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(one, range(40)))
    assert answers == [f"回答:質問{i}" for i in range(40)]


def test_a_public_host_without_auth_is_refused_before_listening():
    out = subprocess.run([sys.executable, "-m", "assistant.serve_api", "--host", "0.0.0.0", "--port", "1"],
                         capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
                         env={"PATH": "/usr/bin:/bin", "ASSISTANT_PIPELINE": "naive"})
    assert out.returncode != 0 and "認証が必要です" in out.stderr


def test_the_ui_is_not_served_by_several_workers_on_one_port():
    out = subprocess.run([sys.executable, "-m", "assistant.serve_api", "--with-ui", "--workers", "2", "--port", "1"],
                         capture_output=True, text=True, timeout=60, cwd=REPO_ROOT, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode != 0 and "別々のポート" in out.stderr


@pytest.mark.integration
def test_two_uvicorn_workers_answer_on_one_port(tmp_path):
    """``--workers 2``: two processes behind one port (naive pipeline: no model needed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"PATH": "/usr/bin:/bin", "ASSISTANT_PIPELINE": "naive", "HF_HUB_OFFLINE": "1",
           "ASSISTANT_FEEDBACK_URL": f"sqlite:///{tmp_path / 'fb.sqlite3'}"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant.serve_api", "--port", str(port), "--workers", "2"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        pids: set[int] = set()
        deadline = time.monotonic() + 120
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                with httpx.Client(base_url=url, timeout=5) as c:  # a new connection each time
                    pids.add(c.get("/api/health").json()["pid"])
            except httpx.HTTPError:
                time.sleep(0.3)
        assert len(pids) == 2 and proc.pid not in pids
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_oversized_feedback_is_refused_and_not_stored(tmp_path):
    from assistant.feedback import FeedbackStore

    store = FeedbackStore(f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    with TestClient(create_api(ScriptedAsker(), Settings(), store)) as c:
        ok = c.post("/api/feedback", json={"vote": "up", "question": "札幌市の予算は？", "answer": "回答"})
        huge = c.post("/api/feedback", json={"vote": "up", "question": "q", "answer": "あ" * 200_000})
        many = c.post("/api/feedback", json={"vote": "down", "question": "q", "answer": "a",
                                             "history": ["h"] * 500})
    assert ok.status_code == 200 and huge.status_code == 422 and many.status_code == 422
    assert [r.question for r in store.rows()] == ["札幌市の予算は？"]
    store.close()
