"""The 評価 tab: evaluators upload a QA set (JSONL, CSV or Excel), run it through the served
asker, and see accuracy per category, the change since the baseline, the failing items and
the reports to download. Anyone may run; only an admin may make a run the new baseline
(checked in the handler, on the server).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.config import Settings
from assistant.evaluate.qa import QAFileError, items_hash
from assistant.evaluate.qa_tables import (
    SUFFIXES,
    load_qa_any,
    read_qa_table,
    write_template_csv,
    write_template_xlsx,
)
from assistant.evaluate.report_files import write_html, write_xlsx
from assistant.evaluate.report_view import ItemView, ReportView, report_view
from assistant.evaluate.session import EvalRun, baseline_path, run_set, write_baseline
from assistant.protocols import Asker
from assistant.ui.admin import is_admin

log = logging.getLogger(__name__)

CHART_X = "カテゴリ"
CHART_Y = "正答率（%）"
STANDARD_SET = Path("eval/qa.jsonl")
MAX_ITEMS = 2000  # one run holds the evaluation queue; larger sets go through ``assistant eval``
MSG_TOO_MANY = "一度に評価できるのは{n}問までです。ファイルを分けてお試しください。"
MSG_NO_FILE = "設問ファイルを選んでから「評価を実行」を押してください。"
MSG_BAD_FILE = "設問ファイルに直していただきたい点があります。評価は行っていません。"
MSG_NOT_ADMIN = "基準の更新は管理者だけが行えます。"
MSG_NO_RUN = "先に「評価を実行」で評価を行ってください。"
MSG_FAILED = "評価の途中でエラーが発生しました。時間をおいてもう一度お試しください。"
MSG_BASELINE_DONE = "この結果を基準にしました。次の評価から、この結果と比べます。"
MSG_BASELINE_FAILED = "基準を保存できませんでした。システム担当者にご連絡ください。"
MSG_NOT_STANDARD = ("基準にできるのは、標準の設問セットの全問を評価した結果だけです。"
                    "「標準の設問セットで評価」を押してから、もう一度お試しください。")


@dataclass(frozen=True)
class Shown:
    """What a run shows: the summary, the chart data, the failing items and the report files."""

    summary_html: str
    chart: pd.DataFrame
    failing_html: str
    files: list[str]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _notice(text: str, detail: list[str] | None = None) -> str:
    out = f'<p class="eval-notice"><strong>ご注意</strong>　{_e(text)}</p>'
    if detail:
        out += "<ul>" + "".join(f"<li>{_e(d)}</li>" for d in detail) + "</ul>"
    return out


def chart_frame(view: ReportView | None) -> pd.DataFrame:
    rows = [] if view is None else [(c.short, round((c.accuracy or 0) * 100, 1)) for c in view.categories]
    return pd.DataFrame(rows, columns=[CHART_X, CHART_Y])


def summary_html(view: ReportView) -> str:
    lines = [f'<p class="eval-done"><strong>評価が終わりました</strong>　{view.n_items}問中 {view.correct}問が合格'
             f'（正答率 {_e(view.accuracy.shown)}）</p>', '<table class="eval-figures">']
    lines += [f"<tr><th>{_e(f.label)}</th><td>{_e(f.shown)}</td></tr>" for f in view.figures[1:]]
    lines.append("</table>")
    lines.append("<p><strong>基準との比較</strong></p>")
    if view.baseline_note:
        lines.append(f"<p>{_e(view.baseline_note)}</p>")
    if view.compared:
        lines.append(f"<p>新たに不合格になった設問: {_e('、'.join(view.newly_failing) or 'なし')}</p>")
        lines.append(f"<p>新たに合格になった設問: {_e('、'.join(view.newly_passing) or 'なし')}</p>")
    return "\n".join(lines)


def _item_html(i: ItemView) -> str:
    out = [f'<div class="eval-item"><p><strong>{_e(i.id)}</strong>（{_e(i.category)}）</p>']
    if i.history:
        out.append(f"<p><strong>前の質問:</strong> {_e(' → '.join(i.history))}</p>")
    out.append(f"<p><strong>質問:</strong> {_e(i.question)}</p>")
    out.append(f"<p><strong>期待する内容:</strong> {_e(i.expected)}</p>")
    shown = "（回答を控えました）" if i.abstained else ""
    out.append(f"<p><strong>回答{shown}:</strong> {_e(i.answer) or '（なし）'}</p>")
    if i.reasons:
        out.append("<p><strong>理由:</strong></p><ul>" + "".join(f"<li>{_e(r)}</li>" for r in i.reasons) + "</ul>")
    if i.citations:
        out.append("<p><strong>引用:</strong></p><ul>" + "".join(f"<li>{_e(c.line)}</li>" for c in i.citations)
                   + "</ul>")
    out.append("</div>")
    return "\n".join(out)


def failing_html(view: ReportView) -> str:
    failing = view.failing
    if not failing:
        return "<p>不合格の設問はありません。</p>"
    return f"<p><strong>不合格の設問（{len(failing)}件）</strong></p>" + "\n".join(_item_html(i) for i in failing)


class EvalHandlers:
    """The tab's handlers; ``asker`` is the one the chat uses (``served``)."""

    def __init__(self, settings: Settings, asker: Asker, export_dir: Path, baseline: Path | None = None,
                 standard: Path | None = None) -> None:
        self.settings = settings
        self.asker = asker
        self.export_dir = export_dir
        self.baseline = baseline or baseline_path(settings)
        # The set ``make test`` gates with the baseline: only a run of all of it may replace the baseline.
        self.standard = standard or settings.root / STANDARD_SET
        self._lock = threading.Lock()  # one baseline write at a time

    def templates(self) -> tuple[Path, Path]:
        d = self.export_dir / "templates"
        return write_template_xlsx(d / "評価用設問テンプレート.xlsx"), write_template_csv(d / "評価用設問テンプレート.csv")

    def allowed(self, request: gr.Request | None) -> bool:
        return is_admin(self.settings, getattr(request, "username", None) if request is not None else None)

    def evaluate(self, file: str | None, on_item: Any = None) -> tuple[EvalRun | None, Shown]:
        """The run of an uploaded file (None with a notice when the file has problems)."""
        empty = chart_frame(None)
        if not file:
            return None, Shown(_notice(MSG_NO_FILE), empty, "", [])
        table = read_qa_table(Path(file))
        if table.problems:
            lines = [p.describe() for p in table.problems[:30]]
            if len(table.problems) > 30:
                lines.append(f"ほか {len(table.problems) - 30} 件")
            return None, Shown(_notice(MSG_BAD_FILE, lines), empty, "", [])
        if len(table.items) > MAX_ITEMS:
            return None, Shown(_notice(MSG_TOO_MANY.format(n=MAX_ITEMS)), empty, "", [])
        try:
            run = run_set(self.asker, table.items, self.settings, qa_name=Path(file).name,
                          baseline=self.baseline, on_item=on_item)
        except Exception:
            log.exception("evaluation run failed")
            return None, Shown(_notice(MSG_FAILED), empty, "", [])
        view = report_view(run.report)
        return run, Shown(summary_html(view), chart_frame(view), failing_html(view), self._files(view))

    def _files(self, view: ReportView) -> list[str]:
        d = self.export_dir / "reports" / uuid.uuid4().hex[:12]
        stem = f"評価レポート_{dt.date.today().isoformat()}"
        return [str(write_xlsx(view, d / f"{stem}.xlsx")), str(write_html(view, d / f"{stem}.html"))]

    def on_run(self, file: str | None, request: gr.Request,
               progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008 - Gradio's idiom
        """(summary, chart, failing items, report files, baseline button, the run kept per session)."""
        progress(0, desc="評価の準備をしています")

        def step(done: int, total: int) -> None:
            progress((done, total), desc=f"{done}/{total}問を評価しました")

        run, shown = self.evaluate(file, step)
        button = gr.Button(visible=run is not None and self.allowed(request), interactive=run is not None)
        return shown.summary_html, shown.chart, shown.failing_html, shown.files or None, button, run

    def on_run_standard(self, request: gr.Request,
                        progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """:meth:`on_run` over the standard set (the one the baseline is compared with in ``make test``)."""
        return self.on_run(str(self.standard) if self.standard.is_file() else None, request, progress)

    def is_standard(self, run: EvalRun) -> bool:
        """Whether ``run`` covers the whole standard set, answered by the default pipeline."""
        try:
            standard = items_hash(load_qa_any(self.standard))
        except (QAFileError, OSError):
            return False
        return run.pipeline == "default" and run.report.get("qa_hash") == standard

    def on_baseline(self, run: EvalRun | None, request: gr.Request) -> tuple[str, Any]:
        """(message, the button): the run stored as the baseline, for admins only (checked here,
        not only by hiding the button), and only a run of the whole standard set."""
        if not self.allowed(request):
            log.warning("a non-admin user tried to write the evaluation baseline")
            return _notice(MSG_NOT_ADMIN), gr.skip()
        if run is None:
            return _notice(MSG_NO_RUN), gr.skip()
        if not self.is_standard(run):
            return _notice(MSG_NOT_STANDARD), gr.skip()
        try:
            with self._lock:
                write_baseline(run, self.baseline)
        except OSError:
            log.exception("the baseline could not be written")
            return _notice(MSG_BASELINE_FAILED), gr.skip()
        return f"<p><strong>完了</strong>　{_e(MSG_BASELINE_DONE)}</p>", gr.Button(interactive=False)


def build_eval_tab(h: EvalHandlers) -> None:
    """Lay out the tab inside the current ``gr.Tab`` and wire its events."""
    gr.Markdown("### 評価\n設問ファイル（JSONL・CSV・Excel）を読み込み、今のアシスタントで全問に答えて採点します。"
                "書き方はテンプレートの「説明」シートをご覧ください。")
    xlsx, csv_file = h.templates()
    with gr.Row():
        gr.DownloadButton("テンプレート（Excel）", value=str(xlsx), elem_id="eval-template-xlsx", size="sm")
        gr.DownloadButton("テンプレート（CSV）", value=str(csv_file), elem_id="eval-template-csv", size="sm")
    file = gr.File(label="設問ファイル", file_types=list(SUFFIXES), type="filepath", elem_id="eval-file")
    with gr.Row():
        run_button = gr.Button("評価を実行", variant="primary", elem_id="eval-run")
        standard = gr.Button("標準の設問セットで評価", elem_id="eval-run-standard")
    summary = gr.HTML("", elem_id="eval-result", min_height=60)
    chart = gr.BarPlot(chart_frame(None), x=CHART_X, y=CHART_Y, y_lim=[0, 100], x_title=CHART_X,
                       y_title=CHART_Y, label="カテゴリ別の正答率", elem_id="eval-chart", sort="x",
                       x_label_angle=-90, buttons=[])  # upright names: 17 categories fit a phone
    failing = gr.HTML("", elem_id="eval-failing")
    reports = gr.File(label="レポート（Excel・HTML）", file_count="multiple", interactive=False,
                      elem_id="eval-reports")
    baseline = gr.Button("この結果を基準にする", visible=False, elem_id="eval-baseline")
    baseline_msg = gr.HTML("", elem_id="eval-baseline-result")
    last = gr.State(None)
    run_button.click(h.on_run, [file], [summary, chart, failing, reports, baseline, last],
                     api_visibility="private", concurrency_limit=1, concurrency_id="eval-run")
    standard.click(h.on_run_standard, None, [summary, chart, failing, reports, baseline, last],
                   api_visibility="private", concurrency_limit=1, concurrency_id="eval-run")
    baseline.click(h.on_baseline, [last], [baseline_msg, baseline], api_visibility="private",
                   concurrency_limit=1, concurrency_id="eval-baseline")
