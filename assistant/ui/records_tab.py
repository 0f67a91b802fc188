"""The 事業一覧 tab: filterable projects table with CSV download, a chart of the same rows, KPI table.

The table is our own HTML (escaped): it scrolls sideways on a phone with 「No」 and 「自治体」
fixed on the left, says 「該当する事業はありません」 when nothing matches, and explains (※) with
the document's own note. The chart counts exactly the rows the table shows (:mod:`records_chart`)
and says so; the CSV is named after the filters and today's date
(``支援対象事業一覧_大阪府_2026-12-01.csv``).
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.records.schema import TECHNOLOGIES, Kpi, Project
from assistant.ui.notes import MarkNote, note_line, notes_from_records
from assistant.ui.records_chart import ChartView, chart_components, chart_view

log = logging.getLogger(__name__)

ALL = ""  # dropdown value meaning "no filter"
MARK_YES, MARK_NO = "yes", "no"
MARK_LABELS = {MARK_YES: "(※)あり", MARK_NO: "(※)なし"}
PROJECT_COLUMNS = ["No", "都道府県", "自治体", "主な活用技術", "採択年度", "採択年度(西暦)", "(※)", "R4年度末で支援満了"]
CSV_STEM = "支援対象事業一覧"
MSG_EMPTY = "該当する事業はありません。絞り込みの条件を変えてお試しください。"


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
    """The rows as the CSV has them (every column of the document's table)."""
    rows = [[p.no, p.prefecture, p.entry, p.technologies_as_written, p.selection_year, p.selection_fy,
             "※" if p.mlit_autonomous_support else "", "○" if p.support_ends_r4 else ""] for p in projects]
    return pd.DataFrame(rows, columns=PROJECT_COLUMNS)


def projects_html(projects: Sequence[Project], notes: Sequence[MarkNote] = ()) -> str:
    """The shown rows as an escaped HTML table in a sideways-scrolling box (the first two columns
    stay in place), or the empty-state message; the (※) note under the table when a row has it."""
    if not projects:
        return f'<div class="records-empty" role="status"><p>{html.escape(MSG_EMPTY)}</p></div>'
    head = ("<tr><th scope=\"col\">No</th><th scope=\"col\">自治体</th><th scope=\"col\">主な活用技術</th>"
            "<th scope=\"col\">採択年度</th><th scope=\"col\">(※)</th><th scope=\"col\">R4年度末で支援満了</th></tr>")
    rows = []
    for p in projects:
        year = f"{p.selection_year}（{p.selection_fy}年度）"
        mark = "※" if p.mlit_autonomous_support else ""
        ends = "○" if p.support_ends_r4 else ""
        rows.append(f"<tr><td>{p.no}</td><th scope=\"row\">{html.escape(p.entry)}</th>"
                    f"<td>{html.escape(p.technologies_as_written)}</td><td class=\"nowrap\">{html.escape(year)}</td>"
                    f"<td class=\"center\">{mark}</td><td class=\"center\">{ends}</td></tr>")
    hint = '<p class="records-hint">表は横にスクロールできます（採択年度などの列は右にあります）。</p>'
    table = hint + (f'<div class="records-scroll" tabindex="0" role="region" aria-label="支援対象事業の一覧（横にスクロールできます）">'
             f'<table class="records-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>')
    flagged = any(p.mlit_autonomous_support or "※" in p.entry for p in projects)
    shown = [n for n in notes if n.mark == "(※)"] if flagged else []
    foot = "".join(f'<p class="records-note">{html.escape(note_line(n))}</p>' for n in shown)
    return table + foot


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
        "mark": every + [(label, value) for value, label in MARK_LABELS.items()],
    }


def count_text(shown: int, total: int) -> str:
    return f"**表示件数: {shown}件** / 全{total}件"


def kpi_frame(kpis: Sequence[Kpi]) -> pd.DataFrame:
    rows = [[k.section, k.name, k.target_as_written, k.deadline_as_written] for k in kpis]
    return pd.DataFrame(rows, columns=["分野", "KPI", "目標", "期限"])


