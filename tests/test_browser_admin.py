"""「資料の追加」 in Debian's headless Chromium: behind ASSISTANT_AUTH an admin logs in, uploads a small
Markdown file, sees the progress bar of the index update, and the chat then answers from it; a user
who is not an admin has no such tab. At desktop 1366×900 and phone 390×844; screenshots go to
``test-output/screenshots/``.

The app runs in-process over a documents folder and an index in a tmp folder (the repository's
records), indexed with the fake embedder; a slow copy of it makes the progress bar visible.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from assistant.config import get_settings
from tests.fakes import FakeEmbeddings
from tests.index_fixtures import ALPHA
from tests.test_browser import CHROMIUM, SHOTS, _free_port, chromium_browser
from tests.test_ui_admin import LAST_ROW, NEW_DOC, NEW_ROW, QUESTION, R4_SELECTED, SEED

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk; CI does)"),
]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
USERS = {"chief": "admin-pass-1", "staff": "staff-pass-2"}


class SlowEmbeddings(FakeEmbeddings):
    """The fake embedder, slowed down so that the progress bar can be seen."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        time.sleep(2.0)
        return super().embed_documents(texts)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from assistant.answer.pipeline import Assistant
    from assistant.index import build_index, clear_cache
    from assistant.ui.app import launch

    tmp = tmp_path_factory.mktemp("browser-admin")
    docs = tmp / "docs"
    docs.mkdir()
    (docs / "alpha.md").write_text(ALPHA, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("ASSISTANT_DOCUMENTS_DIR", str(docs))
    mp.setenv("ASSISTANT_INDEX_DIR", str(tmp / "index"))
    mp.setenv("ASSISTANT_VAR_DIR", str(tmp / "var"))  # records drafts (never accepted here: the records are the repository's)
    mp.setenv("ASSISTANT_AUTH", ",".join(f"{u}:{p}" for u, p in USERS.items()))
    mp.setenv("ASSISTANT_ADMINS", "chief")
    mp.setenv("ASSISTANT_PORT", str(_free_port()))
    mp.setenv("ASSISTANT_FEEDBACK_URL", f"sqlite:///{tmp / 'feedback.sqlite3'}")
    get_settings.cache_clear()
    clear_cache()
    settings, emb = get_settings(), FakeEmbeddings()
    build_index(settings, emb, progress=False)

    def fresh(s):
        a = Assistant(s, embedder=emb)
        a.warm_up()
        return a

    demo = launch(settings, asker=fresh(settings), block=False, build_asker=fresh,
                  index_embedder=SlowEmbeddings)
    uploads = tmp / "to-upload"
    uploads.mkdir()
    (uploads / "suiso-bus.md").write_text(NEW_DOC, encoding="utf-8")
    deck = (settings.root / "corpus" / "documents" / SEED).read_text(encoding="utf-8")
    (uploads / SEED).write_text(deck.replace(LAST_ROW, f"{LAST_ROW}\n{NEW_ROW}").replace(R4_SELECTED, "**R4:11事業**"),
                                encoding="utf-8")
    yield SimpleNamespace(url=f"http://127.0.0.1:{settings.port}/", docs=docs, upload=uploads / "suiso-bus.md",
                          deck=uploads / SEED, var=tmp / "var")
    demo.close()
    clear_cache()
    mp.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def browser(served):
    with chromium_browser() as b:
        yield b


# The outcome line, not the progress bar's own 「完了 - 100%」 (which shows first).
DONE = ("() => { const t = (document.querySelector('#admin-result') || {}).innerText || '';"
        " return t.includes('を追加しました') || t.includes('を置き換えました'); }")


def _context(browser, device: str):
    is_phone = device == "phone"
    return browser.new_context(viewport=VIEWPORTS[device], is_mobile=is_phone, has_touch=is_phone,
                               device_scale_factor=2 if is_phone else 1)


def _log_in(page, url: str, user: str) -> None:
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(USERS[user])
    page.get_by_role("button", name="Login").click()
    page.locator("#question textarea").wait_for()


def _open_tab(page, name: str) -> None:
    """Click the tab ``name``; on a phone the last tabs are under Gradio's 「…」 (ほかのタブ) menu."""
    more = page.locator(".overflow-menu > button")
    page.wait_for_function("(name) => Array.from(document.querySelectorAll('.tab-wrapper button'))"
                           ".some(b => b.innerText.trim() === name && b.offsetParent !== null)", arg=name)
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.is_visible():
        tab.click()
        return
    more.click()
    page.locator(".overflow-dropdown").get_by_role("button", name=name).click()


def _no_overflow(page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the screen"


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_an_admin_adds_a_document_and_the_chat_answers_from_it(served, browser, device):
    name = f"suiso-bus-{device}.md"
    upload = served.upload.with_name(name)
    upload.write_text(NEW_DOC.replace("架空市", f"架空{'東' if device == 'phone' else '西'}市"), encoding="utf-8")
    context = _context(browser, device)
    page = context.new_page()
    page.set_default_timeout(60_000)  # an index build on a loaded 2-core machine
    try:
        _log_in(page, served.url, "chief")
        _open_tab(page, "資料の追加")
        page.locator("#admin-file input[type=file]").set_input_files(str(upload))
        page.locator("#admin-file").get_by_text(name).first.wait_for()
        page.locator("#admin-add").click()
        page.locator("#admin-result").get_by_text("検索用のデータを作成しています").wait_for()
        page.screenshot(path=str(SHOTS / f"13-admin-indexing-{device}.png"))
        result = page.locator("#admin-result")
        page.wait_for_function(DONE)
        assert f"「{name}」を追加しました" in result.inner_text() and "水素バスの実証" in result.inner_text()
        assert "/tmp" not in result.inner_text() and "docs/" not in result.inner_text()
        assert (served.docs / name).read_text(encoding="utf-8").startswith("---\ntitle: 水素バスの実証")
        _no_overflow(page)
        page.screenshot(path=str(SHOTS / f"14-admin-added-{device}.png"))

        page.locator("#admin-add").click()  # the same name again: refused until replacing is confirmed
        page.wait_for_function("() => document.querySelector('#admin-result').innerText.includes('すでにあります')")
        page.wait_for_timeout(500)  # the end of the pending fade
        page.screenshot(path=str(SHOTS / f"15-admin-exists-{device}.png"))

        page.get_by_role("tab", name="質問する").click()
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#send").click()
        bot = page.locator("#chatbot [data-testid='bot']").last
        bot.locator("details.evidence").wait_for()
        assert f"架空{'東' if device == 'phone' else '西'}市" in bot.inner_text()
        _no_overflow(page)
        page.screenshot(path=str(SHOTS / f"16-admin-answered-{device}.png"))
    finally:
        context.close()


def test_a_user_who_is_not_an_admin_has_no_admin_tab(served, browser):
    context = _context(browser, "desktop")
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        _log_in(page, served.url, "staff")
        page.get_by_role("tab", name="事業一覧").wait_for()
        page.wait_for_timeout(800)  # the page load that would show it has run
        assert page.get_by_role("tab", name="資料の追加").count() == 0
        assert page.locator("#admin-add:visible").count() == 0
        page.screenshot(path=str(SHOTS / "17-admin-not-shown-to-staff-desktop.png"))
    finally:
        context.close()



def test_an_admin_drafts_records_from_the_added_deck_and_sees_the_diff(served, browser):
    context = _context(browser, "desktop")
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        _log_in(page, served.url, "chief")
        page.get_by_role("tab", name="資料の追加").click()
        page.locator("#admin-file input[type=file]").set_input_files(str(served.deck))
        page.locator("#admin-file").get_by_text(SEED).first.wait_for()
        page.locator("#admin-add").click()
        page.wait_for_function(DONE)
        assert page.locator("#admin-accept").is_disabled()  # nothing to accept before a draft
        page.locator("#admin-draft").click()
        review = page.locator("#admin-review")
        review.get_by_text("下書きを作成しました").wait_for()
        shown = review.inner_text()
        assert "追加 1件・変更 0件・削除 0件" in shown and "No 46 沖縄県那覇市 (R4)" in shown
        assert "/tmp" not in shown and ".csv" not in shown
        assert page.locator("#admin-accept").is_enabled()
        assert (served.var / "records-review" / SEED.removesuffix(".md") / "draft.json").is_file()
        _no_overflow(page)
        page.wait_for_timeout(500)
        review.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "18-admin-records-draft-desktop.png"), full_page=True)
    finally:
        context.close()
