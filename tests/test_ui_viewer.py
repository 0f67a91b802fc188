"""The source viewer without a browser: a citation opened at its section (Markdown) or page (PDF
printed by Chromium at test time), the quote highlighted, everything escaped, no repository path."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT
from assistant.ingest.loaders import load_document
from assistant.types import Citation
from assistant.ui.render import SourceLabel, citations_html, place_label
from assistant.ui.viewer import (
    MSG_NOT_FOUND,
    MSG_QUOTE_NOT_LOCATED,
    SourceViewer,
    format_date,
    page_number,
    quote_boxes,
    viewer_html,
)

DECK = "corpus/documents/mirai-gijutsu-torikumi-2023-03-15.md"
TITLE = "未来技術社会実装事業における最近の取組について"
QUOTE = "H30年度からR4年度までに合計53事業を選定"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _marks(html: str) -> list[str]:
    return re.findall(r'<mark class="viewer-quote">(.*?)</mark>', html, re.S)


class _Nesting(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element."""

    VOID = {"br", "hr", "img", "input", "meta", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def _well_nested(html: str) -> bool:
    p = _Nesting()
    p.feed(html)
    p.close()
    return not p.stack


@pytest.fixture()
def repo_viewer(tmp_path) -> SourceViewer:
    return SourceViewer.for_root(REPO_ROOT, tmp_path / "dl")


# -- small parts ----------------------------------------------------------------------------------
def test_dates_pages_and_places_are_read_for_people():
    assert format_date("2023-03-15") == "2023年3月15日" and format_date("2024-03") == "2024年3月"
    assert format_date("令和5年3月") == "令和5年3月" and format_date(None) == ""
    assert page_number("概要 > p.12 > 表 (1〜3)") == 12 and page_number("p.3") == 3
    assert page_number("事業イメージ > 過去の選定数") is None and page_number("") is None
    assert place_label("概要 > p.12 > 表 (1〜3)") == "12ページ ＞ 概要 ＞ 表 (1〜3)"
    assert place_label("事業イメージ > 支援対象事業一覧 (R4.12 時点)") == "事業イメージ ＞ 支援対象事業一覧 (R4.12 時点)"


# -- Markdown -------------------------------------------------------------------------------------
def test_markdown_section_is_rendered_with_the_quote_marked(repo_viewer, tmp_path):
    content = repo_viewer.open(Citation(DECK, "概要", QUOTE, TITLE))
    assert (content.title, content.date, content.publisher) == (TITLE, "2023年3月15日", "内閣府 地方創生推進事務局")
    assert content.place == "概要" and content.found and not content.notice
    assert _marks(content.html) == [QUOTE]
    assert content.html.startswith("<h2>概要</h2>") and "<ul>" in content.html  # the section, rendered
    assert "事業イメージ" not in content.html and "**" not in content.html  # only that section, bold rendered
    assert "<strong>社会実装に向けた現地支援体制" in content.html
    assert _well_nested(content.html)
    # the original file is offered for download: a copy with the same name and bytes
    assert content.download is not None and content.download.is_relative_to(tmp_path / "dl")
    assert content.download.name == Path(DECK).name
    assert content.download.read_bytes() == (REPO_ROOT / DECK).read_bytes()


def test_quoted_table_row_is_marked_cell_by_cell(repo_viewer):
    with open(REPO_ROOT / "corpus/records/projects.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["no"] == "4")
    content = repo_viewer.open(Citation(row["source"], row["locator"], row["quote"]))
    assert content.found and content.place == "事業イメージ ＞ 支援対象事業一覧 (R4.12 時点)"
    assert _marks(content.html) == ["4", "岩手県陸前高田市(※)", "自動運転", "R3"]
    assert '<td><mark class="viewer-quote">岩手県陸前高田市(※)</mark></td>' in content.html
    assert '<div class="viewer-table"><table>' in content.html and _well_nested(content.html)
    assert "|" not in re.sub(r"<[^>]+>", "", content.html)  # a table, not pipes


def test_quote_spanning_bold_markers_is_marked_without_them(repo_viewer):
    quote = "社会実装に向けた現地支援体制（地域実装協議会）を構築し、関係府省庁による総合的な支援を行う事業。**"
    content = repo_viewer.open(Citation(DECK, "概要", quote))
    assert content.found
    assert "".join(_marks(content.html)) == quote.replace("**", "")
    assert _well_nested(content.html)


def test_the_occurrence_in_the_cited_section_is_marked(tmp_path):
    (tmp_path / "d.md").write_text("---\ntitle: 二つの節\n---\n\n## 前の節\n\n同じ文です。\n\n## 後の節\n\n同じ文です。\n",
                                   encoding="utf-8")
    viewer = SourceViewer.for_root(tmp_path, tmp_path / "dl")
    content = viewer.open(Citation("d.md", "後の節", "同じ文です。"))
    assert content.html.startswith("<h2>後の節</h2>") and _marks(content.html) == ["同じ文です。"]


def test_hostile_document_is_escaped(tmp_path):
    doc = (f"---\ntitle: '資料 & <b>題</b>'\npublisher: '<i>発行</i>'\ndate: 2024-04-01\n---\n\n"
           f"# {HOSTILE}\n\n## 節 <u>x</u>\n\n本文 {HOSTILE} の文。\n\n"
           "![画像](http://evil.example/x.png) [リンク](javascript:alert(1)) <iframe src=x></iframe>\n")
    (tmp_path / "evil.md").write_text(doc, encoding="utf-8")
    viewer = SourceViewer.for_root(tmp_path, tmp_path / "dl")
    content = viewer.open(Citation("evil.md", "節 <u>x</u>", f"本文 {HOSTILE} の文。"))
    page = viewer_html(content)
    assert content.found and _marks(content.html) == ["本文 &lt;script&gt;alert(\"x\")&lt;/script&gt;&lt;img src=x "
                                                       "onerror=alert(1)&gt; の文。"]
    for bad in ("<script", "<img", "<iframe", "<b>", "<i>", "<u>", 'href="javascript'):
        assert bad not in page, bad
    # no image is fetched: the image syntax is a plain link, opened in a new tab without a referrer
    assert '<a target="_blank" rel="noopener noreferrer" href="http://evil.example/x.png">画像</a>' in page
    assert "資料 &amp; &lt;b&gt;題&lt;/b&gt;" in page and "&lt;i&gt;発行&lt;/i&gt;" in page
    assert _well_nested(page)


def test_unlocated_quote_and_missing_file_say_so_without_paths(repo_viewer):
    content = repo_viewer.open(Citation(DECK, "概要", "資料にない文です。"))
    assert not content.found and content.notice == MSG_QUOTE_NOT_LOCATED
    page = viewer_html(content)
    assert "資料にない文です。" in page and "<h2>概要</h2>" in page  # the named section, the quote apart
    missing = repo_viewer.open(Citation("corpus/documents/none.md", "概要", QUOTE, "無い資料"))
    assert missing.notice == MSG_NOT_FOUND and missing.download is None and missing.title == "無い資料"
    outside = repo_viewer.open(Citation("../../etc/passwd", "", "root"))
    assert outside.notice == MSG_NOT_FOUND and outside.download is None
    for c in (content, missing, outside):
        assert "corpus/" not in viewer_html(c) and "/etc" not in viewer_html(c) and "none.md" not in viewer_html(c)


# -- the 根拠 panel ---------------------------------------------------------------------------------
def test_panel_names_each_document_once_with_date_and_publisher(repo_viewer):
    other = Citation("corpus/documents/other.md", "p.3 > 概要", "別の資料の文", "別の資料")
    cites = [Citation(DECK, "概要", QUOTE, TITLE), other, Citation(DECK, "事業イメージ", "| 1 | 北海道 | R2 |", TITLE)]
    panel = citations_html(cites, labels=repo_viewer.label, openable=True)
    assert panel.count(TITLE) == 1 and panel.count("別の資料</span>") == 1
    assert "2023年3月15日・内閣府 地方創生推進事務局" in panel
    assert "corpus/" not in panel and ".md" not in panel  # no repository path
    assert panel.count('<span class="open-source" title="引用された箇所を下の「資料の表示」に開きます">資料を開く</span>') == 3
    # numbered as the answer's claims number them, though grouped by document
    nums = re.findall(r'<span class="cite-num">(\d+)\.</span>', panel)
    assert nums == ["1", "3", "2"]
    assert "3ページ ＞ 概要" in panel and "1 ／ 北海道 ／ R2" in panel and "|" not in panel
    assert "資料を開く" not in citations_html(cites)  # only where the chat wires it
    assert SourceLabel("題") == SourceLabel("題", "", "")


def test_chat_handler_opens_the_citation_of_an_answer(tmp_path):
    from assistant.ui.chat import MSG_NO_CITATION, ChatHandlers
    from tests.ui_fakes import ScriptedAsker

    viewer = SourceViewer.for_root(REPO_ROOT, tmp_path / "dl")
    h = ChatHandlers(ScriptedAsker(), config_hash="c", max_chars=200, feedback=None,
                     export_dir=tmp_path / "exp", viewer=viewer)
    *_, (_, messages, conv, *_rest) = list(h.respond("選定数は？", None))
    assert "資料を開く" in messages[-1]["content"] and "2023年3月15日" in messages[-1]["content"]
    assert "corpus/" not in messages[-1]["content"]
    page, download, accordion = h.open_source(conv, 0, 0)
    assert _marks(page) == [QUOTE] and TITLE in page and "corpus/" not in page
    assert download["value"].endswith(Path(DECK).name) and download["interactive"] is True
    assert accordion.open is True
    for a, c in ((1, 0), (0, 5), (-1, 0), ("x", None), (None, None), (10**30, 0)):
        page, download, _ = h.open_source(conv, a, c)
        assert MSG_NO_CITATION in page and download["interactive"] is False
    assert MSG_NO_CITATION in h.open_source(None, 0, 0)[0]


# -- PDF --------------------------------------------------------------------------------------------
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)
PDF_HTML = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>支援制度の手引き</title>
<style>body { font-family: 'Noto Sans CJK JP', sans-serif; font-size: 12pt; }</style></head><body>
<h1>支援制度の手引き</h1><p>この手引きは、申請の流れを説明するものです。</p>
<h2 style="break-before: page">支援の内容</h2>
<p>選定された事業には、関係府省庁が複数年にわたる伴走型の支援を行います。</p>
<p>申請の締切は毎年6月末です。</p></body></html>"""


def print_pdf(html: str, out: Path) -> Path:
    """``html`` printed to ``out`` by headless Chromium (the tool staff PDFs come from)."""
    src = out.with_suffix(".html")
    src.write_text(html, encoding="utf-8")
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={out.parent / '.chromium'}", f"--print-to-pdf={out}", src.as_uri()],
                   capture_output=True, timeout=120, check=False)
    if not out.is_file() or not out.stat().st_size:
        pytest.skip("chromium did not print the PDF")
    return out


@pytest.fixture(scope="module")
def pdf_root(tmp_path_factory) -> Path:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    root = tmp_path_factory.mktemp("pdf-viewer")
    print_pdf(PDF_HTML, root / "tebiki.pdf")
    return root


def _pdf_quote(root: Path, needle: str) -> str:
    """The quote as the loader reads it (what an answer cites): the sentence holding ``needle``."""
    text = load_document(root / "tebiki.pdf", root).text
    i = text.index(needle)
    return text[i:text.index("。", i) + 1]


@pytest.mark.parametrize("locator", ["支援の内容 > p.2", "支援の内容"])
def test_pdf_page_image_with_the_quote_boxed_and_marked(pdf_root, locator):
    quote = _pdf_quote(pdf_root, "伴走型")
    viewer = SourceViewer.for_root(pdf_root, pdf_root / "dl")
    content = viewer.open(Citation("tebiki.pdf", locator, quote))
    assert content.page == 2 and content.place.startswith("2ページ") and content.found
    assert content.image is not None and content.image.width > 800 and content.image.height > content.image.width
    assert _marks(content.html) == [quote]  # the loader's text of page 2 beside the image
    assert "この手引きは" not in content.html  # page 1 is not shown
    # the box is drawn where pdfium puts the quote: yellow pixels in the upper part of the page
    img = content.image.convert("RGB")
    w, h = img.size
    yellow = [(x, y) for x in range(0, w, 4) for y in range(0, h // 3, 4)
              if (lambda p: p[0] > 200 and p[1] > 180 and p[2] < 140)(img.getpixel((x, y)))]
    assert yellow, "no highlight box on the page image"
    page = viewer_html(content)
    assert page.count('<img src="data:image/png;base64,') == 1 and "2ページの画像" in page
    assert "tebiki.pdf" not in page and str(pdf_root) not in page
    assert content.download is not None and content.download.name == "tebiki.pdf"


def test_pdf_quote_boxes_follow_the_lines(pdf_root):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_root / "tebiki.pdf"))
    try:
        page = pdf[1]
        boxes = quote_boxes(page, "申請の締切は毎年6月末です。")
        assert len(boxes) == 1  # one line
        left, top, right, bottom = boxes[0]
        assert 0 <= left < right <= page.get_width() and 0 <= top < bottom <= page.get_height() / 2
        assert quote_boxes(page, "この文はどのページにもありません") == []
        assert quote_boxes(pdf[0], "申請の締切は毎年6月末です。") == []  # not on page 1
    finally:
        pdf.close()
