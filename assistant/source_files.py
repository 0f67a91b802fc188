"""Source files as citable text (qa-format: the file itself, or the loader's text), for the
answerers, the verifier and the evaluator alike (each with its own reader and cache)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from assistant.normalize import nfkc

log = logging.getLogger(__name__)

#: Suffixes whose file content is the citable text.
PLAIN_SUFFIXES = {".md", ".txt", ".csv", ".tsv", ".markdown"}


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
    """Resolve a citation ``source`` (relative to ``root``) to its NFKC text, with a cache.

    ``loader`` extracts text from non-plain files (PDF, HTML); it defaults to ``assistant.ingest``.
    """

    def __init__(self, root: Path, loader: Callable[[Path], str] | None = None) -> None:
        self.root = root.resolve()
        self._loader = loader
        self._loader_tried = loader is not None
        self._cache: dict[str, tuple[str | None, str]] = {}

    def resolve(self, source: str) -> Path | None:
        """The file for ``source`` if it is a relative path inside ``root`` that exists."""
        if not source or Path(source).is_absolute():
            return None
        p = (self.root / source).resolve()
        if not p.is_relative_to(self.root) or not p.is_file():
            return None
        return p

    def text(self, source: str) -> tuple[str | None, str]:
        """``(nfkc_text, "")`` or ``(None, reason)``."""
        if source not in self._cache:
            self._cache[source] = self._load(source)
        return self._cache[source]

    def _load(self, source: str) -> tuple[str | None, str]:
        p = self.resolve(source)
        if p is None:
            return None, "source file not found under the repository root"
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
