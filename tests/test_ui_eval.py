"""The 評価 tab's handlers with a small fake asker: upload, run, chart, diff, reports, baseline role."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from assistant.config import Settings
from assistant.types import Answer, Citation
from assistant.ui.eval_tab import MSG_BASELINE_DONE, MSG_NOT_ADMIN, MSG_NOT_STANDARD, EvalHandlers

DOC = "# 過去の選定数\n\nR4:10事業、R3:7事業。\n\n支援期間は選定から5年です。\n"
SRC = "corpus/documents/doc.md"
ROWS = [
    ["id", "category", "question", "expected", "answerable"],
    ["e1", "count", "R4の選定数は？", "10", ""],
    ["e2", "count", "R3の選定数は？", "7事業", ""],
    ["e3", "unanswerable", "予算の内訳は？", "", "いいえ"],
]
USERS = SimpleNamespace(chief=SimpleNamespace(username="chief"), staff=SimpleNamespace(username="staff"))


class TableAsker:
    """Answers from a dict by question (the Asker protocol); the R3 answer is wrong unless fixed."""

    def __init__(self, fixed: bool = False, hostile: str = "") -> None:
        self.fixed = fixed
        self.hostile = hostile
        self.asked: list[str] = []

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        self.asked.append(question)
        if question.startswith("R4"):
            return Answer(question, "令和4年度は10事業です。" + self.hostile,
                          [Citation(SRC, "過去の選定数", "R4:10事業", title="選定の資料")], route="records")
        if question.startswith("R3"):
            quote = "R3:7事業" if self.fixed else "R3:8事業"
            return Answer(question, f"{quote[3:]}です。", [Citation(SRC, "過去の選定数", quote, title="選定の資料")])
        return Answer(question, "資料に記載がありません。", abstained=True, route="abstain")

    def warm_up(self) -> None:
        """Nothing to load."""


@pytest.fixture()
def env(tmp_path: Path):
    (tmp_path / "corpus/documents").mkdir(parents=True)
    (tmp_path / SRC).write_text(DOC, encoding="utf-8")
    settings = Settings(root=tmp_path, auth="chief:pw1,staff:pw2", admins="chief")
    qa = tmp_path / "set.csv"
    with qa.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(ROWS)
    return settings, qa


def _progress(*args, **kwargs) -> None:
    _progress.calls.append(args)  # type: ignore[attr-defined]


_progress.calls = []  # type: ignore[attr-defined]


def _handlers(settings: Settings, asker: TableAsker, standard: Path | None = None) -> EvalHandlers:
    return EvalHandlers(settings, asker, settings.root / "export", standard=standard)


def test_a_run_shows_figures_chart_failing_items_and_reports(env):
    settings, qa = env
    asker = TableAsker(hostile="<script>alert(1)</script>")
    h = _handlers(settings, asker)
    summary, chart, failing, files, button, run = h.on_run(str(qa), USERS.staff, _progress)
    assert asker.asked == ["R4の選定数は？", "R3の選定数は？", "予算の内訳は？"]
    assert "評価が終わりました" in summary and "3問中 2問が合格" in summary
    assert "比較できる基準の結果がありません" in summary
    assert dict(zip(chart["カテゴリ"], chart["正答率（%）"], strict=True)) == {"件数": 50.0, "資料にない質問": 100.0}
    assert "R3の選定数は？" in failing and "すべて含む: 7事業" in failing and "8事業です。" in failing
    assert "選定の資料（過去の選定数）「R3:8事業」" in failing and "「7事業」が回答にありません。" in failing
    assert "R4の選定数は？" not in failing  # it passed
    assert str(settings.root) not in summary + failing and "corpus/" not in failing
    assert [Path(f).suffix for f in files] == [".xlsx", ".html"] and Path(files[0]).name.startswith("評価レポート_")
    assert "<script>" not in Path(files[1]).read_text(encoding="utf-8")
    assert load_workbook(files[0]).sheetnames == ["概要", "カテゴリ別", "設問別"]
    assert button.visible is False  # staff is no admin
    assert run is not None and run.outcomes["e2"][1] is False


def test_an_admin_makes_a_run_the_baseline_and_the_next_run_lists_the_change(env):
    settings, qa = env
    h = _handlers(settings, TableAsker(), standard=qa)  # the set make test gates with
    *_, button, run = h.on_run_standard(USERS.chief, _progress)
    assert button.visible is True
    message, _ = h.on_baseline(run, USERS.chief)
    assert MSG_BASELINE_DONE in message
    base = json.loads((settings.root / "eval/baseline.json").read_text(encoding="utf-8"))
    assert base["pipelines"]["default"]["items"]["e2"][1] is False and base["n_items"] == 3
    fixed = _handlers(settings, TableAsker(fixed=True))
    summary, *_ = fixed.on_run(str(qa), USERS.staff, _progress)
    assert "新たに合格になった設問: e2" in summary and "新たに不合格になった設問: なし" in summary


def test_an_admin_cannot_make_a_run_of_another_set_the_baseline(env):
    settings, qa = env
    other = qa.with_name("two.csv")
    with other.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(ROWS[:3])  # a part of the standard set
    h = _handlers(settings, TableAsker(), standard=qa)
    *_, button, run = h.on_run(str(other), USERS.chief, _progress)
    assert button.visible is True and run is not None
    message, _ = h.on_baseline(run, USERS.chief)
    assert MSG_NOT_STANDARD in message and not (settings.root / "eval/baseline.json").exists()


def test_a_user_who_is_not_an_admin_cannot_write_the_baseline(env):
    settings, qa = env
    h = _handlers(settings, TableAsker())
    *_, run = h.on_run(str(qa), USERS.staff, _progress)
    message, _ = h.on_baseline(run, USERS.staff)
    assert MSG_NOT_ADMIN in message
    assert not (settings.root / "eval/baseline.json").exists()
    message, _ = h.on_baseline(run, None)  # no login at all
    assert MSG_NOT_ADMIN in message and not (settings.root / "eval/baseline.json").exists()


def test_a_bad_file_names_its_rows_and_asks_nothing(env):
    settings, qa = env
    bad = qa.with_name("bad.csv")
    bad.write_text("id,question\nb1,\n,IDなし\n", encoding="utf-8")
    asker = TableAsker()
    summary, chart, failing, files, button, run = _handlers(settings, asker).on_run(str(bad), USERS.chief, _progress)
    assert "直していただきたい点" in summary and "2行目・「質問（question）」列" in summary and "3行目" in summary
    assert asker.asked == [] and run is None and files is None and button.visible is False and chart.empty
    summary, *_ = _handlers(settings, asker).on_run(None, USERS.chief, _progress)
    assert "設問ファイルを選んで" in summary


def test_the_templates_are_readable_sets(env):
    settings, _ = env
    from assistant.evaluate.qa_tables import load_qa_any

    xlsx, csv_path = _handlers(settings, TableAsker()).templates()
    assert xlsx.name.endswith(".xlsx") and csv_path.name.endswith(".csv")
    assert load_qa_any(xlsx)[0].id == load_qa_any(csv_path)[0].id == "q001"


def test_a_set_larger_than_one_run_takes_is_refused_politely(env, monkeypatch):
    from assistant.ui import eval_tab

    settings, qa = env
    monkeypatch.setattr(eval_tab, "MAX_ITEMS", 2)
    asker = TableAsker()
    summary, *_, run = _handlers(settings, asker).on_run(str(qa), USERS.staff, _progress)
    assert "一度に評価できるのは2問までです" in summary and asker.asked == [] and run is None
