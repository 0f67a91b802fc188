"""The source viewer in Debian's headless Chromium: an answer's 根拠 names its document once (title,
date, publisher, no file path); 「資料を開く」 under a citation fills the viewer below the chat with
the cited section (Markdown) or page image and text (a PDF printed by Chromium at test time), the
quote highlighted and in view, and a download of the original. At desktop 1366×900 and phone
390×844, tapping on the phone. Screenshots go to ``test-output/screenshots/``.

The app runs in-process with a scripted asker (no model, no index) citing the real deck, one of
its table rows (as the records engine cites it) and the test PDF.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT, Settings
from assistant.ingest.loaders import load_document
from assistant.source_files import SourceTexts
from assistant.types import Citation
from assistant.ui.viewer import SourceViewer
from tests.test_browser import CHROMIUM, SHOTS, _free_port, chromium_browser
from tests.test_ui_viewer import PDF_HTML, print_pdf
from tests.ui_fakes import DEFAULT_CITATION, ScriptedAsker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk; CI does)"),
]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
TITLE = DEFAULT_CITATION.title
PDF_SOURCE = "tebiki.pdf"


def _row_citation() -> Citation:
    with open(REPO_ROOT / "corpus/records/projects.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["no"] == "8")
    return Citation(row["source"], row["locator"], row["quote"], TITLE)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from assistant.ui.app import launch

    tmp = tmp_path_factory.mktemp("browser-viewer")
    docs = tmp / "docs"  # a documents folder outside the repository, as staff may configure
    docs.mkdir()
    print_pdf(PDF_HTML, docs / PDF_SOURCE)
    text = load_document(docs / PDF_SOURCE, docs).text
    start = text.index("選定された事業には")
    pdf_quote = text[start:text.index("。", start) + 1]
    repo = SourceTexts(REPO_ROOT)

    def resolve(source: str) -> Path | None:
        return docs / PDF_SOURCE if source == PDF_SOURCE else repo.resolve(source)

    viewer = SourceViewer(resolve, lambda p: load_document(p, docs if p.parent == docs else REPO_ROOT),
                          tmp / "downloads")
    citations = [DEFAULT_CITATION, _row_citation(), Citation(PDF_SOURCE, "支援の内容 > p.2", pdf_quote, "支援制度の手引き")]
    asker = ScriptedAsker(citations=citations)
    settings = Settings(port=_free_port(), feedback_url=f"sqlite:///{tmp / 'feedback.sqlite3'}")
    demo = launch(settings, asker=asker, block=False, viewer=viewer)
    yield asker, pdf_quote, f"http://127.0.0.1:{settings.port}/"
    demo.close()


@pytest.fixture(scope="module")
def browser(served):
    with chromium_browser() as b:
        yield b


def _press(locator, is_phone: bool) -> None:
    (locator.tap() if is_phone else locator.click())


def _in_view(page, locator) -> bool:
    """The element is inside the window (not only in the DOM)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] / 2 <= size["height"]


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_citation_opens_the_source_at_the_quote(served, browser, device):
    asker, pdf_quote, url = served
    is_phone = device == "phone"
    context = browser.new_context(viewport=VIEWPORTS[device], is_mobile=is_phone, has_touch=is_phone,
                                  device_scale_factor=2 if is_phone else 1, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(url)
        page.locator("#question textarea").fill("選定された事業の数と支援の内容を教えてください")
        page.locator("#send").click()
        bot = page.locator("#chatbot [data-testid='bot']").last
        panel = bot.locator("details.evidence")
        panel.wait_for()  # the final answer
        _press(panel.locator("> summary"), is_phone)

        # the 根拠 panel: each document named once with its date and publisher, no file path
        docs = bot.locator("li.cite-doc")
        docs.first.wait_for(state="visible")
        assert docs.count() == 2
        assert bot.locator(".cite-title").all_inner_texts() == [TITLE, "支援制度の手引き"]
        assert "2023年3月15日・内閣府 地方創生推進事務局" in docs.first.inner_text()
        shown = panel.inner_text()
        assert "corpus/" not in shown and ".md" not in shown and PDF_SOURCE not in shown
        assert "|" not in shown and "**" not in shown
        assert "2ページ ＞ 支援の内容" in shown
        opens = bot.locator(".evidence .open-source")
        assert opens.count() == 3 and opens.first.inner_text().strip() == "資料を開く"
        assert opens.first.get_attribute("role") == "button" and opens.first.get_attribute("tabindex") == "0"
        if is_phone:
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"the page is {overflow}px wider than the phone screen"
        docs.first.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(SHOTS / f"08b-evidence-open-controls-{device}.png"))

        # 1. the Markdown section, the quote marked and in view, the original downloadable
        _press(opens.nth(0), is_phone)
        viewer = page.locator("#viewer")
        mark = viewer.locator("mark.viewer-quote").first
        mark.wait_for(state="visible")
        assert mark.inner_text() == DEFAULT_CITATION.quote
        assert viewer.locator(".viewer-title").inner_text() == TITLE
        assert viewer.locator(".viewer-meta").inner_text() == "2023年3月15日・内閣府 地方創生推進事務局"
        assert viewer.locator(".viewer-place").inner_text() == "引用箇所: 概要"
        assert viewer.locator(".viewer-body h2").first.inner_text() == "概要"
        assert "corpus/" not in viewer.inner_text()
        page.wait_for_timeout(400)  # the scroll after the update
        assert _in_view(page, mark), "the highlighted quote is not on the screen"
        with page.expect_download() as dl:
            page.locator("#viewer-download").click()
        assert dl.value.suggested_filename == Path(DEFAULT_CITATION.source).name
        assert Path(dl.value.path()).read_bytes() == (REPO_ROOT / DEFAULT_CITATION.source).read_bytes()
        if is_phone:
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"the page is {overflow}px wider than the phone screen"
        page.screenshot(path=str(SHOTS / f"09-viewer-markdown-{device}.png"))

        # 2. a table row (as the records engine cites it): marked cell by cell in the rendered table
        panel.locator(".open-source").nth(1).scroll_into_view_if_needed()
        if is_phone:
            opens.nth(1).tap()
        else:  # by keyboard: the control is a focusable button
            opens.nth(1).focus()
            page.keyboard.press("Enter")
        cells = viewer.locator("td mark.viewer-quote")
        cells.first.wait_for(state="visible")
        assert cells.all_inner_texts() == ["8", "茨城県潮来市(※)", "自動運転等", "R2"]
        page.wait_for_timeout(400)
        assert _in_view(page, cells.nth(1))
        page.screenshot(path=str(SHOTS / f"10-viewer-table-row-{device}.png"))

        # 3. the PDF page: its image (quote boxed) beside the page's text with the quote marked
        panel.locator(".open-source").nth(2).scroll_into_view_if_needed()
        _press(opens.nth(2), is_phone)
        image = viewer.locator(".viewer-page img")
        image.wait_for(state="visible")
        assert image.evaluate("e => e.naturalWidth") > 800
        assert "2ページ" in image.get_attribute("alt")
        mark = viewer.locator(".viewer-body mark.viewer-quote").first
        mark.wait_for(state="visible")
        assert mark.inner_text() == pdf_quote
        assert viewer.locator(".viewer-place").inner_text() == "引用箇所: 2ページ ＞ 支援の内容"
        assert PDF_SOURCE not in viewer.inner_text()
        if is_phone:  # one column: the image fits the screen, the text below it
            box, width = image.bounding_box(), VIEWPORTS[device]["width"]
            assert box["width"] <= width and box["x"] >= 0
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"the page is {overflow}px wider than the phone screen"
        page.wait_for_timeout(400)
        page.screenshot(path=str(SHOTS / f"11-viewer-pdf-{device}.png"))
        mark.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"12-viewer-pdf-text-{device}.png"))
    finally:
        context.close()
