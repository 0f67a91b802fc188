"""Phone (390×844) and desktop (1366×900) layouts in Debian's headless Chromium (locale ja-JP).

Chat: the question box, the send button beside it and every example question are on the first
screen; the 「会話」 label does not sit over the messages; the comment box waits for an answer;
(※) in an answer is explained by the document's note. 事業一覧: the table scrolls sideways with
No and 自治体 fixed (「2018」 never one digit per line), the chart counts the rows the filters show
and says so, its year labels do not overlap and its legend is inside the chart, a filter with no
match says 「該当する事業はありません」, the CSV is named after the filters and the date.

The app runs in-process with a scripted asker (no model) and the real records. Screenshots go to
``/tmp/shots/ui-*.png``.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.types import Citation
from tests.test_browser import CHROMIUM, _free_port, chromium_browser
from tests.ui_fakes import DEFAULT_CITATION, ScriptedAsker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed"),
]

SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
ROW = Citation(source="corpus/documents/mirai-gijutsu-torikumi-2023-03-15.md",
               locator="事業イメージ > 支援対象事業一覧 (R4.12 時点)", quote="| 8 | 茨城県潮来市(※) | 自動運転等 | R2 |",
               title="未来技術社会実装事業における最近の取組について")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from assistant.ui.app import launch

    tmp = tmp_path_factory.mktemp("browser-layout")
    settings = Settings(port=_free_port(), feedback_url=f"sqlite:///{tmp / 'feedback.sqlite3'}")
    asker = ScriptedAsker(reply="茨城県潮来市(※)はR2年度に選定されました。質問は「{q}」でした。",
                          citations=[ROW, DEFAULT_CITATION])
    demo = launch(settings, asker=asker, block=False)
    yield settings, f"http://127.0.0.1:{settings.port}/"
    demo.close()


@pytest.fixture(scope="module")
def records(served):
    from assistant.records.load import load_records

    return load_records(served[0].records_path)


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as b:
        yield b


def _page(browser, url: str, viewport: dict):
    phone = viewport["width"] < 600
    context = browser.new_context(locale="ja-JP", viewport=viewport, is_mobile=phone, has_touch=phone,
                                  accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    pg.goto(url)
    pg.locator("#question textarea").wait_for()
    return pg


def _box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def _choose(page, elem_id: str, label: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=label, exact=True).click()


@pytest.mark.parametrize("name,viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_chat_fits_the_first_screen_and_explains_the_mark(served, browser, name, viewport):
    page = _page(browser, served[1], viewport)
    try:
        box, send = _box(page, "#question textarea"), _box(page, "#send")
        examples = page.locator("#examples button")
        assert examples.count() >= 3
        last = examples.last.bounding_box()
        assert send["y"] + send["height"] <= viewport["height"], "send button below the first screen"
        assert last["y"] + last["height"] <= viewport["height"], "example questions below the first screen"
        assert send["x"] > box["x"] + box["width"] - 1 and send["y"] < box["y"] + box["height"]  # beside the box
        assert page.locator("#send-hint").is_visible()
        assert not page.locator("#comment").is_visible()  # nothing to comment on yet
        page.screenshot(path=str(SHOTS / f"ui-{name}-chat-first-screen.png"))

        page.locator("#question textarea").fill("潮来市は？")
        page.locator("#send").click()
        bot = page.locator("#chatbot [data-testid='bot']").last
        bot.locator("details.evidence").wait_for()
        note = bot.locator(".mark-note")
        assert "(※)は、国土交通省道路局「内閣府未来技術社会実装事業と連携した自動運転サービス導入支援事業」" in note.inner_text()
        page.locator("#comment textarea, #comment input").first.wait_for(state="visible")
        # the chat has no floating 「会話」 label over its first message
        first = page.locator("#chatbot [data-testid='user']").first.bounding_box()
        labels = page.locator("#chatbot label:visible, #chatbot [data-testid='block-label']:visible")
        for i in range(labels.count()):
            lab = labels.nth(i).bounding_box()
            assert lab is None or lab["y"] + lab["height"] <= first["y"] or lab["y"] >= first["y"] + first["height"]
        page.screenshot(path=str(SHOTS / f"ui-{name}-chat-answer.png"), full_page=True)
    finally:
        page.context.close()


def _chart_counts(page, chart: str = "#selections-chart") -> int:
    """Sum of the bars' counts, read from the chart's own marks (aria-label 「…; 事業数（件）: 7; …」)."""
    labels = page.locator(f"{chart} svg [aria-label*='事業数']").evaluate_all(
        "(els) => els.map((e) => e.getAttribute('aria-label'))")
    return sum(int(m.group(1)) for x in labels if (m := re.search(r"事業数（件）: (\d+)", x)))


def _chart_is_readable(page, selector: str = "#selections-chart") -> None:
    """Axis labels apart from each other and the legend inside the chart's box."""
    chart = _box(page, selector)
    texts = page.locator(f"{selector} svg .role-axis-label text").evaluate_all(
        "(els) => els.map((e) => { const r = e.getBoundingClientRect(); "
        "return {x: r.x, y: r.y, w: r.width, h: r.height, t: e.textContent}; })")
    assert texts, "no axis labels"
    bottom = [t for t in texts if not re.fullmatch(r"\d+", t["t"])]  # the x axis (the y axis is numbers)
    bottom.sort(key=lambda t: t["x"])
    for a, b in zip(bottom, bottom[1:], strict=False):
        apart = a["x"] + a["w"] <= b["x"] + 0.5 or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
        assert apart, f"axis labels overlap: {a['t']} / {b['t']}"
    for el in page.locator(f"{selector} svg .role-legend").all():
        lg = el.bounding_box()
        assert lg["x"] >= chart["x"] - 1 and lg["x"] + lg["width"] <= chart["x"] + chart["width"] + 1, "legend cut"


