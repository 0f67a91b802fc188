"""Typed values passed between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    route: str = "documents"  # records | documents | abstain | error | llm
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
