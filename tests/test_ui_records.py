"""事業一覧 tab: filters, counts, CSV of the shown rows, chart and KPI frames (on the real records)."""

from __future__ import annotations

import pandas as pd
import pytest

from assistant.config import Settings
from assistant.records.load import load_records
from assistant.ui.records_tab import (
    ALL,
    MARK_NO,
    MARK_YES,
    RecordsHandlers,
    filter_choices,
    filter_projects,
    kpi_frame,
    projects_frame,
    selections_frame,
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


def test_apply_returns_table_count_and_matching_csv(records, tmp_path):
    h = RecordsHandlers(records, tmp_path)
    pref = records.projects[0].prefecture
    frame, count, path = h.apply(pref, ALL, ALL, ALL)
    expected = [p.no for p in records.projects if p.prefecture == pref]
    assert list(frame["No"]) == expected
    assert f"表示件数: {len(expected)}件" in count and f"全{len(records.projects)}件" in count
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back["No"]) == expected and list(back.columns) == list(projects_frame([]).columns)
    _, count_all, path_all = h.apply(ALL, ALL, ALL, ALL)
    assert path_all != path and f"表示件数: {len(records.projects)}件" in count_all


def test_chart_and_kpi_frames(records):
    sel = selections_frame(records.programs, records.selections)
    assert len(sel) == len(records.selections) and sel["選定数"].sum() == sum(s.count for s in records.selections)
    assert list(sel["年度"]) == sorted(sel["年度"])  # fiscal-year order
    kpis = kpi_frame(records.kpis)
    assert len(kpis) == len(records.kpis) and list(kpis.columns) == ["分野", "KPI", "目標", "期限"]
