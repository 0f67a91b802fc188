"""The document's own explanations of its marks: 「(※)」 in the project table, 「※」 after 45事業.

The explanations are the records' ``program_facts`` rows that quote the document's footnotes
(``flag-meaning``: 「(※)は、国土交通省道路局「…」対象事業」; ``supported-r4`` + ``ended-before-r4``:
「45事業※」 and 「※ H30年度から…8事業はR3年度末までに支援終了。」), so nothing is written by us.
Where an answer, a quote or the 事業一覧 shows a mark, its note is shown with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: 「(※)」 in any width (（※） after NFKC is (※)).
_FLAG = re.compile(r"\(※\)")
#: A bare 「※」 right after a count of projects (「45事業※」), not the inline 「※データ取得等…」.
_FOOTNOTE = re.compile(r"事業※")


@dataclass(frozen=True)
class MarkNote:
    """A mark (「(※)」) and the document's sentence that explains it, with where it is written."""

    mark: str
    text: str
    pattern: re.Pattern[str]
    locator: str = ""

    def found_in(self, text: str) -> bool:
        return bool(self.pattern.search(unicodedata.normalize("NFKC", text or "")))


def notes_from_records(records: Any) -> list[MarkNote]:
    """The notes the records hold (none when the records or the footnote rows are missing)."""
    facts = {f.fact_id: f for f in getattr(records, "facts", None) or []}
    notes = []
    flag = facts.get("flag-meaning")
    if flag is not None and flag.quote.strip():
        notes.append(MarkNote("(※)", flag.quote.strip(), _FLAG, flag.locator))
    ended = facts.get("ended-before-r4")
    if ended is not None and ended.quote.strip():
        notes.append(MarkNote("※", ended.quote.strip(), _FOOTNOTE, ended.locator))
    return notes


def notes_for(texts: Iterable[str], notes: Iterable[MarkNote]) -> list[MarkNote]:
    """The notes whose mark appears in any of ``texts`` (in the order of ``notes``)."""
    shown = list(texts)
    return [n for n in notes if any(n.found_in(t) for t in shown)]


def note_line(note: MarkNote) -> str:
    """One plain line for the reader: 「(※) について（資料の注記）: (※)は、…対象事業」."""
    return f"{note.mark} について（資料の注記）: {note.text}"
