"""Access to cited source files: their text (for exact-quote checks) and their titles."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from assistant.normalize import nfkc


class SourceStore:
    """Reads sources relative to the repository root once and keeps them (NFKC)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @lru_cache(maxsize=256)  # noqa: B019 - one store per process; sources are few and immutable
    def text(self, source: str) -> str:
        path = self.root / source
        if not path.is_file():
            return ""
        if path.suffix.lower() in (".md", ".txt", ".csv"):
            raw = path.read_bytes()
            try:
                return nfkc(raw.decode("utf-8-sig"))
            except UnicodeDecodeError:
                return nfkc(raw.decode("cp932", errors="replace"))
        try:  # PDF/HTML: the loader's extracted text
            from assistant.ingest.loaders import load_document

            doc = load_document(path, self.root)
            return nfkc(doc.text) if doc else ""
        except Exception:  # noqa: BLE001 - a broken source simply cannot be quoted
            return ""

    @lru_cache(maxsize=256)  # noqa: B019
    def title(self, source: str) -> str:
        text = self.text(source)
        m = re.search(r"^title:\s*(.+)$", text[:2000], re.MULTILINE) if text.startswith("---") else None
        if m:
            return m.group(1).strip().strip('"')
        m = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        return m.group(1).strip() if m else Path(source).name

    def contains(self, source: str, quote: str) -> bool:
        return bool(quote) and nfkc(quote) in self.text(source)
