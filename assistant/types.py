"""Typed values passed between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.claims.model import Claim, Computation

#: How an answer was produced (``naive`` is the evaluation baseline, ``exception`` a crash caught
#: by the evaluator, ``message`` a helpdesk message answered part by part).
Route = Literal["records", "documents", "abstain", "error", "llm", "naive", "exception", "message"]


@dataclass(frozen=True)
class Document:
    """A loaded corpus file. ``source`` is the path relative to the repository root."""

    id: str
    source: str
    title: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A retrievable unit: a piece of a document, or one record row rendered as a sentence."""

    id: str
    doc_id: str
    source: str
    text: str
    locator: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and each retriever's rank/score (None if absent)."""

    chunk: Chunk
    score: float
    ranks: dict[str, int | None] = field(default_factory=dict)
    scores: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Citation:
    """``quote`` is an exact substring of ``source``'s text after NFKC."""

    source: str
    locator: str
    quote: str
    title: str = ""


@dataclass
class Answer:
    """An answer and everything needed to check it.

    ``evidence`` are the passages retrieved for it (best first; empty on the records route),
    ``coverage`` how much of the question the extracted passage covers (documents route),
    ``reason`` why it abstained (``low_coverage``, ``missing_terms``, ``records`` …),
    ``computations`` the figures the answerer computed and ``claims`` every value of ``text``
    with what it rests on (:mod:`assistant.claims`). ``meta`` carries diagnostics only."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    route: Route = "documents"
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    evidence: list[Hit] = field(default_factory=list)
    coverage: float | None = None
    reason: str = ""
    computations: list[Computation] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # the earlier turns it was answered with
