"""Source files as citable text (qa-format: the file itself, or the loader's text), for the
answerers, the verifier and the evaluator alike (each with its own reader and cache).

Source ids (the ``source`` of a chunk, a record and a citation) — decided for issue 15:

* a file under the repository root keeps its repository-relative POSIX path
  (``corpus/documents/deck.md``), so the ids of the shipped corpus, the records CSVs, the QA sets
  and existing indexes do not change;
* a file outside the repository, in a configured folder, is ``<role>:<path relative to that
  folder>``: ``documents:2024/deck.pdf`` (``ASSISTANT_DOCUMENTS_DIR``), ``records:projects.csv``
  (``ASSISTANT_RECORDS_DIR``). The id is also the display path: it names no machine path, and it
  stays the same when the folder moves to another volume (``doc_id`` is a hash of it, so it is
  stable too);
* anything else is its absolute path, which :class:`SourceTexts` refuses (no citation may read an
  arbitrary file).

Records citations name the repository's documents folder (``corpus/documents/<name>``): that means
"the document ``<name>`` of the documents folder". When the documents folder is configured
elsewhere, :meth:`SourceTexts.resolve` looks for ``<name>`` there (same relative path, then the
same file name anywhere in the folder) and only then falls back to the repository copy;
``assistant records validate`` warns when a cited document is not in the configured folder.
Quotes are always checked against the loader's text of the file that was resolved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.normalize import nfkc

log = logging.getLogger(__name__)

#: Suffixes whose file content is the citable text.
PLAIN_SUFFIXES = {".md", ".txt", ".csv", ".tsv", ".markdown"}
#: The documents folder the records CSVs were written against (``Settings.documents_dir`` default).
REPO_DOCUMENTS = "corpus/documents"


@dataclass(frozen=True)
class SourceFolder:
    """A configured folder whose files are cited as ``<role>:<relative path>``."""

    role: str  # "documents" | "records"
    path: Path


def source_folders(root: Path, settings: object | None = None) -> list[SourceFolder]:
    """The documents and records folders of ``settings`` (default: the environment's settings),
    relative ones resolved against ``root``."""
    if settings is None:
        from assistant.config import get_settings

        settings = get_settings()
    out = []
    for role, attr in (("documents", "documents_dir"), ("records", "records_dir")):
        p = Path(getattr(settings, attr))
        out.append(SourceFolder(role, (p if p.is_absolute() else Path(root) / p).resolve()))
    return out


def _relative(path: Path, folder: Path) -> str | None:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return None


def source_id(path: Path, root: Path, folders: Sequence[SourceFolder] | None = None) -> str:
    """The citable id of ``path`` (see the module docstring)."""
    p, r = path.resolve(), Path(root).resolve()
    rel = _relative(p, r)
    if rel is not None:
        return rel
    for f in folders if folders is not None else source_folders(r):
        rel = _relative(p, f.path)
        if rel is not None:
            return f"{f.role}:{rel}"
    return p.as_posix()


def display_name(source: str) -> str:
    """The file name of a source id (``documents:2024/deck.pdf`` → ``deck.pdf``)."""
    return Path(source.split(":", 1)[1] if _role_of(source) else source).name


def _role_of(source: str) -> str | None:
    role, sep, _ = source.partition(":")
    return role if sep and role.isalpha() and len(role) > 1 else None


def _inside(base: Path, rel: str) -> Path | None:
    p = (base / rel).resolve()
    return p if p.is_relative_to(base) and p.is_file() else None


def _ingest_loader(root: Path) -> Callable[[Path], str] | None:
    """The text ``assistant.ingest`` extracts from a PDF/HTML file, if the module is available."""
    try:
        from assistant.ingest.loaders import load_document
    except ImportError:
        return None

    def load(path: Path) -> str:
        return load_document(path, root).text

    return load


def _decode(data: bytes) -> str:
    try:
        from assistant.ingest.loaders import decode_text
    except ImportError:
        return data.decode("utf-8-sig", errors="replace")
    return decode_text(data)[0]


class SourceTexts:
    """Resolve a citation ``source`` to its NFKC text, with a cache.

    ``folders`` are the configured documents/records folders (default: from the environment's
    settings, relative ones against ``root``); ``loader`` extracts text from non-plain files (PDF,
    HTML) and defaults to ``assistant.ingest``.
    """

    def __init__(self, root: Path, loader: Callable[[Path], str] | None = None,
                 folders: Sequence[SourceFolder] | None = None) -> None:
        self.root = root.resolve()
        self._loader = loader
        self._loader_tried = loader is not None
        self._folders = list(folders) if folders is not None else None
        self._cache: dict[str, tuple[str | None, str]] = {}
        self._by_name: dict[Path, dict[str, list[Path]]] = {}

    @property
    def folders(self) -> list[SourceFolder]:
        if self._folders is None:
            try:
                self._folders = source_folders(self.root)
            except Exception as e:  # invalid environment settings: the repository root still works
                log.warning("documents folders not configured (%s); sources resolve under %s", e, self.root)
                self._folders = []
        return self._folders

    def folder(self, role: str) -> Path | None:
        return next((f.path for f in self.folders if f.role == role), None)

    def resolve(self, source: str) -> Path | None:
        """The file for ``source``: ``role:rel`` inside that folder; a repository-relative path
        (a ``corpus/documents/…`` one looked up first in the configured documents folder)."""
        if not source or Path(source).is_absolute():
            return None
        role = _role_of(source)
        if role is not None:
            base = self.folder(role)
            return _inside(base, source.split(":", 1)[1]) if base is not None else None
        moved = self.documents_elsewhere(source)
        if moved is not None:
            return moved
        return _inside(self.root, source)

    def documents_elsewhere(self, source: str) -> Path | None:
        """For ``corpus/documents/<name>`` when the documents folder is configured elsewhere: the
        file ``<name>`` in that folder (same relative path, else the one file of that name)."""
        docs = self.folder("documents")
        prefix = REPO_DOCUMENTS + "/"
        if docs is None or docs == (self.root / REPO_DOCUMENTS).resolve() or not source.startswith(prefix):
            return None
        rel = source[len(prefix):]
        hit = _inside(docs, rel)
        if hit is not None:
            return hit
        if docs not in self._by_name:
            index: dict[str, list[Path]] = {}
            if docs.is_dir():
                for p in docs.rglob("*"):
                    if p.is_file():
                        index.setdefault(p.name, []).append(p)
            self._by_name[docs] = index
        same = self._by_name[docs].get(Path(rel).name, [])
        return same[0] if len(same) == 1 else None

    def text(self, source: str) -> tuple[str | None, str]:
        """``(nfkc_text, "")`` or ``(None, reason)``."""
        if source not in self._cache:
            self._cache[source] = self._load(source)
        return self._cache[source]

    def _load(self, source: str) -> tuple[str | None, str]:
        p = self.resolve(source)
        if p is None:
            return None, "source file not found in the documents/records folders or the repository"
        if p.suffix.lower() in PLAIN_SUFFIXES:
            try:
                return nfkc(_decode(p.read_bytes())), ""
            except Exception as e:  # e.g. a binary file named .txt
                return None, f"cannot read: {e}"
        if not self._loader_tried:
            self._loader = _ingest_loader(self.root)
            self._loader_tried = True
        if self._loader is None:
            return None, f"no loader for {p.suffix} files (assistant.ingest unavailable)"
        try:
            return nfkc(self._loader(p)), ""
        except Exception as e:  # a broken file must not stop the evaluation
            log.warning("cannot load %s: %s", source, e)
            return None, f"loader failed: {e}"
