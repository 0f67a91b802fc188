"""Issue 16 part 1 in Debian's headless Chromium (locale ja-JP): IME-safe sending from the
question box, Japanese labels only, the 事業一覧 empty state, download name and filtered chart,
and the phone layout of its table.

The app runs in-process on a free loopback port with a scripted asker (no model) and the real
records; the browser is the shared launch of ``tests/test_browser.py``.
"""

from __future__ import annotations

import pytest

from assistant.config import Settings
from tests.test_browser import CHROMIUM, _free_port, chromium_browser
from tests.ui_fakes import ScriptedAsker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from assistant.ui.app import launch

    tmp = tmp_path_factory.mktemp("browser-finish")
    settings = Settings(port=_free_port(), feedback_url=f"sqlite:///{tmp / 'feedback.sqlite3'}")
    asker = ScriptedAsker()
    demo = launch(settings, asker=asker, block=False)
    yield settings, asker, f"http://127.0.0.1:{settings.port}/"
    demo.close()


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as b:
        yield b


@pytest.fixture()
def page(served, browser):
    context = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 900},
                                  accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    pg.goto(served[2])
    pg.locator("#question textarea").wait_for()
    yield pg
    context.close()


def test_enter_sends_shift_enter_breaks_line_and_ime_composition_never_sends(served, page):
    _, asker, _ = served
    n_calls = len(asker.calls)
    box = page.locator("#question textarea")
    assert page.locator("#send-hint").inner_text().strip() == "Enter で送信・Shift+Enter で改行"
    box.click()
    page.wait_for_function("document.querySelector('#question textarea').getAttribute('aria-describedby')"
                           " === 'send-hint'")  # the hint is read with the box
    box.type("令和4年度の")
    box.press("Shift+Enter")
    box.type("選定数は？")
    page.wait_for_timeout(300)  # a send would have started by now; nothing may have been asked
    assert box.input_value() == "令和4年度の\n選定数は？"
    assert len(asker.calls) == n_calls
    assert page.locator("#chatbot [data-testid='user']").count() == 0

    # Enter that confirms an IME conversion: the event the browser sends while composing
    composing = box.evaluate("""(el) => {
        const e = new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter', isComposing: true,
                                                keyCode: 229, bubbles: true, cancelable: true});
        el.dispatchEvent(e);
        return e.defaultPrevented;
    }""")
    assert composing is False  # left to the IME
    # keyCode 229 alone (how some browsers report an IME's Enter) does not send either
    box.evaluate("""(el) => el.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 229,
                                                                          bubbles: true, cancelable: true}))""")
    page.wait_for_timeout(300)
    assert len(asker.calls) == n_calls and box.input_value() == "令和4年度の\n選定数は？"

    box.press("Enter")
    bot = page.locator("#chatbot [data-testid='bot']").last
    bot.get_by_text("テスト回答です").wait_for()
    assert asker.calls[-1][0] == "令和4年度の\n選定数は？"
    assert len(asker.calls) == n_calls + 1  # sent once, not by both Enter handlers
    assert box.input_value() == ""


ENGLISH = ["Copy message", "Copied message", "Liked", "Disliked", "Copy table data", "Fullscreen", "Textbox",
           "Dataframe", "Copy", "More tabs", "chatbot conversation", "Table actions", "Open cell menu",
           "user's message", "bot's message", "Vega visualization", "X-axis", "Y-axis", "legend", "Empty value"]
#: Words that are the documents' own (a column heading, abbreviations) rather than the UI's.
OWN_WORDS = {"No", "KPI", "API", "CSV", "JSON", "IoT", "MaaS", "DX"}
NAMES_JS = """() => Array.from(document.querySelectorAll('[aria-label], [title], [alt], [aria-roledescription]'))
  .flatMap((e) => ['aria-label', 'title', 'alt', 'aria-roledescription'].map((a) => e.getAttribute(a)))
  .filter((v) => v)"""


def _english_left(page) -> list[str]:
    import re

    text = page.inner_text("body")
    names = page.evaluate(NAMES_JS)
    found = [s for s in ENGLISH if s in text or any(s in n for n in names)]
    found += [n for n in names if re.fullmatch(r"[A-Za-z' .-]+", n) and n not in OWN_WORDS]
    return found


def test_japanese_labels_only_with_the_ja_locale(served, page):
    assert page.evaluate("navigator.language") == "ja-JP"
    box = page.locator("#question textarea")
    box.fill("令和4年度に選定された事業はいくつですか？")
    page.locator("#send").click()
    bot = page.locator("#chatbot [data-testid='bot']").last
    bot.locator("details.evidence").wait_for()
    assert page.get_by_role("textbox", name="質問", exact=True).count() == 1  # not "Textbox"
    page.locator("#chatbot button[aria-label='いいね']").first.click()
    page.locator("#status").get_by_text("👍 を記録しました").wait_for()
    page.locator("#chatbot button[aria-label='いいね済み']").first.wait_for()
    page.locator("#chatbot button[aria-label='メッセージをコピー']").first.wait_for()
    assert _english_left(page) == []
    name = bot.get_attribute("aria-label")  # the answer's accessible name is its text, not its HTML
    assert name.startswith("回答: テスト回答です。") and "<" not in name and "根拠（1件）" in name

    page.get_by_role("tab", name="事業一覧").click()
    page.locator("#projects-count").get_by_text("表示件数").wait_for()
    page.locator("#selections-chart svg, #selections-chart canvas").first.wait_for()
    page.wait_for_timeout(300)  # the relabelling runs on each DOM change
    assert _english_left(page) == []

    page.get_by_role("tab", name="評価").click()
    page.locator("#eval-file").wait_for()
    page.wait_for_timeout(300)
    assert _english_left(page) == []


