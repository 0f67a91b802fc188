"""BM25 over Sudachi tokens with ``bm25s`` (sparse matrix scoring: no Python loop per document).

``BM25Index.from_ids`` computes the bm25s score matrix (Lucene variant, its defaults) with numpy
from token-id arrays: bm25s' own ``index`` counts terms in a Python loop per document (~1 s at
13,000 chunks, every build); the scores are the same (``tests/test_index_build.py``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from assistant.index.store import TokenIds

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

    @classmethod
    def from_ids(cls, tokens: TokenIds) -> BM25Index:
        """The index ``build`` gives for ``tokens.lists()``, computed with numpy."""
        import bm25s

        n = len(tokens)
        if n == 0:
            return cls(None, 0)
        model = bm25s.BM25()
        if model.method != "lucene" or model.idf_method != "lucene":  # pragma: no cover - bm25s defaults
            return cls.build(tokens.lists())
        counts = np.bincount(tokens.ids, minlength=len(tokens.vocab))
        used = np.flatnonzero(counts)
        n_vocab = len(used)
        remap = np.cumsum(counts > 0) - 1
        inv = remap[tokens.ids]
        lens = np.diff(tokens.ptr)
        doc = np.repeat(np.arange(n, dtype=np.int64), lens)
        keys, tf = np.unique(inv.reshape(-1).astype(np.int64) * n + doc, return_counts=True)  # by term, then doc
        term, d = keys // n, keys % n
        df = np.bincount(term, minlength=n_vocab)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(model.dtype)
        tf_f = tf.astype(model.dtype)
        avg = lens.mean()
        tfc = tf_f / (model.k1 * ((1 - model.b) + model.b * lens[d] / avg) + tf_f)
        data = (idf[term] * tfc).astype(model.dtype)
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=n_vocab), out=indptr[1:])
        model.scores = {"data": data, "indices": d.astype(np.int32), "indptr": indptr, "num_docs": n}
        vocab = {tokens.vocab[j]: i for i, j in enumerate(used.tolist())}
        if "" not in vocab:
            vocab[""] = n_vocab
        model.vocab_dict = vocab
        model.unique_token_ids_set = set(vocab.values())
        model.nonoccurrence_array = None
        return cls(model, n)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            self.model.save(str(directory))  # type: ignore[attr-defined]

    @classmethod
    def load(cls, directory: Path, n_docs: int, *, mmap: bool = False) -> BM25Index:
        import bm25s

        if n_docs == 0:
            return cls(None, 0)
        model = bm25s.BM25.load(str(directory), mmap=mmap)
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
