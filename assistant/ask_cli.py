"""``assistant ask``: one question for a person, or JSON Lines in/out (shared/qa-format.md)."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import time
from typing import Any, TextIO

from assistant.answer import Asker
from assistant.config import Settings
from assistant.errors import AnswerFailedError, InvalidQuestionError, UsageError
from assistant.inputs import InputError, clean_question
from assistant.types import Answer

log = logging.getLogger(__name__)
#: What ``errors="surrogateescape"`` makes of bytes that are not UTF-8.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
_ERROR = "エラー: "  # how _ask_one and reply_text start a message that is not an answer


def answer_to_json(item_id: Any, answer: Answer, latency_ms: float) -> dict[str, Any]:
    return {
        "id": item_id,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [{"source": c.source, "locator": c.locator, "quote": c.quote} for c in answer.citations],
        "route": answer.route,
        "latency_ms": round(latency_ms, 1),
        # Optional (qa-format): what every value of the answer rests on (kind, text, value,
        # citation indexes, operation); readers that do not know it ignore it.
        "claims": [c.to_json() for c in answer.claims],
    } | ({"parts": [{"text": p["text"], "answer": p["answer"], "abstained": p["abstained"],
                     "citations": p["citations"]} for p in answer.meta["parts"]]}
         if answer.meta.get("parts") else {})


def dumps_line(obj: dict[str, Any]) -> str:
    """One JSON line, readable Japanese; ASCII escapes when a string holds a lone surrogate
    (which UTF-8 cannot encode), so writing the line never fails."""
    text = json.dumps(obj, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj) + "\n"
    # Characters some readers take for line breaks (str.splitlines, JavaScript) stay escaped.
    return _LINE_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def run_jsonl(asker: Asker, stdin: TextIO, stdout: TextIO, max_chars: int = 2000) -> int:
    """Answer each JSON line; a malformed line (bad JSON or UTF-8, wrong types, blank or too long
    question) yields an error object ``{"id", "error"}`` and the batch goes on."""
    for n, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        item_id: Any = None
        try:
            if _UNDECODABLE.search(line):
                raise ValueError("not valid UTF-8")
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("a JSON object is required")
            item_id = item.get("id")
            question = item.get("question")
            history = item.get("history") or []
            if not isinstance(question, str):
                raise ValueError("'question' must be a string")
            if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
                raise ValueError("'history' must be a list of strings")
            question = clean_question(question, max_chars)  # a Question: the answerer does not clean it again
        except InputError as exc:
            out = {"id": item_id, "error": f"line {n}: {exc}", "code": exc.code}
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            out = {"id": item_id, "error": f"line {n}: {exc}"[:300]}
        else:
            t0 = time.perf_counter()
            try:
                ans = asker.ask(question, history)
                out = answer_to_json(item_id, ans, (time.perf_counter() - t0) * 1000)
            except Exception as exc:  # noqa: BLE001 - one bad question must not end the batch
                print(f"error on line {n}: {type(exc).__name__}: {exc}", file=sys.stderr)
                out = {"id": item_id, "error": f"line {n}: internal error ({type(exc).__name__})"}
        stdout.write(dumps_line(out))
        stdout.flush()
    return 0


def format_answer(answer: Answer) -> str:
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("根拠:")
        for i, c in enumerate(answer.citations, 1):
            lines.append(f"  [{i}] {c.title or c.source} — {c.locator}")
            lines.append(f"      「{c.quote}」 ({c.source})")
    return "\n".join(lines)


def _utf8_stdin() -> TextIO:
    """stdin as UTF-8 (a BOM skipped); undecodable bytes kept as surrogates so the line is reported."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already text (tests)
        return sys.stdin
    return io.TextIOWrapper(buffer, encoding="utf-8-sig", errors="surrogateescape")


def _ask_one(asker: Asker, question: str, history: list[str] | None = None) -> str:
    """The printable answer, or a one-line error message (details in the log, never a traceback)."""
    try:
        return format_answer(asker.ask(question, history))
    except Exception as exc:  # noqa: BLE001 - a person gets a message, not a stack trace
        from assistant.index import IndexCorrupted, IndexIncompatible, IndexMissing

        log.debug("answering failed", exc_info=True)
        if isinstance(exc, (IndexMissing, IndexCorrupted, IndexIncompatible)):
            return f"エラー: {exc}"
        return f"エラー: 回答を作成できませんでした（{type(exc).__name__}）。"


def reply_text(asker: Asker, message: str, date_of=None) -> str:
    """The reply e-mail draft for ``message`` (plain text), or a one-line error message."""
    from assistant.answer.reply import render_reply

    try:
        return render_reply(asker.ask(message), date_of)
    except Exception as exc:  # noqa: BLE001 - a person gets a message, not a stack trace
        log.debug("answering failed", exc_info=True)
        return f"エラー: 返信文を作成できませんでした（{type(exc).__name__}）。"


def ask_command(settings: Settings, question: str | None = None, jsonl: bool = False,
                reply: bool = False) -> int:
    """Answer and return 0; a question that cannot be answered raises an ``AssistantError``."""
    from assistant.answer.pipeline import build_assistant

    asker = build_assistant(settings, settings.pipeline)
    if reply:
        from assistant.answer.message import build_message_asker
        from assistant.answer.reply import document_date_lookup

        if question is None:
            raise UsageError("--reply には問い合わせの本文を指定してください。 (--reply needs the message text)")
        try:
            question = clean_question(question, settings.max_question_chars)
        except InputError as err:
            raise InvalidQuestionError(str(err)) from err
        text = reply_text(build_message_asker(settings, asker), question, document_date_lookup(settings.root))
        if text.startswith(_ERROR):
            raise AnswerFailedError(text.removeprefix(_ERROR))
        print(text, end="")
        return 0
    if jsonl:
        return run_jsonl(asker, _utf8_stdin(), sys.stdout, settings.max_question_chars)
    if question is not None:
        text = _ask_one(asker, question)
        if text.startswith(_ERROR):
            raise AnswerFailedError(text.removeprefix(_ERROR))
        print(text)
        return 0
    # Interactive: earlier turns of this session are the history.
    history: list[str] = []
    print("質問を入力してください（終了: Ctrl-D）。", file=sys.stderr)
    while True:
        try:
            q = input("> ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        except UnicodeDecodeError:
            print("入力を UTF-8 として読めませんでした。", file=sys.stderr)
            continue
        if not q.strip():
            continue
        print(_ask_one(asker, q, history))
        history.append(q)