def test_copy_puts_the_answer_on_the_clipboard_as_plain_text(served, page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served[2].rstrip("/"))
    page.locator("#question textarea").fill("令和4年度に選定された事業はいくつですか？")
    page.locator("#send").click()
    bot = page.locator("#chatbot [data-testid='bot']").last
    bot.locator("details.evidence").wait_for()
    page.locator("#chatbot .message-buttons-left").last.locator("button").first.click()
    page.locator("#chatbot button[aria-label='コピーしました']").first.wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("テスト回答です。質問は「令和4年度に選定された事業はいくつですか？」でした。")
    assert "<" not in copied and "&lt;" not in copied and "class=" not in copied  # no HTML source
    assert "根拠（1件）" in copied and "未来技術社会実装事業における最近の取組について" in copied
    assert "「H30年度からR4年度までに合計53事業を選定」" in copied and "資料を開く" not in copied


def _choose(page, elem_id: str, label: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=label, exact=True).click()


BAR_TOTAL_JS = """() => Array.from(document.querySelectorAll('#selections-chart [aria-roledescription]'))
  .filter((e) => ['bar', '棒'].includes(e.getAttribute('aria-roledescription')))
  .map((e) => /事業数（件）: (\\d+)/.exec(e.getAttribute('aria-label') || ''))
  .reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0)"""


def _bars_add_up_to(page, n: int) -> None:
    """Wait until the chart's bars (read from their accessible names, 「事業数（件）: 2」) sum to ``n``."""
    page.wait_for_function(f"() => ({BAR_TOTAL_JS})() === {n}")


def test_records_filter_chart_download_name_and_empty_state(served, page):
    from collections import Counter
    from datetime import date

    from assistant.records.load import load_records

    projects = load_records(served[0].records_path).projects
    pref, n = Counter(p.prefecture for p in projects).most_common(1)[0]
    page.get_by_role("tab", name="事業一覧").click()
    count = page.locator("#projects-count")
    count.get_by_text(f"表示件数: {len(projects)}件").wait_for()
    _bars_add_up_to(page, len(projects))  # the chart counts the table's rows, nothing else
    _choose(page, "f-prefecture", pref)
    count.get_by_text(f"表示件数: {n}件").wait_for()
    note = page.locator("#chart-note")
    note.get_by_text(f"表に表示中の{n}件（絞り込み: {pref}）").wait_for()
    page.wait_for_function(f"() => document.querySelectorAll('#projects-table tbody tr').length === {n}")
    _bars_add_up_to(page, n)
    with page.expect_download() as dl:
        page.locator("#projects-csv").click()
    assert dl.value.suggested_filename == f"支援対象事業一覧_{pref}_{date.today().isoformat()}.csv"

    # a combination nothing matches: the table says so, and there is no chart of nothing
    from assistant.ui.records_tab import filter_choices

    years = {p.selection_fy for p in projects if p.prefecture == pref}
    absent = next(label for label, fy in filter_choices(projects)["fiscal_year"] if fy and int(fy) not in years)
    _choose(page, "f-year", absent)
    count.get_by_text("表示件数: 0件").wait_for()
    page.locator("#projects-table").get_by_text("該当する事業はありません").wait_for()
    assert page.locator("#projects-table tbody tr").count() == 0


def test_phone_table_scrolls_sideways_with_the_first_column_fixed(served, browser):
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    try:
        pg.goto(served[2])
        pg.get_by_role("tab", name="事業一覧").click()
        pg.locator("#projects-table tbody tr").first.wait_for()
        box = pg.locator("#projects-table .records-scroll")
        sizes = box.evaluate("(e) => [e.scrollWidth, e.clientWidth]")
        assert sizes[0] > sizes[1]  # it scrolls sideways instead of squeezing the columns
        # no cell is one character wide: every cell of the first row is at least 2 characters wide
        widths = pg.evaluate("""() => Array.from(document.querySelectorAll('#projects-table tbody tr:first-child > *'))
          .map((c) => c.getBoundingClientRect().width / parseFloat(getComputedStyle(c).fontSize))""")
        assert widths and min(widths) >= 2, widths
        year_cell = pg.locator("#projects-table tbody tr").first.locator("td.nowrap")
        lines = year_cell.evaluate("""(e) => { const r = document.createRange(); r.selectNodeContents(e);
          return new Set(Array.from(r.getClientRects()).map((b) => Math.round(b.top))).size; }""")
        assert lines == 1  # 「H30（2018年度）」 on one line, not a digit per line
        first = pg.locator("#projects-table tbody tr").first.locator("> *").first
        left = first.bounding_box()["x"]
        box.evaluate("(e) => { e.scrollLeft = 300; }")
        pg.wait_for_timeout(100)
        assert abs(first.bounding_box()["x"] - left) < 1  # No stays in place
        pg.screenshot(path="/tmp/shots/ui-phone-records-test.png", full_page=True)
    finally:
        context.close()
