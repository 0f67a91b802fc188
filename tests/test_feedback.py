"""Feedback store: round trip, updates, deletes, transactions, CSV export (API and CLI)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from assistant.feedback import CSV_FIELDS, FeedbackStore
from assistant.types import Citation

CIT = Citation(source="corpus/documents/a.md", locator="概要 > 表", quote="R4:10事業", title="資料A")


@pytest.fixture()
def store(tmp_path):
    s = FeedbackStore(f"sqlite:///{tmp_path / 'sub' / 'fb.sqlite3'}")  # parent folder is created
    yield s
    s.close()


def _add(store: FeedbackStore, **kw) -> int:
    args = dict(vote="down", question="R4年度の選定数は？", answer="10事業です。", citations=[CIT],
                config_hash="abc123", history=["前の質問"], route="records")
    args.update(kw)
    return store.add(**args)


def test_round_trip_keeps_every_field(store):
    row_id = _add(store, comment="数字が違う", session_id="s1")
    [row] = store.rows()
    assert row.id == row_id and row.vote == "down" and row.comment == "数字が違う"
    assert row.question == "R4年度の選定数は？" and row.answer == "10事業です。"
    assert json.loads(row.citations) == [{"source": "corpus/documents/a.md", "locator": "概要 > 表",
                                          "quote": "R4:10事業", "title": "資料A"}]
    assert json.loads(row.history) == ["前の質問"]
    assert row.config_hash == "abc123" and row.route == "records" and row.session_id == "s1"
    assert row.created_at.endswith("+00:00")


def test_update_and_delete(store):
    row_id = _add(store)
    assert store.update(row_id, vote="up", comment="ok")
    [row] = store.rows()
    assert (row.vote, row.comment) == ("up", "ok")
    assert not store.update(row_id + 100, vote="up")
    assert store.delete(row_id) and store.rows() == []
    assert not store.delete(row_id)


def test_invalid_vote_writes_nothing(store):
    with pytest.raises(ValueError):
        _add(store, vote="meh")
    row_id = _add(store)
    with pytest.raises(ValueError):
        store.update(row_id, vote="sideways", comment="should not be saved")
    assert store.rows()[0].comment == ""


def test_failed_transaction_rolls_back(store, monkeypatch):
    """An error after the row is staged leaves the table unchanged (all-or-nothing writes)."""
    _add(store)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    from sqlalchemy.orm import Session

    monkeypatch.setattr(Session, "flush", boom)
    with pytest.raises(RuntimeError):
        _add(store, question="消えるはず")
    monkeypatch.undo()
    assert [r.question for r in store.rows()] == ["R4年度の選定数は？"]


def test_rows_persist_across_stores(tmp_path):
    url = f"sqlite:///{tmp_path / 'fb.sqlite3'}"
    a = FeedbackStore(url)
    _add(a, vote="up")
    a.close()
    b = FeedbackStore(url)
    assert [r.vote for r in b.rows()] == ["up"]
    b.close()


def test_export_csv_parses_back(store):
    _add(store, answer='改行\nと "引用符", カンマ')
    _add(store, vote="up", question="<script>x</script>")
    buf = io.StringIO()
    assert store.export_csv(buf) == 2
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert tuple(rows[0]) == CSV_FIELDS
    assert rows[0]["answer"] == '改行\nと "引用符", カンマ'
    assert rows[1]["question"] == "<script>x</script>" and rows[1]["vote"] == "up"
    assert json.loads(rows[0]["citations"])[0]["quote"] == "R4:10事業"


def test_cli_feedback_export(tmp_path, monkeypatch):
    from assistant.cli import app
    from assistant.config import get_settings

    url = f"sqlite:///{tmp_path / 'fb.sqlite3'}"
    s = FeedbackStore(url)
    _add(s)
    s.close()
    monkeypatch.setenv("ASSISTANT_FEEDBACK_URL", url)
    get_settings.cache_clear()
    try:
        out = tmp_path / "out" / "feedback.csv"
        result = CliRunner().invoke(app, ["feedback", "export", "--out", str(out)])
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 1 and rows[0]["question"] == "R4年度の選定数は？"
        assert rows[0]["config_hash"] == "abc123"
    finally:
        get_settings.cache_clear()
