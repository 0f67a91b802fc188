"""The source viewer: a citation opened at the cited place, the quote highlighted.

* Markdown and HTML documents (HTML through the loader's Markdown-like text): the section that
  holds the quote (from the heading above it to the next heading), rendered by markdown-it-py with
  raw HTML and images off, the quote wrapped in ``<mark class="viewer-quote">`` text node by text
  node (so a quoted table row is marked cell by cell and the markup stays well nested).
* PDF: the cited page (``p.N`` in the locator, else the page whose ``meta['pages']`` offsets hold
  the quote) rendered by pypdfium2, with a box drawn over the quote from pdfium's character
  boxes, and the loader's text of that page beside it (Markdown-like: headings, table rows),
  rendered the same way with the quote marked.
* Plain text: the text around the quote, marked.

Every text shown is escaped; no repository path is shown (the file name only names the download).
:func:`open_citation` is pure apart from reading the file; :class:`SourceViewer` adds a cache,
the resolution of a citation's ``source`` to a file and the copy offered for download.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.source_files import SourceFolder
from assistant.types import Citation, Document
from assistant.ui.render import SourceLabel, normalized_map, place_label

if TYPE_CHECKING:
    from PIL.Image import Image

#: Formats rendered as Markdown (the HTML loader writes headings as ``#`` lines and tables as pipes).
MARKDOWN_FORMATS = {"md", "html"}
PDF_SCALE = 1.6  # 595 pt wide A4 → 952 px: sharp on a laptop, readable when zoomed on a phone
MAX_TEXT_WINDOW = 1500  # characters either side of a quote in a plain-text document

MSG_NOT_FOUND = "資料ファイルが見つからないため、表示できません。"
MSG_UNREADABLE = "資料ファイルを読み込めなかったため、表示できません。"
MSG_QUOTE_NOT_LOCATED = "本文中で引用箇所を特定できませんでした。引用は次のとおりです。"
MSG_NO_TEXT_LAYER = "このページからは文字を読み取れませんでした。"

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_PAGE = re.compile(r"(?:^|>)\s*p\.\s*(\d+)\s*(?:>|$)")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_LINE_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
#: Characters Markdown may turn into markup or drop: ignored on both sides when a quote is matched
#: against the rendered text (together with all white space).
_IGNORED = set("*_`|\\#>")
_SENTINEL = "\ue000"  # marks, in the Markdown source, where the cited occurrence begins
_TAG = re.compile(r"(<[^>]*>)")
_RADICAL_SUPPLEMENT = re.compile("[\u2e80-\u2eff]")  # not folded by NFKC: matched as any ideograph


@dataclass(frozen=True)
class ViewerContent:
    """What the viewer shows for one citation. ``html`` is escaped markup (the section or the
    page's text, quote marked); ``image`` the PDF page with the quote boxed; ``download`` the
    original file; ``found`` whether the quote was located; ``notice`` a message for the reader."""

    title: str
    date: str
    publisher: str
    place: str
    html: str
    quote: str
    image: Image | None = None
    page: int | None = None
    download: Path | None = None
    found: bool = False
    notice: str = ""


# -- document metadata ----------------------------------------------------------------------------
def format_date(value: Any) -> str:
    """「2023-03-15」 → 「2023年3月15日」, 「2024-03」 → 「2024年3月」; other text as it is."""
    text = str(value or "").strip()
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?", text)
    if not m:
        return text
    y, mo, d = m.group(1), int(m.group(2)), m.group(3)
    return f"{y}年{mo}月{int(d)}日" if d else f"{y}年{mo}月"


def source_label(doc: Document | None, citation_title: str = "") -> SourceLabel:
    """Title, date and publisher (front matter ``publisher``, else ``author``) of a document."""
    if doc is None:
        return SourceLabel(citation_title or "資料")
    meta = doc.meta
    publisher = str(meta.get("publisher") or meta.get("author") or "").strip()
    return SourceLabel(str(meta.get("title") or doc.title or citation_title or "資料").strip(),
                       format_date(meta.get("date")), publisher)


# -- locating a quote -----------------------------------------------------------------------------
def locate(text: str, quote: str, prefer: Callable[[int], bool] | None = None) -> tuple[int, int] | None:
    """Where ``quote`` (compared after NFKC) occurs in ``text``, as (start, end) of ``text``:
    the first occurrence ``prefer`` accepts (given its start), else the first one."""
    needle = unicodedata.normalize("NFKC", quote).strip()
    if not needle:
        return None
    norm, origin, _ = normalized_map(text)
    found: list[tuple[int, int]] = []
    pos = norm.find(needle)
    while pos >= 0:
        found.append((origin[pos], origin[pos + len(needle) - 1] + 1))
        pos = norm.find(needle, pos + 1)
    if not found:
        return None
    return next((f for f in found if prefer and prefer(f[0])), found[0])


def page_number(locator: str) -> int | None:
    """The page of a locator ``概要 > p.12 > 表`` (None without one)."""
    m = _PAGE.search(locator or "")
    return int(m.group(1)) if m else None


def _page_ranges(doc: Document) -> list[tuple[int, int, int]]:
    """(page number, start, end) offsets of each page of a PDF document's text."""
    pages = [(int(p[1]), int(p[0])) for p in doc.meta.get("pages") or [] if len(p) >= 2]
    pages.sort(key=lambda p: p[1])
    return [(n, start, pages[i + 1][1] if i + 1 < len(pages) else len(doc.text))
            for i, (n, start) in enumerate(pages)]


# -- Markdown sections ----------------------------------------------------------------------------
def section_bounds(text: str, start: int, end: int) -> tuple[int, int, list[str]]:
    """The section of ``text`` holding ``text[start:end]``: from the heading above it to the next
    heading after it, with the heading path down to that section."""
    heads = [(m.start(), len(m.group(1)), m.group(2).strip()) for m in _HEADING.finditer(text)]
    above = [h for h in heads if h[0] <= start]
    s = above[-1][0] if above else 0
    e = next((h[0] for h in heads if h[0] >= max(end, s + 1)), len(text))
    path: list[tuple[int, str]] = []
    for _, level, title in above:
        path = [p for p in path if p[0] < level] + [(level, title)]
    return s, e, [t for _, t in path]


def _markdown() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    md.disable("image")  # a document must not make the browser fetch anything
    return md


def _content_start(source: str, start: int, end: int) -> int:
    """The first character of ``source[start:end]`` that is text, not Markdown syntax or space."""
    i = start
    while i < end and (source[i].isspace() or source[i] in _IGNORED or source[i] in "-+"):
        i += 1
    return i if i < end else start


def _quote_key(quote: str) -> str:
    """The characters of a quote that rendered Markdown shows (no syntax, no white space)."""
    lines = []
    for line in unicodedata.normalize("NFKC", quote).splitlines():
        if _TABLE_RULE.match(line.strip()):
            continue
        lines.append(_LINE_MARKER.sub("", line))
    return "".join(ch for ch in "".join(lines) if not ch.isspace() and ch not in _IGNORED)


def _stream(nodes: Sequence[str]) -> tuple[str, list[tuple[int, int]], int | None]:
    """The shown characters of the text nodes (NFKC, without white space and ignored characters),
    each with (node index, offset in the node); and where the sentinel was, if anywhere."""
    chars: list[str] = []
    where: list[tuple[int, int]] = []
    sentinel = None
    for n, node in enumerate(nodes):
        for j, ch in enumerate(node):
            if ch == _SENTINEL:
                sentinel = len(chars) if sentinel is None else sentinel
                continue
            for c in unicodedata.normalize("NFKC", ch):
                if not c.isspace() and c not in _IGNORED:
                    chars.append(c)
                    where.append((n, j))
    return "".join(chars), where, sentinel


def mark_rendered(rendered: str, quote: str) -> tuple[str, bool]:
    """``rendered`` (escaped HTML) with the quote wrapped in ``<mark class="viewer-quote">`` in
    each text node it covers; the occurrence at the sentinel character is preferred. The sentinel
    is removed. Returns (html, whether the quote was found)."""
    parts = _TAG.split(rendered)
    texts = {i: html.unescape(p) for i, p in enumerate(parts) if i % 2 == 0}
    order = sorted(texts)
    shown, where, sentinel = _stream([texts[i] for i in order])
    key = _quote_key(quote)
    pos = -1
    if key:
        if sentinel is not None and shown.startswith(key, sentinel):
            pos = sentinel
        else:
            pos = shown.find(key)
    spans: dict[int, list[int]] = {}
    if pos >= 0:
        for n, j in where[pos:pos + len(key)]:
            span = spans.setdefault(n, [j, j + 1])
            span[0], span[1] = min(span[0], j), max(span[1], j + 1)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
            continue
        node = texts[i]
        n = order.index(i)
        if n in spans:
            a, b = spans[n]
            out.append(f'{_esc(node[:a])}<mark class="viewer-quote">{_esc(node[a:b])}</mark>{_esc(node[b:])}')
        else:
            out.append(_esc(node))
    return "".join(out), pos >= 0


def _esc(text: str) -> str:
    return html.escape(text.replace(_SENTINEL, ""), quote=False)


def render_section(text: str, citation: Citation) -> tuple[str, str, bool]:
    """(section HTML with the quote marked, heading path, found) of a Markdown(-like) text."""
    locator = citation.locator or ""
    heads = [h.strip() for h in locator.split(">")]

    def in_cited_section(offset: int) -> bool:
        return all(h in heads for h in section_bounds(text, offset, offset)[2][-1:])

    span = locate(text, citation.quote, in_cited_section) if citation.quote else None
    if span is None:
        start, end, path = _named_section(text, heads)
        body = _markdown().render(text[start:end])
        return _wrap_tables(body), " > ".join(path), False
    start, end, path = section_bounds(text, *span)
    body, found = render_marked(text[start:end], (span[0] - start, span[1] - start), citation.quote)
    return body, " > ".join(path), found


def render_marked(text: str, span: tuple[int, int] | None, quote: str) -> tuple[str, bool]:
    """Markdown(-like) ``text`` rendered, the quote (at ``span`` of ``text`` when known) marked."""
    source = text
    if span is not None:
        at = _content_start(text, *span)
        source = text[:at] + _SENTINEL + text[at:]
    body, found = mark_rendered(_markdown().render(source), quote) if quote else (_markdown().render(text), False)
    return _wrap_tables(body), found


def _named_section(text: str, heads: Sequence[str]) -> tuple[int, int, list[str]]:
    """The section whose heading is the deepest heading the locator names (the text's start else)."""
    for m in _HEADING.finditer(text):
        if m.group(2).strip() in heads[-3:]:
            return section_bounds(text, m.start(), m.start())
    first = _HEADING.search(text, 1)
    return 0, first.start() if first else len(text), []


def _wrap_tables(body: str) -> str:
    """Tables scroll sideways inside their own box (a phone screen is narrower than most tables);
    links (markdown-it keeps only safe schemes) open in a new tab, without a referrer."""
    body = body.replace("<table>", '<div class="viewer-table"><table>').replace("</table>", "</table></div>")
    return body.replace("<a href=", '<a target="_blank" rel="noopener noreferrer" href=')


# -- plain text -----------------------------------------------------------------------------------
def marked_text(text: str, span: tuple[int, int] | None) -> str:
    """``text`` escaped for a ``white-space: pre-wrap`` block, ``span`` in ``<mark>``."""
    if span is None:
        return html.escape(text, quote=False)
    a, b = span
    return (f'{html.escape(text[:a], quote=False)}<mark class="viewer-quote">'
            f'{html.escape(text[a:b], quote=False)}</mark>{html.escape(text[b:], quote=False)}')


def _text_window(text: str, span: tuple[int, int] | None) -> tuple[str, tuple[int, int] | None]:
    if span is None:
        return text[:2 * MAX_TEXT_WINDOW], None
    start = max(0, text.rfind("\n\n", 0, max(0, span[0] - MAX_TEXT_WINDOW)) + 1)
    end = text.find("\n\n", span[1] + MAX_TEXT_WINDOW)
    end = len(text) if end < 0 else end
    return text[start:end], (span[0] - start, span[1] - start)


# -- PDF pages ------------------------------------------------------------------------------------
def _pdf_key_pattern(quote: str) -> re.Pattern[str] | None:
    """A pattern for the quote in pdfium's page text: white space ignored, a CJK radical-supplement
    character (which NFKC leaves as it is) standing for any ideograph."""
    chars = [c for c in unicodedata.normalize("NFKC", quote) if not c.isspace()]
    if not chars:
        return None
    return re.compile("".join("." if _RADICAL_SUPPLEMENT.match(c) else re.escape(c) for c in chars))


def quote_boxes(page: Any, quote: str) -> list[tuple[float, float, float, float]]:
    """Rectangles (left, top, right, bottom, in PDF units from the top-left corner) covering the
    quote on a pypdfium2 page, one per line; empty when pdfium's text does not hold it."""
    pattern = _pdf_key_pattern(quote)
    if pattern is None:
        return []
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        raw = textpage.get_text_range(0, count)
        if len(raw) != count:  # not one string character per pdfium character: read them one by one
            raw = "".join((textpage.get_text_range(i, 1) or " ")[:1] for i in range(count))
        chars, index = [], []
        for i, ch in enumerate(raw):
            for c in unicodedata.normalize("NFKC", ch):
                if not c.isspace():
                    chars.append("\u4e00" if _RADICAL_SUPPLEMENT.match(c) else c)
                    index.append(i)
        m = pattern.search("".join(chars))
        if not m:
            return []
        height = page.get_height()
        lines: list[list[float]] = []
        for i in sorted({index[k] for k in range(m.start(), m.end())}):
            left, bottom, right, top = textpage.get_charbox(i)
            if right <= left or top <= bottom:
                continue
            box = [left, height - top, right, height - bottom]
            last = lines[-1] if lines else None
            if last and min(last[3], box[3]) - max(last[1], box[1]) > 0.5 * (box[3] - box[1]) and box[0] >= last[0]:
                last[1], last[2], last[3] = min(last[1], box[1]), max(last[2], box[2]), max(last[3], box[3])
            else:
                lines.append(box)
        return [(a, b, c, d) for a, b, c, d in lines]
    finally:
        textpage.close()


def render_pdf_page(path: Path, page: int, quote: str, scale: float = PDF_SCALE) -> tuple[Image, bool]:
    """The image of ``page`` (1-based) of a PDF, the quote boxed; (image, whether it was boxed)."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    pdf = pdfium.PdfDocument(str(path))
    try:
        p = pdf[max(0, min(page, len(pdf)) - 1)]
        image = p.render(scale=scale).to_pil().convert("RGB")
        boxes = quote_boxes(p, quote) if quote else []
        p.close()
    finally:
        pdf.close()
    if boxes:
        from PIL import Image as PilImage

        layer = PilImage.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        pad = 2 * scale
        for left, top, right, bottom in boxes:
            draw.rectangle([left * scale - pad, top * scale - pad, right * scale + pad, bottom * scale + pad],
                           fill=(255, 214, 0, 90), outline=(214, 120, 0, 255), width=max(2, round(scale * 1.5)))
        image = PilImage.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    return image, bool(boxes)


def _pdf_content(path: Path, doc: Document, citation: Citation) -> tuple[str, Image | None, int | None, bool, str]:
    """(page text HTML, page image, page number, found, notice) of a cited PDF page."""
    pages = _page_ranges(doc)
    wanted = page_number(citation.locator)

    def on_wanted(offset: int) -> bool:
        return any(n == wanted and s <= offset < e for n, s, e in pages)

    span = locate(doc.text, citation.quote, on_wanted if wanted else None) if citation.quote else None
    page = wanted
    if page is None and span is not None:
        page = next((n for n, s, e in pages if s <= span[0] < e), None)
    page = page or 1
    start, end = next(((s, e) for n, s, e in pages if n == page), (0, len(doc.text)))
    text = doc.text[start:end].strip("\n")
    shift = len(doc.text[start:end]) - len(doc.text[start:end].lstrip("\n"))
    local = None
    if span is not None and span[0] < end and span[1] > start:
        local = (max(span[0], start) - start - shift, min(span[1], end) - start - shift)
    try:
        image, boxed = render_pdf_page(path, page, citation.quote)
    except Exception:  # a page pdfium cannot draw: the text is still shown
        image, boxed = None, False
    notice = "" if text.strip() else MSG_NO_TEXT_LAYER
    body, marked = render_marked(text, local, citation.quote) if local is not None else render_marked(text, None, "")
    return body, image, page, marked or boxed, notice


# -- a citation opened ----------------------------------------------------------------------------
def open_citation(citation: Citation, path: Path | None, doc: Document | None) -> ViewerContent:
    """What the viewer shows for ``citation``, read from ``path`` (loaded as ``doc``)."""
    label = source_label(doc, citation.title)
    quote = citation.quote or ""
    place = place_label(citation.locator)
    common = {"title": label.title, "date": label.date, "publisher": label.publisher, "quote": quote}
    if path is None or doc is None:
        notice = MSG_NOT_FOUND if path is None else MSG_UNREADABLE
        return ViewerContent(**common, place=place, html="", download=path, notice=notice)
    fmt = str(doc.meta.get("format") or path.suffix.lstrip(".")).lower()
    if fmt == "pdf":
        body, image, page, found, notice = _pdf_content(path, doc, citation)
        if page is not None and page_number(citation.locator) is None:
            place = place_label(" > ".join(x for x in (f"p.{page}", citation.locator) if x))
        return ViewerContent(**common, place=place, html=body, image=image, page=page, download=path,
                             found=found, notice=notice)
    if fmt in MARKDOWN_FORMATS:
        body, heading, found = render_section(doc.text, citation)
        return ViewerContent(**common, place=place or place_label(heading), html=body, download=path,
                             found=found, notice="" if found or not quote else MSG_QUOTE_NOT_LOCATED)
    window, span = _text_window(doc.text, locate(doc.text, quote) if quote else None)
    return ViewerContent(**common, place=place, html=f'<div class="viewer-plain">{marked_text(window, span)}</div>',
                         download=path, found=span is not None,
                         notice="" if span is not None or not quote else MSG_QUOTE_NOT_LOCATED)


def _image_uri(image: Image) -> str:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def viewer_html(content: ViewerContent) -> str:
    """The viewer panel: title, date and publisher, the cited place, then the section (or the page
    image beside its text), all escaped; the first ``mark.viewer-quote`` is the quote."""
    meta = "・".join(x for x in (content.date, content.publisher) if x)
    head = [f'<p class="viewer-title">{html.escape(content.title)}</p>']
    if meta:
        head.append(f'<p class="viewer-meta">{html.escape(meta)}</p>')
    if content.place:
        head.append(f'<p class="viewer-place">引用箇所: {html.escape(content.place)}</p>')
    parts = [f'<div class="viewer-head">{"".join(head)}</div>']
    if content.notice:
        parts.append(f'<p class="viewer-notice">{html.escape(content.notice)}</p>')
    if content.quote and not content.found and content.notice in (MSG_QUOTE_NOT_LOCATED, ""):
        from assistant.ui.render import readable_quote

        parts.append(f'<blockquote class="viewer-cited"><mark class="viewer-quote">'
                     f'{html.escape(readable_quote(content.quote))}</mark></blockquote>')
    if content.image is not None:
        alt = html.escape(f"{content.page}ページの画像（引用箇所を枠で囲んでいます）")
        parts.append('<div class="viewer-pdf">'
                     f'<figure class="viewer-page"><img src="{_image_uri(content.image)}" alt="{alt}"></figure>'
                     f'<div class="viewer-body" aria-label="このページの文字">{content.html}</div></div>')
    elif content.html:
        parts.append(f'<div class="viewer-body">{content.html}</div>')
    return f'<div class="viewer">{"".join(parts)}</div>'


# -- with files -----------------------------------------------------------------------------------
class SourceViewer:
    """Citations opened from files: ``resolve`` maps a citation's ``source`` to its file (None
    when it is not there), ``load`` reads it as a :class:`Document`; downloads are copies in
    ``download_dir`` (a folder the UI may serve), named as the original file."""

    def __init__(self, resolve: Callable[[str], Path | None], load: Callable[[Path], Document],
                 download_dir: Path) -> None:
        self.resolve = resolve
        self.load = load
        self.download_dir = download_dir
        self._docs: dict[tuple[str, int, int], Document | None] = {}

    @classmethod
    def for_root(cls, root: Path, download_dir: Path, folders: Sequence[SourceFolder] | None = None) -> SourceViewer:
        """Sources resolved as the answerers resolve them (the documents/records folders, then
        ``root``), read by the loaders."""
        from assistant.ingest.loaders import load_document
        from assistant.source_files import SourceTexts

        return cls(SourceTexts(root, folders=folders).resolve, lambda p: load_document(p, root), download_dir)

    def document(self, source: str) -> tuple[Path | None, Document | None]:
        path = self.resolve(source)
        if path is None:
            return None, None
        try:
            st = path.stat()
        except OSError:
            return None, None
        key = (str(path), st.st_mtime_ns, st.st_size)
        if key not in self._docs:
            try:
                self._docs[key] = self.load(path)
            except Exception:  # an unreadable file: the viewer says so
                self._docs[key] = None
        return path, self._docs[key]

    def label(self, citation: Citation) -> SourceLabel:
        return source_label(self.document(citation.source)[1], citation.title)

    def open(self, citation: Citation) -> ViewerContent:
        path, doc = self.document(citation.source)
        content = open_citation(citation, path, doc)
        return replace(content, download=self._copy(path))

    def _copy(self, path: Path | None) -> Path | None:
        """A copy of the original for the download button, in a folder of its own (same name)."""
        if path is None:
            return None
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        target = self.download_dir / digest / path.name
        try:
            st = path.stat()
            if not target.is_file() or target.stat().st_mtime_ns < st.st_mtime_ns:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        except OSError:
            return None
        return target
