"""The chat tab: streamed answers with a 根拠 panel, multi-turn, 👍/👎 feedback, export."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answer import Asker
from assistant.feedback import FeedbackStore
from assistant.inputs import InputError, clean_question, strip_controls
from assistant.ui.conversation import Conversation, Turn, write_exports
from assistant.ui.render import answer_message, escape_text, stream_prefixes, streaming_message

log = logging.getLogger(__name__)

MSG_THINKING = "回答を作成しています…"
MSG_ERROR = ("申し訳ありません。回答の作成中にエラーが発生しました。"
             "時間をおいてもう一度お試しください。解決しない場合は管理者にお問い合わせください。")
MSG_FEEDBACK_ERROR = "フィードバックを保存できませんでした。時間をおいてもう一度お試しください。"
MSG_NO_TURN = "評価の対象となる回答が見つかりませんでした。"
MSG_NO_RATED = "先に回答の 👍 / 👎 を押してから、コメントを送信してください。"
MSG_NO_REPLY = "返信文を作成する回答がまだありません。先に問い合わせ文を送信してください。"
MSG_COMMENT_TOO_LONG = "コメントが長すぎます。{limit:,}文字以内で入力してください。"

#: Example questions: a count, a process question, a KPI (general phrasing, no canned answers).
EXAMPLES = [
    "令和4年度に選定された事業はいくつですか？",
    "選定された事業にはどのような支援が行われますか？",
    "スマートシティの選定数の目標はいくつですか？",
    "埼玉県で支援を受けている自治体はどこですか？",
]

Outputs = tuple[Any, ...]


class ChatHandlers:
    """Event handlers of the chat tab; plain methods so they can be unit-tested without a browser."""

    def __init__(self, asker: Asker, *, config_hash: str, max_chars: int,
                 feedback: FeedbackStore | None, export_dir: Path, stream_delay: float = 0.02) -> None:
        self.asker = asker
        self.config_hash = config_hash
        self.max_chars = max_chars
        self.feedback = feedback
        self.export_dir = export_dir
        self.stream_delay = stream_delay
        self.date_of = None  # document date by source, for the reply draft (set by the app)

    # -- asking ---------------------------------------------------------------------------------
    def respond(self, message: str, conv: Conversation | None) -> Iterator[Outputs]:
        """Yields (textbox, chatbot messages, conversation, status, markdown file, json file)."""
        conv = conv or Conversation()
        try:  # refused at once with the asker's message; the cleaned Question is not cleaned again
            question = clean_question(message, self.max_chars)
        except InputError as err:
            yield message, conv.messages, conv, f"⚠️ {err}", gr.skip(), gr.skip()
            return
        history = conv.user_history()
        messages = [*conv.messages, {"role": "user", "content": escape_text(question)},
                    {"role": "assistant", "content": MSG_THINKING}]
        yield "", list(messages), conv, "", gr.skip(), gr.skip()

        error = False
        try:
            answer = self.asker.ask(question, history or None)
            text, citations, claims = answer.text, list(answer.citations), list(answer.claims)
            abstained, route, meta = answer.abstained, answer.route, dict(answer.meta)
        except Exception:  # never show a stack trace: log it, show a friendly message
            log.exception("answering failed (question of %d chars)", len(question))
            text, citations, abstained, route, error, meta = MSG_ERROR, [], False, "error", True, {}
            claims = []

        if not error:
            for prefix in list(stream_prefixes(text))[:-1]:
                messages[-1] = {"role": "assistant", "content": streaming_message(prefix)}
                yield "", list(messages), conv, gr.skip(), gr.skip(), gr.skip()
                if self.stream_delay:
                    time.sleep(self.stream_delay)
        messages[-1] = {"role": "assistant", "content": answer_message(text, citations, claims)}
        conv.messages = messages
        conv.turns.append(Turn(question=question, history=history, answer=text, citations=citations,
                               abstained=abstained, route=route, error=error,
                               message_index=len(messages) - 1, meta=meta))
        md, js = self._export(conv)
        # status is left alone: a vote recorded meanwhile keeps its confirmation visible
        yield "", messages, conv, gr.skip(), _file_button(md), _file_button(js)

    def reply_draft(self, conv: Conversation | None) -> str:
        """The reply e-mail (plain text) for the latest answered turn."""
        from assistant.answer.reply import render_reply
        from assistant.types import Answer

        turns = [t for t in (conv.turns if conv is not None else []) if not t.error]
        if not turns:
            return MSG_NO_REPLY
        t = turns[-1]
        return render_reply(Answer(t.question, t.answer, list(t.citations), t.abstained, t.route, meta=t.meta),
                            self.date_of)

    def _export(self, conv: Conversation) -> tuple[str | None, str | None]:
        try:
            md, js = write_exports(conv, self.config_hash, self.export_dir)
            return str(md), str(js)
        except OSError:
            log.exception("conversation export failed")
            return None, None

    def new_conversation(self) -> Outputs:
        """Reset: (textbox, chatbot, conversation, status, comment, markdown file, json file)."""
        return "", [], None, "", "", _file_button(None), _file_button(None)

    # -- feedback -------------------------------------------------------------------------------
    def vote(self, conv: Conversation | None, index: Any, liked: Any) -> tuple[Conversation | None, str]:
        """Record 👍 (liked True) / 👎 (False) for the answer at chat ``index``; anything else undoes it."""
        if isinstance(index, (list, tuple)):
            index = index[0] if index else None
        try:
            position = int(index)
        except (TypeError, ValueError, OverflowError):  # not a message index: nothing to rate
            position = None
        i = conv.turn_at_message(position) if conv is not None and position is not None else None
        if i is None or self.feedback is None:
            return conv, MSG_NO_TURN
        turn = conv.turns[i]
        vote = "up" if liked is True else "down" if liked is False else None
        try:
            if vote is None:
                if turn.feedback_id is not None:
                    self.feedback.delete(turn.feedback_id)
                turn.feedback_id, turn.vote = None, None
                return conv, "評価を取り消しました。"
            if turn.feedback_id is None or not self.feedback.update(turn.feedback_id, vote=vote):
                turn.feedback_id = self.feedback.add(
                    vote=vote, question=turn.question, answer=turn.answer, citations=turn.citations,
                    config_hash=self.config_hash, history=turn.history, route=turn.route,
                    abstained=turn.abstained, session_id=conv.session_id)
        except Exception:
            log.exception("feedback write failed")
            return conv, MSG_FEEDBACK_ERROR
        turn.vote = vote
        conv.last_rated = i
        mark = "👍" if vote == "up" else "👎"
        return conv, f"{mark} を記録しました。よろしければ下の欄にコメントを入力して送信してください。"

    def on_like(self, conv: Conversation | None, data: gr.LikeData) -> tuple[Conversation | None, str]:
        return self.vote(conv, data.index, data.liked)

    def comment(self, text: str, conv: Conversation | None) -> tuple[str, str]:
        """Attach a comment to the latest rated answer: (comment box, status)."""
        if conv is None or conv.last_rated is None or self.feedback is None:
            return text, MSG_NO_RATED
        turn = conv.turns[conv.last_rated]
        if turn.feedback_id is None:
            return text, MSG_NO_RATED
        cleaned = strip_controls(text or "").strip()
        if len(cleaned) > self.max_chars:
            return text, MSG_COMMENT_TOO_LONG.format(limit=self.max_chars)
        try:
            self.feedback.update(turn.feedback_id, comment=cleaned)
        except Exception:
            log.exception("feedback comment write failed")
            return text, MSG_FEEDBACK_ERROR
        return "", "コメントを記録しました。ありがとうございます。"


def _file_button(path: str | None) -> dict:
    """Update of a DownloadButton: enabled with a file, disabled without one."""
    return gr.update(value=path, interactive=path is not None)


def build_chat_tab(h: ChatHandlers) -> None:
    """Lay out the chat tab inside the current Blocks context and wire its events."""
    conv = gr.State(None)
    chatbot = gr.Chatbot(label="会話", height=520, elem_id="chatbot", sanitize_html=True,
                         allow_tags=False, latex_delimiters=[], feedback_options=("Like", "Dislike"),
                         buttons=["copy"], placeholder="資料に基づいて、根拠つきでお答えします。")
    with gr.Row():
        box = gr.Textbox(placeholder="質問を入力してください（例: 令和4年度の選定数は？）", show_label=False,
                         lines=2, max_lines=6, scale=8, elem_id="question", autofocus=True)
        send = gr.Button("送信", variant="primary", scale=1, elem_id="send")
    status = gr.Markdown("", elem_id="status")
    gr.Examples(EXAMPLES, inputs=box, label="質問の例")
    with gr.Row():
        comment = gr.Textbox(placeholder="評価へのコメント（任意）", show_label=False, scale=6,
                             elem_id="comment")
        comment_btn = gr.Button("コメントを送信", scale=1, elem_id="comment-send")
    with gr.Row():
        new = gr.Button("新しい会話", elem_id="new-conversation")
        md_file = gr.DownloadButton("会話を Markdown で保存", value=None, interactive=False,
                                    elem_id="export-md")
        js_file = gr.DownloadButton("会話を JSON で保存", value=None, interactive=False,
                                    elem_id="export-json")

    with gr.Row():
        reply_btn = gr.Button("返信文を作成", elem_id="reply-draft")
    reply = gr.Textbox(label="返信文（下書き・プレーンテキスト）", lines=10, max_lines=30, interactive=False,
                       buttons=["copy"], elem_id="reply-text", visible=True)
    reply_btn.click(h.reply_draft, [conv], [reply], api_visibility="private")

    outs = [box, chatbot, conv, status, md_file, js_file]
    box.submit(h.respond, [box, conv], outs, api_name="chat")
    send.click(h.respond, [box, conv], outs, api_visibility="private")
    chatbot.like(h.on_like, [conv], [conv, status], api_visibility="private")
    comment_btn.click(h.comment, [comment, conv], [comment, status], api_visibility="private")
    comment.submit(h.comment, [comment, conv], [comment, status], api_visibility="private")
    reset = [box, chatbot, conv, status, comment, md_file, js_file]
    new.click(h.new_conversation, None, reset, api_visibility="private")
    chatbot.clear(h.new_conversation, None, reset, api_visibility="private")  # the 🗑 icon
