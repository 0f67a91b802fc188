"""Cited source files for the answerer: their text (for exact-quote checks) and their titles.

Reading, decoding and path checks live in :mod:`assistant.source_files`, below both the
answerers and the evaluator; each keeps its own reader, so the evaluator and the verifier
check quotes against the files, not against the answerer's cache.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from assistant.normalize import nfkc
from assistant.source_files import SourceFolder, SourceTexts, display_name


class SourceStore:
    """Source texts (NFKC) and titles by source path, read once per process."""

    def __init__(self, root: Path, folders: Sequence[SourceFolder] | None = None) -> None:
        self.root = root
        self._texts = SourceTexts(root, folders=folders)  # folders default from the environment

    def text(self, source: str) -> str:
        return self._texts.text(source)[0] or ""

    @lru_cache(maxsize=256)  # noqa: B019 - one store per process; sources are few and immutable
    def title(self, source: str) -> str:
        text = self.text(source)
        m = re.search(r"^title:\s*(.+)$", text[:2000], re.MULTILINE) if text.startswith("---") else None
        if m:
            return m.group(1).strip().strip('"')
        m = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        return m.group(1).strip() if m else display_name(source)

    def contains(self, source: str, quote: str) -> bool:
        return bool(quote) and nfkc(quote) in self.text(source)
