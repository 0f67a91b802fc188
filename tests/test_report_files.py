"""The evaluators' reports: the Excel workbook read back with openpyxl, the HTML page escaped."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from assistant.evaluate.report_files import render_html, write_report_files
from assistant.evaluate.report_view import report_view
from tests.test_evaluate_command import bad_script, env, factory_for, good_script, run  # noqa: F401 - fixture

HOSTILE = '<script>alert("x")</script>'


def _report(settings, qa, script) -> dict:
    out = settings.root / "rep"
    run(settings, qa, report_dir=out, factory=factory_for(default=script))
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_eval_writes_html_and_xlsx_next_to_report_json(env):  # noqa: F811 - the fixture
    settings, qa = env
    _report(settings, qa, bad_script())
    page = (settings.root / "rep" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="ja">' in page and "不合格の設問（2件）" in page
    assert "「7事業」が回答にありません。" in page and "資料に答えがない設問に回答しました。" in page
    assert "corpus/documents" not in page  # documents named by file name, never a path
    assert (settings.root / "rep" / "report.xlsx").is_file()


def test_the_workbook_has_overview_categories_and_items(env, tmp_path):  # noqa: F811
    settings, qa = env
    report = _report(settings, qa, bad_script())
    xlsx, _ = write_report_files(report, tmp_path)
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["概要", "カテゴリ別", "設問別"]
    overview = {r[0]: r[1] for r in wb["概要"].iter_rows(min_row=2, values_only=True)}
    assert overview["設問数"] == 4 and overview["正答数"] == 2 and overview["正答率"] == "50.0%"
    cats = {r[0]: r[1:] for r in wb["カテゴリ別"].iter_rows(min_row=2, values_only=True)}
    assert cats["件数（count）"] == (2, 1, 0.5) and cats["資料にない質問（unanswerable）"] == (1, 0, 0.0)
    items = wb["設問別"]
    header = [c.value for c in items[1]]
    assert header[:7] == ["設問ID", "カテゴリ", "判定", "質問", "期待する内容", "回答", "引用"]
    rows = {r[0]: r for r in items.iter_rows(min_row=2, values_only=True)}
    assert rows["q2"][2] == "不合格" and rows["q2"][5] == "8事業です。" and "「R3:8事業」" in rows["q2"][6]
    assert rows["q1"][2] == "合格" and rows["q3"][4] == "いずれかを含む: 5年・五年"
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert items.column_dimensions["F"].width == 60


def test_html_escapes_hostile_text_from_the_set_and_the_answer(env):  # noqa: F811
    settings, qa = env
    script = good_script()
    q = next(iter(script))
    script[q].text = HOSTILE
    report = _report(settings, qa, script)
    report["pipelines"]["default"]["items"][0]["category"] = HOSTILE
    page = render_html(report_view(report))
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_the_view_lists_what_changed_since_the_baseline(env):  # noqa: F811
    settings, qa = env
    run(settings, qa, write_baseline=True, factory=factory_for(default=good_script()))
    report = _report(settings, qa, bad_script())
    view = report_view(report)
    assert view.compared and view.newly_failing == ["q2", "q4"] and view.newly_passing == []
    assert [i.id for i in view.failing] == ["q2", "q4"]


def test_a_set_sharing_no_item_with_the_baseline_says_so(env):  # noqa: F811
    settings, qa = env
    run(settings, qa, write_baseline=True, factory=factory_for(default=good_script()))
    other = settings.root / "other.jsonl"
    other.write_text('{"id": "z1", "question": "R4の選定数は？", "expected": ["10"]}\n', encoding="utf-8")
    out = settings.root / "rep2"
    run(settings, other, report_dir=out, factory=factory_for(default=good_script()))
    view = report_view(json.loads((out / "report.json").read_text(encoding="utf-8")))
    assert not view.compared and view.baseline_note == "基準の結果と同じ設問がないため、比べられる設問はありません。"


def test_text_that_looks_like_a_formula_stays_text_in_the_workbook(env, tmp_path):  # noqa: F811
    settings, qa = env
    script = good_script()
    script["R3の選定数は？"].text = '=HYPERLINK("http://example.invalid","x")'
    report = _report(settings, qa, script)
    xlsx, _ = write_report_files(report, tmp_path)
    rows = {r[0].value: r for r in load_workbook(xlsx)["設問別"].iter_rows(min_row=2)}
    assert rows["q2"][5].data_type == "s" and rows["q2"][5].value.startswith("=HYPERLINK")


def test_a_quote_is_shown_without_the_sources_markdown_emphasis():
    from assistant.evaluate.report_view import CitationView

    c = CitationView("資料", "過去の選定数", "R3:9事業 **R4:10事業**", True)
    assert c.line == "資料（過去の選定数）「R3:9事業 R4:10事業」"
    assert CitationView("資料", "", "x", False).line == "資料「x」　※資料の本文と一致しません"
