"""FeedbackStore on a real PostgreSQL server (tests/pg_server.py; issue 16, part 3).

A private server is started from Debian's binaries on a loopback port for this module; the
tests skip with the reason when the binaries are missing. The server runs in Asia/Tokyo, so a
time-zone slip shows. Several processes write at once: every acknowledged row lands exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from assistant.feedback import CSV_FIELDS, FeedbackRow, FeedbackStore
from assistant.types import Citation
from tests.pg_server import pg_url  # noqa: F401 - the fixture

pytestmark = pytest.mark.postgres

CIT = Citation(source="corpus/documents/a.md", locator="概要 > 表", quote="R4:10事業", title="資料A")


def _drop(url: str) -> None:
    engine = create_engine(url)
    FeedbackRow.__table__.drop(engine, checkfirst=True)
    engine.dispose()


@pytest.fixture()
def fresh_url(pg_url: str) -> Iterator[str]:  # noqa: F811
    """The server's URL with no feedback table (each test creates its own)."""
    _drop(pg_url)
    yield pg_url
    _drop(pg_url)


@pytest.fixture()
def store(fresh_url: str) -> Iterator[FeedbackStore]:
    s = FeedbackStore(fresh_url)
    yield s
    s.close()


def _add(store: FeedbackStore, **kw) -> int:
    args = dict(vote="down", question="R4年度の選定数は？", answer="10事業です。", citations=[CIT],
                config_hash="abc123", history=["前の質問"], route="records")
    args.update(kw)
    return store.add(**args)


def test_add_update_delete_round_trip(store: FeedbackStore):
    assert store.engine.dialect.name == "postgresql"
    first = _add(store, comment="数字が違う", session_id="s1")
    second = _add(store, vote="up", question="札幌市の予算は？")
    assert second > first
    [row, _] = store.rows()
    assert (row.id, row.vote, row.comment, row.session_id) == (first, "down", "数字が違う", "s1")
    assert json.loads(row.citations)[0]["quote"] == "R4:10事業"
    assert json.loads(row.history) == ["前の質問"]
    assert store.update(first, vote="up", comment="直りました")
    assert not store.update(second + 100, vote="up")
    assert [(r.vote, r.comment) for r in store.rows()] == [("up", "直りました"), ("up", "")]
    assert store.delete(second) and not store.delete(second)
    assert [r.id for r in store.rows()] == [first]


def test_times_are_utc_whatever_the_server_zone(store: FeedbackStore):
    with store.engine.connect() as conn:
        assert conn.execute(text("SHOW TimeZone")).scalar() == "Asia/Tokyo"
    _add(store)
    [row] = store.rows()
    assert row.created_at.endswith("+00:00") and row.updated_at.endswith("+00:00")
    from datetime import UTC, datetime

    age = datetime.now(UTC) - datetime.fromisoformat(row.created_at)
    assert abs(age.total_seconds()) < 60


