"""The loader's text of a document as lines with where they are (heading path, page, offset).

Shared by the drafters of ``records extract``: tables (:func:`assistant.records.extract.locate_tables`)
and statements (:mod:`assistant.records.extract_kpis`) are located the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistant.normalize import match_key, nfkc
from assistant.types import Document

HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")


@dataclass(frozen=True)
class Line:
    """One line of the loader's text: ``text`` is ``doc.text[start:start + len(text)]``."""

    start: int
    text: str
    headings: tuple[str, ...]  # the heading path above it (the document's own title left out)
    page: int | None
    is_heading: bool

    @property
    def stripped(self) -> str:
        return self.text.strip()


def page_at(meta: dict[str, Any], offset: int) -> int | None:
    """The PDF page an offset of the loader's text is on (None for documents without pages)."""
    found = None
    for start, number in meta.get("pages") or []:
        if start <= offset:
            found = number
    return found


def _key(text: str) -> str:
    return match_key(nfkc(text).replace("**", ""))


def walk(doc: Document) -> Iterator[Line]:
    """Every line of ``doc.text`` in order, a heading line carrying its own (new) path."""
    stack: list[tuple[int, str]] = []
    pos = 0
    for raw in doc.text.splitlines(keepends=True):
        text = raw.rstrip("\r\n")
        m = HEADING.match(text.strip())
        if m:
            level = len(m.group(1))
            stack = [h for h in stack if h[0] < level] + [(level, re.sub(r"\*\*", "", m.group(2)).strip())]
        headings = tuple(h for level, h in stack if not (level == 1 and _key(h) == _key(doc.title)))
        yield Line(pos, text, headings, page_at(doc.meta, pos), bool(m))
        pos += len(raw)
