"""Reliability and safe defaults: thread safety of the Assistant, transactional feedback writes,
no secrets in logs, loopback by default, pinned dependencies."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from assistant.answer import pipeline
from assistant.config import REPO_ROOT, Settings, get_settings
from assistant.feedback import FeedbackStore
from tests.answer_fakes import OverlapRetriever
from tests.process_helpers import sigkill_at_marker

QUESTIONS = ["令和4年度に選定された事業はいくつですか？", "地域実装協議会は支援終了後も継続できますか？",
             "スマートシティの選定数の目標はいくつですか？", "札幌市の予算は？", "5Gを使っている自治体は？",
             "経済産業省の事業の問い合わせ先は？", "支援期間は最長何年？", "メールマガジンの配信頻度は？"]


def _key(a) -> tuple:
    return a.text, a.route, a.abstained, [(c.source, c.locator, c.quote) for c in a.citations]


# -- thread safety ----------------------------------------------------------------------------------
def test_lazy_parts_are_built_once_under_concurrent_first_use(monkeypatch):
    """Eight threads ask a fresh Assistant at once: records engine, retriever and extractor are
    each built exactly once, and every answer equals the sequential one."""
    built: dict[str, int] = {"engine": 0, "extractor": 0}
    real_engine, real_extractor = pipeline.RecordsEngine, pipeline.Extractor

    def slow(name, cls):
        def make(*a, **k):
            built[name] += 1
            time.sleep(0.3)  # widen the race window
            return cls(*a, **k)
        return make

    monkeypatch.setattr(pipeline, "RecordsEngine", slow("engine", real_engine))
    monkeypatch.setattr(pipeline, "Extractor", slow("extractor", real_extractor))
    retriever = OverlapRetriever()
    reference = pipeline.Assistant(get_settings(), retriever=retriever)
    expected = [_key(reference.ask(q)) for q in QUESTIONS]
    built.update(engine=0, extractor=0)

    fresh = pipeline.Assistant(get_settings(), retriever=retriever)
    barrier = threading.Barrier(8)

    def ask(i: int):
        barrier.wait()
        return _key(fresh.ask(QUESTIONS[i]))

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(ask, range(8)))
    assert built == {"engine": 1, "extractor": 1}
    assert got == expected


def test_shared_assistant_answers_equal_sequential_answers(fake_assistant):
    expected = {q: _key(fake_assistant.ask(q, ["総務省のR3の選定数は？"])) for q in QUESTIONS}
    jobs = [QUESTIONS[i % len(QUESTIONS)] for i in range(160)]
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda q: (q, _key(fake_assistant.ask(q, ["総務省のR3の選定数は？"]))), jobs))
    assert [g for q, g in got if g != expected[q]] == []


def test_sudachi_tokenizer_is_safe_across_threads():
    from assistant.tokenize import content_terms, morphemes, tokenize

    texts = [q * (1 + i % 3) for i, q in enumerate(QUESTIONS * 4)]
    expected = [(tokenize(t), content_terms(t), morphemes(t)) for t in texts]
    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(lambda t: (tokenize(t), content_terms(t), morphemes(t)), texts * 5))
    assert got == expected * 5


# -- feedback writes are transactional ---------------------------------------------------------------
def _add(store: FeedbackStore, **kw) -> int:
    args = dict(vote="up", question="R4年度の選定数は？", answer="10事業です。", citations=[],
                config_hash="cfg", history=["前の質問"], route="records")
    return store.add(**{**args, **kw})


def test_commit_failure_leaves_no_partial_row_or_change(tmp_path):
    from sqlalchemy import event

    store = FeedbackStore(f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    row_id = _add(store, comment="元のコメント")

    def fail(session):
        raise OSError("disk full during commit")

    event.listen(store._session, "before_commit", fail)
    try:
        with pytest.raises(OSError):
            _add(store, question="消えるはず")
        with pytest.raises(OSError):
            store.update(row_id, vote="down", comment="途中で失敗")
        with pytest.raises(OSError):
            store.delete(row_id)
    finally:
        event.remove(store._session, "before_commit", fail)
    [row] = store.rows()
    assert (row.id, row.vote, row.comment, row.question) == (row_id, "up", "元のコメント", "R4年度の選定数は？")
    store.close()


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from assistant.feedback import FeedbackStore
    store = FeedbackStore(sys.argv[1])
    marker = Path(sys.argv[2])
    i = 0
    while True:
        i += 1
        rid = store.add(vote="up", question=f"q{i}", answer=f"a{i}" * 200, citations=[{"source": f"s{i}"}],
                        config_hash="cfg", history=[f"h{i}"], session_id=f"s{i}")
        store.update(rid, vote="down", comment=f"c{i}")
        if i == 20:
            marker.write_text("writing")
""")


