"""事業一覧 tab: filters, counts, CSV of the shown rows (named after the filters), the chart of the
same rows, the empty state, the (※) note, KPI table (on the real records)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from assistant.config import Settings
from assistant.records.load import load_records
from assistant.ui.records_chart import FLAG, FLAG_NO, FLAG_YES, TECH, YEAR, Y
from assistant.ui.records_tab import (
    ALL,
    MARK_NO,
    MARK_YES,
    MSG_EMPTY,
    RecordsHandlers,
    download_name,
    filter_choices,
    filter_projects,
    kpi_frame,
    kpi_html,
    projects_frame,
)


@pytest.fixture(scope="module")
def records():
    rs = load_records(Settings().records_path)
    if not rs.projects:
        pytest.skip("no projects.csv under corpus/records")
    return rs


def test_filters_agree_with_a_direct_count(records):
    ps = records.projects
    assert filter_projects(ps) == list(ps)
    pref = ps[0].prefecture
    assert filter_projects(ps, prefecture=pref) == [p for p in ps if p.prefecture == pref]
    fy = ps[-1].selection_fy
    assert filter_projects(ps, fiscal_year=str(fy)) == [p for p in ps if p.selection_fy == fy]
    marked = filter_projects(ps, mark=MARK_YES)
    assert marked and all(p.mlit_autonomous_support for p in marked)
    assert len(marked) + len(filter_projects(ps, mark=MARK_NO)) == len(ps)
    tech = ps[0].technologies[0]
    both = filter_projects(ps, fiscal_year=str(fy), technology=tech)
    assert both == [p for p in ps if p.selection_fy == fy and tech in p.technologies]
    assert filter_projects(ps, prefecture="存在しない県") == []


def test_choices_come_from_the_data(records):
    ch = filter_choices(records.projects)
    assert ch["prefecture"][0] == ("すべて", ALL)
    assert {v for _, v in ch["prefecture"][1:]} == {p.prefecture for p in records.projects}
    assert {int(v) for _, v in ch["fiscal_year"][1:]} == {p.selection_fy for p in records.projects}
    assert all(any(t in p.technologies for p in records.projects) for _, t in ch["technology"][1:])


def test_apply_returns_table_count_and_a_csv_named_after_the_filters(records, tmp_path):
    h = RecordsHandlers(records, tmp_path)
    pref = records.projects[0].prefecture
    table, count, path = h.apply(pref, ALL, ALL, ALL, today=date(2026, 12, 1))
    expected = [p for p in records.projects if p.prefecture == pref]
    assert table.count("<tr>") == len(expected) + 1  # header + one row each
    assert all(p.entry in table for p in expected)
    assert f"表示件数: {len(expected)}件" in count and f"全{len(records.projects)}件" in count
    assert Path(path).name == f"支援対象事業一覧_{pref}_2026-12-01.csv"
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back["No"]) == [p.no for p in expected] and list(back.columns) == list(projects_frame([]).columns)
    _, count_all, path_all = h.apply(ALL, ALL, ALL, ALL, today=date(2026, 12, 1))
    assert Path(path_all).name == "支援対象事業一覧_2026-12-01.csv"
    assert f"表示件数: {len(records.projects)}件" in count_all


def test_download_name_names_every_filter_and_stays_a_file_name(records):
    fy = records.projects[0].selection_fy
    written = records.projects[0].selection_year
    h = RecordsHandlers(records, Path("/nonexistent"))
    _, labels = h._shown("大阪府", str(fy), "自動運転", MARK_YES)
    assert labels == ["大阪府", f"{written}年度", "自動運転", "(※)あり"]
    assert download_name(labels, date(2026, 12, 1)) == f"支援対象事業一覧_大阪府_{written}年度_自動運転_(※)あり_2026-12-01.csv"
    assert "/" not in download_name(["VR/AR", "a:b"], date(2026, 1, 2))


def test_no_match_says_so_instead_of_an_empty_table(records, tmp_path):
    h = RecordsHandlers(records, tmp_path)
    table, count, path, by_year, by_tech, note = h.on_filter("存在しない県", ALL, ALL, ALL)
    assert MSG_EMPTY in table and "<table" not in table
    assert "表示件数: 0件" in count and path is not None
    assert by_year.visible is False and by_tech.visible is False
    assert "該当する事業がない" in note


def test_the_table_explains_the_mark_with_the_documents_note(records, tmp_path):
    h = RecordsHandlers(records, tmp_path)
    marked, _, _ = h.apply(ALL, ALL, ALL, MARK_YES)
    flag = next(f for f in records.facts if f.fact_id == "flag-meaning")
    assert flag.quote in marked.replace("&quot;", '"')  # the document's own sentence, not ours
    unmarked, _, _ = h.apply(ALL, ALL, ALL, MARK_NO)
    assert flag.quote not in unmarked.replace("&quot;", '"')  # no (※) shown: nothing to explain


def test_the_chart_counts_the_rows_the_table_shows(records, tmp_path):
    h = RecordsHandlers(records, tmp_path)
    pref = max({p.prefecture for p in records.projects},
               key=lambda x: sum(p.prefecture == x for p in records.projects))
    shown = filter_projects(records.projects, prefecture=pref)
    view = h.chart(pref, ALL, ALL, ALL)
    assert view.kind == "year" and list(view.frame.columns) == [YEAR, FLAG, Y]
    assert view.frame[Y].sum() == len(shown)  # every row once, nothing from other tables
    yes = view.frame[view.frame[FLAG] == FLAG_YES][Y].sum()
    assert yes == sum(p.mlit_autonomous_support for p in shown)
    assert set(view.frame[FLAG]) <= {FLAG_YES, FLAG_NO}
    assert f"{len(shown)}件" in view.note and pref in view.note
    years = list(dict.fromkeys(view.frame[YEAR]))
    assert years == sorted(years, key=lambda y: min(p.selection_fy for p in shown if p.selection_year == y))
    by_year, by_tech = view.updates()
    assert by_year.visible is True and by_tech.visible is False  # one chart at a time


def test_a_technology_filter_charts_technologies_by_year(records, tmp_path):
    h = RecordsHandlers(records, tmp_path)
    shown = filter_projects(records.projects, technology="自動運転")
    view = h.chart(ALL, ALL, "自動運転", ALL)
    assert view.kind == "technology" and list(view.frame.columns) == [TECH, YEAR, Y]
    by_year, by_tech = view.updates()
    assert by_year.visible is False and by_tech.visible is True
    own = view.frame[view.frame[TECH] == "自動運転"]
    assert own[Y].sum() == len(shown)  # the chosen technology's bar is the table's count
    for tech, n in view.frame.groupby(TECH)[Y].sum().items():
        assert n == sum(tech in p.technologies for p in shown)
    assert "自動運転" in view.note and "複数の技術" in view.note


def test_kpi_frame_and_table(records):
    kpis = kpi_frame(records.kpis)
    assert len(kpis) == len(records.kpis) and list(kpis.columns) == ["分野", "KPI", "目標", "期限"]
    table = kpi_html([*records.kpis])
    assert table.count("<tr>") == len(records.kpis) + 1


def test_cells_are_escaped(records, tmp_path):
    hostile = records.projects[0].model_copy(update={"entry": "<img src=x onerror=alert(1)>市"})
    h = RecordsHandlers(type("R", (), {"projects": [hostile], "facts": []})(), tmp_path)
    table, _, _ = h.apply(ALL, ALL, ALL, ALL)
    assert "<img" not in table and "&lt;img" in table