def test_export_csv(store: FeedbackStore):
    _add(store, comment="カンマ, と\n改行")
    _add(store, vote="up")
    out = io.StringIO()
    assert store.export_csv(out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(CSV_FIELDS)
    assert [r["vote"] for r in rows] == ["down", "up"]
    assert rows[0]["comment"] == "カンマ, と\n改行" and rows[0]["created_at"].endswith("+00:00")


def test_a_dropped_connection_is_replaced(store: FeedbackStore):
    _add(store)  # the pool now holds a connection
    with store.engine.connect() as conn:
        mine = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    killer = create_engine(store.url)
    with killer.begin() as conn:  # as a server restart or an idle timeout would
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": mine})
    killer.dispose()
    _add(store, vote="up")  # pre-ping notices and reconnects instead of raising
    assert [r.vote for r in store.rows()] == ["down", "up"]


# --- several processes ------------------------------------------------------------------------------
WRITERS, PER_WRITER = 4, 40


def _writer(url: str, n: int, rows: int, barrier, acks) -> None:
    """One app process: open the store (all at once: the table does not exist yet), write rows."""
    barrier.wait(timeout=30)
    store = FeedbackStore(url)
    for k in range(rows):
        row_id = _add(store, question=f"w{n}-q{k}", session_id=f"w{n}")
        if k % 3 == 0:
            store.update(row_id, comment=f"c{k}")
        acks.put((n, k, row_id))  # acknowledged only after the commit returned
    store.close()


def _collect(acks, expected: int, procs: list) -> list[tuple[int, int, int]]:
    got = []
    deadline = time.monotonic() + 60
    while len(got) < expected and time.monotonic() < deadline:
        try:
            got.append(acks.get(timeout=1))
        except Exception:  # noqa: BLE001 - queue.Empty: check the writers are alive
            if not any(p.is_alive() for p in procs):
                break
    return got


def test_concurrent_writers_from_several_processes(fresh_url: str):
    ctx = mp.get_context("spawn")
    barrier, acks = ctx.Barrier(WRITERS), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(fresh_url, n, PER_WRITER, barrier, acks)) for n in range(WRITERS)]
    for p in procs:
        p.start()
    got = _collect(acks, WRITERS * PER_WRITER, procs)
    for p in procs:
        p.join(timeout=30)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    assert len(got) == WRITERS * PER_WRITER
    store = FeedbackStore(fresh_url)
    rows = store.rows()
    store.close()
    by_id = {r.id: r for r in rows}
    assert len(rows) == len(by_id) == WRITERS * PER_WRITER  # nothing doubled, nothing extra
    for n, k, row_id in got:
        assert by_id[row_id].question == f"w{n}-q{k}" and by_id[row_id].session_id == f"w{n}"
        assert by_id[row_id].comment == (f"c{k}" if k % 3 == 0 else "")


def _forked_writer(store: FeedbackStore, n: int, acks) -> None:
    for k in range(10):
        acks.put((n, k, _add(store, question=f"f{n}-q{k}")))


def test_forked_workers_do_not_share_the_parents_connections(store: FeedbackStore):
    """A pre-forking server (gunicorn --preload) builds the store, then forks: each child must
    open its own connections, not talk over the parent's socket."""
    _add(store, question="parent")  # the parent's pool holds an open connection now
    ctx = mp.get_context("fork")
    acks = ctx.Queue()
    procs = [ctx.Process(target=_forked_writer, args=(store, n, acks)) for n in range(3)]
    for p in procs:
        p.start()
    got = _collect(acks, 30, procs)
    for p in procs:
        p.join(timeout=30)
    assert [p.exitcode for p in procs] == [0, 0, 0] and len(got) == 30
    _add(store, question="parent again")  # the parent's own connection still works
    questions = sorted(r.question for r in store.rows())
    assert questions == sorted(["parent", "parent again", *(f"f{n}-q{k}" for n in range(3) for k in range(10))])


def _endless_writer(url: str, acks) -> None:
    store = FeedbackStore(url)
    k = 0
    while True:
        acks.put(_add(store, question=f"k{k}"))
        k += 1


def test_a_killed_worker_loses_no_acknowledged_row(fresh_url: str):
    FeedbackStore(fresh_url).close()  # table exists
    ctx = mp.get_context("spawn")
    acks = ctx.Queue()
    proc = ctx.Process(target=_endless_writer, args=(fresh_url, acks))
    proc.start()
    got = [acks.get(timeout=30) for _ in range(25)]
    os.kill(proc.pid, signal.SIGKILL)  # mid-write, as the OOM killer would
    proc.join(timeout=10)
    while True:  # acknowledgements already sent before the kill
        try:
            got.append(acks.get(timeout=0.5))
        except Exception:  # noqa: BLE001 - queue.Empty
            break
    store = FeedbackStore(fresh_url)
    ids = [r.id for r in store.rows()]
    store.close()
    assert len(ids) == len(set(ids))
    assert set(got) <= set(ids)
    assert len(ids) - len(got) <= 1  # at most the one committed while its ack was being sent
