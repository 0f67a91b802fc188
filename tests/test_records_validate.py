"""Validation of the records folder: the real records, every value in the document, and the
CLI's precise problem lines on a damaged copy."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import REPO_ROOT
from assistant.normalize import match_key, nfkc
from assistant.records.load import TABLES, read_records
from assistant.records.validate import validate_records

RECORDS = REPO_ROOT / "corpus" / "records"
DOC = "corpus/documents/mirai-gijutsu-torikumi-2023-03-15.md"
#: columns whose values are identifiers or derived (western years, flags), not document text
DERIVED = {"source", "locator", "quote", "program_id", "kpi_id", "event_id", "selection_fy", "fiscal_year",
           "deadline_fy", "period_start_fy", "date", "prefecture_is_applicant", "mlit_autonomous_support",
           "support_ends_r4", "project_no", "fact_id", "label"}


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "records"
    shutil.copytree(RECORDS, folder)
    return folder


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_real_records_validate_with_expected_counts():
    report = validate_records(RECORDS, REPO_ROOT)
    assert report.problems == []
    assert report.projects_per_year == {"H30": 9, "R1": 5, "R2": 12, "R3": 9, "R4": 10}
    assert sum(report.projects_per_year.values()) == 45
    assert report.totals == {"selected": 53, "supported": 45, "ended": 8}
    assert report.counts["support_ended.csv"] == 9 and report.counts["programs.csv"] == 5


def test_every_value_appears_in_the_document():
    doc = nfkc((REPO_ROOT / DOC).read_text(encoding="utf-8"))
    plain = match_key(doc.replace("**", ""))
    numbers = {float(n) for n in re.findall(r"[0-9]+(?:\.[0-9]+)?", plain)}
    rs = read_records(RECORDS)
    checked = 0
    for attr in TABLES:
        for rec in getattr(rs, attr):
            assert rec.source == DOC
            assert nfkc(rec.quote) in doc, rec.quote
            for name, value in rec.model_dump().items():
                if name in DERIVED or value in (None, "", []):
                    continue
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, int | float):
                        assert float(item) in numbers, (attr, name, item)
                    else:
                        assert match_key(item) in plain, (attr, name, item)
                    checked += 1
    assert checked > 600


def test_project_rows_cite_their_table_line():
    rs = read_records(RECORDS)
    for p in rs.projects:
        assert p.quote == f"| {p.no} | {p.entry} | {p.technologies_as_written} | {p.selection_year} |"


def test_cli_reports_three_precise_problems(tmp_path):
    folder = _copy(tmp_path)
    projects = folder / "projects.csv"
    _edit(projects, "| 12 | 埼玉県秩父市 | IoT、自動運転、ドローン等 | R2 |,12,埼玉県,埼玉県秩父市,秩父市,",
          "| 12 | 埼玉県秩父市 | IoT、自動運転、ドローン等 | R2 |,12,埼玉県,埼玉県秩父市,秩夫市,")
    _edit(projects, "AI;IoT;ロボット;VR/AR,AI、IoT、ロボット、VR/AR,R3", "AI;IoT;量子;VR/AR,AI、IoT、ロボット、VR/AR,R3")
    _edit(projects, "豊能町 | AI、IoT、5G、クラウドコンピューティング等 | R4 |,28,大阪府,大阪府豊能町,豊能町,false,"
                    "AI;IoT;5G;クラウドコンピューティング,AI、IoT、5G、クラウドコンピューティング等,R4,",
          "豊能町 | AI、IoT、5G、クラウドコンピューティング等 | R4 |,28,大阪府,大阪府豊能町,豊能町,false,"
          "AI;IoT;5G;クラウドコンピューティング,AI、IoT、5G、クラウドコンピューティング等,R9,")
    result = CliRunner().invoke(app, ["records", "validate", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"レコードに問題があります / error: 3 problem(s) in {folder}"
    lines = result.stdout.strip().splitlines()
    assert lines == [
        "projects.csv:13:municipalities: '秩夫市' does not appear in entry '埼玉県秩父市'",
        "projects.csv:18:technologies: '量子' is not in the technology vocabulary "
        "(AI, IoT, 5G, 自動運転, ロボット, ドローン, クラウドコンピューティング, キャッシュレス, ブロックチェーン, "
        "ビッグデータ, VR/AR)",
        "projects.csv:29:selection_year: 'R9' is FY2027 but selection_fy is 2022",
    ]


def test_cli_ok_line(tmp_path):
    result = CliRunner().invoke(app, ["records", "validate", str(_copy(tmp_path))])
    assert result.exit_code == 0
    assert result.stdout.startswith("OK: 45 projects (H30 9, R1 5, R2 12, R3 9, R4 10), 5 programs, ")


def test_consistent_but_wrong_year_is_caught_by_the_quote(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "projects.csv", "| R4 |,3,岩手県,岩手県盛岡市,盛岡市,false,AI;IoT;5G;クラウドコンピューティング,"
                                   "AI、IoT、5G、クラウドコンピューティング等,R4,2022,",
          "| R4 |,3,岩手県,岩手県盛岡市,盛岡市,false,AI;IoT;5G;クラウドコンピューティング,"
          "AI、IoT、5G、クラウドコンピューティング等,R3,2021,")
    problems = validate_records(folder, REPO_ROOT).problems
    assert [(p.row, p.column) for p in problems] == [(4, "selection_year")]
    assert "'R3' does not appear in the row's quote" in problems[0].message


def test_quote_and_kpi_and_event_checks(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "kpis.csv", "光ファイバの世帯カバー率:**99.9%**", "光ファイバの世帯カバー率:**99.0%**")
    _edit(folder / "kpis.csv", ",2022～2026年度累計,2026,2022,", ",2022～2026年度累計,2025,2022,")
    _edit(folder / "events.csv", ",2022-10-28,2日目,", ",2022-10-29,2日目,")
    _edit(folder / "events.csv", ",23,選定自治体21名", ",32,選定自治体21名")
    problems = {(p.file, p.column) for p in validate_records(folder, REPO_ROOT).problems}
    assert problems == {("kpis.csv", "quote"), ("kpis.csv", "deadline_fy"), ("events.csv", "date"),
                        ("events.csv", "participants")}


def test_support_ended_must_match_flagged_projects(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "support_ended.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(line for line in lines if ",宮城県仙台市," not in line), encoding="utf-8")
    problems = validate_records(folder, REPO_ROOT).problems
    assert [str(p) for p in problems] == [
        "projects.csv:6:support_ends_r4: No.5 is flagged but missing from support_ended.csv"]


def test_projects_without_program_selections_are_reported(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "program_selections.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(line for line in lines if not line.endswith(",cao-mirai,R4,2022,10")),
                    encoding="utf-8")
    problems = validate_records(folder, REPO_ROOT).problems
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("programs.csv", 2, "selections_as_written"), ("projects.csv", 4, "selection_year")]
    assert "R4 has 10 project(s) but cao-mirai has no selections that year" in problems[1].message


def test_duplicate_keys_are_reported(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "events.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",mini-symposium-2023,", ",symposium-2022-day1,"), encoding="utf-8")
    problems = validate_records(folder, REPO_ROOT).problems
    assert [(p.file, p.column) for p in problems] == [("events.csv", "-")]
    assert "duplicate key 'symposium-2022-day1'" in problems[0].message
