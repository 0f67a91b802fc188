"""Input limits shared by every entry point (``Assistant.ask``, ``assistant ask``, ``--jsonl``, UI, API).

A question is cleaned (control, format, bidi, private-use characters and lone surrogates removed),
then refused when blank or longer than ``max_chars`` — always with a Japanese message, never an
exception the user would see as a stack trace.

The text is cleaned once, by the outermost :class:`~assistant.protocols.Asker` (or by the UI, which
shows the refusal at once): the result is a :class:`Question`, and the layers below pass it on
without cleaning it again (:func:`clean_question` only re-checks its length and blankness).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.types import Answer

MSG_BLANK = "質問を入力してください。"
MSG_TOO_LONG = "質問が長すぎます（{n:,}文字）。{limit:,}文字以内で入力してください。"

#: Earlier turns kept for a question (the latest ones): follow-ups only need recent context.
MAX_HISTORY_TURNS = 20

# Removed: C0/C1 controls except tab, newline and carriage return (Cc), lone surrogates (Cs),
# private use (Co) and every format character (Cf: zero-width space, BOM, bidi embeddings,
# overrides and isolates, invisible operators, tag characters …) except ZWNJ/ZWJ (U+200C/D),
# which emoji sequences and some scripts need. ``tests/test_hostile_inputs.py`` checks this class
# against ``unicodedata`` over every code point.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad"
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ud800-\udfff\ue000-\uf8ff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000f0000-\U000ffffd\U00100000-\U0010fffd]"
)
_SPACES = re.compile(r"[\t\r]")
_BLANK_LINES = re.compile(r"\n{3,}")


class InputError(ValueError):
    """A question refused before it reaches the assistant; ``str(err)`` is the message for the user,
    ``code`` is ``"empty"`` or ``"too_long"``."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class Question(str):
    """Text already cleaned by :func:`clean_question` or :func:`clean_history`: not cleaned again.

    Text derived from it by string methods is a plain ``str`` again; mark derived text with
    ``Question(...)`` only when it holds nothing but characters of the cleaned text."""

    __slots__ = ()


def strip_controls(text: str) -> str:
    """Remove invisible/control characters; tabs and carriage returns become spaces, newlines stay."""
    text = _SPACES.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    return _BLANK_LINES.sub("\n\n", text)


def clean_question(text: object, max_chars: int) -> Question:
    """The question ready for the assistant, or :class:`InputError` with a Japanese message.

    A :class:`Question` is not cleaned again, only checked (blank, ``max_chars``)."""
    cleaned = text if isinstance(text, Question) else Question(strip_controls("" if text is None else str(text)).strip())
    if not cleaned:
        raise InputError(MSG_BLANK, "empty")
    if len(cleaned) > max_chars:
        raise InputError(MSG_TOO_LONG.format(n=len(cleaned), limit=max_chars), "too_long")
    return cleaned


def clean_history(history: Iterable[object] | None, max_chars: int | None = None) -> list[Question]:
    """Earlier user turns, cleaned and cut to ``max_chars`` (None: not cut); blanks and
    non-strings dropped, only the latest :data:`MAX_HISTORY_TURNS` kept. Turns that are
    :class:`Question` already are only cut."""
    if history is None or isinstance(history, (str, bytes)):
        return []
    out = [Question((h if isinstance(h, Question) else strip_controls(h).strip())[:max_chars])
           for h in history if isinstance(h, str)]
    return [h for h in out if h][-MAX_HISTORY_TURNS:]


def refusal(question: str, err: InputError) -> Answer:
    """The answer to a refused question: its Japanese message, route ``error``, ``meta["error"]`` its code."""
    from assistant.types import Answer

    return Answer(question, str(err), route="error", meta={"error": err.code})
