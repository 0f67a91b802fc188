"""End-to-end in Debian's headless Chromium (Playwright): chat, citations, 👎 into SQLite, 事業一覧 filters.

The app runs in-process on a free loopback port with a scripted asker (no model) and the real
records. Screenshots go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import csv
import json
import socket
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT, Settings
from assistant.feedback import FeedbackStore
from tests.ui_fakes import ScriptedAsker

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = REPO_ROOT / "test-output" / "screenshots"


@contextmanager
def chromium_browser():
    """Debian's Chromium through Playwright (the browser tests' shared launch)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk; CI does)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(fn, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    return fn()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from assistant.ui.app import launch

    tmp = tmp_path_factory.mktemp("browser")
    settings = Settings(port=_free_port(), feedback_url=f"sqlite:///{tmp / 'feedback.sqlite3'}")
    asker = ScriptedAsker()
    demo = launch(settings, asker=asker, block=False)  # records=None: the real corpus/records
    yield settings, asker, f"http://127.0.0.1:{settings.port}/"
    demo.close()


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request):
    failed_before = request.session.testsfailed
    yield
    pg = request.node.funcargs.get("page")
    if pg is not None and request.session.testsfailed > failed_before:
        pg.screenshot(path=str(SHOTS / f"failed-{request.node.name}.png"), full_page=True)


@pytest.fixture(scope="module")
def page(served):
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        pg.set_default_timeout(20_000)
        dialogs: list[str] = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.dialogs = dialogs
        pg.goto(served[2])
        yield pg
        browser.close()


def _ask(page, text: str) -> None:
    page.locator("#question textarea").fill(text)
    page.locator("#send").click()


def test_chat_answer_citation_and_dislike_into_sqlite(served, page):
    settings, asker, _ = served
    _ask(page, "令和4年度に選定された事業はいくつですか？")
    bot = page.locator("#chatbot [data-testid='bot']").last
    bot.get_by_text("テスト回答です").wait_for()
    panel = bot.locator("details.evidence summary")
    panel.wait_for()
    assert panel.inner_text() == "根拠（1件）"
    panel.click()  # expand the 根拠 panel
    quote = bot.locator(".cite-quote")
    quote.wait_for(state="visible")
    assert quote.inner_text() == "H30年度からR4年度までに合計53事業を選定"
    assert "未来技術社会実装事業における最近の取組について" in bot.locator(".cite-title").inner_text()
    page.screenshot(path=str(SHOTS / "01-chat-answer-citation.png"), full_page=True)

    # follow-up: the earlier user turn is passed as history
    _ask(page, "では令和3年度は？")
    page.locator("#chatbot [data-testid='bot']").nth(1).locator("details.evidence").wait_for()  # final
    assert asker.calls[-1] == ("では令和3年度は？", ["令和4年度に選定された事業はいくつですか？"])

    # 👎 on the first answer, then a comment: one row in SQLite with question, answer, citations, hash
    page.locator("#chatbot button[aria-label='Dislike']").first.click()
    page.locator("#status").get_by_text("👎 を記録しました").wait_for()
    page.locator("#comment textarea, #comment input").first.fill("根拠の年度を確認したい")
    page.locator("#comment-send").click()
    page.locator("#status").get_by_text("コメントを記録しました").wait_for()
    store = FeedbackStore(settings.resolved_feedback_url)
    try:
        rows = _wait_until(lambda: [r for r in store.rows() if r.comment])
        assert len(rows) == 1 and rows[0].vote == "down"
        assert rows[0].question == "令和4年度に選定された事業はいくつですか？"
        assert rows[0].answer.startswith("テスト回答です") and rows[0].config_hash == settings.config_hash()
        assert json.loads(rows[0].citations)[0]["quote"] == "H30年度からR4年度までに合計53事業を選定"
        assert rows[0].comment == "根拠の年度を確認したい"
    finally:
        store.close()
    page.screenshot(path=str(SHOTS / "02-feedback-recorded.png"), full_page=True)

    # the conversation downloads as Markdown with both questions
    with page.expect_download() as dl:
        page.locator("#export-md").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "令和4年度に選定された事業はいくつですか？" in text and "では令和3年度は？" in text


def test_hostile_and_blank_input(served, page):
    _, asker, _ = served
    n_calls = len(asker.calls)
    page.locator("#question textarea").fill("   ")
    page.locator("#send").click()
    page.locator("#status").get_by_text("質問を入力してください").wait_for()
    assert len(asker.calls) == n_calls

    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>**太字**'
    _ask(page, hostile)
    page.locator("#chatbot [data-testid='user']").last.get_by_text("<img src=x", exact=False).wait_for()
    page.locator("#chatbot [data-testid='bot']").last.locator("details.evidence").wait_for()  # final
    assert page.locator("#chatbot img, #chatbot script, #chatbot strong").count() == 0
    assert page.dialogs == []
    page.screenshot(path=str(SHOTS / "03-hostile-input-escaped.png"), full_page=True)


def _choose(page, elem_id: str, label: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=label, exact=True).click()


def test_records_tab_filters_count_and_csv(served, page):
    from assistant.records.load import load_records

    records = load_records(served[0].records_path)
    assert records.projects, "no projects in corpus/records"
    total = len(records.projects)
    pref, expected = Counter(p.prefecture for p in records.projects).most_common(1)[0]

    page.get_by_role("tab", name="事業一覧").click()
    count = page.locator("#projects-count")
    count.get_by_text(f"表示件数: {total}件").wait_for()
    _choose(page, "f-prefecture", pref)
    count.get_by_text(f"表示件数: {expected}件").wait_for()
    rows = page.locator("#projects-table tbody tr")  # our own HTML table: every shown row is there
    assert _wait_until(lambda: rows.count() == expected)
    with page.expect_download() as dl:
        page.locator("#projects-csv").click()
    with open(dl.value.path(), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == expected and {r["都道府県"] for r in rows} == {pref}
    page.screenshot(path=str(SHOTS / "04-records-filtered.png"), full_page=True)

    _choose(page, "f-prefecture", "すべて")
    _choose(page, "f-mark", "(※)あり")
    marked = sum(p.mlit_autonomous_support for p in records.projects)
    count.get_by_text(f"表示件数: {marked}件").wait_for()
    assert page.locator("#selections-chart").is_visible() and page.locator("#kpi-table").is_visible()
    page.screenshot(path=str(SHOTS / "05-records-mark-chart-kpi.png"), full_page=True)
