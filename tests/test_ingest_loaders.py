"""Loaders: Markdown front matter, Shift_JIS text, PDF pages, HTML structure, broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest.loaders import LoadError, corpus_files, decode_text, load_document, load_documents
from tests.index_fixtures import GAMMA, tiny_pdf, write_corpus


def test_markdown_front_matter_and_body(tmp_path: Path):
    docs = write_corpus(tmp_path)
    d = load_document(docs / "alpha.md", tmp_path)
    assert d.source == "corpus/documents/alpha.md"
    assert d.title == "除雪の取組"
    assert d.meta["prefecture"] == "山形県" and d.meta["technologies"] == ["IoT", "ドローン"]
    assert not d.text.startswith("---") and "GPS除雪管理システム" in d.text
    raw = (docs / "alpha.md").read_text(encoding="utf-8")
    assert raw[d.meta["body_offset"]:] == d.text  # body is the file text after the front matter


def test_shift_jis_text_is_decoded(tmp_path: Path):
    docs = write_corpus(tmp_path)
    d = load_document(docs / "gamma.txt", tmp_path)
    assert d.meta["encoding"] == "cp932"
    assert d.text == GAMMA and d.title == "観光アプリの実証"


def test_decode_text_variants():
    assert decode_text("令和".encode("utf-8-sig")) == ("令和", "utf-8-sig")
    assert decode_text("①髙".encode("cp932"))[0] == "①髙"  # CP932-only characters
    with pytest.raises(LoadError, match="binary"):
        decode_text(b"\x00\x01\x02abc")


def test_pdf_pages_are_kept(tmp_path: Path):
    p = tmp_path / "corpus/documents/report.pdf"
    p.parent.mkdir(parents=True)
    p.write_bytes(tiny_pdf(["First page about snow.", "Second page about drones.", "Third page."]))
    d = load_document(p, tmp_path)
    assert d.meta["page_count"] == 3
    starts = [s for s, _ in d.meta["pages"]]
    assert "Second page about drones." in d.text[starts[1]:starts[2]]
    assert d.text[starts[0]:].startswith("First page")


def test_html_headings_lists_and_tables(tmp_path: Path):
    p = tmp_path / "page.html"
    p.write_text("""<html><head><title>支援制度</title><script>var x = 1;</script></head><body>
      <h1>支援制度</h1><p>概要の説明です。</p><h2>対象</h2><ul><li>市町村</li><li>都道府県</li></ul>
      <table><tr><th>年度</th><th>件数</th></tr><tr><td>R4</td><td>10</td></tr></table></body></html>""",
                 encoding="utf-8")
    d = load_document(p, tmp_path)
    assert d.title == "支援制度"
    assert "## 対象" in d.text and "- 市町村" in d.text
    assert "| 年度 | 件数 |" in d.text and "| R4 | 10 |" in d.text
    assert "var x" not in d.text


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "PDF"),
    ("latin.txt", bytes(range(0x80, 0xff)) * 3, "not UTF-8"),
    ("bad.md", "---\ntitle: [unclosed\n---\n本文。".encode(), "front matter"),
    ("empty.md", b"   \n\n", "no text"),
    ("image.png", b"\x89PNG\r\n", "unsupported"),
])
def test_unreadable_files_are_skipped_with_a_named_warning(tmp_path: Path, capsys, name, data, reason):
    docs = write_corpus(tmp_path)
    (docs / name).write_bytes(data)
    loaded, warnings = load_documents(corpus_files(docs), tmp_path)
    assert sorted(d.source for d in loaded) == [f"corpus/documents/{n}" for n in ("alpha.md", "beta.md", "gamma.txt")]
    (w,) = warnings
    assert w.source == f"corpus/documents/{name}" and reason in w.reason
    err = capsys.readouterr().err
    assert f"corpus/documents/{name}" in err and reason in err


def test_corpus_files_skips_hidden_and_readme(tmp_path: Path):
    docs = write_corpus(tmp_path)
    (docs / ".hidden.md").write_text("x", encoding="utf-8")
    (docs / "README.md").write_text("about this folder", encoding="utf-8")
    assert [p.name for p in corpus_files(docs)] == ["alpha.md", "beta.md", "gamma.txt"]
    assert corpus_files(tmp_path / "missing") == []
