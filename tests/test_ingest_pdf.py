"""Japanese PDF ingestion (issue 15, part 2): radical folding, line joining, tables with their
headers, pages in every locator, exact quotes — on a PDF printed by Chromium and on a slide deck
exported by LibreOffice Impress, both made at test time."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from assistant.ingest.chunking import chunk_document
from assistant.ingest.loaders import load_document
from assistant.ingest.pdf import (
    RADICALS_TSV,
    _Line,
    fold_radicals,
    join_lines,
    joinable,
    radical_count,
    reading_order,
    table_rows,
)
from assistant.source_files import SourceFolder, SourceTexts
from tests.pdf_fixtures import (
    DECK_DATE,
    DECK_LEFT,
    DECK_RIGHT,
    DECK_TABLE,
    chromium,
    deck_pdf,
    markdown_pdf,
    soffice,
)

# A table row as pdfplumber/pypdf give it from the deck (Kangxi radicals and ⻑ U+2ED1).
RADICAL_ROW = "| ⽀援期間 | 最⻑5年 | ⾃治体 | ⼿続き | 神⼾市 |"


def test_radicals_fold_on_a_table_sample():
    assert radical_count(RADICAL_ROW) == 5
    folded = fold_radicals(RADICAL_ROW)
    assert folded == "| 支援期間 | 最長5年 | 自治体 | 手続き | 神戸市 |"  # ⼾ → 戸 (the Japanese form), not 戶
    assert radical_count(folded) == 0
    assert unicodedata.normalize("NFKC", "⻑") == "⻑"  # why a table: NFKC leaves the supplement alone


def test_the_table_covers_every_kangxi_radical_and_is_the_runtime_source():
    rows = [line.split("\t") for line in RADICALS_TSV.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    mapped = {r[0] for r in rows}
    assert {chr(cp) for cp in range(0x2F00, 0x2FD6)} <= mapped
    assert len(mapped & {chr(cp) for cp in range(0x2E80, 0x2EF4)}) >= 100
    assert all(len(r[1]) == 1 and radical_count(r[1]) == 0 for r in rows)


def test_lines_broken_inside_sentences_are_joined():
    lines = ["支援期間を超えた場合であれ", "ば、改めて新規で申請することが", "できる。", "・次の項目", "※ 注記。",
             "開催時期：", "年2回", "IoT and", "AI"]
    assert join_lines(lines) == ["支援期間を超えた場合であれば、改めて新規で申請することができる。", "・次の項目",
                                 "※ 注記。", "開催時期：", "年2回IoT and AI"]
    assert not joinable("概要。", "次")
    assert not joinable("本文", "1. 項目") and not joinable("本文", "| a | b |") and not joinable("# 見出し", "本文")


def test_a_table_keeps_its_header():
    rows = table_rows([["No", "自治体", "主な活用\n技術"], ["1", "北海道、岩見沢\n市", "自動運転"], [None, "", None]])
    assert rows == ["| No | 自治体 | 主な活用技術 |", "|---|---|---|", "| 1 | 北海道、岩見沢市 | 自動運転 |"]


def test_two_columns_read_left_then_right_whatever_order_the_pdf_wrote_them():
    def line(x0: float, top: float, text: str) -> _Line:
        return _Line(top, x0, x0 + 200, 18.0, text, top + 18)

    title = _Line(20, 40, 700, 32.0, "見出し", 52)
    right = [line(420, 100, "右1"), line(420, 130, "右2")]
    left = [line(40, 100, "左1"), line(40, 130, "左2")]
    footer = _Line(400, 40, 700, 18.0, "脚注", 418)
    order = reading_order([footer, *right, title, *left])
    assert [b.text for b in order] == ["見出し", "左1", "左2", "右1", "右2", "脚注"]
    assert {b.right for b in left} == {240} and {b.right for b in right} == {620}  # wraps end at the column


SAMPLE = """---
title: 試験資料
---

# 試験資料

## 支援の概要

未来技術を活用した地域課題の解決と地方創生を目指し、先導性と横展開可能性等に優れた地方公共団体の取組に対して、社会実装の実現に向けた現地支援体制を構築し、関係府省庁による総合的な支援を行う。支援期間は最長5年で、自治体の手続きは簡素化されている。

## 選定事業

| No | 自治体 | 主な活用技術 | 採択年度 |
|---|---|---|---|
""" + "\n".join(f"| {i} | 北海道、岩見沢市、更別村{i} | 自動運転、ロボット、ドローン | R{i % 4 + 1} |" for i in range(1, 61)) + """

## 問合せ

