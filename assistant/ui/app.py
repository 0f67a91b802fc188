"""``create_app(settings)`` builds the Gradio Blocks; ``launch(settings)`` serves it safely."""

from __future__ import annotations

import ipaddress
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answer import Asker
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.feedback import FeedbackStore
from assistant.source_files import source_folders
from assistant.types import Answer
from assistant.ui.admin import AdminHandlers, DocumentAdder, SwappableAsker, admin_possible, build_admin_tab
from assistant.ui.chat import ChatHandlers, build_chat_tab
from assistant.ui.eval_tab import EvalHandlers, build_eval_tab
from assistant.ui.labels import I18N, LABELS_JS
from assistant.ui.notes import notes_from_records
from assistant.ui.records_tab import build_records_tab
from assistant.ui.viewer import SourceViewer

log = logging.getLogger(__name__)

TITLE = "未来技術社会実装事業 Q&A アシスタント"
CSS = """
.evidence { margin-top: .4em; border-top: 1px solid var(--border-color-primary); padding-top: .3em; }
.evidence summary { cursor: pointer; font-weight: 600; }
.evidence ul.cite-docs, .evidence ul.cite-list { list-style: none; margin: .3em 0 0 0; padding: 0; }
.evidence li.cite-doc { margin-bottom: .6em; }
.evidence ul.cite-list > li { margin: .35em 0 .6em .4em; }
.cite-title { font-weight: 600; }
.cite-docmeta { color: var(--body-text-color); opacity: .75; font-size: .9em; display: inline-block; max-width: 100%; }
.cite-num { font-weight: 600; margin-right: .3em; }
.cite-locator { color: var(--body-text-color); opacity: .8; }
.evidence .cite-quote { margin: .2em 0 !important; padding: .2em .6em; border-left: 3px solid var(--color-accent);
              background: var(--background-fill-secondary); font-size: .95em; }
.evidence .open-source { display: inline-block; margin: .15em 0 0 0; font-weight: 600; font-size: .9em;
  padding: .25em .9em; border: 1px solid var(--color-accent); border-radius: 999px; color: var(--color-accent);
  cursor: pointer; user-select: none; }
.evidence .open-source:hover, .evidence .open-source:focus-visible { background: var(--color-accent); color: #fff; }
.figure { text-decoration-line: underline; text-decoration-style: dotted; text-decoration-color: var(--color-accent);
          text-decoration-thickness: 2px; text-underline-offset: 3px; cursor: help; white-space: nowrap; }
.working { margin-top: .4em; padding-top: .3em; }
.working summary { cursor: pointer; font-weight: 600; }
.working ul { margin: .3em 0 0 1.2em; padding: 0; }
.working li { margin-bottom: .3em; }
mark.cite-value { background: #fff1a8; color: inherit; padding: 0; }  /* adjacent values read as one run */
#viewer .viewer-head { margin-bottom: .6em; }
#viewer .viewer-head p { margin: 0 0 .2em 0; }
#viewer .viewer-title { font-weight: 700; font-size: 1.1em; }
#viewer .viewer-meta { color: var(--body-text-color); opacity: .75; }
#viewer .viewer-place { font-weight: 600; }
#viewer .viewer-notice { padding: .4em .6em; background: var(--background-fill-secondary); border-radius: 6px; }
#viewer .viewer-body { max-height: 60vh; overflow: auto; padding: .4em .8em; border: 1px solid var(--border-color-primary);
  border-radius: 6px; overflow-wrap: anywhere; line-height: 1.7; }
#viewer .viewer-plain { white-space: pre-wrap; }
#viewer .viewer-table { overflow-x: auto; max-width: 100%; }
#viewer .viewer-table table { border-collapse: collapse; font-size: .9em; min-width: 36em; }
#viewer .viewer-table th, #viewer .viewer-table td { border: 1px solid var(--border-color-primary); padding: .2em .4em;
  vertical-align: top; overflow-wrap: normal; word-break: normal; }
#viewer mark.viewer-quote { background: #ffe066; color: #1a1a1a; padding: 0 .1em; border-radius: 2px;
  box-shadow: 0 0 0 1px #d9a400; }
#viewer .viewer-cited { margin: .2em 0 .6em 0; }
#viewer .viewer-pdf { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: .8em; align-items: start; }
#viewer .viewer-page { margin: 0; }
#viewer .viewer-page img { width: 100%; height: auto; border: 1px solid var(--border-color-primary); }
#viewer-download { max-width: 20em; }
#admin-result { min-height: 5em; }
/* 事業一覧: our tables scroll sideways inside their box, No and 自治体 stay on the left, the header on top */
.records-scroll { overflow: auto; max-height: 480px; max-width: 100%;
  border: 1px solid var(--border-color-primary); border-radius: 6px; }
table.records-table { border: none; padding: 0 !important; border-collapse: separate; border-spacing: 0; min-width: 40em; width: 100%;
  font-size: .92em; margin: 0; }
.records-table th, .records-table td { border: none; padding: .35em .5em; text-align: left;
  vertical-align: top; border-bottom: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  word-break: keep-all; overflow-wrap: anywhere; }
.records-table thead th { position: sticky; top: 0; z-index: 2; font-weight: 700;
  background: var(--background-fill-secondary); white-space: nowrap; }
#projects-table .records-table tr > :nth-child(1) { position: sticky; left: 0; z-index: 1; width: 2.8em;
  min-width: 2.8em; max-width: 2.8em; box-sizing: border-box; text-align: right; }
#projects-table .records-table tr > :nth-child(2) { position: sticky; left: 2.8em; z-index: 1; min-width: 9em;
  max-width: 12em; font-weight: 400; box-shadow: 1px 0 0 var(--border-color-primary); }
#projects-table .records-table thead tr > :nth-child(-n+2) { z-index: 3; }
#kpi-table .records-table tr > :nth-child(1) { position: sticky; left: 0; z-index: 1; min-width: 10em; max-width: 16em;
  font-weight: 400; box-shadow: 1px 0 0 var(--border-color-primary); }
#kpi-table .records-table thead tr > :nth-child(1) { z-index: 3; }
#projects-table .records-table tr > :nth-child(3) { min-width: 10em; }
#projects-table .records-table .nowrap { white-space: nowrap; }
#projects-table .records-table .center { text-align: center; }
#projects-table .records-note, #chart-note p { font-size: .9em; margin: .4em 0 0 0; }
.records-hint { display: none; }
.records-empty p { padding: .8em 1em; margin: 0; border: 1px dashed var(--border-color-primary); border-radius: 6px;
  background: var(--background-fill-secondary); font-weight: 600; }
.mark-notes { margin-top: .4em; }
.mark-notes p.mark-note { margin: .2em 0 !important; font-size: .9em; opacity: .85; }
#send-hint p { margin: 0; font-size: .85em; opacity: .8; }
@media (max-width: 640px) {  /* phones: the answer uses the width of the screen */
  #app-header h2 { font-size: 1.15em; margin: 0 0 .2em 0; }
  #app-header p { font-size: .82em; line-height: 1.45; margin: 0; }
  #chatbot { height: min(300px, 40vh) !important; }  /* the box, send button and examples fit the first screen */
  #ask-row { flex-wrap: nowrap; gap: 6px; }
  #ask-row #send { min-width: 64px !important; }
  #examples button { padding: .25em .6em; font-size: .88em; }
  #projects-table .records-hint { display: block; font-size: .85em; margin: 0 0 .3em 0; opacity: .8; }
  #chatbot .message-row.bubble.bot-row { margin-left: 2px; margin-right: 2px; max-width: 100%; }
  .evidence ol, .working ul { margin-left: 1em; }
  #viewer .viewer-pdf { grid-template-columns: minmax(0, 1fr); }
  #viewer .viewer-body { max-height: 70vh; padding: .3em .5em; }
  #admin-result .progress-text.meta-text-center { display: none; }  /* it would cover the bar; the bar says it */
}
"""


