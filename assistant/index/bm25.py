"""BM25 over Sudachi tokens with ``bm25s`` (sparse matrix scoring: no Python loop per document)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)


class BM25Index:
    """A bm25s index whose document order is the chunk order of the index version."""

    def __init__(self, model: object | None, n_docs: int) -> None:
        self.model = model  # bm25s.BM25, or None for an empty corpus
        self.n_docs = n_docs

    @classmethod
    def build(cls, tokens: list[list[str]]) -> BM25Index:
        import bm25s

        if not tokens:
            return cls(None, 0)
        model = bm25s.BM25()  # Lucene variant, k1=1.5, b=0.75
        model.index(tokens, show_progress=False)
        return cls(model, len(tokens))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            self.model.save(str(directory))  # type: ignore[attr-defined]

    @classmethod
    def load(cls, directory: Path, n_docs: int) -> BM25Index:
        import bm25s

        if n_docs == 0:
            return cls(None, 0)
        model = bm25s.BM25.load(str(directory))
        got = int(model.scores["num_docs"])
        if got != n_docs:
            raise ValueError(f"BM25 index has {got} documents, expected {n_docs}")
        return cls(model, n_docs)

    def scores(self, query_tokens: list[str]) -> np.ndarray | None:
        """BM25 score of every document, or None when no query token is in the vocabulary."""
        if self.model is None:
            return None
        vocab = self.model.vocab_dict  # type: ignore[attr-defined]
        ids = [vocab[t] for t in query_tokens if t in vocab and t != ""]
        if not ids:
            return None
        return np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)  # type: ignore[attr-defined]

    def top(self, query_tokens: list[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(document index, score) of the best ``k`` documents with a positive score."""
        s = self.scores(query_tokens)
        if s is None or k <= 0:
            return []
        if mask is not None:
            s = np.where(mask, s, 0.0)
        positive = int(np.count_nonzero(s > 0))
        k = min(k, positive)
        if k == 0:
            return []
        idx = np.argpartition(-s, k - 1)[:k]
        idx = idx[np.lexsort((idx, -s[idx]))]  # score desc, then index for stable ties
        return [(int(i), float(s[i])) for i in idx]
