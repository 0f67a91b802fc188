"""The chat tab: answers with a 根拠 panel, multi-turn, 👍/👎 feedback, export, and the
source viewer (each citation's 「資料を開く」 shows the cited place below the chat)."""

from __future__ import annotations

import html
import logging
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answer import Asker
from assistant.feedback import FeedbackStore
from assistant.inputs import InputError, clean_question, strip_controls
from assistant.types import Answer
from assistant.ui.conversation import Conversation, Turn, write_exports
from assistant.ui.notes import MarkNote
from assistant.ui.render import answer_message, escape_text, streaming_message
from assistant.ui.viewer import SourceViewer, viewer_html

log = logging.getLogger(__name__)

MSG_THINKING = "回答を作成しています…"
MSG_ERROR = ("申し訳ありません。回答の作成中にエラーが発生しました。"
             "時間をおいてもう一度お試しください。解決しない場合は管理者にお問い合わせください。")
MSG_FEEDBACK_ERROR = "フィードバックを保存できませんでした。時間をおいてもう一度お試しください。"
MSG_NO_TURN = "評価の対象となる回答が見つかりませんでした。"
MSG_NO_RATED = "先に回答の 👍 / 👎 を押してから、コメントを送信してください。"
MSG_NO_REPLY = "返信文を作成する回答がまだありません。先に問い合わせ文を送信してください。"
MSG_COMMENT_TOO_LONG = "コメントが長すぎます。{limit:,}文字以内で入力してください。"
MSG_VIEWER_EMPTY = "回答の「根拠」にある「資料を開く」を押すと、引用された箇所をここに表示します。"
MSG_NO_CITATION = "開く資料が見つかりませんでした。回答の「根拠」からもう一度お試しください。"
MSG_VIEWER_ERROR = "資料を表示できませんでした。時間をおいてもう一度お試しください。"

#: Installed once by the (hidden) opener component: a click on a 「資料を開く」 control inside a
#: chat message becomes the opener's ``click`` event with (answer panel, citation) ordinals.
OPENER_JS = """
const CONTROL = '#chatbot .evidence .open-source';
const open = (control) => {
  const panel = control.closest('details.evidence');
  const panels = Array.from(document.querySelectorAll('#chatbot details.evidence'));
  const controls = Array.from(panel.querySelectorAll('.open-source'));
  trigger('click', {answer: panels.indexOf(panel), citation: controls.indexOf(control)});
};
const onClick = (event) => {
  const control = event.target && event.target.closest ? event.target.closest(CONTROL) : null;
  if (control) { event.preventDefault(); open(control); }
};
const onKey = (event) => {
  const control = event.target && event.target.closest ? event.target.closest(CONTROL) : null;
  if (control && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); open(control); }
};
const asButtons = () => document.querySelectorAll(CONTROL + ':not([role])').forEach((e) => {
  e.setAttribute('role', 'button');
  e.setAttribute('tabindex', '0');
});
if (window.__openSource) {
  document.removeEventListener('click', window.__openSource.onClick, true);
  document.removeEventListener('keydown', window.__openSource.onKey, true);
  window.__openSource.observer.disconnect();
}
const observer = new MutationObserver(asButtons);
observer.observe(document.body, {childList: true, subtree: true});
window.__openSource = {onClick, onKey, observer};
document.addEventListener('click', onClick, true);
document.addEventListener('keydown', onKey, true);
asButtons();
"""

