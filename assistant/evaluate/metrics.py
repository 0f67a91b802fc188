"""Per-item checks and aggregate metrics of an evaluation run.

Correctness follows ``shared/qa-format.md``: strings are compared after
:func:`assistant.normalize.match_key` (NFKC, case-fold, no whitespace, no ``,``).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.evaluate.qa import GoldSource, QAItem
from assistant.normalize import match_key, nfkc
from assistant.source_files import SourceTexts

# ---------------------------------------------------------------- correctness


def check_correct(item: QAItem, text: str, abstained: bool) -> tuple[bool, list[str]]:
    """Whether an answer is correct for ``item``, and why not."""
    if not item.answerable:
        if abstained:
            return True, []
        # qa-format: an answer that rejects the false premise with an accepted phrase is right.
        if any(match_key(a) in match_key(text) for a in item.accept if a):
            return True, []
        return False, ["should have abstained (not answerable)"]
    if abstained:
        return False, ["abstained on an answerable question"]
    key = match_key(text)
    reasons = [f"missing expected {e!r}" for e in item.expected if match_key(e) not in key]
    for group in item.any_of:
        if group and not any(match_key(g) in key for g in group):
            reasons.append(f"none of {group!r}")
    reasons += [f"contains forbidden {f!r}" for f in item.forbidden if f and match_key(f) in key]
    return not reasons, reasons


# ---------------------------------------------------------------- citations


def check_citation(source: str, quote: str, sources: SourceTexts) -> tuple[bool, str]:
    """A citation is valid when its source exists and ``quote`` is a non-empty exact substring
    of the source text, both after NFKC."""
    text, reason = sources.text(source)
    if text is None:
        return False, reason
    q = nfkc(quote or "")
    if not q.strip():
        return False, "empty quote"
    if q not in text:
        return False, "quote is not an exact substring of the source"
    return True, ""


# ---------------------------------------------------------------- numbers (variants compare them)

_NUMBER_RE = re.compile(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?")


def _canon(num: str) -> str:
    n = num.replace(",", "")
    whole, dot, frac = n.partition(".")
    frac = frac.rstrip("0")
    whole = whole.lstrip("0") or "0"
    return f"{whole}.{frac}" if dot and frac else whole


def numbers_in(text: str) -> list[str]:
    """Numbers written in ``text`` (after NFKC; thousands separators removed), in order."""
    return [_canon(m.group(0)) for m in _NUMBER_RE.finditer(nfkc(text))]


# ---------------------------------------------------------------- retrieval


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        return _field(obj["chunk"], name) if "chunk" in obj else None
    if hasattr(obj, name):
        return getattr(obj, name)
    chunk = getattr(obj, "chunk", None)
    return getattr(chunk, name, None) if chunk is not None else None


def retrieved_pairs(retrieved: Iterable[Any]) -> list[tuple[str, str]]:
    """``(source, text)`` of each retrieved item (dicts, Chunks, Hits or LangChain Documents)."""
    out = []
    for r in retrieved:
        source = _field(r, "source")
        text = _field(r, "text")
        if text is None:
            text = _field(r, "page_content")
        if source is None:
            meta = _field(r, "metadata") or {}
            source = meta.get("source") if isinstance(meta, dict) else None
        out.append((str(source or ""), str(text or "")))
    return out


def _norm_path(p: str) -> str:
    p = nfkc(p).replace("\\", "/").strip()
    while p.startswith("./"):
        p = p[2:]
    return p


def source_matches(gold: str, got: str) -> bool:
    g, s = _norm_path(gold), _norm_path(got)
    if not g or not s:
        return False
    return g == s or s.endswith("/" + g) or g.endswith("/" + s)


def gold_rank(gold: Sequence[GoldSource], retrieved: Sequence[tuple[str, str]]) -> int:
    """1-based rank of the first retrieved chunk matching any gold source; 0 when none does."""
    for rank, (source, text) in enumerate(retrieved, start=1):
        key = match_key(text)
        for g in gold:
            if source_matches(g.source, source) and match_key(g.contains) in key:
                return rank
    return 0


# ---------------------------------------------------------------- aggregation


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100), None for no values."""
    if not values:
        return None
    v = sorted(values)
    pos = (len(v) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


@dataclass
class CitationResult:
    source: str
    locator: str
    quote: str
    valid: bool
    reason: str = ""
    title: str = ""  # the cited document's title (shown to evaluators instead of its path)


@dataclass
class ItemResult:
    """One QA item run through one pipeline, with every check's outcome."""

    id: str
    category: str
    question: str
    history: list[str]
    answerable: bool
    expected: list[str]
    any_of: list[list[str]]
    forbidden: list[str]
    answer: str
    abstained: bool
    route: str
    latency_ms: float
    correct: bool
    reasons: list[str] = field(default_factory=list)
    citations: list[CitationResult] = field(default_factory=list)
    retrieval_rank: int | None = None  # None: not measured; 0: gold not retrieved
    error: str | None = None
    #: Claims of the answer (assistant.claims) and what the verifier found: ``n_claims`` claims,
    #: ``claims_verified`` of them without a problem, ``unclaimed`` values no claim supports and
    #: ``claim_problems`` every problem as "kind: value (detail)".
    n_claims: int = 0
    claims_verified: int = 0
    claim_kinds: dict[str, int] = field(default_factory=dict)
    unclaimed: list[str] = field(default_factory=list)
    claim_problems: list[str] = field(default_factory=list)
    #: Per question of a multi-part message (the answer's ``meta["parts"]``): label, text,
    #: abstained, route. Empty for a plain question.
    parts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def parts_answered(self) -> int:
        return sum(not p.get("abstained") for p in self.parts)

    @property
    def citations_ok(self) -> bool:
        return all(c.valid for c in self.citations)

    @property
    def problems(self) -> list[str]:
        """Everything wrong with this item (answer, citations, numbers, errors)."""
        out = list(self.reasons)
        if self.error:
            out.insert(0, f"error: {self.error}")
        if not self.abstained:
            if not self.citations:
                out.append("no citation")
            out += [f"invalid citation {c.source!r}: {c.reason}" for c in self.citations if not c.valid]
        if self.claim_problems:
            out.append("claims: " + "; ".join(self.claim_problems[:5]))
        return out


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _ms(v: float | None) -> float | None:
    return round(v, 1) if v is not None else None


def summarize(results: Sequence[ItemResult]) -> dict[str, Any]:
    """Aggregate metrics (overall, by category, latency by route). Ratios are None when undefined."""
    answered = [r for r in results if not r.abstained]
    unanswerable = [r for r in results if not r.answerable]
    abstained = [r for r in results if r.abstained]
    true_abst = [r for r in abstained if not r.answerable]
    answerable = [r for r in results if r.answerable]
    cits = [c for r in answered for c in r.citations]
    ranked = [r for r in results if r.retrieval_rank is not None]
    latencies = [r.latency_ms for r in results]

    by_route: dict[str, list[float]] = defaultdict(list)
    for r in results:
        by_route[r.route].append(r.latency_ms)

    summary: dict[str, Any] = {
        "n": len(results),
        "correct": sum(r.correct for r in results),
        "accuracy": _ratio(sum(r.correct for r in results), len(results)),
        "answerable_accuracy": _ratio(sum(r.correct for r in answerable), len(answerable)),
        "n_unanswerable": len(unanswerable),
        "n_abstained": len(abstained),
        "abstention_precision": _ratio(len(true_abst), len(abstained)),
        "abstention_recall": _ratio(len(true_abst), len(unanswerable)),
        "n_citations": len(cits),
        "citation_validity": _ratio(sum(c.valid for c in cits), len(cits)),
        "cited_answers": _ratio(sum(bool(r.citations) for r in answered), len(answered)),
        "answers_with_valid_citations": _ratio(
            sum(bool(r.citations) and r.citations_ok for r in answered), len(answered)),
        "n_claims": sum(r.n_claims for r in results),
        "claims_verified": _ratio(sum(r.claims_verified for r in results), sum(r.n_claims for r in results)),
        "claim_kinds": dict(sorted(sum((Counter(r.claim_kinds) for r in results), Counter()).items())),
        "values_without_claim": sum(len(r.unclaimed) for r in results),
        "answers_with_claim_problems": sum(bool(r.claim_problems) for r in results),
        "n_retrieval": len(ranked),
        "retrieval_r1": _ratio(sum(r.retrieval_rank == 1 for r in ranked), len(ranked)),
        "retrieval_r5": _ratio(sum(1 <= (r.retrieval_rank or 0) <= 5 for r in ranked), len(ranked)),
        "retrieval_mrr": (round(sum(1 / r.retrieval_rank for r in ranked if r.retrieval_rank) / len(ranked), 4)
                          if ranked else None),
        "latency_p50_ms": _ms(percentile(latencies, 50)),
        "latency_p95_ms": _ms(percentile(latencies, 95)),
        "latency_by_route": {
            route: {"n": len(v), "p50_ms": _ms(percentile(v, 50)), "p95_ms": _ms(percentile(v, 95))}
            for route, v in sorted(by_route.items())
        },
        "errors": sum(r.error is not None for r in results),
    }
    cats: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        cats[r.category].append(r)
    summary["parts"] = summarize_parts(results)
    summary["by_category"] = {
        cat: {
            "n": len(rs),
            "correct": sum(r.correct for r in rs),
            "accuracy": _ratio(sum(r.correct for r in rs), len(rs)),
            "citation_validity": _ratio(
                sum(c.valid for r in rs if not r.abstained for c in r.citations),
                sum(len(r.citations) for r in rs if not r.abstained)),
            "retrieval_r5": _ratio(sum(1 <= (r.retrieval_rank or 0) <= 5 for r in rs if r.retrieval_rank is not None),
                                   sum(r.retrieval_rank is not None for r in rs)),
        }
        for cat, rs in sorted(cats.items())
    }
    return summary


def _parts_figures(results: Sequence[ItemResult]) -> dict[str, Any]:
    with_parts = [r for r in results if r.parts]
    asked = sum(len(r.parts) for r in with_parts)
    answered = sum(r.parts_answered for r in with_parts)
    return {
        "n_items": len(with_parts),
        "n_multi_part": sum(len(r.parts) > 1 for r in with_parts),
        "asked": asked,
        "answered": answered,
        "answered_rate": _ratio(answered, asked),
        # Messages whose every part is answered (an answer covering only ① is visible here).
        "all_parts_answered": _ratio(sum(r.parts_answered == len(r.parts) for r in with_parts), len(with_parts)),
    }


def summarize_parts(results: Sequence[ItemResult]) -> dict[str, Any]:
    """Part-level figures over the items answered as multi-part messages (``meta["parts"]``):
    parts answered (not abstained) / parts asked, overall and per category."""
    out = _parts_figures(results)
    cats: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        if r.parts:
            cats[r.category].append(r)
    out["by_category"] = {cat: _parts_figures(rs) for cat, rs in sorted(cats.items())}
    return out