class BindError(AssistantError):
    """Refusal to serve on an unsafe address (raised before anything listens)."""

    exit_code = 1
    label_ja = "公開設定の誤り"


def is_loopback(host: str) -> bool:
    if host.strip().lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a hostname that may resolve anywhere: treat as public


def parse_users(settings: Settings) -> list[tuple[str, str]]:
    """``ASSISTANT_AUTH=user:password[,user:password…]`` → [(user, password), …]; [] when unset."""
    if settings.auth is None:
        return []
    users: list[tuple[str, str]] = []
    for entry in settings.auth.get_secret_value().split(","):
        user, sep, password = entry.strip().partition(":")
        if not sep or not user or not password:
            raise BindError("ASSISTANT_AUTH は「ユーザー名:パスワード」の形式で指定してください"
                            "（複数の利用者はコンマで区切ります）。")
        users.append((user, password))
    if len({u for u, _ in users}) != len(users):
        raise BindError("ASSISTANT_AUTH に同じユーザー名が二度あります。")
    return users


def parse_auth(settings: Settings) -> tuple[str, str] | list[tuple[str, str]] | None:
    """Gradio's ``auth``: (user, password) for one user, a list for several; None when unset."""
    users = parse_users(settings)
    if not users:
        return None
    return users[0] if len(users) == 1 else users


