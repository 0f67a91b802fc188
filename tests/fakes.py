"""Small fakes that implement the real interfaces (no model, no network)."""

from __future__ import annotations

import hashlib
import math

from langchain_core.embeddings import Embeddings

from assistant.normalize import nfkc


class FakeEmbeddings(Embeddings):
    """Deterministic embedder: character bigrams hashed with sha256 into ``dim`` buckets.

    Texts that share bigrams get similar vectors, so retrieval tests mean something, yet every
    run gives the same numbers. Implements :class:`assistant.protocols.Embedder` like
    ``assistant.embeddings.E5Embeddings``.
    """

    model_id = "fake-sha256-bigrams"
    checksum = "fake"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls: list[int] = []  # batch sizes seen by embed_documents

    def _vec(self, text: str) -> list[float]:
        t = nfkc(text)
        v = [0.0] * self.dim
        grams = [t[i:i + 2] for i in range(max(1, len(t) - 1))]
        for g in grams:
            h = hashlib.sha256(g.encode()).digest()
            v[int.from_bytes(h[:4], "big") % self.dim] += 1.0 if h[4] & 1 else -1.0
        n = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / n for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]


class RecordingEmbeddings(FakeEmbeddings):
    """The fake embedder, remembering every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts += texts
        return super().embed_documents(texts)
