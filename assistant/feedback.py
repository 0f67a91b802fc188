"""User feedback store (👍/👎 + optional comment) on SQLAlchemy: SQLite by default, any URL works.

Every write runs in its own transaction (``Session.begin()``): it is committed whole or not at all.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from sqlalchemy import DateTime, Integer, String, Text, create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from assistant.types import Citation

log = logging.getLogger(__name__)

Vote = Literal["up", "down"]
VOTES: tuple[str, ...] = ("up", "down")

#: Column order of ``assistant feedback export``.
CSV_FIELDS = ("id", "created_at", "updated_at", "vote", "comment", "question", "answer",
              "citations", "history", "route", "abstained", "config_hash", "session_id")


class _Base(DeclarativeBase):
    pass


class FeedbackRow(_Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    vote: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[str] = mapped_column(Text)  # JSON list of {source, locator, quote, title}
    history: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of earlier user turns
    route: Mapped[str] = mapped_column(String(32), default="")
    abstained: Mapped[int] = mapped_column(Integer, default=0)
    config_hash: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(String(64), default="")


@dataclass(frozen=True)
class FeedbackRecord:
    """A stored feedback row as plain values (what ``rows()`` and the CSV export return)."""

    id: int
    created_at: str
    updated_at: str
    vote: str
    comment: str
    question: str
    answer: str
    citations: str
    history: str
    route: str
    abstained: bool
    config_hash: str
    session_id: str


def citations_json(citations: Iterable[Citation | dict]) -> str:
    """Serialize citations as a JSON list of objects (non-ASCII kept readable)."""
    items = [c if isinstance(c, dict) else asdict(c) for c in citations]
    return json.dumps(items, ensure_ascii=False)


def _now() -> datetime:
    return datetime.now(UTC)


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread off: Gradio calls handlers from worker threads; SQLite serializes writes.
        return create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    # pre-ping: a connection the server closed (restart, idle timeout) is replaced, not raised;
    # recycle: none older than 30 min (proxies and firewalls drop idle ones silently).
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800)


#: Any constant: the advisory lock that serializes ``CREATE TABLE`` of workers starting together.
_SCHEMA_LOCK = 0x66656564  # "feed"


def _create_schema(engine: Engine) -> None:
    """Create the table if missing. On PostgreSQL two processes creating it at once collide in the
    catalog (duplicate key in pg_type), so the check and the create run under an advisory lock."""
    if engine.dialect.name != "postgresql":
        _Base.metadata.create_all(engine)
        return
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
        _Base.metadata.create_all(conn)


def _forget_pool_after_fork(ref: weakref.ref[Engine]) -> None:
    engine = ref()
    if engine is not None:  # the child must not use the parent's sockets; the parent keeps them
        engine.dispose(close=False)


class FeedbackStore:
    """Feedback rows in one table; create with a SQLAlchemy URL (``sqlite:///…``, ``postgresql://…``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        ref = weakref.ref(self.engine)
        os.register_at_fork(after_in_child=lambda: _forget_pool_after_fork(ref))
        _create_schema(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def add(self, *, vote: Vote, question: str, answer: str, citations: Iterable[Citation | dict] = (),
            config_hash: str, comment: str = "", history: Sequence[str] = (), route: str = "",
            abstained: bool = False, session_id: str = "") -> int:
        """Store one vote; returns the new row id."""
        _check_vote(vote)
        now = _now()
        row = FeedbackRow(created_at=now, updated_at=now, vote=vote, comment=comment, question=question,
                          answer=answer, citations=citations_json(citations),
                          history=json.dumps(list(history), ensure_ascii=False), route=route,
                          abstained=int(abstained), config_hash=config_hash, session_id=session_id)
        with self._session.begin() as s:
            s.add(row)
            s.flush()
            return row.id

    def update(self, row_id: int, *, vote: Vote | None = None, comment: str | None = None) -> bool:
        """Change the vote and/or comment of a row; False if the row does not exist."""
        if vote is not None:
            _check_vote(vote)
        with self._session.begin() as s:
            row = s.get(FeedbackRow, row_id)
            if row is None:
                return False
            if vote is not None:
                row.vote = vote
            if comment is not None:
                row.comment = comment
            row.updated_at = _now()
            return True

    def delete(self, row_id: int) -> bool:
        """Remove a row (a vote taken back); False if it did not exist."""
        with self._session.begin() as s:
            row = s.get(FeedbackRow, row_id)
            if row is None:
                return False
            s.delete(row)
            return True

    def rows(self) -> list[FeedbackRecord]:
        """All rows, oldest first."""
        with self._session() as s:
            rows = s.scalars(select(FeedbackRow).order_by(FeedbackRow.id)).all()
            return [_record(r) for r in rows]

    def export_csv(self, out: IO[str]) -> int:
        """Write all rows as CSV (UTF-8 text, header first) to ``out``; returns the row count."""
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writeheader()
        rows = self.rows()
        for r in rows:
            writer.writerow(asdict(r))
        return len(rows)

    def close(self) -> None:
        self.engine.dispose()


def _check_vote(vote: str) -> None:
    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, got {vote!r}")


def _iso(dt: datetime) -> str:
    """UTC ISO text whatever the backend returns: SQLite drops the zone (values are written in
    UTC); PostgreSQL returns ``timestamptz`` in the session's TimeZone (e.g. +09:00)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def _record(r: FeedbackRow) -> FeedbackRecord:
    return FeedbackRecord(id=r.id, created_at=_iso(r.created_at), updated_at=_iso(r.updated_at),
                          vote=r.vote, comment=r.comment or "", question=r.question, answer=r.answer,
                          citations=r.citations, history=r.history or "[]", route=r.route or "",
                          abstained=bool(r.abstained), config_hash=r.config_hash,
                          session_id=r.session_id or "")


def export_command(url: str, out: Path | None) -> int:
    """``assistant feedback export``: CSV to ``out`` (UTF-8 with BOM, opens in Excel) or stdout."""
    import sys

    store = FeedbackStore(url)
    try:
        if out is None:
            n = store.export_csv(sys.stdout)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8-sig", newline="") as f:
                n = store.export_csv(f)
        print(f"exported {n} feedback rows" + (f" to {out}" if out else ""), file=sys.stderr)
        return 0
    finally:
        store.close()