def check_bind(settings: Settings) -> tuple[str, str] | list[tuple[str, str]] | None:
    """Validate host/auth: a non-loopback host needs auth unless explicitly allowed; every
    ``ASSISTANT_ADMINS`` name must be an ``ASSISTANT_AUTH`` user. Returns auth."""
    auth = parse_auth(settings)
    if not is_loopback(settings.host) and auth is None and not settings.allow_public_without_auth:
        raise BindError(
            f"{settings.host} で公開するには認証が必要です: ASSISTANT_AUTH=ユーザー名:パスワード を設定してください"
            "（認証なしで公開する場合は ASSISTANT_ALLOW_PUBLIC_WITHOUT_AUTH=true を明示）。")
    if auth is not None:
        unknown = sorted(settings.admin_names - {u for u, _ in parse_users(settings)})
        if unknown:
            raise BindError(f"ASSISTANT_ADMINS の {', '.join(unknown)} は ASSISTANT_AUTH の利用者にありません。")
    elif settings.admin_names:
        log.warning("ASSISTANT_ADMINS is set without ASSISTANT_AUTH: nobody is an admin "
                    "(ASSISTANT_ALLOW_LOCAL_ADMIN=true enables the admin tab on a loopback address)")
    return auth


def _default_asker(settings: Settings) -> Asker:
    from assistant.answer.pipeline import build_assistant  # heavy: model + index

    asker = build_assistant(settings, settings.pipeline)
    asker.warm_up()  # load model/index now, not on (possibly concurrent) first questions
    return asker


def _default_records(settings: Settings) -> tuple[Any, str | None]:
    try:
        from assistant.records.load import load_records

        return load_records(settings.records_path), None
    except Exception as err:  # the chat still works without the table
        log.warning("records not loaded from %s: %s", settings.records_path, err)
        return None, f"（{settings.records_path} を確認してください）"


class _UnavailableAsker:
    """Stands in when the assistant could not be built: every question gets the friendly error."""

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        raise RuntimeError("assistant unavailable (see the start-up log)")

    def warm_up(self) -> None:
        """Nothing to load."""