#: Sending from the question box, IME-safe: Enter sends, Shift+Enter inserts a new line, and an
#: Enter that confirms a Japanese IME conversion (``isComposing``, or keyCode 229 on browsers that
#: report composition that way) never sends. Installed once by a hidden component; it listens in
#: the capture phase so Gradio's own Textbox handler (a keypress listener: Shift+Enter submits
#: when lines > 1) never sees Enter, and a send is a click on 「送信」 (the same event as the button).
KEYS_JS = """
const BOX = '#question textarea';
const onKey = (event) => {
  const box = event.target && event.target.closest ? event.target.closest(BOX) : null;
  if (!box || event.key !== 'Enter') return;
  event.stopImmediatePropagation();
  event.stopPropagation();
  if (event.isComposing || event.keyCode === 229) return;  // the IME keeps the Enter
  if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;  // a new line
  event.preventDefault();
  const send = document.querySelector('#send');
  if (send && !send.disabled) send.click();
};
const onPress = (event) => {  // Gradio's own Enter handling listens to keypress
  const box = event.target && event.target.closest ? event.target.closest(BOX) : null;
  if (box && event.key === 'Enter') { event.stopImmediatePropagation(); event.stopPropagation(); }
};
if (window.__questionKeys) {
  document.removeEventListener('focusin', window.__questionKeys.describe, true);
  document.removeEventListener('keydown', window.__questionKeys.onKey, true);
  document.removeEventListener('keypress', window.__questionKeys.onPress, true);
}
document.addEventListener('keydown', onKey, true);
document.addEventListener('keypress', onPress, true);
const describe = () => {  // a screen reader reads the hint with the box
  const box = document.querySelector(BOX);
  if (box && !box.hasAttribute('aria-describedby') && document.querySelector('#send-hint')) {
    box.setAttribute('aria-describedby', 'send-hint');
  }
};
describe();
setTimeout(describe, 500);
document.addEventListener('focusin', describe, true);
window.__questionKeys = {onKey, onPress, describe};
"""

#: 「メッセージをコピー」 copies plain text: the answer, then 根拠 with each document and quote on
#: lines of their own (Gradio's own button would copy the message's HTML source). The copy button
#: is the first button under a message (``buttons=["copy"]``, before 👎/👍).
COPY_JS = """
const plainText = (row) => {
  const content = row.querySelector('.message-content') || row;
  const clone = content.cloneNode(true);
  clone.querySelectorAll('.open-source, button, svg').forEach((e) => e.remove());
  clone.querySelectorAll('.cite-quote').forEach((e) => { e.prepend('「'); e.append('」'); });
  clone.querySelectorAll('.cite-docmeta, .cite-locator').forEach((e) => e.prepend('（') || e.append('）'));
  clone.querySelectorAll('br').forEach((e) => e.replaceWith('\\n'));
  clone.querySelectorAll('p, li, summary, blockquote, tr, h1, h2, h3, h4').forEach((e) => e.append('\\n'));
  return clone.textContent.split('\\n').map((l) => l.replace(/[ \\t]+/g, ' ').trim()).join('\\n')
    .replace(/\\n{3,}/g, '\\n\\n').trim();
};
const writePlain = async (text) => {
  try { await navigator.clipboard.writeText(text); return; } catch (err) { /* below */ }
  const area = document.createElement('textarea');
  area.value = text; area.style.position = 'fixed'; area.style.left = '-9999px';
  document.body.append(area); area.select();
  try { document.execCommand('copy'); } finally { area.remove(); }
};
const onCopy = (event) => {
  const button = event.target && event.target.closest ? event.target.closest('#chatbot button') : null;
  const bar = button ? button.closest('.message-buttons-left, .message-buttons-right') : null;
  if (!bar || bar.querySelector('button') !== button) return;
  const row = bar.previousElementSibling;
  if (!row) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  writePlain(plainText(row)).then(() => {
    button.setAttribute('title', 'コピーしました');
    button.setAttribute('aria-label', 'コピーしました');
    setTimeout(() => { button.setAttribute('title', 'メッセージをコピー');
                       button.setAttribute('aria-label', 'メッセージをコピー'); }, 2000);
  });
};
if (window.__plainCopy) document.removeEventListener('click', window.__plainCopy, true);
window.__plainCopy = onCopy;
document.addEventListener('click', onCopy, true);
"""

#: Shown under the question box.
MSG_KEYS_HINT = "Enter で送信・Shift+Enter で改行"

