"""Corpus loaders chosen by file extension: .md (YAML front matter), .txt, .pdf, .html.

Every loader returns a :class:`~assistant.types.Document` whose ``text`` is what a citation quote
must be a substring of: the file body for .md/.txt, the extracted text for .pdf/.html.
A file that cannot be read raises :class:`LoadError`; :func:`load_documents` turns that into a
named warning (file, reason) on stderr and goes on with the rest.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.source_files import SourceFolder, source_id
from assistant.types import Document

SUPPORTED = (".md", ".markdown", ".txt", ".pdf", ".html", ".htm")


class LoadError(Exception):
    """A corpus file that cannot be read (the message is the reason)."""


@dataclass(frozen=True)
class LoadWarning:
    source: str
    reason: str

    def __str__(self) -> str:
        return f"warning: skipped {self.source}: {self.reason}"


def relative_source(path: Path, root: Path, folders: Sequence[SourceFolder] | None = None) -> str:
    """The source id of ``path``: relative to the repository root (POSIX), ``documents:…`` /
    ``records:…`` in a configured folder outside it, else absolute (see
    :mod:`assistant.source_files`; ``folders`` default from the environment's settings)."""
    return source_id(path, root, folders)


def doc_id_for(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


#: Encodings ``decode_text`` falls back to, with the name a warning gives them.
LEGACY_ENCODINGS = {"cp932": "Shift_JIS (CP932)", "euc_jp": "EUC-JP"}


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM), else Shift_JIS/CP932, else EUC-JP; (text, encoding)."""
    if b"\x00" in data[:4096]:
        raise LoadError("binary file (NUL bytes), not text")
    for enc in ("utf-8-sig", "cp932", "euc_jp"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise LoadError("not UTF-8, Shift_JIS/CP932 or EUC-JP text")


_FRONT_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_H1_RE = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)


def _clean_heading(s: str) -> str:
    return re.sub(r"\*\*|__|</?[A-Za-z][A-Za-z0-9]*(?:\s[^>]*)?/?>", "", s).strip()


def _first_heading_or_line(text: str) -> str:
    m = _H1_RE.search(text)
    if m:
        return _clean_heading(m.group(1))
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:80]
    return ""


def _flat_meta(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, str | int | float | bool) or v is None:
            out[str(k)] = v
        elif isinstance(v, list | tuple) and all(isinstance(x, str | int | float) for x in v):
            out[str(k)] = list(v)
        else:
            out[str(k)] = str(v)
    return out


def load_markdown(path: Path, source: str) -> Document:
    raw, enc = decode_text(path.read_bytes())
    meta: dict[str, Any] = {"format": "md", "encoding": enc}
    body, offset = raw, 0
    m = _FRONT_RE.match(raw)
    if m:
        import yaml

        try:
            data = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError as e:
            raise LoadError(f"invalid YAML front matter ({str(e).splitlines()[0]})") from e
        if not isinstance(data, dict):
            raise LoadError("front matter is not a YAML mapping")
        meta.update(_flat_meta(data))
        body, offset = raw[m.end():], m.end()
    meta["body_offset"] = offset
    title = str(meta.get("title") or _first_heading_or_line(body) or path.stem)
    return Document(doc_id_for(source), source, title, body, meta)


def load_text(path: Path, source: str) -> Document:
    text, enc = decode_text(path.read_bytes())
    return Document(doc_id_for(source), source, _first_heading_or_line(text) or path.stem, text,
                    {"format": "txt", "encoding": enc})


def load_pdf(path: Path, source: str) -> Document:
    """Structured, radical-folded text of every page (:mod:`assistant.ingest.pdf`);
    ``meta['pages']`` = [[start offset, page number], ...]."""
    from assistant.ingest.pdf import pdf_text, pdf_title

    try:
        text, _, meta = pdf_text(path)
    except Exception as e:  # the PDF libraries raise many types on broken files
        if "encrypt" in str(e).lower() or type(e).__name__ == "FileNotDecryptedError":
            raise LoadError("encrypted PDF") from e
        raise LoadError(f"unreadable PDF ({type(e).__name__}: {e})") from e
    title = pdf_title(path) or _first_heading_or_line(text) or path.stem
    meta.update(_pdf_dates(path, text))
    return Document(doc_id_for(source), source, title, text, meta)


def _pdf_dates(path: Path, text: str) -> dict[str, str]:
    """``date`` (the cover's date, as editions date a document) and ``publisher`` (the PDF's
    author) of a PDF, where it has them: PDFs carry no front matter."""
    from assistant.editions import cover_date

    out: dict[str, str] = {}
    day, _ = cover_date(text)
    if day is not None:
        out["date"] = day.isoformat()
    try:
        from pypdf import PdfReader

        md = PdfReader(str(path)).metadata
        author = str(md.author or "").strip() if md else ""
    except Exception:  # metadata is optional
        author = ""
    if author:
        out["publisher"] = author
    return out


_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "table", "pre", "dt", "dd", "blockquote"]


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "｜").strip()


def _html_table(table: Any) -> list[str]:
    rows = [[_cell(c.get_text(" ")) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return lines


def load_html(path: Path, source: str) -> Document:
    """Headings become Markdown ``#`` lines, tables Markdown tables, list items ``- `` lines."""
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(path.read_bytes(), "html.parser")
    except Exception as e:
        raise LoadError(f"unreadable HTML ({type(e).__name__}: {e})") from e
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    root = soup.body or soup
    lines: list[str] = []
    for el in root.find_all(_BLOCKS):
        if el.find_parent(["table", "li", "pre", "blockquote", "dd"]) is not None:
            continue
        name = el.name
        if name == "table":
            lines += _html_table(el) + [""]
            continue
        text = el.get_text("\n" if name == "pre" else " ")
        text = text.strip() if name == "pre" else re.sub(r"\s+", " ", text).strip()
        if not text:
            continue
        if name[0] == "h" and name[1:].isdigit():
            lines += [f"{'#' * int(name[1:])} {text}", ""]
        elif name == "li":
            lines.append(f"- {text}")
        else:
            lines += [text, ""]
    body = "\n".join(lines).strip()
    if not body:
        body = re.sub(r"\n\s*\n+", "\n\n", root.get_text("\n")).strip()
    return Document(doc_id_for(source), source, title or _first_heading_or_line(body) or path.stem, body,
                    {"format": "html"})


LOADERS: dict[str, Callable[[Path, str], Document]] = {
    ".md": load_markdown, ".markdown": load_markdown, ".txt": load_text,
    ".pdf": load_pdf, ".html": load_html, ".htm": load_html,
}


def load_document(path: Path, root: Path, folders: Sequence[SourceFolder] | None = None) -> Document:
    """Load one file; raises :class:`LoadError` (unsupported, unreadable or empty). ``folders``:
    the configured documents/records folders its source id is taken from (default: from the
    environment's settings)."""
    source = relative_source(path, root, folders)
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}")
    try:
        doc = loader(path, source)
    except OSError as e:
        raise LoadError(f"cannot read file ({e.strerror or e})") from e
    if not doc.text.strip():
        raise LoadError("no text could be extracted")
    return doc


def corpus_files(directory: Path) -> list[Path]:
    """Every non-hidden file under ``directory`` (sorted); unsupported ones are reported at load."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
                  and p.name.lower() != "readme.md")


def warn_stderr(w: LoadWarning) -> None:
    print(str(w), file=sys.stderr, flush=True)


def load_documents(paths: Iterable[Path], root: Path,
                   warn: Callable[[LoadWarning], None] = warn_stderr,
                   folders: Sequence[SourceFolder] | None = None) -> tuple[list[Document], list[LoadWarning]]:
    """Load every path; unreadable files are skipped with a warning (also returned)."""
    docs: list[Document] = []
    warnings: list[LoadWarning] = []
    for p in paths:
        try:
            docs.append(load_document(p, root, folders))
            legacy = LEGACY_ENCODINGS.get(docs[-1].meta.get("encoding", ""))
            if legacy:  # indexed, but say so: the file may have been saved in the wrong encoding
                print(f"warning: {docs[-1].source}: decoded as {legacy}, not UTF-8", file=sys.stderr, flush=True)
        except LoadError as e:
            w = LoadWarning(relative_source(p, root, folders), str(e))
            warnings.append(w)
            warn(w)
    return docs, warnings