def create_app(settings: Settings, asker: Asker | None = None, records: Any = None, *,
               feedback: FeedbackStore | None = None,
               export_dir: Path | None = None, viewer: SourceViewer | None = None,
               build_asker: Callable[[Settings], Asker] | None = None,
               index_embedder: Callable[[], Any] | None = None) -> gr.Blocks:
    """Build the UI. ``asker``/``records``/``feedback``/``viewer`` default from ``settings``
    (tests pass fakes); the viewer's downloads are copies under ``export_dir``. The admin tab
    (「資料の追加」, only when someone can be an admin) indexes with ``index_embedder()`` (None:
    the configured model) and swaps in ``build_asker(settings)`` (default: ``build_assistant`` +
    ``warm_up``)."""
    if asker is None:
        try:
            asker = _default_asker(settings)
        except Exception:
            log.exception("the assistant could not be built; the chat will answer with an error message")
            asker = _UnavailableAsker()
    served = SwappableAsker(asker)  # what the chat and /ask ask; the admin tab swaps what it holds
    load_error = None
    if records is None:
        records, load_error = _default_records(settings)
    if feedback is None:
        try:
            feedback = FeedbackStore(settings.resolved_feedback_url)
        except Exception:
            log.exception("feedback store unavailable; votes will not be saved")
    export_dir = export_dir or Path(tempfile.mkdtemp(prefix="assistant-ui-"))
    chat = ChatHandlers(served, config_hash=settings.config_hash(), max_chars=settings.max_question_chars,
                        feedback=feedback, export_dir=export_dir / "conversations",
                        viewer=viewer or SourceViewer.for_root(settings.root, export_dir / "sources",
                                                               source_folders(settings.root, settings)))
    from assistant.answer.reply import document_date_lookup

    chat.date_of = document_date_lookup(settings.root, source_folders(settings.root, settings))
    chat.notes = notes_from_records(records)  # (※) in an answer is explained by the document's note

    def refreshed() -> None:  # a document was added or replaced: read dates anew
        chat.date_of = document_date_lookup(settings.root, source_folders(settings.root, settings))

    admin = AdminHandlers(settings, DocumentAdder(settings, served, build_asker=build_asker or _default_asker,
                                                  embedder=index_embedder, on_swap=refreshed)
                          ) if admin_possible(settings) else None

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"## {TITLE}\n資料（内閣府 地方創生推進事務局ほか）に基づいて回答し、根拠を示します。"
                    "資料にないことは「資料に記載がありません」とお答えします。", elem_id="app-header")
        with gr.Tabs():
            with gr.Tab("質問する", id="chat"):
                build_chat_tab(chat)
            with gr.Tab("事業一覧", id="records"):
                records_view = build_records_tab(records, export_dir / "records", load_error)
            if admin is not None:  # a records draft accepted there refreshes 事業一覧
                admin.records_view = records_view
            if admin is not None:  # shown to admins only (and every handler checks again)
                with gr.Tab("資料の追加", id="admin", visible=False, elem_id="admin-tab") as admin_tab:
                    build_admin_tab(admin)
            # after 資料の追加, which stays on a phone's first screen; everyone may run, the baseline is for admins
            with gr.Tab("評価", id="eval"):
                build_eval_tab(EvalHandlers(settings, served, export_dir / "eval"))
        if admin is not None:
            demo.load(admin.show_tab, None, admin_tab, api_visibility="private")
        _api_ask(served, settings)
    return demo


def _api_ask(asker: Asker, settings: Settings) -> None:
    """An API-only endpoint ``/ask`` (question, history) → answer dict, for scripts and load tests
    (through Gradio's queue; ``assistant.serve_api`` serves the same answers at ``POST /api/ask``)."""
    from assistant.serve_api import ask_payload

    def ask(question: str, history: list[str] | None = None) -> dict:
        return ask_payload(asker, settings, question, history)

    gr.api(ask, api_name="ask")


def launch(settings: Settings, *, asker: Asker | None = None, records: Any = None,
           feedback: FeedbackStore | None = None, block: bool = True,
           viewer: SourceViewer | None = None, build_asker: Callable[[Settings], Asker] | None = None,
           index_embedder: Callable[[], Any] | None = None) -> gr.Blocks:
    """Serve on ``settings.host:port`` (never ``share``), queue on, auth when configured."""
    auth = check_bind(settings)
    demo = create_app(settings, asker, records, feedback=feedback, viewer=viewer, build_asker=build_asker,
                      index_embedder=index_embedder)
    demo.queue(default_concurrency_limit=settings.concurrency_limit)
    demo.launch(server_name=settings.host, server_port=settings.port, share=False, auth=auth,
                auth_message="ユーザー名とパスワードを入力してください。" if auth else None,
                show_error=False, prevent_thread_lock=not block, quiet=not block, ssr_mode=False,
                inbrowser=False, css=CSS, js=LABELS_JS, i18n=I18N, footer_links=["api"],
                max_threads=max(8, settings.concurrency_limit * 2))
    return demo