長野県伊那市では、医療機器を整備した移動診療車が山間部を巡回する。
"""


@pytest.fixture(scope="module")
def chromium_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if chromium() is None:
        pytest.skip("chromium is not installed (make browser-deps installs Debian's chromium and fonts-noto-cjk)")
    tmp = tmp_path_factory.mktemp("pdf")
    md = tmp / "sample.md"
    md.write_text(SAMPLE, encoding="utf-8")
    return markdown_pdf(md, tmp / "docs" / "sample.pdf")


@pytest.mark.browser
def test_chromium_pdf_is_folded_joined_tabled_and_paged(chromium_pdf: Path):
    doc = load_document(chromium_pdf, chromium_pdf.parent.parent)
    text = doc.text
    assert doc.meta["extractor"] == "pdfplumber" and doc.meta["page_count"] >= 2
    assert radical_count(text) == 0 and "最長5年" in text and "自治体の手続き" in text
    # the wrapped paragraph is one line again
    assert any(line.startswith("未来技術を活用した") and line.endswith("簡素化されている。") for line in text.splitlines())
    assert "## 支援の概要" in text and "## 選定事業" in text
    lines = text.splitlines()
    assert "| No | 自治体 | 主な活用技術 | 採択年度 |" in lines
    assert "| 60 | 北海道、岩見沢市、更別村60 | 自動運転、ロボット、ドローン | R1 |" in lines
    chunks = chunk_document(doc)
    assert chunks and all(c.meta.get("page") for c in chunks)
    assert all(" > p." in f" > {c.locator}" for c in chunks), [c.locator for c in chunks]
    table_chunks = [c for c in chunks if "表" in c.locator]
    assert table_chunks and all("| No | 自治体 |" in c.text for c in table_chunks)  # every part has the header
    assert {c.meta["page"] for c in table_chunks} >= {1, 2}
    assert any(c.locator.startswith("選定事業 > p.2") for c in table_chunks), [c.locator for c in table_chunks]


@pytest.mark.browser
def test_pdf_quotes_are_exact_in_the_text_the_verifier_reads(chromium_pdf: Path):
    docs = chromium_pdf.parent
    doc = load_document(chromium_pdf, docs.parent)
    texts = SourceTexts(Path(__file__).resolve().parent.parent, folders=[SourceFolder("documents", docs.resolve())])
    verifier_text, why = texts.text("documents:sample.pdf")
    assert verifier_text is not None, why
    assert verifier_text == doc.text  # NFKC changes nothing: the index and the verifier read the same text
    for c in chunk_document(doc):  # every chunk is a span of that text (what quotes are cut from)
        span = doc.text[c.meta["start"]:c.meta["end"]]
        assert span.strip() and span in verifier_text
    assert "長野県伊那市では、医療機器を整備した移動診療車が山間部を巡回する。" in verifier_text


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if soffice() is None:
        pytest.skip("soffice is not installed (make browser-deps installs Debian's libreoffice-impress)")
    return deck_pdf(tmp_path_factory.mktemp("deck") / "docs")


@pytest.mark.browser
def test_libreoffice_deck_keeps_slides_columns_and_table(deck: Path):
    doc = load_document(deck, deck.parent.parent)
    text = doc.text
    assert doc.meta["page_count"] == 3 and radical_count(text) == 0
    # slides in order, each on its page
    starts = [off for off, _ in doc.meta["pages"]]
    assert starts == sorted(starts)

    def page_of(s: str) -> int:
        return max(n for off, n in doc.meta["pages"] if off <= text.index(s))

    assert page_of("未来技術社会実装事業の概要") == 1 and page_of("取組の全体像") == 2 and page_of("選定事業の一覧") == 3
    lines = text.splitlines()
    assert DECK_DATE in lines  # no space put in LibreOffice's gaps between kanji and digits
    # the right box is first in the file: the left column is read first, each top to bottom
    order = [text.index(s) for s in ["取組の全体像", *DECK_LEFT, *DECK_RIGHT]]
    assert order == sorted(order), text
    assert all(s in lines for s in DECK_LEFT + DECK_RIGHT)  # lines wrapped inside a box joined again
    header, *body = ["| " + " | ".join(r) + " |" for r in DECK_TABLE]
    assert header in lines and lines[lines.index(header) + 1] == "|---|---|---|---|"
    assert all(r in lines for r in body)
    chunks = chunk_document(doc)
    assert [c.meta["page"] for c in chunks] == [1, 2, 3]
    assert all(f"p.{c.meta['page']}" in c.locator.split(" > ") for c in chunks), [c.locator for c in chunks]
    table = [c for c in chunks if "表" in c.locator]
    assert table and all(header in c.text for c in table) and table[0].locator.startswith("選定事業の一覧 > p.3")


@pytest.mark.browser
def test_libreoffice_deck_quotes_are_exact(deck: Path):
    doc = load_document(deck, deck.parent.parent)
    texts = SourceTexts(Path(__file__).resolve().parent.parent, folders=[SourceFolder("documents", deck.parent.resolve())])
    verifier_text, why = texts.text(f"documents:{deck.name}")
    assert verifier_text == doc.text, why
    for c in chunk_document(doc):
        span = doc.text[c.meta["start"]:c.meta["end"]]
        assert span.strip() and span in verifier_text
    for quote in (DECK_DATE, DECK_LEFT[1], DECK_RIGHT[2], "| 2 | 長野県伊那市 | 移動診療車 | 令和5年度 |"):
        assert quote in verifier_text
