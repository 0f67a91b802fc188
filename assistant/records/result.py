"""The result of a records query, and the year helpers every table's answers share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.normalize import western_to_era, western_to_era_full
from assistant.records.query import YearRef
from assistant.records.schema import RecordBase

BOUND_TEXT = {"eq": "", "until": "まで", "since": "以降", "range": "から"}


@dataclass
class RecordResult:
    status: str  # answer | empty | abstain
    text: str
    rows: list[RecordBase] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # computed figures (counts, totals)
    filters: list[str] = field(default_factory=list)


def year_label(y: int) -> str:
    return f"{western_to_era(y)}（{western_to_era_full(y)}・{y}年度）"


def year_ok(value: int | None, refs: list[YearRef]) -> bool:
    if not refs:
        return True
    if value is None:
        return False
    for r in refs:
        if (r.bound == "eq" and value == r.year) or (r.bound == "until" and value <= r.year) or (
            r.bound == "since" and value >= r.year
        ) or (r.bound == "range" and r.until is not None and r.year <= value <= r.until):
            return True
    return False


def year_ref_label(r: YearRef) -> str:
    if r.bound == "range" and r.until is not None:
        return f"{year_label(r.year)}から{year_label(r.until)}まで"
    return year_label(r.year) + BOUND_TEXT.get(r.bound, "")


def has_year_question(text: str) -> bool:
    return bool(re.search(r"何年度|どの年度|いつ|年度は|年度\?|which year|what year", text, re.IGNORECASE))

