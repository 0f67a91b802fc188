"""Cited source files for the answerer: their text (for exact-quote checks) and their titles.

Reading, decoding and path checks are shared with the evaluation harness
(:class:`assistant.evaluate.sources.SourceTexts`), so the answerer quotes exactly what the
evaluator verifies.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from assistant.evaluate.sources import SourceTexts
from assistant.normalize import nfkc


class SourceStore:
    """Source texts (NFKC) and titles by source path, read once per process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._texts = SourceTexts(root)

    def text(self, source: str) -> str:
        return self._texts.text(source)[0] or ""

    @lru_cache(maxsize=256)  # noqa: B019 - one store per process; sources are few and immutable
    def title(self, source: str) -> str:
        text = self.text(source)
        m = re.search(r"^title:\s*(.+)$", text[:2000], re.MULTILINE) if text.startswith("---") else None
        if m:
            return m.group(1).strip().strip('"')
        m = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        return m.group(1).strip() if m else Path(source).name

    def contains(self, source: str, quote: str) -> bool:
        return bool(quote) and nfkc(quote) in self.text(source)
