"""The 事業一覧 chart: the rows the table shows, counted — never other data.

Without a technology filter the bars are 採択年度 (x) × the (※) programme split (colour: also
supported by 国交省道路局's autonomous-driving programme or not); with one (「自動運転」) the bars
are the technologies those projects use (x) × 採択年度 (colour), so the chosen technology's bar
equals the table's count and the others show what is used with it. Each project is counted once
per bar, so the colours of a bar add up exactly. The note above the chart says what it counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from assistant.records.schema import TECHNOLOGIES, Project

Y = "事業数"
YEAR = "採択年度"
TECH = "活用技術"
FLAG = "(※)"
FLAG_YES, FLAG_NO = "(※)あり", "(※)なし"
MSG_NO_CHART = "該当する事業がないため、グラフはありません。"
#: Colours of the programme split and of the years (the theme's palette is kept for others).
FLAG_COLORS = {FLAG_NO: "#4c78a8", FLAG_YES: "#f58518"}
YEAR_COLORS = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d"]


def year_label(p: Project) -> str:
    """The year as the document writes it (「R2」): short, so five labels fit on a phone."""
    return p.selection_year


@dataclass(frozen=True)
class ChartView:
    """What the chart shows: its long table (x, colour, count), which of the two charts it is
    (``year``: 採択年度 × (※), ``technology``: 活用技術 × 採択年度), and the sentence above it.

    The two are separate BarPlots whose axes never change; a filter change only gives one of them
    new rows and shows it (the other is hidden): Gradio 6.31 does not redraw a plot whose x or
    colour column changes."""

    frame: pd.DataFrame
    kind: str
    note: str

    @property
    def visible(self) -> bool:
        return not self.frame.empty

    def updates(self) -> tuple[Any, Any]:
        """(year chart, technology chart) updates: this view's rows in its chart, the other hidden."""
        shown = gr.BarPlot(value=self.frame, visible=self.visible)
        hidden = gr.BarPlot(visible=False)
        return (shown, hidden) if self.kind == "year" else (hidden, shown)


def chart_components(projects: Sequence[Project], first: ChartView) -> tuple[Any, Any]:
    """The two BarPlots (years, technologies) inside the current Blocks, ``first`` shown. Colours
    are fixed per (※) value and per year of ``projects`` (all the records), so a filter keeps them."""
    years = [label for _, label in sorted({(p.selection_fy, year_label(p)) for p in projects})]
    year_colors = {y: YEAR_COLORS[i % len(YEAR_COLORS)] for i, y in enumerate(years)}
    common = {"y": Y, "y_title": "事業数（件）", "show_label": False, "buttons": [], "height": 320,
              "tooltip": "all"}
    empty_year, empty_tech = pd.DataFrame(columns=[YEAR, FLAG, Y]), pd.DataFrame(columns=[TECH, YEAR, Y])
    by_year = gr.BarPlot(first.frame if first.kind == "year" else empty_year, x=YEAR, color=FLAG,
                         x_title=YEAR, color_title=FLAG, color_map=FLAG_COLORS, sort="x",
                         label="採択年度別の事業数", visible=first.kind == "year" and first.visible,
                         elem_id="selections-chart", **common)
    by_tech = gr.BarPlot(first.frame if first.kind == "technology" else empty_tech, x=TECH, color=YEAR,
                         x_title=TECH, color_title=YEAR, color_map=year_colors, sort=list(TECHNOLOGIES),
                         x_label_angle=-40, label="活用技術別の事業数",
                         visible=first.kind == "technology" and first.visible, elem_id="technology-chart",
                         **common)
    return by_year, by_tech


def _by_year(projects: Sequence[Project]) -> tuple[pd.DataFrame, list[str]]:
    years = sorted({(p.selection_fy, year_label(p)) for p in projects})
    counts = Counter((year_label(p), FLAG_YES if p.mlit_autonomous_support else FLAG_NO) for p in projects)
    rows = [(label, flag, counts[(label, flag)]) for _, label in years for flag in (FLAG_NO, FLAG_YES)
            if counts[(label, flag)]]
    return pd.DataFrame(rows, columns=[YEAR, FLAG, Y]), [label for _, label in years]


def _by_technology(projects: Sequence[Project]) -> tuple[pd.DataFrame, list[str]]:
    present = {t for p in projects for t in p.technologies}
    techs = [t for t in TECHNOLOGIES if t in present] + sorted(present - set(TECHNOLOGIES))
    counts = Counter((t, year_label(p)) for p in projects for t in p.technologies)
    years = [label for _, label in sorted({(p.selection_fy, year_label(p)) for p in projects})]
    rows = [(t, y, counts[(t, y)]) for t in techs for y in years if counts[(t, y)]]
    return pd.DataFrame(rows, columns=[TECH, YEAR, Y]), techs


def chart_view(projects: Sequence[Project], filters: Sequence[str], technology: str = "") -> ChartView:
    """The chart of ``projects`` (the table's rows under ``filters``, named for the note)."""
    where = f"（絞り込み: {'・'.join(filters)}）" if filters else "（絞り込みなし）"
    if not projects:
        return ChartView(pd.DataFrame(columns=[YEAR, FLAG, Y]), "technology" if technology else "year",
                         MSG_NO_CHART)
    n = len(projects)
    if technology:
        frame, _ = _by_technology(projects)
        note = (f"表に表示中の{n}件{where}が使う技術ごとの事業数です。色は採択年度です。"
                "1つの事業が複数の技術を使うため、棒の合計は表示件数より多くなります。")
        return ChartView(frame, "technology", note)
    frame, _ = _by_year(projects)
    note = (f"表に表示中の{n}件{where}を採択年度別に数えたものです。"
            "色は (※)（国土交通省道路局の自動運転支援の対象）の有無です。")
    return ChartView(frame, "year", note)