@pytest.mark.parametrize("name,viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_records_table_scrolls_and_the_chart_follows_the_filters(served, browser, records, name, viewport):
    total = len(records.projects)
    pref, expected = Counter(p.prefecture for p in records.projects).most_common(1)[0]
    page = _page(browser, served[1], viewport)
    try:
        page.get_by_role("tab", name="事業一覧").click()
        page.locator("#projects-count").get_by_text(f"表示件数: {total}件").wait_for()
        page.locator("#selections-chart svg").first.wait_for()
        assert _chart_counts(page) == total
        _chart_is_readable(page)

        # 「2018」 on one line: the year cell is as wide as its text, the table scrolls instead
        year = page.locator("#projects-table td.nowrap").first
        assert year.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1")
        line = year.evaluate("(e) => parseFloat(getComputedStyle(e).lineHeight) || 20")
        assert year.bounding_box()["height"] < 2.2 * line + 12
        scroller = page.locator("#projects-table .records-scroll")
        if name == "phone":
            assert scroller.evaluate("(e) => e.scrollWidth > e.clientWidth")  # sideways, not squeezed
            first = page.locator("#projects-table tbody th").first
            before = first.bounding_box()["x"]
            scroller.evaluate("(e) => { e.scrollLeft = 400; }")
            page.wait_for_timeout(100)
            assert abs(first.bounding_box()["x"] - before) < 1  # 自治体 stays in place
            scroller.evaluate("(e) => { e.scrollLeft = 0; }")
        page.screenshot(path=str(SHOTS / f"ui-{name}-records.png"), full_page=True)

        _choose(page, "f-prefecture", pref)
        page.locator("#projects-count").get_by_text(f"表示件数: {expected}件").wait_for()
        page.locator("#chart-note").get_by_text(f"表に表示中の{expected}件（絞り込み: {pref}）").wait_for()
        page.wait_for_function(
            "(n) => [...document.querySelectorAll('#selections-chart svg [aria-label*=\"事業数\"]')]"
            ".reduce((s, e) => s + Number((e.getAttribute('aria-label').match(/事業数（件）: (\\d+)/) || [0, 0])[1]), 0) === n",
            arg=expected)
        assert page.locator("#projects-table tbody tr").count() == expected
        with page.expect_download() as dl:
            page.locator("#projects-csv").click()
        assert dl.value.suggested_filename == f"支援対象事業一覧_{pref}_{date.today().isoformat()}.csv"
        page.locator("#selections-chart").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"ui-{name}-records-filtered.png"), full_page=True)

        _choose(page, "f-tech", "自動運転")  # a technology: bars are technologies, coloured by year
        with_tech = sum(pref == p.prefecture and "自動運転" in p.technologies for p in records.projects)
        page.locator("#projects-count").get_by_text(f"表示件数: {with_tech}件").wait_for()
        page.locator("#chart-note").get_by_text("使う技術ごとの事業数").wait_for()
        page.locator("#selections-chart").wait_for(state="hidden")
        tech_chart = page.locator("#technology-chart")
        tech_chart.locator("svg").first.wait_for()
        tech_chart.scroll_into_view_if_needed()
        labels = tech_chart.locator("svg .role-axis-label text").evaluate_all("(els) => els.map((e) => e.textContent)")
        assert "自動運転" in labels and "undefined" not in labels
        own = tech_chart.locator("svg [aria-label*='活用技術: 自動運転;']").evaluate_all(
            "(els) => els.map((e) => Number(e.getAttribute('aria-label').match(/事業数（件）: (\\d+)/)[1]))")
        assert sum(own) == with_tech  # the chosen technology's bar is the table's count
        _chart_is_readable(page, "#technology-chart")
        page.screenshot(path=str(SHOTS / f"ui-{name}-records-technology.png"), full_page=True)
    finally:
        page.context.close()


def test_no_match_says_so_and_the_mark_is_explained(served, browser, records):
    present = {(p.prefecture, p.selection_fy) for p in records.projects}
    pref = records.projects[0].prefecture
    fy, label = next((p.selection_fy, p.selection_year) for p in records.projects if (pref, p.selection_fy) not in present)
    page = _page(browser, served[1], PHONE)
    try:
        page.get_by_role("tab", name="事業一覧").click()
        page.locator("#projects-table .records-note").get_by_text("(※)は、国土交通省道路局").wait_for()
        _choose(page, "f-prefecture", pref)
        _choose(page, "f-year", f"{label}（{fy}年度）")
        page.locator("#projects-table").get_by_text("該当する事業はありません").wait_for()
        assert page.locator("#projects-table table").count() == 0  # not a bare header row
        page.locator("#chart-note").get_by_text("該当する事業がないため、グラフはありません").wait_for()
        page.locator("#selections-chart").wait_for(state="hidden")
        assert "表示件数: 0件" in page.locator("#projects-count").inner_text()
        page.screenshot(path=str(SHOTS / "ui-phone-records-empty.png"), full_page=True)
    finally:
        page.context.close()
