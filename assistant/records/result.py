"""The result of a records query, and the year helpers every table's answers share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from assistant.claims.model import Operation
from assistant.claims.values import find_values
from assistant.normalize import western_to_era, western_to_era_full
from assistant.records.query import YearRef
from assistant.records.schema import RecordBase

BOUND_TEXT = {"eq": "", "until": "まで", "since": "以降", "range": "から"}


def record_key(row: RecordBase) -> str:
    """A row's identity for counting: its table and key (``Project:12``, ``Kpi:digital-impl-2024``)."""
    key = next((getattr(row, k) for k in ("no", "program_id", "kpi_id", "event_id", "fact_id") if hasattr(row, k)), None)
    if key is None or type(row).__name__ == "ProgramSelection":
        key = f"{getattr(row, 'program_id', '')}:{getattr(row, 'fiscal_year', '')}:{row.quote}"
    return f"{type(row).__name__}:{key}"


@dataclass(frozen=True)
class RecordComputation:
    """A figure the engine computed, with the rows it used (they become the claim's citations)."""

    operation: Operation
    value: Decimal
    inputs: tuple[str, ...]
    rows: tuple[RecordBase, ...] = ()
    working: str = ""


def count_of(rows: Iterable[RecordBase], working: str = "", keys: Sequence[str] | None = None) -> RecordComputation:
    """The number of distinct rows (or of ``keys``, e.g. the distinct programs of some rows)."""
    rows = tuple(rows)
    inputs = tuple(dict.fromkeys(keys if keys is not None else (record_key(r) for r in rows)))
    return RecordComputation("count", Decimal(len(inputs)), inputs, rows, working)


def combined(operation: Operation, figures: Sequence[Decimal | int | float | str], rows: Iterable[RecordBase] = (),
             working: str = "") -> RecordComputation:
    """``operation`` (sum, difference, max, min, add_years, year_span) over ``figures``, computed here."""
    nums = [Decimal(str(f)) for f in figures]
    if operation == "sum":
        value = sum(nums, Decimal(0))
    elif operation == "difference":
        value = nums[0] - sum(nums[1:], Decimal(0))
    elif operation == "max":
        value = max(nums)
    elif operation == "min":
        value = min(nums)
    elif operation == "add_years":
        value = nums[0] + nums[1] - 1
    elif operation == "year_span":
        value = nums[1] - nums[0] + 1
    else:
        raise ValueError(f"not a combination: {operation}")
    return RecordComputation(operation, value, tuple(str(f) for f in figures), tuple(rows), working)


def quantity_of(text: str) -> Decimal:
    """The quantity a written figure stands for, as answers compare figures (``4.0億円`` ->
    400000000, ``3万人`` -> 30000, ``95%`` -> 95): the inputs of sums and differences of amounts."""
    for v in find_values(text, names=False):
        if v.kind == "number" and v.number is not None:
            return v.number
    raise ValueError(f"not a figure: {text!r}")


@dataclass
class RecordResult:
    status: str  # answer | empty | abstain
    text: str
    rows: list[RecordBase] = field(default_factory=list)
    computed: list[RecordComputation] = field(default_factory=list)  # counts, totals, differences
    filters: list[str] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        """The computed figures as text (what the evaluation lists as declared)."""
        return [format(c.value.normalize(), "f") for c in self.computed]


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