#: After the viewer is filled: bring it into view, the quote in view inside it.
SCROLL_JS = """() => { setTimeout(() => {
  const viewer = document.querySelector('#viewer');
  if (!viewer) return;
  viewer.scrollIntoView({block: 'start', behavior: 'instant'});
  const mark = viewer.querySelector('mark.viewer-quote, .viewer-page img');
  const box = viewer.querySelector('.viewer-body');
  if (mark && box && box.contains(mark)) {
    box.scrollTop += mark.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 3;
  }
}, 150); }"""

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
                 feedback: FeedbackStore | None, export_dir: Path,
                 viewer: SourceViewer | None = None) -> None:
        self.asker = asker
        self.viewer = viewer
        self.config_hash = config_hash
        self.max_chars = max_chars
        self.feedback = feedback
        self.export_dir = export_dir
        self.date_of = None  # document date by source, for the reply draft (set by the app)
        self.notes: list[MarkNote] = []  # the document's notes for marks such as (※) (set by the app)

    # -- asking ---------------------------------------------------------------------------------
    def respond(self, message: str, conv: Conversation | None) -> Iterator[Outputs]:
        """Yields (textbox, chatbot messages, conversation, status, markdown file, json file):
        first the question with 「回答を作成しています…」, then each partial text that
        :meth:`_answer` yields (none today), then the finished answer with its 根拠 panel.
        Nothing is delayed or replayed: the answer shows as soon as it exists."""
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
            pieces = self._answer(question, history or None)
            while True:
                try:
                    partial = next(pieces)
                except StopIteration as done:
                    answer = done.value
                    break
                messages[-1] = {"role": "assistant", "content": streaming_message(partial)}
                yield "", list(messages), conv, gr.skip(), gr.skip(), gr.skip()
            text, citations, claims = answer.text, list(answer.citations), list(answer.claims)
            abstained, route, meta = answer.abstained, answer.route, dict(answer.meta)
        except Exception:  # never show a stack trace: log it, show a friendly message
            log.exception("answering failed (question of %d chars)", len(question))
            text, citations, abstained, route, error, meta = MSG_ERROR, [], False, "error", True, {}
            claims = []

        messages[-1] = {"role": "assistant", "content": self._message(text, citations, claims)}
        conv.messages = messages
        conv.turns.append(Turn(question=question, history=history, answer=text, citations=citations,
                               abstained=abstained, route=route, error=error,
                               message_index=len(messages) - 1, meta=meta))
        md, js = self._export(conv)
        # status is left alone: a vote recorded meanwhile keeps its confirmation visible
        yield "", messages, conv, gr.skip(), _file_button(md), _file_button(js)

    def _answer(self, question: str, history: list[str] | None) -> Generator[str, None, Answer]:
        """The answer to ``question``: yields the text shown so far while it is being written,
        returns the finished :class:`Answer`.

        This is the seam for real streaming. Today every asker answers at once (``ask``), so
        nothing is yielded and the answer appears whole. An asker whose model streams
        (``LLMAssistant.stream``: guard-checked pieces, then the Answer) would be used here:
        yield the growing text of its pieces and return its Answer; :meth:`respond` shows
        each yielded text as a partial message with a cursor."""
        return self.asker.ask(question, history)
        yield  # unreachable: makes this a generator

    def _message(self, text: str, citations: list, claims: list) -> str:
        if self.viewer is None:
            return answer_message(text, citations, claims, notes=self.notes)
        try:
            return answer_message(text, citations, claims, self.viewer.label, openable=True, notes=self.notes)
        except Exception:  # a source that cannot be read must not cost the answer
            log.exception("source labels failed")
            return answer_message(text, citations, claims, notes=self.notes)

    # -- the source viewer ----------------------------------------------------------------------
    def open_source(self, conv: Conversation | None, answer: Any, citation: Any) -> tuple[str, dict, Any]:
        """(viewer HTML, download button update, accordion) for citation ``citation`` of the
        ``answer``-th answer that has a 根拠 panel (ordinals as the page counts them)."""
        turns = [t for t in (conv.turns if conv is not None else []) if t.citations and not t.error]
        try:
            a, c = int(answer), int(citation)
        except (TypeError, ValueError, OverflowError):
            a = c = -1
        if self.viewer is None or not (0 <= a < len(turns)) or not (0 <= c < len(turns[a].citations)):
            return _notice(MSG_NO_CITATION), _file_button(None), gr.Accordion(open=True)
        try:
            content = self.viewer.open(turns[a].citations[c])
        except Exception:
            log.exception("the source viewer failed")
            return _notice(MSG_VIEWER_ERROR), _file_button(None), gr.Accordion(open=True)
        path = str(content.download) if content.download else None
        return viewer_html(content), _file_button(path), gr.Accordion(open=True)

    def clear_viewer(self) -> tuple[str, dict, Any]:
        """The viewer emptied and closed (a new conversation: its citations are gone)."""
        return _notice(MSG_VIEWER_EMPTY), _file_button(None), gr.Accordion(open=False)

    def on_open_source(self, conv: Conversation | None, evt: gr.EventData) -> tuple[str, dict, Any]:
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        return self.open_source(conv, data.get("answer"), data.get("citation"))

    def reply_draft(self, conv: Conversation | None) -> str:
        """The reply e-mail (plain text) for the latest answered turn."""
        from assistant.answer.reply import render_reply
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
    def feedback_row(self, conv: Conversation | None) -> Any:
        """The comment box is shown only once there is an answer to comment on."""
        answered = conv is not None and any(not t.error for t in conv.turns)
        return gr.Row(visible=answered)

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


