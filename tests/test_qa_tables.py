"""QA sets as JSONL, CSV or Excel: templates read back, bad rows named, ``assistant eval --qa``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from assistant.errors import QAFileInvalidError
from assistant.evaluate.qa import QAFileError
from assistant.evaluate.qa_tables import (
    COLUMNS,
    load_qa_any,
    read_qa_table,
    split_groups,
    split_list,
    write_template_csv,
    write_template_xlsx,
)
from tests.test_evaluate_command import QA, env, factory_for, good_script, run  # noqa: F401 - fixture


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "QA"
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_the_xlsx_template_reads_back_as_its_example_item(tmp_path):
    path = write_template_xlsx(tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["QA", "説明"]
    assert [c.value for c in wb["QA"][1]] == list(COLUMNS)
    notes = "\n".join(str(c.value) for row in wb["説明"].iter_rows() for c in row if c.value)
    assert "「|」" in notes and "改行" in notes
    (item,) = load_qa_any(path)
    assert item.id == "q001" and item.expected == ["10"] and item.answerable is True
    assert item.category == "count" and item.question.startswith("令和4年度")


def test_the_csv_template_reads_back_the_same_item_as_the_xlsx(tmp_path):
    from_csv = load_qa_any(write_template_csv(tmp_path / "t.csv"))
    from_xlsx = load_qa_any(write_template_xlsx(tmp_path / "t.xlsx"))
    assert [i.model_dump() for i in from_csv] == [i.model_dump() for i in from_xlsx]
    assert (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8


def test_list_cells_split_on_new_lines_and_bars():
    assert split_list("10事業\n5年｜R4 | ") == ["10事業", "5年", "R4"]
    assert split_groups("5年|五年\nR4|令和4年") == [["5年", "五年"], ["R4", "令和4年"]]


def test_xlsx_cells_become_typed_items(tmp_path):
    path = _xlsx(tmp_path / "qa.xlsx", [
        ["id", "category", "question", "history", "expected", "any_of", "answerable", "accept", "gold_sources"],
        [7, "followup", "その年度は？", "R4の選定数は？\n支援期間は？", "10|事業", "5年|五年\nR4|令和4年", True, None,
         "corpus/documents/doc.md|R4:10事業"],
        ["q8", "", "予算は？", None, None, None, False, "一覧にありません", None],
    ])
    a, b = load_qa_any(path)
    assert a.id == "7" and a.history == ["R4の選定数は？", "支援期間は？"] and a.expected == ["10", "事業"]
    assert a.any_of == [["5年", "五年"], ["R4", "令和4年"]]
    assert a.gold_sources[0].source == "corpus/documents/doc.md" and a.gold_sources[0].contains == "R4:10事業"
    assert b.answerable is False and b.accept == ["一覧にありません"] and b.category == "uncategorized"


def test_every_bad_row_is_named_with_row_column_and_reason(tmp_path):
    path = _csv(tmp_path / "qa.csv", [
        ["id", "question", "answerable"],
        ["q1", "よい設問", "はい"],
        ["q2", "", ""],            # no question
        ["", "IDなし", ""],         # no id
        ["q4", "答えられる？", "たぶん"],  # not a yes/no
        ["q1", "重複", ""],          # duplicate id
        ["q6", "これもよい", "いいえ"],
    ])
    table = read_qa_table(path)
    assert [i.id for i in table.items] == ["q1", "q6"]
    text = table.problem_text()
    assert "3行目・「質問（question）」列: 質問が空欄です。" in text
    assert "4行目・「設問ID（id）」列" in text
    assert "5行目・「回答可能（answerable）」列: 「たぶん」は使えません" in text
    assert "6行目・「設問ID（id）」列: 設問ID「q1」は2行目と重複しています。" in text
    with pytest.raises(QAFileError, match="3行目"):
        load_qa_any(path)


def test_an_unknown_column_and_a_missing_question_column_are_named(tmp_path):
    path = _xlsx(tmp_path / "qa.xlsx", [["id", "expectd"], ["q1", "10"]])
    text = read_qa_table(path).problem_text()
    assert "「expectd」という列は使えません" in text and "「質問（question）」列: この列が見出し行にありません" in text


def test_jsonl_problems_are_named_per_line_and_other_formats_are_refused(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"id": "a", "question": "質問"}\nnot json\n{"id": "b"}\n', encoding="utf-8")
    table = read_qa_table(path)
    assert [i.id for i in table.items] == ["a"]
    assert "2行目: JSON として読めません。" in table.problem_text()
    assert "3行目・「質問（question）」列" in table.problem_text()
    other = tmp_path / "qa.txt"
    other.write_text("x", encoding="utf-8")
    assert "JSONL・CSV・Excel" in read_qa_table(other).problem_text()


def test_cp932_csv_from_japanese_excel_is_read(tmp_path):
    path = tmp_path / "qa.csv"
    path.write_bytes("id,question,expected\nq1,選定数は？,10事業\n".encode("cp932"))
    (item,) = load_qa_any(path)
    assert item.question == "選定数は？" and item.expected == ["10事業"]


def _as_xlsx(path: Path) -> Path:
    keys = ["id", "category", "question", "expected", "any_of", "answerable", "gold_sources"]
    rows: list[list[object]] = [keys]
    for q in QA:
        rows.append([q["id"], q["category"], q["question"], "\n".join(q.get("expected", [])),
                     "\n".join("|".join(g) for g in q.get("any_of", [])), q.get("answerable", True),
                     "\n".join(f"{g['source']}|{g['contains']}" for g in q.get("gold_sources", []))])
    return _xlsx(path, rows)


def test_eval_runs_an_xlsx_set_like_its_jsonl(env):  # noqa: F811 - the fixture
    settings, qa = env
    xlsx = _as_xlsx(settings.root / "qa.xlsx")
    assert [i.model_dump() for i in load_qa_any(xlsx)] == [i.model_dump() for i in load_qa_any(qa)]
    assert run(settings, xlsx, report_dir=settings.root / "rep") == 0
    report = json.loads((settings.root / "rep" / "report.json").read_text(encoding="utf-8"))
    assert report["pipelines"]["default"]["summary"]["accuracy"] == 1.0 and report["n_items"] == 4


def test_eval_refuses_a_bad_table_naming_the_row(env):  # noqa: F811
    settings, _ = env
    bad = _csv(settings.root / "bad.csv", [["id", "question"], ["q1", ""]])
    from assistant.evaluate import eval_command

    with pytest.raises(QAFileInvalidError, match="2行目"):
        eval_command(settings, bad, factory=factory_for(default=good_script()), progress=False)


def test_cli_accepts_the_qa_option(env, monkeypatch):  # noqa: F811
    from assistant import cli

    settings, _ = env
    bad = _csv(settings.root / "bad.csv", [["id", "question"], ["q1", ""]])
    monkeypatch.setattr(cli, "_settings", lambda: settings)
    result = CliRunner().invoke(cli.app, ["eval", "--qa", str(bad)])
    assert result.exit_code == 2 and "2行目" in result.output


def test_the_project_qa_set_survives_a_round_trip_through_excel(tmp_path):
    from assistant.config import REPO_ROOT
    from assistant.evaluate.qa import load_qa
    from assistant.evaluate.qa_tables import write_items_xlsx

    items = load_qa(REPO_ROOT / "eval" / "qa.jsonl")
    back = load_qa_any(write_items_xlsx(items, tmp_path / "qa.xlsx"))
    assert [i.model_dump() for i in back] == [i.model_dump() for i in items]
