"""Document frequency of content words over the chunks of a version, stored with the version.

The extractor weighs answer words by ``df`` (in how many chunks a content word occurs, counted
once per chunk, over every chunk of the index). Computing it at start-up means Sudachi over
every chunk: 13,000 chunks took 8–27 s. The build computes it instead, incrementally (a chunk id
is a hash of its text, so only the chunks added or removed since the previous version are
tokenized), and stores it in ``term_df.json``; ``IndexHandle.term_df()`` reads it.

The file names the tokenizer (``tokenizer_id``) and the number of chunks; a version without it or
with another tokenizer has no stored statistics (``read`` returns None) and the caller computes them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.tokenize import content_terms, tokenizer_id
from assistant.types import Chunk

TERM_DF = "term_df.json"


@dataclass
class TermStats:
    """``df[term]``: chunks containing ``term`` among ``n_chunks``; ``tokenized``: chunks this build ran
    Sudachi on to get them (0 on a warm start)."""

    df: Counter[str]
    n_chunks: int
    tokenizer: str
    tokenized: int = 0

    def get(self, term: str) -> int:
        return self.df.get(term, 0)


def _count(chunks: Iterable[Chunk]) -> tuple[Counter[str], int]:
    df: Counter[str] = Counter()
    n = 0
    for c in chunks:
        df.update(set(content_terms(c.text)))
        n += 1
    return df, n


def compute(chunks: list[Chunk]) -> TermStats:
    """From scratch: Sudachi over every chunk."""
    df, n = _count(chunks)
    return TermStats(df, len(chunks), tokenizer_id(), tokenized=n)


def update(previous: TermStats | None, previous_chunks: list[Chunk], chunks: list[Chunk]) -> TermStats:
    """The statistics of ``chunks`` from those of ``previous_chunks``: subtract the chunks that are
    gone, add the new ones (by id). Computed from scratch when ``previous`` is None or was counted
    with another tokenizer."""
    if previous is None or previous.tokenizer != tokenizer_id() or previous.n_chunks != len(previous_chunks):
        return compute(chunks)
    new_ids = {c.id for c in chunks}
    old_ids = {c.id for c in previous_chunks}
    gone, gone_n = _count(c for c in previous_chunks if c.id not in new_ids)
    added, added_n = _count(c for c in chunks if c.id not in old_ids)
    df = Counter(previous.df)
    df.subtract(gone)
    df.update(added)
    return TermStats(+df, len(chunks), previous.tokenizer, tokenized=gone_n + added_n)


def write(vdir: Path, stats: TermStats) -> None:
    data = {"tokenizer": stats.tokenizer, "n_chunks": stats.n_chunks, "df": dict(sorted(stats.df.items()))}
    (vdir / TERM_DF).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def read(vdir: Path, n_chunks: int) -> TermStats | None:
    """The stored statistics, or None when absent, unreadable, for another tokenizer or chunk count."""
    try:
        data: Any = json.loads((vdir / TERM_DF).read_text(encoding="utf-8"))
        if (not isinstance(data, dict) or data.get("tokenizer") != tokenizer_id()
                or data.get("n_chunks") != n_chunks or not isinstance(data.get("df"), dict)):
            return None
        return TermStats(Counter({str(k): int(v) for k, v in data["df"].items()}), n_chunks, data["tokenizer"])
    except (OSError, ValueError, TypeError):
        return None
