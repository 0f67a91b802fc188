"""The evaluation report as an Excel workbook and as one self-contained HTML page (Japanese).

Both render the same :class:`~assistant.evaluate.report_view.ReportView`; every text from the
QA set or from an answer is escaped in the HTML (no scripts, no links, no outside files).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from assistant.evaluate.report_view import ReportView, report_view

ITEM_COLUMNS: tuple[tuple[str, int], ...] = (
    ("設問ID", 10), ("カテゴリ", 14), ("判定", 8), ("質問", 40), ("期待する内容", 36), ("回答", 60),
    ("引用", 60), ("不合格の理由", 36),
)


def _ratio(v: float | None) -> str:
    return "―" if v is None else f"{v * 100:.1f}%"


# -- Excel ------------------------------------------------------------------------------------------
def _as_text(sheet: Any) -> None:
    """Text that starts with 「=」 stays text (a question or an answer is never run as a formula)."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"


def write_xlsx(view: ReportView, path: Path) -> Path:
    """Sheets 概要, カテゴリ別 and 設問別 (frozen header, autofilter, column widths)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    wb = Workbook()
    ws = wb.active
    ws.title = "概要"
    ws.append(["項目", "値"])
    ws.append(["実行日時", view.created])
    ws.append(["設問数", view.n_items])
    ws.append(["正答数", view.correct])
    for f in view.figures:
        ws.append([f.label, f.shown])
    ws.append(["基準から新たに不合格", "、".join(view.newly_failing) or "なし"])
    ws.append(["基準から新たに合格", "、".join(view.newly_passing) or "なし"])
    if view.baseline_note:
        ws.append(["基準との比較", view.baseline_note])
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 40

    cats = wb.create_sheet("カテゴリ別")
    cats.append(["カテゴリ", "設問数", "正答数", "正答率"])
    for c in view.categories:
        cats.append([c.label, c.n, c.correct, c.accuracy])
        cats.cell(row=cats.max_row, column=4).number_format = "0.0%"
    for col, width in zip("ABCD", (24, 10, 10, 10), strict=True):
        cats.column_dimensions[col].width = width

    items = wb.create_sheet("設問別")
    items.append([name for name, _ in ITEM_COLUMNS])
    red = PatternFill("solid", fgColor="FDE2E1")
    for i in view.items:
        items.append([i.id, i.category, i.status, i.question, i.expected, i.answer,
                      "\n".join(c.line for c in i.citations), "\n".join(i.reasons)])
        for cell in items[items.max_row]:
            cell.alignment = wrap
        if not i.correct:
            items.cell(row=items.max_row, column=3).fill = red
    for n, (_, width) in enumerate(ITEM_COLUMNS, start=1):
        items.column_dimensions[get_column_letter(n)].width = width

    for sheet in (ws, cats, items):
        _as_text(sheet)
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# -- HTML -------------------------------------------------------------------------------------------
_CSS = """
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif; margin: 1.5em; color: #1a1a1a;
       line-height: 1.6; }
table { border-collapse: collapse; margin: .5em 0 1.5em 0; }
th, td { border: 1px solid #c8c8c8; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; }
.fail { color: #b00020; font-weight: 700; }
.pass { color: #1b6e20; font-weight: 700; }
.item { border: 1px solid #d0d0d0; border-radius: 6px; padding: .6em 1em; margin: .8em 0; }
.item p { margin: .2em 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.label { font-weight: 700; }
ul { margin: .2em 0 .2em 1.2em; padding: 0; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_html(view: ReportView) -> str:
    """One page, no scripts or outside resources; every text escaped."""
    out = ['<!DOCTYPE html>', '<html lang="ja"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<title>評価レポート</title>', f'<style>{_CSS}</style></head><body>',
           '<h1>評価レポート</h1>',
           f'<p>実行日時: {_e(view.created)}　設問数: {view.n_items}　正答数: {view.correct}</p>',
           '<h2>概要</h2>', '<table><tr><th>項目</th><th>値</th></tr>']
    out += [f'<tr><td>{_e(f.label)}</td><td class="num">{_e(f.shown)}</td></tr>' for f in view.figures]
    out.append('</table>')
    out.append('<h2>基準との比較</h2>')
    if view.baseline_note:
        out.append(f'<p>{_e(view.baseline_note)}</p>')
    if view.compared:
        out.append(f'<p>新たに不合格になった設問: {_e("、".join(view.newly_failing) or "なし")}</p>')
        out.append(f'<p>新たに合格になった設問: {_e("、".join(view.newly_passing) or "なし")}</p>')
    out += ['<h2>カテゴリ別の正答率</h2>',
            '<table><tr><th>カテゴリ</th><th>設問数</th><th>正答数</th><th>正答率</th></tr>']
    out += [f'<tr><td>{_e(c.label)}</td><td class="num">{c.n}</td><td class="num">{c.correct}</td>'
            f'<td class="num">{_ratio(c.accuracy)}</td></tr>' for c in view.categories]
    out.append('</table>')
    failing = view.failing
    out.append(f'<h2>不合格の設問（{len(failing)}件）</h2>')
    if not failing:
        out.append('<p>不合格の設問はありません。</p>')
    for i in failing:
        out.append('<div class="item">')
        out.append(f'<p><span class="fail">不合格</span>　{_e(i.id)}（{_e(i.category)}）</p>')
        if i.history:
            out.append(f'<p><span class="label">前の質問:</span> {_e(" → ".join(i.history))}</p>')
        out.append(f'<p><span class="label">質問:</span> {_e(i.question)}</p>')
        out.append(f'<p><span class="label">期待する内容:</span> {_e(i.expected)}</p>')
        shown = "（回答を控えました）" if i.abstained else ""
        out.append(f'<p><span class="label">回答{shown}:</span> {_e(i.answer)}</p>')
        if i.reasons:
            out.append('<p class="label">不合格の理由:</p><ul>' + "".join(f"<li>{_e(r)}</li>" for r in i.reasons)
                       + '</ul>')
        if i.citations:
            out.append('<p class="label">引用:</p><ul>' + "".join(f"<li>{_e(c.line)}</li>" for c in i.citations)
                       + '</ul>')
        out.append('</div>')
    out.append('<h2>全設問</h2>')
    out.append('<table><tr><th>設問ID</th><th>カテゴリ</th><th>判定</th><th>質問</th></tr>')
    for i in view.items:
        cls = "pass" if i.correct else "fail"
        out.append(f'<tr><td>{_e(i.id)}</td><td>{_e(i.category)}</td><td class="{cls}">{i.status}</td>'
                   f'<td>{_e(i.question)}</td></tr>')
    out += ['</table>', '</body></html>', '']
    return "\n".join(out)


def write_html(view: ReportView, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(view), encoding="utf-8")
    return path


def write_report_files(report: dict[str, Any], directory: Path, pipeline: str | None = None,
                       stem: str = "report") -> tuple[Path, Path]:
    """``report.xlsx`` and ``report.html`` of one pipeline (default: the first) in ``directory``."""
    view = report_view(report, pipeline)
    return write_xlsx(view, directory / f"{stem}.xlsx"), write_html(view, directory / f"{stem}.html")
