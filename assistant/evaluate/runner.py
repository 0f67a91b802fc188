"""Run an :class:`~assistant.answer.Asker` over QA items and check every answer."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence

from tqdm import tqdm

from assistant.answer import Asker
from assistant.claims import verify
from assistant.evaluate.metrics import (
    CitationResult,
    ItemResult,
    check_citation,
    check_correct,
    gold_rank,
    retrieved_pairs,
)
from assistant.evaluate.qa import QAItem
from assistant.source_files import SourceTexts
from assistant.types import Answer

log = logging.getLogger(__name__)


def evaluate_answer(item: QAItem, answer: Answer, latency_ms: float, sources: SourceTexts,
                    error: str | None = None) -> ItemResult:
    """All checks of one answer: correctness, citations, claims (the one verifier), retrieval rank."""
    correct, reasons = check_correct(item, answer.text, answer.abstained)
    if error is not None:
        correct = False
    citations = []
    for c in answer.citations:
        ok, why = check_citation(c.source, c.quote, sources)
        citations.append(CitationResult(c.source, c.locator, c.quote, ok, why, c.title))
    rank = None
    if item.gold_sources and answer.evidence:  # answers that searched the documents
        rank = gold_rank(item.gold_sources, retrieved_pairs(answer.evidence))
    # The verifier reads the cited files itself (this evaluator's reader, not the answerer's).
    problems = verify(answer, lambda source: sources.text(source)[0])
    bad_spans = {p.start for p in problems if p.kind != "unclaimed"}
    kinds: dict[str, int] = {}
    for c in answer.claims:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    parts = [{"label": str(p.get("label", "")), "text": str(p.get("text", "")),
              "abstained": bool(p.get("abstained")), "route": str(p.get("route", ""))}
             for p in (answer.meta or {}).get("parts") or [] if isinstance(p, dict)]
    return ItemResult(
        id=item.id, category=item.category, question=item.question, history=list(item.history),
        answerable=item.answerable, expected=list(item.expected), any_of=[list(g) for g in item.any_of],
        forbidden=list(item.forbidden), answer=answer.text, abstained=answer.abstained,
        route=answer.route, latency_ms=round(latency_ms, 2), correct=correct, reasons=reasons,
        citations=citations, retrieval_rank=rank, error=error,
        parts=parts, n_claims=len(answer.claims),
        claims_verified=sum(c.start not in bad_spans for c in answer.claims), claim_kinds=kinds,
        unclaimed=[p.value for p in problems if p.kind == "unclaimed"],
        claim_problems=[f"{p.kind}: {p.value} ({p.detail})" if p.detail else f"{p.kind}: {p.value}" for p in problems],
    )


def run_items(asker: Asker, items: Sequence[QAItem], sources: SourceTexts, *, label: str = "eval",
              progress: bool = True) -> list[ItemResult]:
    """Ask every item in order (progress on stderr); an exception becomes an ``error`` result."""
    results: list[ItemResult] = []
    for item in tqdm(items, desc=label, unit="q", file=sys.stderr, disable=not progress, mininterval=0.5):
        t0 = time.perf_counter()
        error = None
        try:
            answer = asker.ask(item.question, list(item.history) or None)
        except Exception as e:  # one failing question must not hide the others
            log.exception("item %s failed", item.id)
            error = f"{type(e).__name__}: {e}"
            answer = Answer(question=item.question, text="", route="error")
        latency_ms = (time.perf_counter() - t0) * 1000
        results.append(evaluate_answer(item, answer, latency_ms, sources, error))
    return results
