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
    """What the chart shows: its long table, axes, order and colours, and the sentence above it."""

    frame: pd.DataFrame
    x: str
    color: str
    order: list[str]
    colors: dict[str, str]
    note: str
    label_angle: float = 0

    @property
    def visible(self) -> bool:
        return not self.frame.empty

    def _props(self) -> dict[str, Any]:
        return {"value": self.frame, "x": self.x, "y": Y, "color": self.color, "sort": self.order or None,
                "color_map": self.colors, "x_title": self.x, "y_title": "事業数（件）", "color_title": self.color,
                "x_label_angle": self.label_angle, "visible": self.visible}

    def update(self) -> Any:
        """The BarPlot update that shows this view."""
        return gr.BarPlot(**self._props())

    def initial(self) -> dict[str, Any]:
        """Constructor arguments of the BarPlot for this view (labels in Japanese, no English buttons)."""
        return {**self._props(), "label": "表示中の事業のグラフ", "show_label": False, "buttons": [], "height": 320,
                "tooltip": "all"}


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
        return ChartView(pd.DataFrame(columns=[YEAR, FLAG, Y]), YEAR, FLAG, [], FLAG_COLORS, MSG_NO_CHART)
    n = len(projects)
    if technology:
        frame, order = _by_technology(projects)
        years = list(dict.fromkeys(frame[YEAR]))
        colors = {y: YEAR_COLORS[i % len(YEAR_COLORS)] for i, y in enumerate(sorted(years))}
        note = (f"表に表示中の{n}件{where}が使う技術ごとの事業数です。色は採択年度です。"
                "1つの事業が複数の技術を使うため、棒の合計は表示件数より多くなります。")
        return ChartView(frame, TECH, YEAR, order, colors, note, label_angle=-40 if len(order) > 4 else 0)
    frame, order = _by_year(projects)
    note = (f"表に表示中の{n}件{where}を採択年度別に数えたものです。"
            "色は (※)（国土交通省道路局の自動運転支援の対象）の有無です。")
    return ChartView(frame, YEAR, FLAG, order, FLAG_COLORS, note)