def kpi_html(kpis: Sequence[Kpi]) -> str:
    """The KPI targets as an escaped HTML table that scrolls sideways on a phone (KPI name fixed)."""
    frame = kpi_frame(kpis)
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in ("KPI", "目標", "期限", "分野"))
    rows = "".join(f'<tr><th scope="row">{html.escape(str(r.KPI))}</th><td>{html.escape(str(r.目標))}</td>'
                   f'<td>{html.escape(str(r.期限))}</td><td>{html.escape(str(r.分野))}</td></tr>'
                   for r in frame.itertuples(index=False))
    return (f'<div class="records-scroll" tabindex="0" role="region" aria-label="KPI（目標）の一覧">'
            f'<table class="records-table kpi"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>')


def filter_labels(projects: Sequence[Project], prefecture: str, fiscal_year: str, technology: str,
                  mark: str) -> list[str]:
    """The active filters as the reader names them: ["大阪府", "R2年度", "自動運転", "(※)あり"]."""
    labels = [prefecture] if prefecture else []
    if fiscal_year:
        written = {str(p.selection_fy): p.selection_year for p in projects}
        labels.append(f"{written.get(str(fiscal_year), fiscal_year)}年度")
    if technology:
        labels.append(technology)
    if mark in MARK_LABELS:
        labels.append(MARK_LABELS[mark])
    return labels


_UNSAFE = str.maketrans({c: "_" for c in '\\/:*?"<>|\0\t\r\n'})


def download_name(labels: Sequence[str], today: date) -> str:
    """``支援対象事業一覧_大阪府_自動運転_2026-12-01.csv``: the filters, then the date; no character
    a file name may not hold."""
    parts = [CSV_STEM, *(x.translate(_UNSAFE).strip() for x in labels), today.isoformat()]
    return "_".join(p for p in parts if p)[:150] + ".csv"


