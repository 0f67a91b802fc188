"""A fake retriever over the real corpus chunks: token-overlap ranking, no embeddings, no index."""

from __future__ import annotations

from assistant.config import get_settings
from assistant.ingest.chunking import chunk_documents
from assistant.ingest.loaders import corpus_files, load_documents
from assistant.tokenize import tokenize
from assistant.types import Chunk, Hit


class OverlapRetriever:
    """Implements :class:`assistant.protocols.Retriever` like ``assistant.retrieve.HybridRetriever``."""

    def __init__(self, chunks: list[Chunk] | None = None) -> None:
        if chunks is None:
            s = get_settings()
            docs = load_documents(corpus_files(s.documents_path), s.root)
            docs = docs[0] if isinstance(docs, tuple) else docs
            chunks = chunk_documents(list(docs))
        self._chunks = chunks
        self._toks = [set(tokenize(c.text)) for c in chunks]
        self.queries: list[tuple[str, dict | None]] = []

    def chunks(self) -> list[Chunk]:
        return self._chunks

    def search(self, query: str, k: int | None = None, filters: dict | None = None) -> list[Hit]:
        self.queries.append((query, filters))
        q = set(tokenize(query))
        scored = sorted(((len(q & t), i) for i, t in enumerate(self._toks)), key=lambda x: (-x[0], x[1]))
        return [Hit(self._chunks[i], float(s), {"bm25": r + 1}, {"bm25": float(s)})
                for r, (s, i) in enumerate(scored[: k or 5]) if s > 0]
