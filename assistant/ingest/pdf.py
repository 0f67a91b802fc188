"""Japanese PDF text that keeps structure: headings, joined lines, tables with headers, pages.

The extractor was chosen by measurement (eval/BENCHMARKS.md, "Japanese PDF ingestion"; the deck
printed to PDF by Chromium with Noto Sans CJK): ``pdfplumber`` (the default) gives characters with
positions and sizes and finds ruled tables, so headings become ``#`` lines, wrapped lines are
joined and tables become Markdown rows under their header row (what the chunker and the
extractive answerer expect). ``pypdfium2`` and ``pypdf`` are kept as plain-text extractors
(``ASSISTANT_PDF_EXTRACTOR=pdfium|pypdf``, for the benchmark) with the same folding and line
joining but no tables or headings.

Every extractor's text goes through :func:`fold_radicals` (``assistant/data/cjk_radicals.tsv``:
Kangxi radicals and CJK radicals supplement → unified ideographs, e.g. ⻑ → 長; NFKC alone misses
the supplement). The returned text is the loader's text: citations quote it and the verifier reads
it, so nothing here may depend on anything but the file. ``meta['pages']`` = [[offset, page]].
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

RADICALS_TSV = Path(__file__).resolve().parent.parent / "data" / "cjk_radicals.tsv"
EXTRACTORS = ("pdfplumber", "pdfium", "pypdf")
DEFAULT_EXTRACTOR = "pdfplumber"

#: A line ending one of these ends a sentence (or a label) and is never joined to the next.
_SENTENCE_END = tuple("。．.！!？?：:」』）)】")
#: A line starting with one of these starts a list item, a note or a heading.
_ITEM_START = re.compile(r"^(?:[-•・●○◆◇■□▶►※*＊#]|[①-⑳]|\(?[0-9０-９]{1,2}[.．)）]\s|[(（][0-9０-９]{1,2}[)）]"
                         r"|第[0-9０-９一二三四五六七八九十]+[章節条])")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


@lru_cache(maxsize=1)
def radical_map() -> dict[int, str]:
    """``str.translate`` table from ``cjk_radicals.tsv`` (radical → ideograph)."""
    table: dict[int, str] = {}
    for line in RADICALS_TSV.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        src, dst = line.split("\t")[:2]
        table[ord(src)] = dst
    return table


def fold_radicals(text: str) -> str:
    """Radicals (and the look-alike punctuation in the table) replaced by the ideographs meant."""
    return text.translate(radical_map())


def radical_count(text: str) -> int:
    """Characters left in the Kangxi / radicals-supplement blocks (the benchmark's figure)."""
    return sum(1 for c in text if 0x2E80 <= ord(c) <= 0x2FDF)


def _glue(a: str, b: str) -> str:
    """Join two pieces of one sentence: a space only between two Latin words/numbers."""
    if a and b and _ASCII_WORD.match(a[-1]) and _ASCII_WORD.match(b[0]):
        return f"{a} {b}"
    return a + b


def joinable(prev: str, nxt: str) -> bool:
    """``nxt`` continues ``prev`` (a line wrap) unless ``prev`` ends a sentence or ``nxt`` starts
    an item, a note, a heading or a table row."""
    p, n = prev.rstrip(), nxt.lstrip()
    if not p or not n or p.startswith(("#", "|")) or n.startswith("|"):
        return False
    return not p.endswith(_SENTENCE_END) and not _ITEM_START.match(n)


def join_lines(lines: list[str]) -> list[str]:
    """Lines with wraps inside sentences joined (text-only rule; no geometry)."""
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            out.append("")
        elif out and out[-1] and joinable(out[-1], line):
            out[-1] = _glue(out[-1], line)
        else:
            out.append(line)
    return out


def _cell_text(cell: str | None) -> str:
    lines = [s.strip() for s in (cell or "").splitlines() if s.strip()]
    text = ""
    for s in lines:
        text = _glue(text, s)
    return text.replace("|", "｜")


def table_rows(rows: list[list[str | None]]) -> list[str]:
    """Markdown rows ``| a | b |`` with the first row as the header and a ``|---|`` rule."""
    cells = [[_cell_text(c) for c in r] for r in rows]
    cells = [r for r in cells if any(r)]
    if not cells:
        return []
    width = max(len(r) for r in cells)
    cells = [r + [""] * (width - len(r)) for r in cells]
    out = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * width]
    return out + ["| " + " | ".join(r) + " |" for r in cells[1:]]


# ---------------------------------------------------------------- extractors -> list of page texts


@dataclass
class _Line:
    top: float
    x0: float
    x1: float
    size: float
    text: str
    bottom: float = 0.0
    right: float = 0.0  # right edge of the column the line is in (set by :func:`reading_order`)