def write_csv(frame: pd.DataFrame, folder: Path, name: str) -> str:
    """Write the shown rows as CSV (UTF-8 with BOM for Excel) as ``folder/<filters>/name`` (a
    folder per filter set, so two users' downloads never share a file; written whole, then renamed)."""
    sub = folder / hashlib.sha256(name.encode()).hexdigest()[:12]
    sub.mkdir(parents=True, exist_ok=True)
    path = sub / name
    fd, tmp = tempfile.mkstemp(dir=sub, suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
        frame.to_csv(f, index=False)
    os.replace(tmp, path)
    return str(path)


class RecordsHandlers:
    def __init__(self, records: Any, export_dir: Path) -> None:
        self.records = records
        self.export_dir = export_dir

    @property
    def notes(self) -> list[MarkNote]:
        return notes_from_records(self.records)

    def apply(self, prefecture: str, fiscal_year: str, technology: str, mark: str,
              today: date | None = None) -> tuple[str, str, str | None]:
        """(table HTML, count text, CSV path) for the filters."""
        shown, labels = self._shown(prefecture, fiscal_year, technology, mark)
        try:
            path: str | None = write_csv(projects_frame(shown), self.export_dir,
                                         download_name(labels, today or date.today()))
        except OSError:
            log.exception("CSV export failed")
            path = None
        return projects_html(shown, self.notes), count_text(len(shown), len(self.records.projects)), path

    def chart(self, prefecture: str, fiscal_year: str, technology: str, mark: str) -> ChartView:
        """The chart of the rows the filters show, with the sentence that says what it counts."""
        shown, labels = self._shown(prefecture, fiscal_year, technology, mark)
        return chart_view(shown, labels, technology or ALL)

    def on_filter(self, prefecture: str, fiscal_year: str, technology: str, mark: str) -> tuple[Any, ...]:
        """Every output of a filter change: table, count, CSV, year chart, technology chart, chart note."""
        table, count, path = self.apply(prefecture, fiscal_year, technology, mark)
        view = self.chart(prefecture, fiscal_year, technology, mark)
        return (table, count, path, *view.updates(), view.note)

    def _shown(self, prefecture: str, fiscal_year: str, technology: str, mark: str) -> tuple[list[Project], list[str]]:
        projects = self.records.projects
        f = [x or ALL for x in (prefecture, fiscal_year, technology, mark)]
        return filter_projects(projects, *f), filter_labels(projects, *f)


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
    chart: Any = None  # by year
    chart_tech: Any = None  # by technology (under a technology filter)
    chart_note: Any = None
    kpis: Any = None
    outputs: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        charts = (self.chart, self.chart_tech, self.chart_note) if self.chart is not None else ()
        self.outputs = [*self.filters, self.count, self.download, self.table, *charts,
                        *([self.kpis] if self.kpis is not None else [])]

    def refresh(self, records: Any) -> list[Any]:
        """New values for :attr:`outputs`: the filters reset to すべて (with the new choices), every
        project shown; the handlers filter the new records from now on."""
        self.handlers.records = records
        choices = filter_choices(records.projects)
        out: list[Any] = [gr.Dropdown(choices=choices[k], value=ALL)
                          for k in ("prefecture", "fiscal_year", "technology", "mark")]
        table, count, path, by_year, by_tech, note = self.handlers.on_filter(ALL, ALL, ALL, ALL)
        out += [count, path, table]
        if self.chart is not None:
            out += [by_year, by_tech, note]
        if self.kpis is not None:
            out.append(kpi_html(getattr(records, "kpis", [])))
        return out


def build_records_tab(records: Any, export_dir: Path, load_error: str | None = None) -> RecordsView | None:
    """Lay out the 事業一覧 tab inside the current Blocks context (None: no records to show)."""
    if records is None or not getattr(records, "projects", None):
        gr.Markdown(f"⚠️ 事業データを読み込めませんでした。{load_error or ''}".strip(), elem_id="records-error")
        return None
    h = RecordsHandlers(records, export_dir)
    choices = filter_choices(records.projects)
    gr.Markdown("### 支援中の事業（R4年度）")
    with gr.Row(elem_id="records-filters"):
        pref = gr.Dropdown(choices["prefecture"], value=ALL, label="都道府県", elem_id="f-prefecture", min_width=150)
        year = gr.Dropdown(choices["fiscal_year"], value=ALL, label="採択年度", elem_id="f-year", min_width=150)
        tech = gr.Dropdown(choices["technology"], value=ALL, label="活用技術", elem_id="f-tech", min_width=150)
        mark = gr.Dropdown(choices["mark"], value=ALL, label="(※) 国交省道路局の自動運転支援",
                           elem_id="f-mark", min_width=150)
    table_html, count, path = h.apply(ALL, ALL, ALL, ALL)
    first = h.chart(ALL, ALL, ALL, ALL)
    with gr.Row(equal_height=True, elem_id="records-count-row"):
        shown = gr.Markdown(count, elem_id="projects-count")
        download = gr.DownloadButton("表示中の行を CSV で保存", value=path, size="sm", elem_id="projects-csv",
                                     scale=0, min_width=180)
    table = gr.HTML(table_html, elem_id="projects-table")
    gr.Markdown("### 表示中の事業のグラフ")
    chart_note = gr.Markdown(first.note, elem_id="chart-note")
    chart, chart_tech = chart_components(records.projects, first)
    outs = [table, shown, download, chart, chart_tech, chart_note]
    for dd in (pref, year, tech, mark):
        dd.change(h.on_filter, [pref, year, tech, mark], outs, api_visibility="private")

    kpi_table = None
    kpis = getattr(records, "kpis", [])
    if kpis:
        gr.Markdown("### KPI（目標）")
        kpi_table = gr.HTML(kpi_html(kpis), elem_id="kpi-table")
    return RecordsView(h, [pref, year, tech, mark], shown, download, table, chart, chart_tech, chart_note, kpi_table)