def _notice(text: str) -> str:
    return f'<div class="viewer"><p class="viewer-notice">{html.escape(text)}</p></div>'


def _file_button(path: str | None) -> dict:
    """Update of a DownloadButton: enabled with a file, disabled without one."""
    return gr.update(value=path, interactive=path is not None)


def build_chat_tab(h: ChatHandlers) -> None:
    """Lay out the chat tab inside the current Blocks context and wire its events."""
    conv = gr.State(None)
    chatbot = gr.Chatbot(label="会話", show_label=False, height=480, elem_id="chatbot", sanitize_html=True,
                         allow_tags=False, latex_delimiters=[], feedback_options=("Like", "Dislike"),
                         buttons=["copy"], placeholder="資料に基づいて、根拠つきでお答えします。")
    with gr.Row(elem_id="ask-row"):
        box = gr.Textbox(label="質問", placeholder="質問を入力してください（例: 令和4年度の選定数は？）", show_label=False,
                         lines=2, max_lines=6, scale=8, elem_id="question", autofocus=True)
        send = gr.Button("送信", variant="primary", scale=1, elem_id="send", min_width=80)
    gr.Markdown(MSG_KEYS_HINT, elem_id="send-hint")
    gr.HTML("", visible="hidden", elem_id="question-keys", js_on_load=KEYS_JS + COPY_JS)
    status = gr.Markdown("", elem_id="status")
    gr.Examples(EXAMPLES, inputs=box, label="質問の例", elem_id="examples")
    with gr.Accordion("資料の表示", open=False, elem_id="viewer") as viewer_box:
        viewer = gr.HTML(_notice(MSG_VIEWER_EMPTY), elem_id="viewer-content")
        viewer_file = gr.DownloadButton("元の資料をダウンロード", value=None, interactive=False,
                                        elem_id="viewer-download", size="sm")
    opener = gr.HTML("", visible="hidden", elem_id="source-opener", js_on_load=OPENER_JS)
    with gr.Row(visible=False, elem_id="comment-row") as comment_row:  # shown once there is an answer
        comment = gr.Textbox(label="評価へのコメント", placeholder="評価へのコメント（任意）", show_label=False, scale=6,
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
    box.submit(h.respond, [box, conv], outs, api_name="chat").then(
        h.feedback_row, [conv], [comment_row], api_visibility="private")
    send.click(h.respond, [box, conv], outs, api_visibility="private").then(
        h.feedback_row, [conv], [comment_row], api_visibility="private")
    chatbot.like(h.on_like, [conv], [conv, status], api_visibility="private")
    comment_btn.click(h.comment, [comment, conv], [comment, status], api_visibility="private")
    comment.submit(h.comment, [comment, conv], [comment, status], api_visibility="private")
    opener.click(h.on_open_source, [conv], [viewer, viewer_file, viewer_box],
                 api_visibility="private").then(None, js=SCROLL_JS)
    reset = [box, chatbot, conv, status, comment, md_file, js_file]
    viewer_outs = [viewer, viewer_file, viewer_box]
    for cleared in (new.click, chatbot.clear):  # the button, and the chat's 🗑 icon
        cleared(h.new_conversation, None, reset, api_visibility="private").then(
            h.clear_viewer, None, viewer_outs, api_visibility="private").then(
            h.feedback_row, [conv], [comment_row], api_visibility="private")
