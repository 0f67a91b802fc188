"""Input limits for questions typed into the UI: control characters stripped, blank / too long refused."""

from __future__ import annotations

import re
import unicodedata

#: Bidirectional overrides/isolates (can disguise text) are removed with the C0/C1 controls.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

MSG_BLANK = "質問を入力してください。"
MSG_TOO_LONG = "質問が長すぎます（{n:,}文字）。{limit:,}文字以内で入力してください。"


class InputError(ValueError):
    """A question refused before it reaches the assistant; ``str(err)`` is the message for the user."""


def strip_controls(text: str) -> str:
    """Remove control characters (keeping newlines and tabs as spaces) and bidi overrides."""
    out = []
    for ch in text:
        if ch in "\n\t\r":
            out.append(" " if ch != "\n" else "\n")
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs", "Co"):
            continue
        else:
            out.append(ch)
    return re.sub(r"\n{3,}", "\n\n", "".join(out))


def clean_question(text: object, max_chars: int) -> str:
    """The question ready for the assistant, or :class:`InputError` with a Japanese message."""
    cleaned = strip_controls("" if text is None else str(text)).strip()
    if not cleaned:
        raise InputError(MSG_BLANK)
    if len(cleaned) > max_chars:
        raise InputError(MSG_TOO_LONG.format(n=len(cleaned), limit=max_chars))
    return cleaned
