"""Turn a records-engine result into a cited :class:`Answer`."""

from __future__ import annotations

from collections.abc import Callable

from assistant.answer import ABSTAIN_PHRASE
from assistant.records.result import RecordResult
from assistant.types import Answer, Citation


def record_citations(result: RecordResult, title: Callable[[str], str], limit: int = 60) -> list[Citation]:
    seen: set[tuple[str, str]] = set()
    cites: list[Citation] = []
    for row in result.rows:
        key = (row.source, row.quote)
        if key in seen:
            continue
        seen.add(key)
        cites.append(Citation(row.source, row.locator, row.quote, title(row.source)))
        if len(cites) >= limit:
            break
    return cites


def records_answer(question: str, result: RecordResult, title: Callable[[str], str]) -> Answer:
    if result.status == "abstain" and result.text:
        # The table says what it does have (「…の目標は2023年度95%…で、2027年度の値は資料にありません」).
        return Answer(question, f"{ABSTAIN_PHRASE}。{result.text}", record_citations(result, title),
                      abstained=True, route="records", meta={"filters": result.filters, "status": "abstain"})
    if result.status == "abstain":
        cond = "、".join(result.filters)
        text = f"{ABSTAIN_PHRASE}。" + (f"（{cond}）" if cond else "")
        return Answer(question, text, [], abstained=True, route="records",
                      meta={"filters": result.filters})
    return Answer(question, result.text, record_citations(result, title), abstained=False, route="records",
                  meta={"filters": result.filters, "numbers": result.numbers, "status": result.status})
