"""The 事業一覧 tab: filterable projects table with CSV download, selections chart, KPI table."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.records.schema import TECHNOLOGIES, Kpi, Program, ProgramSelection, Project

log = logging.getLogger(__name__)

ALL = ""  # dropdown value meaning "no filter"
MARK_YES, MARK_NO = "yes", "no"
PROJECT_COLUMNS = ["No", "都道府県", "自治体", "主な活用技術", "採択年度", "採択年度(西暦)", "(※)", "R4年度末で支援満了"]


def filter_projects(projects: Sequence[Project], prefecture: str = ALL, fiscal_year: str | int = ALL,
                    technology: str = ALL, mark: str = ALL) -> list[Project]:
    """Projects matching every given filter (``ALL``/empty = no filter on that field; a year that
    is not a number matches nothing)."""
    year: int | None = None
    if fiscal_year not in (ALL, None):
        try:
            year = int(fiscal_year)
        except (TypeError, ValueError):
            return []
    out = []
    for p in projects:
        if prefecture and p.prefecture != prefecture:
            continue
        if year is not None and p.selection_fy != year:
            continue
        if technology and technology not in p.technologies:
            continue
        if mark == MARK_YES and not p.mlit_autonomous_support:
            continue
        if mark == MARK_NO and p.mlit_autonomous_support:
            continue
        out.append(p)
    return out


def projects_frame(projects: Sequence[Project]) -> pd.DataFrame:
    rows = [[p.no, p.prefecture, p.entry, p.technologies_as_written, p.selection_year, p.selection_fy,
             "※" if p.mlit_autonomous_support else "", "○" if p.support_ends_r4 else ""] for p in projects]
    return pd.DataFrame(rows, columns=PROJECT_COLUMNS)


def filter_choices(projects: Sequence[Project]) -> dict[str, list[tuple[str, str]]]:
    """Dropdown choices (label, value) taken from the data; the first is always すべて."""
    prefs = list(dict.fromkeys(p.prefecture for p in projects))  # table order (north to south)
    years = sorted({(p.selection_fy, p.selection_year) for p in projects})
    present = {t for p in projects for t in p.technologies}
    techs = [t for t in TECHNOLOGIES if t in present] + sorted(present - set(TECHNOLOGIES))
    every = [("すべて", ALL)]
    return {
        "prefecture": every + [(x, x) for x in prefs],
        "fiscal_year": every + [(f"{label}（{fy}年度）", str(fy)) for fy, label in years],
        "technology": every + [(t, t) for t in techs],
        "mark": every + [("(※)あり", MARK_YES), ("(※)なし", MARK_NO)],
    }


def count_text(shown: int, total: int) -> str:
    return f"**表示件数: {shown}件** / 全{total}件"


def selections_frame(programs: Sequence[Program], selections: Sequence[ProgramSelection]) -> pd.DataFrame:
    """Long table (年度, 選定数, 事業) for the chart, ordered by fiscal year."""
    names = {p.program_id: f"{p.ministry}: {p.program_name}" for p in programs}
    rows = sorted((s.fiscal_year, s.fiscal_year_label, names.get(s.program_id, s.program_id), s.count)
                  for s in selections)
    return pd.DataFrame([(f"{fy}({label})", name, n) for fy, label, name, n in rows],
                        columns=["年度", "事業", "選定数"])


def kpi_frame(kpis: Sequence[Kpi]) -> pd.DataFrame:
    rows = [[k.section, k.name, k.target_as_written, k.deadline_as_written] for k in kpis]
    return pd.DataFrame(rows, columns=["分野", "KPI", "目標", "期限"])


def write_csv(frame: pd.DataFrame, folder: Path, key: str) -> str:
    """Write the shown rows as CSV (UTF-8 with BOM for Excel); the name depends on the filters."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    path = folder / f"projects-{digest}.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return str(path)


class RecordsHandlers:
    def __init__(self, records: Any, export_dir: Path) -> None:
        self.records = records
        self.export_dir = export_dir

    def apply(self, prefecture: str, fiscal_year: str, technology: str, mark: str) -> tuple[Any, ...]:
        """(table, count text, CSV path) for the filters."""
        projects = self.records.projects
        shown = filter_projects(projects, prefecture or ALL, fiscal_year or ALL, technology or ALL,
                                mark or ALL)
        frame = projects_frame(shown)
        key = "|".join(str(x) for x in (prefecture, fiscal_year, technology, mark))
        try:
            path: str | None = write_csv(frame, self.export_dir, key)
        except OSError:
            log.exception("CSV export failed")
            path = None
        return frame, count_text(len(shown), len(projects)), path


