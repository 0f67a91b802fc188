"""A records count answer in Debian's headless Chromium: the computed figure is underlined, its
working opens under 「計算の内訳」 (by tapping: it must work on a phone), and the values the answer
reads from each quote are highlighted in the 根拠 panel. At desktop 1366×900 and phone 390×844.

The app runs in-process with the real question understanding and records engine (no model, no
index); the answer gets its claims as the default pipeline gives them (``with_claims``).
Screenshots go to ``eval/screenshots/`` (and ``test-output/screenshots/``).
"""

from __future__ import annotations

import re
import shutil

import pytest

from assistant.config import REPO_ROOT, Settings
from tests.test_browser import ARGS, CHROMIUM, SHOTS, _free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk; CI does)"),
]

EVAL_SHOTS = REPO_ROOT / "eval" / "screenshots"
QUESTION = "R2年度に選定された事業のうち自動運転を使うものは？"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


class ClaimedRecordsAsker:
    """The records path of the default pipeline, with the claims the pipeline gives every answer."""

    def __init__(self, settings: Settings) -> None:
        from tests.test_browser_reply import RecordsOnlyAsker

        self.base = RecordsOnlyAsker(settings)
        self.answers: list = []

    def warm_up(self) -> None:
        """Loaded by the constructor."""

    def ask(self, question: str, history: list[str] | None = None):
        from assistant.answer.claims import with_claims

        answer = self.base.ask(question, history)
        if not answer.claims:
            with_claims(answer)
        self.answers.append(answer)
        return answer


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from assistant.ui.app import launch

    tmp = tmp_path_factory.mktemp("browser-claims")
    settings = Settings(port=_free_port(), feedback_url=f"sqlite:///{tmp / 'feedback.sqlite3'}")
    asker = ClaimedRecordsAsker(settings)
    demo = launch(settings, asker=asker, block=False)
    yield asker, f"http://127.0.0.1:{settings.port}/"
    demo.close()


@pytest.fixture(scope="module")
def browser(served):
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    EVAL_SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_working_of_a_count_and_marked_quotes(served, browser, device):
    asker, url = served
    is_phone = device == "phone"
    context = browser.new_context(viewport=VIEWPORTS[device], is_mobile=is_phone, has_touch=is_phone,
                                  device_scale_factor=2 if is_phone else 1)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(url)
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#send").click()
        bot = page.locator("#chatbot [data-testid='bot']").last
        bot.locator("details.evidence").wait_for()  # the final answer
        answer = asker.answers[-1]
        count = next(c for c in answer.claims if c.kind == "computed" and c.operation == "count")

        # the figure is underlined in the answer, with the working as its tooltip
        figure = bot.locator("span.figure").first
        assert figure.inner_text() == f"{count.text}件"
        assert figure.get_attribute("title").startswith(f"{count.text}件 = ")
        assert "underline" in figure.evaluate("e => getComputedStyle(e).textDecorationLine")

        # 「計算の内訳」 opens by tapping/clicking its summary (no hover needed) and says how
        working = bot.locator("details.working")
        summary = working.locator("summary")
        assert summary.inner_text().startswith("計算の内訳")
        first = working.locator("li").first
        assert not first.is_visible()
        (summary.tap() if is_phone else summary.click())
        first.wait_for(state="visible")
        line = first.inner_text()
        assert line.startswith(f"{count.text}件 = ") and "採択年度: R2" in line and "自動運転" in line
        assert line.endswith(f"を数えた結果（数えた行: 根拠の1〜{count.text}番、{count.text}件）")
        assert not re.search(r"claim|computed|count|Project", working.inner_text())

        # the 根拠 panel: readable quotes (no table pipes), the quoted values marked inside them
        evidence = bot.locator("details.evidence summary")
        (evidence.tap() if is_phone else evidence.click())
        quote = bot.locator(".cite-quote").first
        quote.wait_for(state="visible")
        assert "|" not in quote.inner_text() and "**" not in quote.inner_text()
        marks = quote.locator("mark").all_inner_texts()
        assert "R2" in marks and "茨城県" in marks and "潮来市" in marks
        quotes = bot.locator(".cite-quote")  # every row the answer names has its value marked
        assert quotes.count() == len(answer.citations)
        assert all(quotes.nth(i).locator("mark").count() >= 1 for i in range(quotes.count()))

        # nothing is wider than the screen on the phone
        if is_phone:
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"the page is {overflow}px wider than the phone screen"
        # the answer and its working at the top of the screen, then the quotes with their marks
        bot.evaluate("""e => {  // the message at the top of the chat, below its 「会話」 label
            e.scrollIntoView({block: 'start'});
            let box = e.parentElement;
            while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
            if (box) box.scrollTop -= 40;
            window.scrollBy(0, -40);
        }""")
        path = EVAL_SHOTS / f"claims-working-{device}.png"
        page.screenshot(path=str(path))
        shutil.copyfile(path, SHOTS / f"07-claims-working-{device}.png")
        quote.evaluate("e => e.closest('li').scrollIntoView({block: 'center'})")
        path = EVAL_SHOTS / f"claims-quotes-{device}.png"
        page.screenshot(path=str(path))
        shutil.copyfile(path, SHOTS / f"08-claims-quotes-{device}.png")
    finally:
        context.close()
