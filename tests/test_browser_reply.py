"""The 「返信文を作成」 draft in Debian's headless Chromium: a pasted e-mail with two numbered questions.

The app runs in-process with :class:`~assistant.answer.message.MessageAsker` around an answerer
that uses the real records engine and question understanding (no embedding model, no index):
the parts, the sender, the numbered answers and the citations are the real ones. The screenshot
goes to ``/tmp/reply.png`` and ``test-output/screenshots/``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from tests.test_browser import ARGS, CHROMIUM, SHOTS, _free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk; CI does)"),
]

#: Written for this test: a municipality the dev set (qa-helpdesk.jsonl) does not use, a person's
#: name the reply must not repeat, two numbered questions about 弊市.
MAIL = """お世話になっております。
広島県福山市 企画政策部 デジタル化推進課の山田と申します。
弊市の未来技術社会実装事業について、議会資料の作成のため2点お伺いします。
1. 弊市の事業は何年度に選定されましたか。
2. 主な活用技術は何ですか。
お忙しいところ恐縮ですが、よろしくお願いいたします。"""

#: Another wording, no department (addressed to the city alone), 当市 and ① ② instead of 1. 2.
MAIL_NO_OFFICE = """いつもお世話になっております。長野県塩尻市の佐藤です。
当市の事業について、次の2点をご教示ください。
①採択年度
②主な活用技術
以上、よろしくお願い申し上げます。"""

SCREENSHOT = Path("/tmp/reply.png")


class RecordsOnlyAsker:
    """The default pipeline's records path only: understanding + records engine, cited rows."""

    def __init__(self, settings: Settings) -> None:
        from assistant.records.engine import RecordsEngine
        from assistant.records.load import load_records
        from assistant.sources import SourceStore

        self.engine = RecordsEngine(load_records(settings.records_path))  # MessageAsker reads places here
        self.sources = SourceStore(settings.root)
        self.calls: list[tuple[str, list[str]]] = []

    def warm_up(self) -> None:
        """Loaded by the constructor."""

    def ask(self, question: str, history: list[str] | None = None):
        from assistant.answer import ABSTAIN_PHRASE
        from assistant.answer.records_answer import records_answer
        from assistant.chat import resolve
        from assistant.types import Answer

        self.calls.append((question, list(history or [])))
        rq, _ = resolve(self.engine, question, list(history or []))
        result = None if self.engine.unexplained(question, rq) else self.engine.run(rq)
        if result is None:
            return Answer(question, f"{ABSTAIN_PHRASE}。", abstained=True, route="abstain")
        return records_answer(question, result, self.sources.title)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from assistant.answer.message import MessageAsker
    from assistant.ui.app import launch

    tmp = tmp_path_factory.mktemp("browser-reply")
    settings = Settings(port=_free_port(), feedback_url=f"sqlite:///{tmp / 'feedback.sqlite3'}")
    base = RecordsOnlyAsker(settings)
    demo = launch(settings, asker=MessageAsker(base), block=False)
    yield base, f"http://127.0.0.1:{settings.port}/"
    demo.close()


@pytest.fixture(scope="module")
def page(served):
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 1000})
        pg.set_default_timeout(20_000)
        pg.goto(served[1])
        yield pg
        browser.close()


def _draft_for(page, base, mail: str, city: str) -> str:
    """Send ``mail`` in a new conversation, click 「返信文を作成」, return the draft's text."""
    page.locator("#new-conversation").click()
    # the reset also empties the question box: wait for it before typing
    page.wait_for_function("() => !document.querySelector(\"#chatbot [data-testid='bot']\")")
    n = len(base.calls)
    page.locator("#question textarea").fill(mail)
    page.locator("#send").click()
    bot = page.locator("#chatbot [data-testid='bot']").last
    bot.locator("details.evidence").wait_for()  # the final answer, with its 根拠 panel
    # one call per numbered question, each about the sender's city (弊市／当市)
    assert len(base.calls) == n + 2 and all(city in q for q, _ in base.calls[n:])
    page.locator("#reply-draft").click()
    page.wait_for_function(  # the draft of this message (the box still shows the previous one until then)
        "city => (document.querySelector('#reply-text textarea')?.value || '').startsWith(city)", arg=city)
    return page.locator("#reply-text textarea").input_value()


def _check_plain_numbered_with_sources(draft: str) -> list[str]:
    lines = draft.splitlines()
    # plain text: no HTML or Markdown markup
    assert not re.search(r"<[a-zA-Z/][^>]*>|\*\*|^#|&[a-z]+;|\]\(", draft, re.M)
    src = lines.index("【出典】")
    assert lines[src + 1] == ("・「未来技術社会実装事業における最近の取組について」（2023-03-15） "
                              "事業イメージ > 支援対象事業一覧 (R4.12 時点)")
    assert lines[-1] == "よろしくお願いいたします。"
    return lines


def test_reply_draft_for_a_pasted_email(served, page):
    base, _ = served
    draft = _draft_for(page, base, MAIL, "福山市")
    box = page.locator("#reply-text textarea")
    box.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    shutil.copyfile(SCREENSHOT, SHOTS / "06-reply-draft.png")

    lines = _check_plain_numbered_with_sources(draft)
    # addressed as the self-introduction allows: the city and the office, never the person's name
    assert lines[0] == "福山市 デジタル化推進課 ご担当者様"
    assert "山田" not in draft
    # the numbered answers as the e-mail numbered its questions, with the records' facts
    first = next(i for i, ln in enumerate(lines) if ln.startswith("1. "))
    assert lines[first + 1].startswith("2. ")
    assert "R1" in lines[first] and "自動運転" in lines[first + 1]
    assert "広島県福山市の事業について:" in draft
    # the sources at the end: document title, date, section
    assert lines.index("【出典】") > first + 1


def test_reply_draft_addressed_to_the_city_alone(served, page):
    base, _ = served
    draft = _draft_for(page, base, MAIL_NO_OFFICE, "塩尻市")
    lines = _check_plain_numbered_with_sources(draft)
    assert lines[0] == "塩尻市 ご担当者様" and "佐藤" not in draft
    first = next(i for i, ln in enumerate(lines) if ln.startswith("①"))
    assert lines[first + 1].startswith("②")
    assert "R4" in lines[first] and "自動運転" in lines[first + 1]