@dataclass
class RecordsView:
    """The tab's components that show records, and their values for new records (after a draft
    was accepted in 「資料の追加」): wire :attr:`outputs` as the outputs of an event returning
    :meth:`refresh`."""

    handlers: RecordsHandlers
    filters: list[Any]  # prefecture, year, technology, mark dropdowns
    count: Any
    download: Any
    table: Any
    chart: Any = None  # only when the records had selections when the tab was built
    kpis: Any = None
    outputs: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.outputs = [*self.filters, self.count, self.download, self.table,
                        *(c for c in (self.chart, self.kpis) if c is not None)]

    def refresh(self, records: Any) -> list[Any]:
        """New values for :attr:`outputs`: the filters reset to すべて (with the new choices), every
        project shown; the handlers filter the new records from now on."""
        self.handlers.records = records
        choices = filter_choices(records.projects)
        out: list[Any] = [gr.Dropdown(choices=choices[k], value=ALL)
                          for k in ("prefecture", "fiscal_year", "technology", "mark")]
        frame, count, path = self.handlers.apply(ALL, ALL, ALL, ALL)
        out += [count, path, frame]
        if self.chart is not None:
            out.append(selections_frame(getattr(records, "programs", []), getattr(records, "selections", [])))
        if self.kpis is not None:
            out.append(kpi_frame(getattr(records, "kpis", [])))
        return out


def build_records_tab(records: Any, export_dir: Path, load_error: str | None = None) -> RecordsView | None:
    """Lay out the 事業一覧 tab inside the current Blocks context (None: no records to show)."""
    if records is None or not getattr(records, "projects", None):
        gr.Markdown(f"⚠️ 事業データを読み込めませんでした。{load_error or ''}".strip(), elem_id="records-error")
        return None
    h = RecordsHandlers(records, export_dir)
    choices = filter_choices(records.projects)
    gr.Markdown("### 支援中の事業（R4年度）")
    with gr.Row():
        pref = gr.Dropdown(choices["prefecture"], value=ALL, label="都道府県", elem_id="f-prefecture")
        year = gr.Dropdown(choices["fiscal_year"], value=ALL, label="採択年度", elem_id="f-year")
        tech = gr.Dropdown(choices["technology"], value=ALL, label="活用技術", elem_id="f-tech")
        mark = gr.Dropdown(choices["mark"], value=ALL, label="(※) 国交省道路局の自動運転支援",
                           elem_id="f-mark")
    frame, count, path = h.apply(ALL, ALL, ALL, ALL)
    with gr.Row():
        shown = gr.Markdown(count, elem_id="projects-count")
        download = gr.DownloadButton("表示中の行を CSV で保存", value=path, size="sm", elem_id="projects-csv")
    table = gr.Dataframe(frame, interactive=False, wrap=True, max_height=480, elem_id="projects-table",
                         column_widths=["6%", "10%", "24%", "28%", "8%", "10%", "5%", "9%"])
    for dd in (pref, year, tech, mark):
        dd.change(h.apply, [pref, year, tech, mark], [table, shown, download], api_visibility="private")

    chart = kpi_table = None
    sel = selections_frame(getattr(records, "programs", []), getattr(records, "selections", []))
    if not sel.empty:
        gr.Markdown("### 年度別の選定数（府省庁の事業別）")
        chart = gr.BarPlot(sel, x="年度", y="選定数", color="事業", sort="x", label="年度別の選定数",
                   x_title="年度", y_title="選定数", color_title="事業", elem_id="selections-chart")
    kpis = kpi_frame(getattr(records, "kpis", []))
    if not kpis.empty:
        gr.Markdown("### KPI（目標）")
        kpi_table = gr.Dataframe(kpis, interactive=False, wrap=True, max_height=420, elem_id="kpi-table",
                                 column_widths=["24%", "40%", "20%", "16%"])
    return RecordsView(h, [pref, year, tech, mark], shown, download, table, chart, kpi_table)
