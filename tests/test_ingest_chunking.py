"""Chunker: heading paths, sentence packing, tables with repeated header, PDF pages, stable ids."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.chunking import ChunkConfig, chunk_document
from assistant.ingest.loaders import load_document
from assistant.types import Document
from tests.index_fixtures import tiny_pdf, write_corpus


def _doc(text: str, source: str = "corpus/documents/x.md", title: str = "文書", **meta) -> Document:
    return Document("d1", source, title, text, meta)


def test_heading_path_prefix_and_locator(tmp_path: Path):
    docs = write_corpus(tmp_path)
    d = load_document(docs / "alpha.md", tmp_path)
    chunks = chunk_document(d)
    by_loc = {c.locator: c for c in chunks}
    # The H1 equal to the title is not part of the path.
    assert set(by_loc) == {"概要", "成果", "成果 > 今後の予定"}
    c = by_loc["成果 > 今後の予定"]
    assert c.text.startswith("成果 > 今後の予定\n")
    assert c.meta["heading_path"] == ["成果", "今後の予定"]
    assert c.meta["body"] == "令和5年度には、ドローンによる積雪量の計測を予定している。"
    assert c.meta["fiscal_years"] == [2023]  # era year read from the text
    # Front-matter filter fields are carried by every chunk.
    assert all(x.meta["prefecture"] == "山形県" and x.meta["fiscal_year"] == "R4" for x in chunks)


def test_body_is_an_exact_substring_with_offsets(tmp_path: Path):
    docs = write_corpus(tmp_path)
    for name in ("alpha.md", "beta.md", "gamma.txt"):
        d = load_document(docs / name, tmp_path)
        for c in chunk_document(d):
            assert d.text[c.meta["start"]:c.meta["end"]] == c.meta["body"]
            assert c.meta["body"] in c.text


def test_sentences_are_packed_within_max_chars_and_never_cut_mid_sentence():
    sentences = [f"これは{i}番目の文で、内容は未来技術の社会実装に関する説明です。" for i in range(40)]
    text = "## 長い節\n\n" + "".join(sentences) + "\n"
    cfg = ChunkConfig(max_chars=200, min_chars=80)
    chunks = chunk_document(_doc(text), cfg)
    assert len(chunks) > 5
    for c in chunks:
        body = c.meta["body"]
        assert len(body) <= 200 + 40  # a short tail may be merged into the last chunk
        assert body.endswith("。") and body.startswith("これは")
    assert "".join(c.meta["body"] for c in chunks) == "".join(sentences)


def test_bullet_lines_are_units_and_sections_do_not_merge():
    text = "## A\n\n- 項目一\n- 項目二\n\n## B\n\n本文です。\n"
    chunks = chunk_document(_doc(text))
    assert [(c.locator, c.meta["body"]) for c in chunks] == [("A", "- 項目一\n- 項目二"), ("B", "本文です。")]


def test_markdown_table_split_by_rows_with_header_repeated():
    rows = "\n".join(f"| {i} | 自治体{i}市 | 自動運転、ドローン | R{i % 4 + 1} |" for i in range(1, 41))
    header = "| No | 自治体 | 主な活用技術 | 採択年度 |\n|---|---|---|---|"
    text = f"## 支援対象一覧\n\n{header}\n{rows}\n\n表の注記です。\n"
    chunks = chunk_document(_doc(text), ChunkConfig(max_chars=300, min_chars=100))
    tables = [c for c in chunks if c.meta.get("table")]
    assert len(tables) >= 3
    for c in tables:
        assert c.text.startswith(f"支援対象一覧\n{header}\n")
        assert c.meta["table_header"] == header
        assert header not in c.meta["body"] and c.meta["body"] in text
        assert len(c.text) <= 300 + len("支援対象一覧\n")
    # every row is in exactly one chunk, in order
    got = "\n".join(c.meta["body"] for c in tables)
    assert got == rows
    assert tables[0].locator.startswith("支援対象一覧 > 表 (1〜")
    assert chunks[-1].meta["body"] == "表の注記です。" and not chunks[-1].meta.get("table")


def test_tab_separated_table_in_text_files():
    text = "## 予算\n\n項目\t内閣府\t総務省\n予算\t0.3億円\t4.0億円\n選定数\t10事業\t12事業\n"
    (c,) = chunk_document(_doc(text, source="corpus/documents/x.txt"))
    assert c.meta["table_header"] == "項目\t内閣府\t総務省"
    assert c.locator == "予算 > 表 (予算〜選定数)"
    assert c.meta["body"] == "予算\t0.3億円\t4.0億円\n選定数\t10事業\t12事業"


def test_pdf_page_locators(tmp_path: Path):
    p = tmp_path / "r.pdf"
    p.write_bytes(tiny_pdf(["Snow removal with GPS.", "Drones measure snow depth."]))
    d = load_document(p, tmp_path)
    chunks = chunk_document(d)
    assert [(c.locator, c.meta["page"]) for c in chunks] == [("p.1", 1), ("p.2", 2)]
    assert "Drones" in chunks[1].text and "Drones" not in chunks[0].text


def test_ids_are_stable_and_unique(tmp_path: Path):
    docs = write_corpus(tmp_path)
    d = load_document(docs / "beta.md", tmp_path)
    a, b = chunk_document(d), chunk_document(d)
    assert [c.id for c in a] == [c.id for c in b]
    dup = chunk_document(_doc("## 同じ\n\n" + "同じ文です。" * 100 + "\n"), ChunkConfig(max_chars=60, min_chars=10))
    assert len({c.id for c in dup}) == len(dup) > 1
    # a changed sentence changes only that chunk's id
    d2 = Document(d.id, d.source, d.title, d.text.replace("巡回する", "巡回している"), d.meta)
    ids1, ids2 = {c.id for c in a}, {c.id for c in chunk_document(d2)}
    assert len(ids1 - ids2) == 1 and len(ids2 - ids1) == 1


def test_wide_table_one_row_per_chunk_and_caption_repeated():
    long = "、".join(f"説明{i}" for i in range(40))
    header = "| 項目 | 内閣府 | 総務省 |\n|---|---|---|"
    text = (f"## 事業イメージ\n\nR4.12 時点\n\n{header}\n| 概要 | {long} | {long} |\n| 予算 | 0.3億円 | 4.0億円 |\n"
            f"| 選定数 | R4:10事業 | R4:12事業 |\n")
    chunks = chunk_document(_doc(text))
    tables = [c for c in chunks if c.meta.get("table")]
    assert [c.locator for c in tables] == ["事業イメージ > 表 (概要)", "事業イメージ > 表 (予算)",
                                           "事業イメージ > 表 (選定数)"]
    for c in tables:
        assert c.text.startswith(f"事業イメージ\nR4.12 時点\n{header}\n") and c.meta["caption"] == "R4.12 時点"
    assert chunks[0].meta["body"] == "R4.12 時点"  # the caption stays quotable on its own


def test_text_before_any_heading_is_prefixed_with_the_title():
    (c, _) = chunk_document(_doc("令和5年3月15日\n内閣府\n\n## 概要\n\n本文。\n", title="最近の取組"))
    assert c.locator == "冒頭" and c.text == "最近の取組\n令和5年3月15日\n内閣府"
