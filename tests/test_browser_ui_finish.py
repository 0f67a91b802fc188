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
    assert page.locator("#keys-hint").inner_text().strip() == "Enter で送信・Shift+Enter で改行"
    box.click()
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
    page.wait_for_timeout(300)
    assert len(asker.calls) == n_calls and box.input_value() == "令和4年度の\n選定数は？"

    box.press("Enter")
    bot = page.locator("#chatbot [data-testid='bot']").last
    bot.get_by_text("テスト回答です").wait_for()
    assert asker.calls[-1][0] == "令和4年度の\n選定数は？"
    assert len(asker.calls) == n_calls + 1  # sent once, not by both Enter handlers
    assert box.input_value() == ""
