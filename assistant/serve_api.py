"""A plain JSON API, ``POST /api/ask``, outside Gradio's queue (issue 16, parts 3 and 4).

``create_api(asker, settings)`` is a FastAPI app whose ``/api/ask`` answers in Starlette's
threadpool with the same :class:`~assistant.answer.Asker` as the chat; ``GET /api/health`` says
whether the process is ready. ``python -m assistant.serve_api`` serves it with uvicorn
(``--workers N``: N processes on one port, each with its own model and index; ``--with-ui``
mounts the Gradio UI at ``/`` in every process). Same request and answer as Gradio's ``/ask``.
"""


import argparse
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from assistant.answer import Asker
from assistant.config import Settings, get_settings
from assistant.feedback import VOTES, FeedbackStore
from assistant.inputs import InputError, clean_question

log = logging.getLogger(__name__)

ERROR_TEXT = "回答の作成中にエラーが発生しました。"


class AskRequest(BaseModel):
    question: str = Field(max_length=1_000_000)  # cleaned and refused politely above the configured limit
    history: list[str] = Field(default_factory=list, max_length=50)


class FeedbackRequest(BaseModel):
    """A vote on an answer, as the chat stores it (``citations`` as ``/api/ask`` returned them)."""

    vote: str
    question: str = Field(max_length=20_000)
    answer: str = Field(max_length=100_000)
    citations: list[dict[str, str]] = Field(default_factory=list, max_length=100)
    comment: str = Field(default="", max_length=4000)
    history: list[str] = Field(default_factory=list, max_length=50)
    route: str = Field(default="", max_length=32)
    abstained: bool = False
    session_id: str = Field(default="", max_length=64)


def ask_payload(asker: Asker, settings: Settings, question: str, history: list[str] | None) -> dict[str, Any]:
    """One question → the answer dict of ``/ask`` and ``/api/ask`` (``{"error": …}`` on refusal)."""
    try:  # refused here with the asker's own message; ``q`` is not cleaned again below
        q = clean_question(question, settings.max_question_chars)
    except InputError as err:
        return {"error": str(err)}
    try:
        a = asker.ask(q, list(history or []) or None)
    except Exception:
        log.exception("answering failed (api)")
        return {"error": ERROR_TEXT}
    return {"answer": a.text, "abstained": a.abstained, "route": a.route,
            "citations": [{"source": c.source, "locator": c.locator, "quote": c.quote, "title": c.title}
                          for c in a.citations]}


def _auth_check(settings: Settings) -> Any:
    """A dependency: HTTP Basic against ``ASSISTANT_AUTH`` users when set; nothing otherwise."""
    from assistant.ui.app import parse_users

    users = dict(parse_users(settings))
    basic = HTTPBasic(auto_error=False, realm="assistant")

    def check(cred: Annotated[HTTPBasicCredentials | None, Depends(basic)]) -> None:
        if not users:
            return
        ok = cred is not None and secrets.compare_digest(
            users.get(cred.username, "").encode(), cred.password.encode()) and cred.username in users
        if not ok:
            raise HTTPException(401, "ユーザー名とパスワードが必要です。", headers={"WWW-Authenticate": "Basic"})

    return check


def create_api(asker: Asker, settings: Settings, feedback: FeedbackStore | None = None) -> FastAPI:
    """The JSON API around ``asker`` (plain ``def`` handlers: they run in the threadpool, sized by
    ``settings.api_threads``); ``POST /api/feedback`` stores votes in ``feedback`` when given."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _threadpool(settings.api_threads)  # inside the serving event loop
        yield

    api = FastAPI(title="未来技術社会実装事業 Q&A API", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json", lifespan=lifespan)
    authorized = _auth_check(settings)

    @api.post("/api/ask", dependencies=[Depends(authorized)])
    def ask(req: AskRequest) -> dict[str, Any]:
        return ask_payload(asker, settings, req.question, req.history)

    @api.post("/api/feedback", dependencies=[Depends(authorized)])
    def add_feedback(req: FeedbackRequest) -> dict[str, Any]:
        if feedback is None:
            raise HTTPException(503, "フィードバックを保存できません（保存先が設定されていません）。")
        if req.vote not in VOTES:
            raise HTTPException(422, "vote は up か down を指定してください。")
        row_id = feedback.add(vote=req.vote, question=req.question, answer=req.answer,  # type: ignore[arg-type]
                              citations=req.citations, config_hash=settings.config_hash(),
                              comment=req.comment, history=req.history, route=req.route,
                              abstained=req.abstained, session_id=req.session_id)
        return {"id": row_id, "pid": os.getpid()}  # sent only after the row is committed

    @api.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "pid": os.getpid()}

    return api


def _threadpool(threads: int) -> None:
    """Size the threadpool that runs the handlers (anyio's default is 40 threads)."""
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def app_factory() -> FastAPI:
    """What each uvicorn worker builds: the configured asker, warmed up (and the UI with ``--with-ui``)."""
    from assistant.ui.app import _default_asker

    settings = get_settings()
    asker = _default_asker(settings)
    try:
        feedback: FeedbackStore | None = FeedbackStore(settings.resolved_feedback_url)
    except Exception:
        log.exception("feedback store unavailable; /api/feedback will refuse")
        feedback = None
    api = create_api(asker, settings, feedback)
    if os.environ.get("ASSISTANT_SERVE_UI") == "1":
        import gradio as gr

        from assistant.ui.app import CSS, create_app, parse_auth
        from assistant.ui.labels import I18N, LABELS_JS

        demo = create_app(settings, asker, feedback=feedback)
        demo.queue(default_concurrency_limit=settings.concurrency_limit)
        api = gr.mount_gradio_app(api, demo, path="/", auth=parse_auth(settings), css=CSS, js=LABELS_JS,
                                  i18n=I18N, ssr_mode=False, show_error=False)
    return api


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from assistant.ui.app import check_bind

    settings = get_settings()
    p = argparse.ArgumentParser(prog="python -m assistant.serve_api", description=__doc__)
    p.add_argument("--host", default=settings.host)
    p.add_argument("--port", type=int, default=settings.api_port)
    p.add_argument("--workers", type=int, default=settings.api_workers)
    p.add_argument("--with-ui", action="store_true", help="mount the Gradio UI at / in every worker")
    args = p.parse_args(argv)
    check_bind(settings.model_copy(update={"host": args.host}))  # same rule as the UI: public needs auth
    if args.with_ui and args.workers > 1:  # the queue's join and its event stream must reach one process
        raise SystemExit("画面（--with-ui）は 1 ポート 1 プロセスで起動してください。Gradio のセッションはプロセスごとのため、"
                         "複数プロセスは別々のポートで起動し、リバースプロキシで振り分けます（make serve-multi、README 参照）。")
    if args.with_ui:
        os.environ["ASSISTANT_SERVE_UI"] = "1"
    uvicorn.run("assistant.serve_api:app_factory", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