def test_writer_killed_mid_write_leaves_only_whole_rows(tmp_path):
    """SIGKILL a process that keeps adding and updating rows: the database is intact and every
    row is whole (all fields of one write, never a mix)."""
    db = tmp_path / "fb.sqlite3"
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", WRITER, f"sqlite:///{db}", str(marker)],
                             env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stderr=subprocess.PIPE)
    sigkill_at_marker(child, marker, settle=0.3)
    assert child.returncode == -signal.SIGKILL
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = FeedbackStore(f"sqlite:///{db}")
    rows = store.rows()
    assert len(rows) >= 20
    for r in rows:
        n = r.question[1:]
        assert r.answer == f"a{n}" * 200 and json.loads(r.citations) == [{"source": f"s{n}"}]
        assert json.loads(r.history) == [f"h{n}"] and r.session_id == f"s{n}"
        assert (r.vote, r.comment) in (("up", ""), ("down", f"c{n}"))  # before or after the update
    assert [r.id for r in rows] == list(range(1, len(rows) + 1))
    _add(store)  # and the store still takes writes
    store.close()


# -- no secrets in logs --------------------------------------------------------------------------------
KEY, PASSWORD = "sk-TOPSECRET-key-4711", "pw-TOPSECRET-0815"


def test_secrets_never_reach_logs_or_output(tmp_path, caplog, capsys):
    """The LLM key and the UI password at DEBUG log level, through settings reprs, start-up, a
    failing LLM call (the key is sent), failed and good logins, and the refusals."""
    import socket

    from gradio_client import Client

    from assistant.answer.llm import LLMAssistant
    from assistant.ui.app import BindError, check_bind, launch

    caplog.set_level(logging.DEBUG)
    records: list[str] = []  # every record, formatted with its arguments and traceback
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda r: records.append(logging.Formatter().format(r))  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    with socket.socket() as sock:  # a port nobody listens on: the LLM call fails
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = Settings(llm_base_url=f"http://127.0.0.1:{dead}/v1", llm_model="m", llm_api_key=KEY,
                 auth=f"staff:{PASSWORD}", port=port, feedback_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    seen = [repr(s), str(s), s.model_dump_json(), s.config_hash()]
    asker = pipeline.build_assistant(s, "llm", message=False)
    assert isinstance(asker, LLMAssistant)
    asker.base = pipeline.Assistant(get_settings(), retriever=OverlapRetriever())
    ans = asker.ask("地域実装協議会は支援終了後も継続できますか？")  # documents route: the LLM is called, fails
    assert asker.guard_report()["by_reason"] == {"llm_error": 1} and ans.text  # the key was sent, and failed
    demo = launch(s, asker=asker, block=False)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do
            Client(url, auth=("staff", "wrong"), verbose=False)
        out = Client(url, auth=("staff", PASSWORD), verbose=False).predict("支援期間は？", [], api_name="/ask")
        seen.append(json.dumps(out, ensure_ascii=False))
    finally:
        demo.close()
        logging.getLogger().removeHandler(handler)
    for bad in (f"{PASSWORD}", f":{PASSWORD}"):  # malformed auth: the message does not echo it
        with pytest.raises(BindError) as err:
            check_bind(Settings(auth=SecretStr(bad)))
        seen.append(str(err.value))
    captured = capsys.readouterr()
    logs = "\n".join(records)
    text = "\n".join([logs, caplog.text, captured.out, captured.err, *seen])
    assert "LLM call failed" in logs and "Sending HTTP Request" in logs  # logged, DEBUG included …
    assert KEY not in text and PASSWORD not in text  # … without the secrets


def test_serve_refuses_public_bind_without_auth(monkeypatch):
    from assistant.cli import app

    monkeypatch.setenv("ASSISTANT_HOST", "0.0.0.0")
    monkeypatch.delenv("ASSISTANT_AUTH", raising=False)
    monkeypatch.delenv("ASSISTANT_ALLOW_PUBLIC_WITHOUT_AUTH", raising=False)
    get_settings.cache_clear()
    try:
        assert Settings().host == "0.0.0.0" and Settings().auth is None
        r = CliRunner().invoke(app, ["serve"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 1 and "認証が必要" in r.output and "Traceback" not in r.output
    monkeypatch.delenv("ASSISTANT_HOST")
    assert Settings().host == "127.0.0.1" and not Settings().allow_public_without_auth  # the defaults


def test_typer_tracebacks_never_show_locals():
    from assistant.cli import app

    assert app.pretty_exceptions_show_locals is False


# -- dependencies pinned -----------------------------------------------------------------------------
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!-]+$")


def test_every_dependency_is_pinned_exactly():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        deps += extra
    assert deps and [d for d in deps if not PIN.match(d.replace(" ", ""))] == []
    constraints = {}
    for line in (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert PIN.match(line), line
            name, version = line.split("==")
            constraints[re.sub(r"[-_.]+", "-", name).lower()] = version
    for d in deps:  # the constraints agree with pyproject
        name, version = d.split("==")
        name = re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()
        assert constraints.get(name, version) == version, (d, constraints.get(name))
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert [m for m in re.findall(r"pip install[^\n]*", makefile) if "torch" in m and "torch==" not in m] == []
