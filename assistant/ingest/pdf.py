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


def _inside(obj: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return bbox[0] <= cx <= bbox[2] and bbox[1] <= cy <= bbox[3]


def _heading_levels(sizes: Counter[float], body: float) -> dict[float, int]:
    """Font sizes clearly above the body size → heading levels 1.. (largest first, at most 4)."""
    bigger = sorted((s for s in sizes if s > body * 1.15), reverse=True)[:4]
    return {s: i + 1 for i, s in enumerate(bigger)}


def _plumber_pages(path: Path) -> list[str]:
    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # "Could not get FontBBox" per glyph
    with pdfplumber.open(str(path)) as pdf:
        pages: list[tuple[list[_Line], list[tuple[float, list[str]]]]] = []
        sizes: Counter[float] = Counter()
        for page in pdf.pages:
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]
            body = page.filter(lambda o, b=boxes: o.get("object_type") != "char" or not any(_inside(o, x) for x in b))
            lines = []
            for ln in body.extract_text_lines(return_chars=True):
                size = round(Counter(round(c["size"], 1) for c in ln["chars"]).most_common(1)[0][0], 1)
                sizes[size] += len(ln["chars"])
                lines.append(_Line(ln["top"], ln["x0"], ln["x1"], size, ln["text"]))
            pages.append((lines, [(t.bbox[1], table_rows(t.extract())) for t in tables]))
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    levels = _heading_levels(sizes, body_size)
    return [_plumber_page_text(lines, tables, levels) for lines, tables in pages]


def _plumber_page_text(lines: list[_Line], tables: list[tuple[float, list[str]]], levels: dict[float, int]) -> str:
    right = max((ln.x1 for ln in lines if ln.size not in levels), default=0.0)
    items: list[tuple[float, _Line | list[str]]] = [(ln.top, ln) for ln in lines]
    items += [(top, rows) for top, rows in tables]
    items.sort(key=lambda it: it[0])
    out: list[str] = []
    prev: _Line | None = None
    for _, item in items:
        if isinstance(item, list):  # a table: a block of its own
            out += ["", *item, ""]
            prev = None
            continue
        text = item.text.strip()
        if item.size in levels:
            out += ["", f"{'#' * levels[item.size]} {text}", ""]
            prev = None
            continue
        # a wrap: the previous line of the same size ran to the right edge and ends no sentence
        full = prev is not None and prev.x1 >= right - 2 * max(prev.size, 1.0)
        if prev is not None and out and full and abs(prev.size - item.size) < 0.5 and joinable(out[-1], text):
            out[-1] = _glue(out[-1], text)
        else:
            if prev is None or abs(prev.size - item.size) >= 0.5:
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
