"""Hybrid retrieval: dense (Chroma) + BM25 (Sudachi tokens), fused by reciprocal rank.

``HybridRetriever`` is a LangChain ``BaseRetriever`` (``invoke(query)`` gives LangChain Documents)
with a typed ``search(query, k, filters) -> list[Hit]`` that keeps each retriever's rank and score
(the :class:`~assistant.protocols.Retriever` protocol).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.config import Settings
from assistant.index.load import IndexHandle, load_index
from assistant.normalize import nfkc
from assistant.protocols import Embedder
from assistant.tokenize import tokenize
from assistant.types import Chunk, Hit

RETRIEVERS = ("dense", "bm25")


def rrf_fuse(rankings: Mapping[str, Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: score(d) = Σ 1/(k + rank), rank starting at 1.

    Ties are broken by the best single rank, then by id, so the order is deterministic.
    """
    scores: dict[str, float] = {}
    best: dict[str, int] = {}
    for ranking in rankings.values():
        for r, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + r)
            best[doc] = min(best.get(doc, r), r)
    return sorted(scores.items(), key=lambda x: (-x[1], best[x[0]], x[0]))


def bm25_ranking(handle: IndexHandle, query: str, depth: int,
                 mask: np.ndarray | None = None) -> list[tuple[int, float]]:
    """(chunk position, BM25 score), best first; only chunks sharing a token with the query."""
    return handle.bm25.top(tokenize(query), depth, mask)


#: A filter letting at least this share of the chunks through is applied after an unfiltered,
#: deeper Chroma query (12k chunks: ~1.5 ms for 100 results; an id list of most of the corpus ~11 ms,
#: and is sent over the wire to a Chroma server); narrower filters pass the allowed ids.
POSTFILTER_MIN_SHARE = 0.25


def _chroma_query(handle: IndexHandle, vec: list[float], n: int, **kwargs: Any) -> list[tuple[int, float]]:
    res = handle.collection.query(query_embeddings=[list(map(float, vec))], n_results=n,
                                  include=["distances"], **kwargs)
    out = []
    for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True):
        i = handle.position.get(cid)
        if i is not None:
            out.append((i, 1.0 - float(dist)))
    return out


def dense_ranking(handle: IndexHandle, query: str, depth: int,
                  mask: np.ndarray | None = None) -> list[tuple[int, float]]:
    """(chunk position, cosine similarity), best first, from Chroma."""
    n_allowed = len(handle) if mask is None else int(mask.sum())
    depth = min(depth, n_allowed)
    if depth <= 0:
        return []
    vec = handle.embedder.embed_query(nfkc(query))
    if mask is None or n_allowed == len(handle):
        return _chroma_query(handle, vec, depth)
    share = n_allowed / len(handle)
    if share >= POSTFILTER_MIN_SHARE:
        fetch = min(len(handle), int(depth / share * 3) + 50)  # a deeper query costs little
        kept = [(i, s) for i, s in _chroma_query(handle, vec, fetch) if mask[i]]
        if len(kept) >= depth or fetch == len(handle):
            return kept[:depth]
    return _chroma_query(handle, vec, depth, ids=[handle.ids[i] for i in np.flatnonzero(mask)])


def _hits(handle: IndexHandle, rankings: dict[str, list[tuple[int, float]]], k: int, rrf_k: int) -> list[Hit]:
    by_name = {name: {i: (r, s) for r, (i, s) in enumerate(rk, start=1)} for name, rk in rankings.items()}
    fused = rrf_fuse({name: [handle.ids[i] for i, _ in rk] for name, rk in rankings.items()}, rrf_k)
    hits = []
    for cid, score in fused[:k]:
        i = handle.position[cid]
        ranks = {n: by_name[n][i][0] if i in by_name[n] else None for n in rankings}
        scores = {n: by_name[n][i][1] if i in by_name[n] else None for n in rankings}
        hits.append(Hit(handle.chunks[i], score, ranks, scores))
    return hits


def hybrid_search(handle: IndexHandle, query: str, *, k: int, depth: int, rrf_k: int,
                  filters: dict[str, Any] | None = None,
                  retrievers: Sequence[str] = RETRIEVERS) -> list[Hit]:
    """Top ``k`` hits fusing the chosen retrievers (one retriever alone keeps its own order)."""
    if not query or not query.strip():
        return []
    mask = handle.mask(filters)
    if mask is not None and not mask.any():
        return []
    rankings: dict[str, list[tuple[int, float]]] = {}
    if "dense" in retrievers:
        rankings["dense"] = dense_ranking(handle, query, depth, mask)
    if "bm25" in retrievers:
        rankings["bm25"] = bm25_ranking(handle, query, depth, mask)
    return _hits(handle, rankings, k, rrf_k)


def to_langchain(hit: Hit) -> LCDocument:
    c: Chunk = hit.chunk
    meta = {**c.meta, "id": c.id, "doc_id": c.doc_id, "source": c.source, "locator": c.locator,
            "score": hit.score, "ranks": dict(hit.ranks), "scores": dict(hit.scores)}
    return LCDocument(page_content=c.text, metadata=meta, id=c.id)


class HybridRetriever(BaseRetriever):
    """Dense + BM25 + RRF over the served index; depth, k and RRF constant from Settings."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    settings: Settings
    embedder: Embedder | None = None  # None: assistant.embeddings.get_embedder(settings)
    index: IndexHandle | None = None  # None: the served version, reloaded after a rebuild
    k: int | None = None
    filters: dict[str, Any] | None = None
    retrievers: tuple[str, ...] = RETRIEVERS

    @classmethod
    def from_settings(cls, settings: Settings | None = None, embedder: Embedder | None = None,
                      **kw: Any) -> HybridRetriever:
        if settings is None:
            from assistant.config import get_settings

            settings = get_settings()
        return cls(settings=settings, embedder=embedder, **kw)

    @classmethod
    def from_handle(cls, handle: IndexHandle, settings: Settings | None = None, **kw: Any) -> HybridRetriever:
        """A retriever pinned to one loaded index version."""
        return cls(settings=settings or handle.settings, embedder=handle.embedder, index=handle, **kw)

    @property
    def handle(self) -> IndexHandle:
        """The pinned handle, else the served index (reloaded when ``assistant index`` switched)."""
        return self.index if self.index is not None else load_index(self.settings, self.embedder)

    def chunks(self) -> list[Chunk]:
        """Every indexed chunk, in index order."""
        return self.handle.chunks

    def search(self, query: str, k: int | None = None, filters: dict[str, Any] | None = None) -> list[Hit]:
        s = self.settings
        k = k or self.k or s.top_k
        f = filters if filters is not None else self.filters
        return hybrid_search(self.handle, query, k=k, depth=max(s.candidate_k, k), rrf_k=s.rrf_k,
                             filters=f, retrievers=self.retrievers)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [to_langchain(h) for h in self.search(query)]
