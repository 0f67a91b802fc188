"""The seams between the parts: what a retriever, an embedder and an answerer must provide.

The real classes (``HybridRetriever``, ``E5Embeddings``, ``Assistant`` …) and the test fakes
implement these; callers use the members directly, never ``getattr``/``hasattr``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from assistant.types import Answer, Chunk, Hit


@runtime_checkable
class Retriever(Protocol):
    """Ranked passages of the index (``HybridRetriever``; ``tests.answer_fakes.OverlapRetriever``)."""

    def search(self, query: str, k: int | None = None, filters: dict[str, Any] | None = None) -> list[Hit]:
        """The best ``k`` hits for ``query`` among chunks whose metadata match ``filters``."""
        ...

    def chunks(self) -> Sequence[Chunk]:
        """Every indexed chunk, in index order."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Text → unit vectors (``E5Embeddings``; ``tests.fakes.FakeEmbeddings``).

    ``model_id`` and ``checksum`` identify the vectors (an index built with other ones is refused)."""

    model_id: str
    checksum: str
    dim: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Passage vectors, one per text."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """One query's vector."""
        ...

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Query vectors of a batch (one model call)."""
        ...


@runtime_checkable
class Asker(Protocol):
    """An answerer: what ``build_assistant`` returns, and every layer it wraps.

    The outermost one cleans the question (:func:`assistant.inputs.clean_question`); the layers
    below get it as an :class:`assistant.inputs.Question` and do not clean it again."""

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer ``question`` given earlier user turns (oldest first)."""
        ...

    def warm_up(self) -> None:
        """Load models, index and records now rather than on the first question."""
        ...


@runtime_checkable
class GuardReporter(Protocol):
    """An answerer whose output passes a guard that can replace it (the LLM answerer)."""

    def guard_report(self) -> dict[str, Any]:
        """How often the guard intervened: calls, accepted, fallbacks by reason."""
        ...
