"""The 評価 tab in Debian's headless Chromium: upload a 3-item set, run it, read the result.

Screenshots: ``/tmp/shots/eval-desktop.png`` and ``/tmp/shots/eval-phone.png`` (390×844).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from assistant.config import Settings
from tests.test_browser import CHROMIUM, _free_port, chromium_browser
from tests.ui_fakes import ScriptedAsker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed"),
]

OUT = Path("/tmp/shots")
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
ROWS = [
    ["id", "category", "question", "expected", "answerable"],
    ["b1", "count", "令和4年度の選定数は？", "テスト回答", "TRUE"],
    ["b2", "count", "令和3年度の選定数は？", "存在しない語<b>", "TRUE"],
    ["b3", "process", "支援期間は？", "根拠", "TRUE"],
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from assistant.ui.app import launch

    tmp = tmp_path_factory.mktemp("browser-eval")
    settings = Settings(port=_free_port(), feedback_url=f"sqlite:///{tmp / 'feedback.sqlite3'}")
    demo = launch(settings, asker=ScriptedAsker(), block=False)
    qa = tmp / "三問.csv"
    with qa.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(ROWS)
    yield f"http://127.0.0.1:{settings.port}/", qa
    demo.close()


@pytest.fixture(scope="module")
def browser(served):
    with chromium_browser() as b:
        yield b


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_an_evaluator_runs_a_set_and_sees_the_result(served, browser, device):
    url, qa = served
    phone = device == "phone"
    context = browser.new_context(viewport=VIEWPORTS[device], is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(url)
        page.get_by_role("tab", name="評価").click()
        with page.expect_download() as got:
            page.locator("#eval-template-xlsx").click()
        assert got.value.suggested_filename == "評価用設問テンプレート.xlsx"
        page.locator("#eval-file input[type=file]").set_input_files(str(qa))
        page.locator("#eval-file").get_by_text(qa.name).first.wait_for()
        page.locator("#eval-run").click()
        result = page.locator("#eval-result")
        result.get_by_text("評価が終わりました").wait_for()
        assert "3問中 2問が合格" in result.inner_text()
        failing = page.locator("#eval-failing")
        failing.get_by_text("質問: 令和3年度の選定数は？").wait_for()
        text = failing.inner_text()
        assert "存在しない語<b>" in text and "テスト回答です。" in text  # escaped, shown as typed
        assert "未来技術社会実装事業における最近の取組について" in text and "corpus/" not in text
        assert "令和4年度の選定数は？" not in text
        page.locator("#eval-chart").get_by_text("カテゴリ別の正答率").first.wait_for()
        page.locator("#eval-reports").get_by_text(".xlsx").first.wait_for()
        assert page.locator("#eval-baseline").count() == 0 or not page.locator("#eval-baseline").is_visible()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than the screen"
        OUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUT / f"eval-{device}.png"), full_page=True)
    finally:
        context.close()
