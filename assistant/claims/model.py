"""Typed claims: what each value of an answer rests on.

An answer's text is read as claims, one per value it states (:mod:`assistant.claims.values`):

- *quoted*: the value is read from a source; ``citations`` holds the index of the citation whose
  quote contains it (the cell or sentence, not the row header);
- *computed*: the value is the result of ``operation`` over ``inputs`` (a count of rows, a sum,
  a difference, a maximum …); ``citations`` are the cited rows it used and ``working`` says it in
  words for the reader (「9件 = 採択年度R2 かつ 自動運転 の行を数えた結果」);
- *converted*: the value is another spelling of a quoted one under ``rule`` (``era``: R4 ↔
  2022年度 ↔ 令和4年度; ``scale``: 4.0億円 ↔ 40,000万円); ``source_value`` is the quoted form;
- *restated*: not a fact but the user's own words given back (a question's number 「2.」, a name
  the documents lack: 「…についての記載が見当たりません」); it must occur in the question. Used
  only when no quote, computation or conversion holds the value, and never for generated text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from assistant.claims.values import ValueKind, normalize_decimal

ClaimKind = Literal["quoted", "computed", "converted", "restated"]
Operation = Literal["count", "sum", "difference", "max", "min", "add_years", "year_span"]
Rule = Literal["era", "scale", "fiscal_year"]


@dataclass(frozen=True)
class Computation:
    """A figure an answerer computed: ``value`` = ``operation``(``inputs``).

    ``inputs`` are the distinct row keys counted (``count``) or the figures combined (the
    others, in order: ``difference`` is inputs[0] − inputs[1] − …, ``add_years`` adds a length
    in years to a year: inputs[0] + inputs[1] − 1, ``year_span`` counts the years from inputs[0]
    to inputs[1] inclusive). ``rows`` are the citation indexes of the rows used."""

    operation: Operation
    value: Decimal
    inputs: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()
    working: str = ""

    @property
    def value_text(self) -> str:
        return normalize_decimal(self.value)


@dataclass(frozen=True)
class Claim:
    """One value of an answer's text and what it rests on (see the module docstring)."""

    kind: ClaimKind
    value_kind: ValueKind
    text: str  # the value as the answer writes it
    start: int
    end: int
    key: str  # comparison key of the value (assistant.claims.values)
    citations: tuple[int, ...] = ()  # indexes into Answer.citations
    operation: Operation | None = None
    inputs: tuple[str, ...] = ()
    working: str = ""
    rule: Rule | None = None
    source_value: str = ""  # converted: the quoted spelling it converts from

    def to_json(self) -> dict[str, object]:
        """The ``claims`` item of ``ask --jsonl`` (kind, text, value, citation indexes, operation)."""
        out: dict[str, object] = {"kind": self.kind, "text": self.text, "value": self.key.split(":", 1)[1],
                                  "value_kind": self.value_kind, "span": [self.start, self.end],
                                  "citations": list(self.citations)}
        if self.operation:
            out.update(operation=self.operation, inputs=list(self.inputs), working=self.working)
        if self.rule:
            out.update(rule=self.rule, source_value=self.source_value)
        return out


@dataclass(frozen=True)
class Problem:
    """Something the verifier could not accept: its kind, the value concerned and why."""

    kind: Literal["unclaimed", "overlap", "quote_mismatch", "quote_not_in_source", "bad_citation",
                  "recompute_mismatch", "conversion_mismatch", "unsupported"]
    value: str
    detail: str = ""
    start: int = -1


@dataclass
class Attribution:
    """The claims of a text and the values nothing supports (in text order)."""

    claims: list[Claim] = field(default_factory=list)
    unsupported: list[Claim] = field(default_factory=list)