@dataclass
class _Table:
    top: float
    x0: float
    x1: float
    bottom: float
    rows: list[str]


def _inside(obj: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return bbox[0] <= cx <= bbox[2] and bbox[1] <= cy <= bbox[3]


def _heading_levels(sizes: Counter[float], body: float) -> dict[float, int]:
    """Font sizes clearly above the body size → heading levels 1.. (largest first, at most 4)."""
    bigger = sorted((s for s in sizes if s > body * 1.15), reverse=True)[:4]
    return {s: i + 1 for i, s in enumerate(bigger)}


def _wide(ch: str) -> bool:
    """A CJK character or full-width punctuation (no word spaces next to it in Japanese)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _segments(chars: list[dict[str, Any]], x_tolerance: float = 3.0) -> list[_Line]:
    """One text line of the page split where a gap wider than 1.5 characters separates two
    boxes (columns side by side). Space glyphs are kept; a gap without one becomes a space only
    between two Latin characters: the gap LibreOffice leaves between Japanese and Latin text
    (autospacing, 令和6年) is no space."""
    chars = sorted((c for c in chars if c["text"]), key=lambda c: c["x0"])
    out: list[_Line] = []
    cur: list[dict[str, Any]] = []
    for c in chars:
        if cur and c["x0"] - cur[-1]["x1"] > 1.5 * max(c["size"], cur[-1]["size"], 1.0):
            out.append(_segment_line(cur, x_tolerance))
            cur = []
        cur.append(c)
    if cur:
        out.append(_segment_line(cur, x_tolerance))
    return [ln for ln in out if ln.text]


def _segment_line(chars: list[dict[str, Any]], x_tolerance: float) -> _Line:
    text = ""
    prev: dict[str, Any] | None = None
    for c in chars:
        t = c["text"]
        if t.isspace():
            text += " " if text and not text.endswith(" ") else ""
            continue
        if prev is not None and not text.endswith(" ") and c["x0"] - prev["x1"] > x_tolerance:
            if not (_wide(prev["text"][-1]) or _wide(t[0])):
                text += " "
        text += t
        prev = c
    size = round(Counter(round(c["size"], 1) for c in chars).most_common(1)[0][0], 1)
    return _Line(min(c["top"] for c in chars), chars[0]["x0"], max(c["x1"] for c in chars), size,
                 text.strip(), max(c["bottom"] for c in chars))


_Block = _Line | _Table


def reading_order(blocks: list[_Block], right: float | None = None) -> list[_Block]:
    """Blocks (lines, tables) in reading order by position, whatever order the PDF wrote them in
    (recursive XY cut): a region with an empty vertical band (a gutter wider than two body
    characters) running through it is read column by column, left to right; otherwise it is cut
    at its widest horizontal gap and read top to bottom. Each line's ``right`` is set to the right
    edge of its column (where wrapped lines end)."""
    if right is None:
        right = max((b.x1 for b in blocks), default=0.0)
    if len(blocks) <= 1:
        for b in blocks:
            if isinstance(b, _Line):
                b.right = right
        return blocks
    sizes = sorted(b.size for b in blocks if isinstance(b, _Line)) or [10.0]
    gutter = 2 * sizes[len(sizes) // 2]
    columns = _split(blocks, lambda b: (b.x0, b.x1), gutter)
    if len(columns) > 1:
        return [b for col in columns for b in reading_order(col, max(x.x1 for x in col))]
    rows = _split(blocks, lambda b: (b.top, b.bottom), 0.0, widest=True)
    if len(rows) > 1:
        return [b for row in rows for b in reading_order(row, right)]
    for b in blocks:  # overlapping boxes: top to bottom, then left to right
        if isinstance(b, _Line):
            b.right = right
    return sorted(blocks, key=lambda b: (round(b.top), b.x0))


def _split(blocks: list[_Block], span: Callable[[_Block], tuple[float, float]], min_gap: float,
           widest: bool = False) -> list[list[_Block]]:
    """Blocks grouped by the empty bands of their projection on one axis (gaps > ``min_gap``);
    ``widest``: cut only at the widest gap."""
    order = sorted(blocks, key=lambda b: span(b)[0])
    groups: list[list[_Block]] = [[order[0]]]
    gaps: list[float] = []
    end = span(order[0])[1]
    for b in order[1:]:
        lo, hi = span(b)
        if lo - end > min_gap:
            gaps.append(lo - end)
            groups.append([])
        groups[-1].append(b)
        end = max(end, hi)
    if widest and len(groups) > 2:
        cut = gaps.index(max(gaps)) + 1
        return [[b for g in groups[:cut] for b in g], [b for g in groups[cut:] for b in g]]
    return groups


def _plumber_pages(path: Path) -> list[str]:
    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # "Could not get FontBBox" per glyph
    with pdfplumber.open(str(path)) as pdf:
        pages: list[list[_Block]] = []
        sizes: Counter[float] = Counter()
        for page in pdf.pages:
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]
            body = page.filter(lambda o, b=boxes: o.get("object_type") != "char" or not any(_inside(o, x) for x in b))
            blocks: list[_Block] = []
            for ln in body.extract_text_lines(return_chars=True, keep_blank_chars=True):
                for seg in _segments(ln["chars"]):
                    sizes[seg.size] += len(seg.text)
                    blocks.append(seg)
            blocks += [_Table(t.bbox[1], t.bbox[0], t.bbox[2], t.bbox[3], table_rows(_table_cells(page, t)))
                       for t in tables]
            pages.append(blocks)
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    levels = _heading_levels(sizes, body_size)
    return [_plumber_page_text(blocks, levels) for blocks in pages]


def _table_cells(page: Any, table: Any) -> list[list[str | None]]:
    """The table's cells, each cell's text built as body lines are (:func:`_segment_line`)."""
    rows: list[list[str | None]] = []
    for row in table.rows:
        cells: list[str | None] = []
        for bbox in row.cells:
            if bbox is None:
                cells.append(None)
                continue
            crop = page.filter(lambda o, b=bbox: o.get("object_type") == "char" and _inside(o, b))
            cells.append("\n".join(_segment_line(ln["chars"], 3.0).text
                                   for ln in crop.extract_text_lines(return_chars=True, keep_blank_chars=True) if ln["chars"]))
        rows.append(cells)
    return rows


def _plumber_page_text(blocks: list[_Block], levels: dict[float, int]) -> str:
    body = [b for b in blocks if not isinstance(b, _Line) or b.size not in levels]
    out: list[str] = []
    prev: _Line | None = None
    for item in reading_order(blocks, max((b.x1 for b in body), default=0.0)):
        if isinstance(item, _Table):  # a table: a block of its own
            out += ["", *item.rows, ""]
            prev = None
            continue
        text = item.text.strip()
        if item.size in levels:
            out += ["", f"{'#' * levels[item.size]} {text}", ""]
            prev = None
            continue
        # a wrap: the previous line of the same size and column ran to the column's right edge
        full = prev is not None and prev.right == item.right and prev.x1 >= prev.right - 2 * max(prev.size, 1.0)
        if prev is not None and out and full and abs(prev.size - item.size) < 0.5 and joinable(out[-1], text):
            out[-1] = _glue(out[-1], text)
        else:
            if prev is None or abs(prev.size - item.size) >= 0.5 or prev.right != item.right:
                out.append("")
            out.append(text)
        prev = item
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


def _pdfium_pages(path: Path) -> list[str]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return ["\n".join(join_lines(p.get_textpage().get_text_range().replace("\r\n", "\n").split("\n")))
                for p in pdf]
    finally:
        pdf.close()


def _pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValueError("encrypted PDF")
    return ["\n".join(join_lines((p.extract_text() or "").split("\n"))) for p in reader.pages]


PAGE_EXTRACTORS: dict[str, Callable[[Path], list[str]]] = {
    "pdfplumber": _plumber_pages, "pdfium": _pdfium_pages, "pypdf": _pypdf_pages,
}


def extractor_name() -> str:
    name = os.environ.get("ASSISTANT_PDF_EXTRACTOR", DEFAULT_EXTRACTOR).strip().lower() or DEFAULT_EXTRACTOR
    if name not in PAGE_EXTRACTORS:
        raise ValueError(f"ASSISTANT_PDF_EXTRACTOR={name!r}: choose one of {', '.join(EXTRACTORS)}")
    return name


def pdf_text(path: Path, extractor: str | None = None) -> tuple[str, list[list[int]], dict[str, Any]]:
    """(text, pages [[offset, page number]], meta) of a PDF; text folded, pages joined by a blank line."""
    name = extractor or extractor_name()
    texts = [fold_radicals(t).strip("\n") for t in PAGE_EXTRACTORS[name](path)]
    pages: list[list[int]] = []
    pos = 0
    for n, t in enumerate(texts, start=1):
        pages.append([pos, n])
        pos += len(t) + 2
    meta: dict[str, Any] = {"format": "pdf", "pages": pages, "page_count": len(pages), "extractor": name}
    empty = [n for n, t in enumerate(texts, start=1) if not t.strip()]
    if empty:
        meta["pages_without_text"] = empty
    return "\n\n".join(texts), pages, meta


def pdf_title(path: Path) -> str:
    try:
        from pypdf import PdfReader

        md = PdfReader(str(path)).metadata
        return fold_radicals(str(md.title or "")).strip() if md else ""
    except Exception:  # the title is optional
        return ""
