"""The one verifier of answers' claims, used by tests, by ``assistant eval`` and by the LLM guard.

It re-reads what it checks: the values are found again in the answer's text, quotes are looked
up in the source files through its own :class:`~assistant.source_files.SourceFiles` (not the
answerer's cache), computed claims are recomputed from their inputs and converted claims are
converted back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Protocol

from assistant.claims.attribute import QuoteIndex, _with_unit, compact, fiscal_year_of_month_end, restates
from assistant.claims.model import Claim, Problem
from assistant.claims.values import find_values, number_key, written_figure
from assistant.normalize import nfkc, parse_fiscal_year


class _Cited(Protocol):
    source: str
    quote: str
    locator: str


def stated_text(citation: _Cited) -> str:
    """What a citation states: its quote, and the place shown with it (a heading such as
    「1 シンポジウムの開催」 or 「…一覧 (R4.12 時点)」 is text of the source too)."""
    return f"{citation.quote}\n{citation.locator}" if citation.locator else citation.quote


class Verifiable(Protocol):
    """What the verifier reads of an answer (``assistant.types.Answer`` has all of it)."""

    question: str
    history: Sequence[str]
    text: str
    citations: Sequence[_Cited]
    claims: Sequence[Claim]


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        year = parse_fiscal_year(text)
        return Decimal(year) if year is not None else None


def recompute(claim: Claim) -> Decimal | None:
    """The value ``claim.operation`` gives on ``claim.inputs`` (None when the inputs are not figures).

    Computed here on purpose, apart from the records engine's own arithmetic
    (``assistant.records.result.combined``): the check must not reuse the code it checks."""
    op, inputs = claim.operation, claim.inputs
    if op == "count":
        return Decimal(len(set(inputs)))
    figures = [_number(i) for i in inputs]
    if not figures or any(f is None for f in figures):
        return None
    nums: list[Decimal] = [f for f in figures if f is not None]
    if op == "sum":
        return sum(nums, Decimal(0))
    if op == "difference":
        return nums[0] - sum(nums[1:], Decimal(0))
    if op == "max":
        return max(nums)
    if op == "min":
        return min(nums)
    if op == "add_years" and len(nums) == 2:
        return nums[0] + nums[1] - 1
    if op == "year_span" and len(nums) == 2:
        return nums[1] - nums[0] + 1
    return None


def _quote_states(claim: Claim, text: str, quote: str) -> bool:
    q = QuoteIndex(quote)
    if claim.value_kind in ("name", "email", "url"):
        return q.states_literally(claim.text)
    if claim.value_kind == "number" and q.states_literally(_with_unit(text, _as_value(claim)), figure=True):
        return True
    return bool(q.same_key(claim.key, None)) or q.states_literally(claim.text)


def _as_value(claim: Claim):
    from assistant.claims.values import Value

    return Value(claim.value_kind, claim.text, claim.start, claim.end, claim.key)


def _converted_ok(claim: Claim) -> bool:
    if claim.rule == "era":
        year = parse_fiscal_year(claim.source_value)
        return year is not None and f"year:{year}" == claim.key
    if claim.rule == "scale":
        values = find_values(claim.source_value, names=False)
        return bool(values) and values[0].key == claim.key
    return False


def _compacted(source_text: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """``source_text`` in comparison form, each file compacted once per verification."""
    seen: dict[str, str | None] = {}

    def read(source: str) -> str | None:
        if source not in seen:
            text = source_text(source)
            seen[source] = compact(text) if text is not None else None
        return seen[source]

    return read


def verify(answer: Verifiable, source_text: Callable[[str], str | None] | None = None) -> list[Problem]:
    """Problems of ``answer``'s claims (empty: every value is claimed and every claim holds).

    ``source_text(source)`` gives a cited file's text (NFKC) or None; without it quotes are not
    checked against their files (the pure checks still run)."""
    text = nfkc(answer.text)
    problems: list[Problem] = []
    spans = {(c.start, c.end): c for c in answer.claims}
    if len(spans) < len(answer.claims):
        problems.append(Problem("overlap", "", "two claims share one span"))
    for v in find_values(answer.text):  # raw: list labels (①) are masked before NFKC
        claim = spans.get((v.start, v.end))
        if claim is None or claim.key != v.key:
            problems.append(Problem("unclaimed", v.surface, v.kind, v.start))
    read = _compacted(source_text) if source_text is not None else None
    for c in answer.claims:
        if c.kind == "restated":
            asked = QuoteIndex("\n".join([answer.question, *answer.history]))
            if not restates(asked, _as_value(c)):
                problems.append(Problem("quote_mismatch", c.text, "restated but not in the question", c.start))
            continue
        if c.rule == "fiscal_year":
            fy = parse_fiscal_year(c.source_value)
            if fy is None or fiscal_year_of_month_end(c.key) != fy or not any(
                    o.key == f"year:{fy}" and o.text == c.source_value for o in answer.claims):
                problems.append(Problem("conversion_mismatch", c.text, f"fiscal_year: {c.source_value}", c.start))
            continue
        problems.extend(_check(c, text, answer.citations, read))
    return problems


def _check(c: Claim, text: str, citations: Sequence[_Cited], source_text) -> list[Problem]:
    if text[c.start:c.end] != c.text:
        return [Problem("unclaimed", c.text, "claim span does not hold its text", c.start)]
    if any(i < 0 or i >= len(citations) for i in c.citations):
        return [Problem("bad_citation", c.text, f"citation index out of range: {c.citations}", c.start)]
    out: list[Problem] = []
    if c.kind == "quoted":
        if len(c.citations) != 1:
            return [Problem("bad_citation", c.text, "a quoted claim carries exactly one citation", c.start)]
        cite = citations[c.citations[0]]
        if not _quote_states(c, text, stated_text(cite)):
            out.append(Problem("quote_mismatch", c.text, f"not in its quote: {cite.quote[:60]}", c.start))
    elif c.kind == "computed":
        got = recompute(c)
        wants = {_number(c.key.split(":", 1)[1]), written_figure(c.text)} - {None}
        if got is None or got not in wants:
            out.append(Problem("recompute_mismatch", c.text, f"{c.operation}({', '.join(c.inputs)}) = {got}", c.start))
    else:
        cite = citations[c.citations[0]] if c.citations else None
        if not _converted_ok(c):
            out.append(Problem("conversion_mismatch", c.text, f"{c.rule}: {c.source_value}", c.start))
        elif cite is None or not QuoteIndex(stated_text(cite)).states_literally(c.source_value):
            out.append(Problem("quote_mismatch", c.text, f"converted from a value not in its quote: {c.source_value}",
                               c.start))
    if source_text is not None:
        for i in c.citations:
            cite = citations[i]
            src = source_text(cite.source)
            if src is None or compact(cite.quote) not in src:
                out.append(Problem("quote_not_in_source", c.text, f"{cite.source}: {cite.quote[:40]}", c.start))
    return out


__all__ = ["Problem", "recompute", "verify", "number_key"]
