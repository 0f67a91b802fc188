"""Record rows rendered as cited Japanese sentences (chunks)."""

from __future__ import annotations

from assistant.config import REPO_ROOT
from assistant.normalize import nfkc
from assistant.records.load import read_records
from assistant.records.render import record_chunks

RECORDS = REPO_ROOT / "corpus" / "records"


def _chunks():
    return record_chunks(read_records(RECORDS))


def test_one_chunk_per_row_with_stable_unique_ids():
    first, second = _chunks(), _chunks()
    assert len(first) == 45 + 5 + 23 + 25 + 9 + 3
    assert [c.id for c in first] == [c.id for c in second]
    assert [c.text for c in first] == [c.text for c in second]
    assert len({c.id for c in first}) == len(first)
    assert all(len(c.id) == 64 for c in first)


def test_chunks_cite_exact_quotes_and_flat_meta():
    for c in _chunks():
        doc = nfkc((REPO_ROOT / c.source).read_text(encoding="utf-8"))
        assert c.meta["record_quote"] in doc
        assert c.locator
        assert all(isinstance(v, str | int | float | bool) for v in c.meta.values()), c.meta


def test_project_sentence_and_meta():
    c = next(c for c in _chunks() if c.meta["kind"] == "project" and c.meta["no"] == 3)
    assert c.text.startswith("岩手県盛岡市（No.3）は令和4年度（R4, 2022年度）採択の事業で、"
                             "主な活用技術はAI、IoT、5G、クラウドコンピューティング等。")
    assert c.meta["prefecture"] == "岩手県" and c.meta["municipality"] == "盛岡市"
    assert c.meta["fiscal_year"] == 2022 and c.meta["technologies"] == "AI;IoT;5G;クラウドコンピューティング"
    assert c.meta["ministry"] == "内閣府" and c.meta["program"] == "cao-mirai"
    assert c.meta["record_quote"] == "| 3 | 岩手県盛岡市 | AI、IoT、5G、クラウドコンピューティング等 | R4 |"
    joint = next(c for c in _chunks() if c.meta["kind"] == "project" and c.meta["no"] == 1)
    assert joint.meta["municipality"] == "岩見沢市;更別村" and "支援終了" in joint.text
    flagged = next(c for c in _chunks() if c.meta["kind"] == "project" and c.meta["no"] == 4)
    assert "(※)" not in flagged.text and "（※）" in flagged.text


def test_other_kinds_render_their_facts():
    chunks = _chunks()
    kinds = {c.meta["kind"] for c in chunks}
    assert kinds == {"project", "program", "selection", "kpi", "support_ended", "event"}
    sel = next(c for c in chunks if c.meta["kind"] == "selection" and c.meta["record_key"] == "cao-mirai:2022")
    assert "令和4年度（R4, 2022年度）の選定数は10事業" in sel.text
    kpi = next(c for c in chunks if c.meta["kind"] == "kpi" and c.meta["record_key"] == "5g-coverage-2025")
    assert "5Gの人口カバー率" in kpi.text and "97%（2025年度）" in kpi.text and kpi.meta["fiscal_year"] == 2025
    mini = next(c for c in chunks if c.meta["kind"] == "event" and c.meta["event_kind"] == "ミニシンポジウム")
    assert "74名" in mini.text and mini.meta["fiscal_year"] == 2022
    budget = next(c for c in chunks if c.meta["kind"] == "program" and c.meta["program"] == "mic-smartcity")
    assert "R5年度予算は4.0億円" in budget.text and budget.meta["ministry"] == "総務省"
