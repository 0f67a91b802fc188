"""Heading- and table-aware chunking for Japanese documents.

* Markdown headings (``#``..``######``) give a heading path; it prefixes each chunk's ``text``
  and is the chunk's ``locator`` (``事業イメージ > 過去の選定数``). A heading equal to the document
  title is left out of the path.
* Paragraphs are cut at sentence ends (。！？) and at line ends (bullet lines), then packed into
  chunks of about ``min_chars``–``max_chars`` characters without crossing a heading or a page.
* Tables (Markdown pipe tables, or tab-separated rows in .txt) are split by rows; every chunk
  repeats the header (and a short caption line just above the table). Wide tables (long rows,
  such as a comparison table with one row per attribute) get one row per chunk. Locator
  ``… > 表 (first row label〜last row label)``.
* Text before any heading is prefixed with the document title instead.
* PDF pages (``doc.meta['pages']``) become ``p.N`` locators.

``chunk.meta["body"]`` is a contiguous, exact substring of ``doc.text`` (no prefix, no repeated
header) with its offsets in ``meta['start']``/``meta['end']``, so citation quotes can be taken
from it verbatim.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from assistant.normalize import find_years
from assistant.types import Chunk, Document

#: Bump when chunk boundaries, text or ids change: the index is then rebuilt from scratch.
CHUNKER_VERSION = "2"

_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_MD_SEP_RE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_SENT_RE = re.compile(r"[^。！？!?]*[。！？!?]+[」』）)】]*|[^。！？!?]+")
#: Document front-matter fields copied into chunk metadata (for filters).
DOC_FILTER_FIELDS = ("fiscal_year", "prefecture", "municipality", "technologies", "ministry", "program")


@dataclass(frozen=True)
class ChunkConfig:
    max_chars: int = 500
    min_chars: int = 200


@dataclass
class _Span:
    start: int
    end: int


@dataclass
class _Section:
    path: tuple[str, ...]
    page: int | None
    units: list[_Span] = field(default_factory=list)


@lru_cache(maxsize=1)
def _prefecture_re() -> re.Pattern[str]:
    names = resources.files("assistant").joinpath("data/prefectures.txt").read_text(encoding="utf-8").split()
    return re.compile("|".join(sorted(map(re.escape, names), key=len, reverse=True)))


def chunk_id(source: str, locator: str, text: str) -> str:
    return hashlib.sha256(f"{source}\n{locator}\n{text}".encode()).hexdigest()[:32]


def _clean_heading(s: str) -> str:
    """Drop Markdown emphasis and HTML tags (``<b>``), keep bracketed text (``<支援の流れ>``)."""
    return re.sub(r"\s+", " ", re.sub(r"\*\*|__|</?[A-Za-z][A-Za-z0-9]*(?:\s[^>]*)?/?>", "", s)).strip()


def _lines(text: str) -> list[_Span]:
    """Spans of every line (without the newline)."""
    out, pos = [], 0
    for line in text.split("\n"):
        out.append(_Span(pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _trim(text: str, s: _Span) -> _Span | None:
    start, end = s.start, s.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return _Span(start, end) if end > start else None


def _sentence_units(text: str, line: _Span, max_chars: int) -> list[_Span]:
    """Sentences of one line; over-long sentences are cut at 、 or hard at ``max_chars``."""
    units: list[_Span] = []
    for m in _SENT_RE.finditer(text, line.start, line.end):
        sp = _trim(text, _Span(m.start(), m.end()))
        if sp is None:
            continue
        while sp.end - sp.start > max_chars:
            cut = text.rfind("、", sp.start, sp.start + max_chars)
            cut = cut + 1 if cut > sp.start + max_chars // 3 else sp.start + max_chars
            units.append(_Span(sp.start, cut))
            sp = _Span(cut, sp.end)
        units.append(sp)
    return units


def _cells(line: str) -> list[str]:
    s = line.strip()
    if "|" in s and s.startswith("|"):
        return [c.strip() for c in s.strip("|").split("|")]
    return [c.strip() for c in line.split("\t")]


class _Chunker:
    def __init__(self, doc: Document, cfg: ChunkConfig) -> None:
        self.doc, self.cfg, self.text = doc, cfg, doc.text
        pages = doc.meta.get("pages") or []
        self.page_starts = [int(p[0]) for p in pages]
        self.page_numbers = [int(p[1]) for p in pages]
        self.title_key = _clean_heading(doc.title)
        self.chunks: list[Chunk] = []
        self.seen: dict[str, int] = {}
        base = {"kind": "document", "title": doc.title}
        for f in DOC_FILTER_FIELDS:
            if doc.meta.get(f) not in (None, "", []):
                base[f] = doc.meta[f]
        self.base_meta = base

    def page_of(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        i = bisect.bisect_right(self.page_starts, offset) - 1
        return self.page_numbers[max(i, 0)]

    def locator(self, path: tuple[str, ...], page: int | None, suffix: str = "") -> str:
        parts = list(path)
        if page is not None:
            parts.append(f"p.{page}")
        if suffix:
            parts.append(suffix)
        return " > ".join(parts) if parts else "冒頭"

    def emit(self, path: tuple[str, ...], page: int | None, raw: _Span, locator: str,
             header: str = "", extra: dict[str, Any] | None = None, context: str = "") -> None:
        body = self.text[raw.start:raw.end]
        prefix = " > ".join(path) or self.doc.title
        text = "\n".join(p for p in (prefix, context, header, body) if p)
        cid = chunk_id(self.doc.source, locator, text)
        n = self.seen.get(cid, 0)
        self.seen[cid] = n + 1
        if n:
            cid = chunk_id(self.doc.source, locator, f"{text}\n#{n}")
        meta: dict[str, Any] = dict(self.base_meta)
        meta.update({"body": body, "start": raw.start, "end": raw.end, "heading_path": list(path)})
        if page is not None:
            meta["page"] = page
        years = sorted({y.year for y in find_years(text)})
        if years:
            meta["fiscal_years"] = years
        prefs = sorted(set(_prefecture_re().findall(text)))
        if prefs:
            meta["prefectures"] = prefs
        if header:
            meta["table_header"] = header
        meta.update(extra or {})
        self.chunks.append(Chunk(cid, self.doc.id, self.doc.source, text, locator, meta))

    def flush_section(self, sec: _Section) -> None:
        """Pack sentence units into chunks of at most ``max_chars`` (a short tail is merged)."""
        groups: list[list[_Span]] = []
        for u in sec.units:
            if groups and u.end - groups[-1][0].start <= self.cfg.max_chars:
                groups[-1].append(u)
            else:
                groups.append([u])
        if len(groups) > 1:
            last, prev = groups[-1], groups[-2]
            if (last[-1].end - last[0].start < self.cfg.min_chars // 2
                    and last[-1].end - prev[0].start <= self.cfg.max_chars + self.cfg.min_chars // 2):
                prev.extend(groups.pop())
        loc = self.locator(sec.path, sec.page)
        for g in groups:
            self.emit(sec.path, sec.page, _Span(g[0].start, g[-1].end), loc)
        sec.units.clear()

    def flush_table(self, path: tuple[str, ...], header: list[_Span], rows: list[_Span],
                    caption: str = "") -> None:
        header_text = "\n".join(self.text[h.start:h.end] for h in header)
        if not rows:
            rows, header_text = header, ""
        budget = max(self.cfg.max_chars - len(header_text) - len(caption), self.cfg.max_chars // 3)
        wide = sum(r.end - r.start for r in rows) / len(rows) > self.cfg.max_chars / 4
        groups: list[list[_Span]] = []
        for r in rows:
            if groups and not wide and r.end - groups[-1][0].start <= budget:
                groups[-1].append(r)
            else:
                groups.append([r])
        for g in groups:
            first = _clean_heading(_cells(self.text[g[0].start:g[0].end])[0])
            last = _clean_heading(_cells(self.text[g[-1].start:g[-1].end])[0])
            if len(first) > 16 or len(last) > 16:  # not a label column: use row numbers
                first, last = f"{rows.index(g[0]) + 1}行目", f"{rows.index(g[-1]) + 1}行目"
            label = first if len(g) == 1 else f"{first}〜{last}"
            page = self.page_of(g[0].start)
            loc = self.locator(path, page, f"表 ({label})" if label else "表")
            extra: dict[str, Any] = {"table": True, "rows": len(g)}
            if caption:
                extra["caption"] = caption
            self.emit(path, page, _Span(g[0].start, g[-1].end), loc, header_text, extra, caption)

    def run(self) -> list[Chunk]:
        text = self.text
        lines = _lines(text)
        path: list[tuple[int, str]] = []  # (level, heading)
        sec = _Section((), self.page_of(0))
        i = 0
        while i < len(lines):
            ln = lines[i]
            s = text[ln.start:ln.end]
            page = self.page_of(ln.start)
            m = _HEADING_RE.match(s)
            if m:
                self.flush_section(sec)
                level, title = len(m.group(1)), _clean_heading(m.group(2))
                while path and path[-1][0] >= level:
                    path.pop()
                if title and title != self.title_key:
                    path.append((level, title))
                sec = _Section(tuple(h for _, h in path), page)
                i += 1
                continue
            cur_path = tuple(h for _, h in path)
            table = self._table_at(lines, i)
            if table is not None:
                n_header, end = table
                self.flush_section(sec)
                header = lines[i:i + n_header]
                rows = [r for r in lines[i + n_header:end] if text[r.start:r.end].strip()]
                self.flush_table(cur_path, header, rows, self._caption(lines, i))
                sec = _Section(cur_path, page)
                i = end
                continue
            if page != sec.page:
                self.flush_section(sec)
                sec = _Section(cur_path, page)
            sec.units.extend(_sentence_units(text, ln, self.cfg.max_chars))
            i += 1
        self.flush_section(sec)
        return self.chunks

    def _caption(self, lines: list[_Span], i: int, max_len: int = 60) -> str:
        """A short text line right above line ``i`` (blank lines allowed between), else ''."""
        j = i - 1
        while j >= 0 and not self.text[lines[j].start:lines[j].end].strip():
            j -= 1
        if j < 0:
            return ""
        s = self.text[lines[j].start:lines[j].end].strip()
        if not s or len(s) > max_len or _HEADING_RE.match(s) or s.startswith("|") or "\t" in s:
            return ""
        return s

    def _table_at(self, lines: list[_Span], i: int) -> tuple[int, int] | None:
        """(header line count, end index) if a table starts at line ``i``."""
        text = self.text

        def line(j: int) -> str:
            return text[lines[j].start:lines[j].end] if j < len(lines) else ""

        s = line(i)
        if s.lstrip().startswith("|") and _MD_SEP_RE.match(line(i + 1)):
            j = i + 2
            while j < len(lines) and line(j).lstrip().startswith("|"):
                j += 1
            return 2, j
        if "\t" in s and "\t" in line(i + 1) and s.strip():
            j = i
            while j < len(lines) and "\t" in line(j) and line(j).strip():
                j += 1
            first_cell = _cells(s)[0]
            return (0 if first_cell.isdigit() else 1), j
        return None


def chunk_document(doc: Document, cfg: ChunkConfig | None = None) -> list[Chunk]:
    """Chunks of one document, in document order."""
    return _Chunker(doc, cfg or ChunkConfig()).run()


def chunk_documents(docs: list[Document], cfg: ChunkConfig | None = None) -> list[Chunk]:
    out: list[Chunk] = []
    for d in docs:
        out.extend(chunk_document(d, cfg))
    return out
