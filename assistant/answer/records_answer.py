"""Turn a records-engine result into a cited :class:`Answer`."""

from __future__ import annotations

from collections.abc import Callable

from assistant.answer import ABSTAIN_PHRASE
from assistant.claims.model import Computation
from assistant.records.result import RecordComputation, RecordResult
from assistant.types import Answer, Citation


def record_citations(result: RecordResult, title: Callable[[str], str], limit: int = 60) -> list[Citation]:
    """One citation per distinct row (source, quote), in the result's order, at most ``limit``."""
    seen: set[tuple[str, str]] = set()
    cites: list[Citation] = []
    for row in [*result.rows, *(r for c in result.computed for r in c.rows)]:
        key = (row.source, row.quote)
        if key in seen:
            continue
        seen.add(key)
        cites.append(Citation(row.source, row.locator, row.quote, title(row.source)))
        if len(cites) >= limit:
            break
    return cites


def computations(result: RecordResult, cites: list[Citation]) -> list[Computation]:
    """The engine's computed figures with the indexes of the cited rows they used."""
    index = {(c.source, c.quote): i for i, c in enumerate(cites)}
    out = []
    for c in result.computed:
        rows = tuple(dict.fromkeys(index[(r.source, r.quote)] for r in c.rows if (r.source, r.quote) in index))
        out.append(_typed(c, rows))
    return out


def _typed(c: RecordComputation, rows: tuple[int, ...]) -> Computation:
    return Computation(c.operation, c.value, c.inputs, rows, c.working)


def records_answer(question: str, result: RecordResult, title: Callable[[str], str]) -> Answer:
    if result.status == "abstain" and result.text:
        # The table says what it does have (「…の目標は2023年度95%…で、2027年度の値は資料にありません」).
        cites = record_citations(result, title)
        return Answer(question, f"{ABSTAIN_PHRASE}。{result.text}", cites, abstained=True, route="records",
                      reason="records", computations=computations(result, cites),
                      meta={"filters": result.filters, "status": "abstain"})
    if result.status == "abstain":
        cond = "、".join(result.filters)
        text = f"{ABSTAIN_PHRASE}。" + (f"（{cond}）" if cond else "")
        return Answer(question, text, [], abstained=True, route="records", reason="records",
                      meta={"filters": result.filters})
    cites = record_citations(result, title)
    return Answer(question, result.text, cites, abstained=False, route="records",
                  computations=computations(result, cites),
                  meta={"filters": result.filters, "numbers": result.numbers, "status": result.status})
