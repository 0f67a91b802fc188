"""Editions: the newest edition answers, the older one is mentioned when it differs, a point in
time picks the edition valid then (two editions of a made-up notice, not the seed deck)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.answer.pipeline import Assistant
from assistant.claims import verify
from assistant.config import Settings, get_settings
from assistant.editions import Edition, Editions, as_of_in, series_of, without_as_of
from assistant.ingest.chunking import chunk_documents
from assistant.ingest.loaders import load_documents
from assistant.sources import SourceStore
from tests.answer_fakes import OverlapRetriever

OLD = """---
title: 架空市防災補助金の募集について
publisher: 架空市 危機管理課
date: 2023-03-10
---

# 架空市防災補助金の募集について

令和5年3月10日
架空市 危機管理課

## 補助の内容

防災補助金の補助率は2分の1で、上限額は50万円とする。

## 申請の方法

申請は危機管理課の窓口で受け付ける。
"""

NEW = OLD.replace("date: 2023-03-10", "date: 2024-03-12").replace("令和5年3月10日", "令和6年3月12日").replace(
    "上限額は50万円", "上限額は80万円")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    root = tmp_path_factory.mktemp("editions")
    docs = root / "corpus" / "documents"
    docs.mkdir(parents=True)
    (docs / "bousai-2023-03.md").write_text(OLD, encoding="utf-8")
    (docs / "bousai-2024-03.md").write_text(NEW, encoding="utf-8")
    loaded = load_documents(sorted(docs.glob("*.md")), root)
    loaded = loaded[0] if isinstance(loaded, tuple) else loaded
    chunks = [c for c in chunk_documents(list(loaded))]
    settings = Settings(root=root, records_dir=get_settings().records_path)
    a = Assistant(settings, retriever=OverlapRetriever(chunks))
    a.warm_up()
    return a


def test_series_and_point_in_time():
    assert series_of("架空市防災補助金の募集について（2024年3月版）") == series_of("架空市防災補助金の募集について")
    assert as_of_in("R4.12時点での上限は？") == date(2022, 12, 31)
    assert as_of_in("2023年6月現在の上限額は？") == date(2023, 6, 30)
    assert as_of_in("上限額は？") is None
    assert without_as_of("2023年12月時点で、防災補助金の上限額は？") == "防災補助金の上限額は?"  # NFKC
    a = Edition("a.md", "s", date(2023, 3, 10), "t")
    b = Edition("b.md", "s", date(2024, 3, 12), "t")
    eds = Editions([b, a])
    assert eds.current("a.md").source == "b.md"
    assert eds.current("b.md", date(2023, 12, 31)).source == "a.md"
    assert eds.current("b.md", date(2020, 1, 1)).source == "a.md"  # none valid yet: the oldest
    assert eds.older_than("b.md") == [a]


def test_a_changed_fact_is_answered_from_the_newest_edition_and_the_older_one_mentioned(assistant):
    ans = assistant.ask("防災補助金の上限額はいくら？")
    assert not ans.abstained and "80万円" in ans.text
    assert "2024年3月版による" in ans.text and "2023年3月版では" in ans.text and "50万円" in ans.text
    sources = {c.source for c in ans.citations}
    assert sources == {"corpus/documents/bousai-2024-03.md", "corpus/documents/bousai-2023-03.md"}
    assert verify(ans, SourceStore(assistant.settings.root).text) == []  # the edition dates are cited too


def test_an_unchanged_fact_cites_the_newest_edition_only(assistant):
    ans = assistant.ask("申請はどこで受け付けますか？")
    assert "危機管理課" in ans.text and "版では" not in ans.text
    assert {c.source for c in ans.citations} == {"corpus/documents/bousai-2024-03.md"}


def test_a_point_in_time_takes_the_edition_valid_then(assistant):
    ans = assistant.ask("2023年12月時点で、防災補助金の上限額はいくら？")
    assert "50万円" in ans.text and "80万円" not in ans.text.split("（")[0]
    assert ans.citations[0].source == "corpus/documents/bousai-2023-03.md"
    assert verify(ans, SourceStore(assistant.settings.root).text) == []


def test_one_edition_changes_nothing(tmp_path: Path):
    eds = Editions.of_sources(["x.md"], lambda s: OLD, lambda s: "t")
    assert not eds.several() and eds.by_source["x.md"].date_quote == "令和5年3月10日"


def test_records_of_two_editions_keep_the_newest_editions_rows():
    from dataclasses import replace as dc_replace

    from assistant.records.by_edition import newest_records
    from assistant.records.load import load_records

    rs = load_records(get_settings().records_path)
    seed = rs.projects[0].source
    newer = "corpus/documents/deck-2024-03.md"
    later = [p.model_copy(update={"source": newer}) for p in rs.projects[:3]]
    both = dc_replace(rs, projects=[*rs.projects, *later])
    eds = Editions([Edition(seed, "deck", date(2023, 3, 15), "t"), Edition(newer, "deck", date(2024, 3, 15), "t")])
    kept = newest_records(both, eds)
    assert [p.source for p in kept.projects] == [newer] * 3
    assert kept.kpis == both.kpis  # the newer edition updated the projects only: its KPIs stay
    # a series with one edition in the records is untouched
    assert newest_records(both, Editions([Edition(seed, "deck", date(2023, 3, 15), "t")])).projects == both.projects


def test_a_document_without_front_matter_is_dated_by_its_cover():
    text = "架空市防災補助金の募集について\n令和 6 年 3 月 12 日\n架空市 危機管理課\n本文…"
    e = Editions.of_sources(["a.pdf"], lambda s: text, lambda s: "架空市防災補助金の募集について").by_source["a.pdf"]
    assert e.date == date(2024, 3, 12) and e.date_quote == "令和 6 年 3 月 12 日" and e.label == "2024年3月版"


@pytest.mark.browser
def test_a_pdf_is_dated_by_its_cover(tmp_path: Path):
    from assistant.ingest.loaders import load_document
    from tests.pdf_fixtures import chromium, markdown_to_html, print_pdf

    if chromium() is None:
        pytest.skip("chromium is not installed (make browser-deps)")
    pdf = print_pdf(markdown_to_html(NEW, "架空市防災補助金の募集について"), tmp_path / "bousai.pdf")
    doc = load_document(pdf, tmp_path)
    assert doc.meta["date"] == "2024-03-12"  # the cover line 令和6年3月12日
    e = Editions.of_sources([doc.source], lambda s: doc.text, lambda s: doc.title).by_source[doc.source]
    assert e.label == "2024年3月版" and e.date_quote and e.date_quote in doc.text


def test_records_at_a_point_in_time_use_the_edition_valid_then():
    from dataclasses import replace as dc_replace

    from assistant.records.by_edition import newest_records
    from assistant.records.load import load_records

    rs = load_records(get_settings().records_path)
    seed = rs.projects[0].source
    newer = "corpus/documents/deck-2024-03.md"
    both = dc_replace(rs, projects=[*rs.projects, *[p.model_copy(update={"source": newer}) for p in rs.projects[:3]]])
    eds = Editions([Edition(seed, "deck", date(2023, 3, 15), "t"), Edition(newer, "deck", date(2024, 3, 15), "t")])
    assert {p.source for p in newest_records(both, eds, date(2023, 12, 31)).projects} == {seed}
    assert {p.source for p in newest_records(both, eds, date(2024, 6, 30)).projects} == {newer}
    assert {p.source for p in newest_records(both, eds, date(2020, 1, 31)).projects} == {seed}  # the oldest


def test_a_records_answer_takes_the_edition_valid_at_the_point_in_time(tmp_path: Path):
    from dataclasses import replace as dc_replace

    from assistant.records.load import load_records

    rs = load_records(get_settings().records_path)
    seed = rs.projects[0].source
    deck = (get_settings().root / seed).read_text(encoding="utf-8")
    newer = "corpus/documents/deck-2024-03.md"
    (tmp_path / seed).parent.mkdir(parents=True)
    (tmp_path / seed).write_text(deck, encoding="utf-8")
    (tmp_path / newer).write_text(deck.replace("date: 2023-03-15", "date: 2024-03-15"), encoding="utf-8")
    both = dc_replace(rs, projects=[*rs.projects, *[p.model_copy(update={"source": newer}) for p in rs.projects[:3]]])
    a = Assistant(Settings(root=tmp_path, records_dir=get_settings().records_path), records=both,
                  retriever=OverlapRetriever([]))
    now = a.ask("支援対象事業はいくつありますか？")
    then = a.ask("2023年12月時点で、支援対象事業はいくつありますか？")
    assert now.route == then.route == "records"
    assert "3件" in now.text and {c.source for c in now.citations if c.quote.startswith("|")} == {newer}
    assert "45件" in then.text and newer not in {c.source for c in then.citations}
