"""Attribute every value of an answer's text to a claim: quoted, computed or converted.

The same attribution serves the deterministic answerers (their quotes and declared
computations) and the LLM guard (the model's text against the evidence it was given): a value
nothing supports comes back in :attr:`Attribution.unsupported`, never as a claim.

Order of preference for a figure: the quote states it with the same unit (quoted) > the
answerer computed it (computed) > a quote states the same quantity bare or in another unit of
the same kind (quoted) > another spelling of a quoted value (converted: era years, 万/億 scale).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from assistant.claims.model import Attribution, Claim, Computation
from assistant.claims.values import Value, find_values, written_figure
from assistant.normalize import nfkc

# Unit classes: a figure keeps its kind of quantity (12事業 is not supported by 5月12日).
_UNITS = [(cls, re.compile(rx)) for cls, rx in (
    ("duration", r"か月|ヶ月|カ月|週間|日間|時間"), ("year", r"年"), ("month", r"月"),
    ("day", r"日"), ("money", r"[万億兆]*円"), ("percent", r"%|パーセント|割"), ("people", r"人|名"),
    ("count", r"件|事業|団体|自治体|地域|か所|カ所|ヶ所|箇所|社|個|つ|市町村|市|町|村|校|回|種|項目|者|都道府県|府省"),
)]


def unit_word(after: str) -> tuple[str | None, str]:
    """The kind of quantity a figure is followed by and the unit word (``after`` is the text
    right after the figure): ``件です`` -> ``("count", "件")``; no unit -> ``(None, "")``."""
    stripped = after.lstrip()
    for cls, rx in _UNITS:
        m = rx.match(stripped)
        if m:
            return cls, after[: len(after) - len(stripped)] + m.group(0)
    return None, ""


def unit_class(after: str) -> str | None:
    return unit_word(after)[0]


def compact(text: str) -> str:
    """Comparison form of a surface: NFKC, no blanks, no thousands separators."""
    t = re.sub(r"(?<=[0-9]),(?=[0-9]{3})", "", nfkc(text))
    return re.sub(r"\s+", "", t)


@dataclass(frozen=True)
class _Occurrence:
    value: Value
    unit: str | None


class QuoteIndex:
    """The values of one quote, by key, with the unit each is written with."""

    def __init__(self, quote: str) -> None:
        self.text = nfkc(quote)
        self.compact = compact(quote)
        self.by_key: dict[str, list[_Occurrence]] = {}
        for v in find_values(self.text):
            unit = unit_class(self.text[v.end:v.end + 6])
            self.by_key.setdefault(v.key, []).append(_Occurrence(v, unit))
            if v.kind == "number" and "~" in v.key and unit == "year":  # 2022～2026年度: both years
                for y in re.findall(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])", v.surface):
                    self.by_key.setdefault(f"year:{y}", []).append(_Occurrence(Value("year", y, v.start, v.end,
                                                                                     f"year:{y}"), None))

    @cached_property
    def casefolded(self) -> str:
        return self.compact.casefold()

    @cached_property
    def kana(self) -> str:
        """The quote's hiragana written as katakana (to compare with readings)."""
        return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in self.compact)

    def states_literally(self, surface: str, figure: bool = False) -> bool:
        """The quote contains ``surface`` (compared compactly); a figure must not continue a
        longer one (``1件`` is not in ``11件``)."""
        s = compact(surface)
        if not s:
            return False
        if figure:
            tail = r"(?![0-9]|\.[0-9])" if s[-1].isdigit() else ""
            return re.search(rf"(?<![0-9.]){re.escape(s)}{tail}", self.compact) is not None
        return s in self.compact or s.casefold() in self.casefolded

    def same_key(self, key: str, unit: str | None) -> list[Value]:
        """Occurrences of ``key`` whose unit is compatible with ``unit`` (either may be bare)."""
        return [o.value for o in self.by_key.get(key, ()) if unit is None or o.unit is None or o.unit == unit]


def _with_unit(text: str, v: Value) -> str:
    """The figure with the unit word right after it (``9件``, ``4.0億円``), for literal matching."""
    return v.surface + unit_word(text[v.end:v.end + 8])[1]


_SEGMENT = re.compile(r"[^、。\n/／]+")


def _context(t: str, v: Value, values: Sequence[Value]) -> set[str]:
    """Keys of the other values in the same list item or line as ``v`` (「埼玉県秩父市（R2）」):
    they tell which of several rows stating the same value the answer is reading."""
    for pattern in (_SEGMENT, re.compile(r"[^\n]+")):
        for m in pattern.finditer(t):
            if m.start() <= v.start < m.end():
                keys = {o.key for o in values if m.start() <= o.start < m.end() and o is not v}
                if keys:
                    return keys
                break
    return set()


def _best(indexes: list[int], quotes: Sequence[QuoteIndex], context: set[str] = frozenset()) -> int:
    """The quote sharing most of the value's context, then the most specific (the shortest)."""
    return min(indexes, key=lambda i: (-len(context & quotes[i].by_key.keys()), len(quotes[i].text), i))


def attribute(text: str, quotes: Sequence[str], computations: Sequence[Computation] = (),
              restated: str = "") -> Attribution:
    """Claims for every value of ``text`` given the cited ``quotes`` (index = citation index),
    the ``computations`` the answerer declares and the user's words it may give back
    (``restated``: the question)."""
    t = nfkc(text)
    idx = [QuoteIndex(q) for q in quotes]
    asked = QuoteIndex(restated) if restated else None
    out = Attribution()
    values = find_values(text)  # raw: list labels (①) are masked before NFKC
    for v in values:
        claim = _claim(t, v, idx, computations, _context(t, v, values))
        if claim is None and asked is not None and restates(asked, v):
            claim = Claim("restated", v.kind, v.surface, v.start, v.end, v.key)
        if claim is None:
            claim = _fiscal_year_end(v, out.claims)
        if claim is None:
            out.unsupported.append(Claim("quoted", v.kind, v.surface, v.start, v.end, v.key))
        else:
            out.claims.append(claim)
    return out


def restates(asked: QuoteIndex, v: Value) -> bool:
    """The user's text has this value: as written, a year or figure in another spelling, or a
    place name typed in kana (おきなわ for 沖縄県: the same Sudachi reading)."""
    if asked.states_literally(v.surface, v.kind == "number"):
        return True
    if v.kind in ("year", "number", "date"):
        return bool(asked.same_key(v.key, None))
    if v.kind == "name":
        from assistant.tokenize import reading

        stem = re.sub(r"[都道府県市町村区]$", "", v.surface)
        said = asked.kana
        return len(stem) >= 2 and bool(said) and reading(stem) in said
    return False


def fiscal_year_of_month_end(key: str) -> int | None:
    """``date:2026-3-end`` -> 2025 (the fiscal year that ends then), else None."""
    m = re.fullmatch(r"date:([0-9]{4})-3-end", key)
    return int(m.group(1)) - 1 if m else None


def _fiscal_year_end(v: Value, claims: Sequence[Claim]) -> Claim | None:
    """「R7年度末（2026年3月末）」: the calendar month converts a fiscal year the answer states."""
    fy = fiscal_year_of_month_end(v.key)
    source = next((c for c in reversed(claims) if fy is not None and c.key == f"year:{fy}"), None)
    if source is None:
        return None
    return Claim("converted", v.kind, v.surface, v.start, v.end, v.key, citations=source.citations,
                 rule="fiscal_year", source_value=source.text)


def _claim(t: str, v: Value, idx: Sequence[QuoteIndex], computations: Sequence[Computation],
           context: set[str] = frozenset()) -> Claim | None:
    base = {"value_kind": v.kind, "text": v.surface, "start": v.start, "end": v.end, "key": v.key}
    figure = v.kind == "number"
    surface = _with_unit(t, v) if figure else v.surface
    literal = [i for i, q in enumerate(idx) if q.states_literally(surface, figure)]
    if v.kind in ("name", "email", "url", "date"):
        hits = literal or ([i for i, q in enumerate(idx) if q.same_key(v.key, None)] if v.kind == "date" else [])
        return Claim("quoted", citations=(_best(hits, idx, context),), **base) if hits else None
    if literal:
        return Claim("quoted", citations=(_best(literal, idx, context),), **base)
    # A year is computed only as a year (R4 = 2018 + 5 − 1), never as a count that equals its era number.
    figures = {v.number} if v.kind == "year" else {v.number, written_figure(v.surface)} - {None}
    year_ops = ("add_years", "max", "min")
    for c in computations:
        if c.value in figures and (v.kind != "year" or c.operation in year_ops):
            return Claim("computed", citations=c.rows, operation=c.operation, inputs=c.inputs, working=c.working, **base)
    unit = unit_class(t[v.end:v.end + 6]) if v.kind == "number" else None
    same = [(i, o) for i, q in enumerate(idx) for o in q.same_key(v.key, unit)]
    if not same:
        return None
    i, source = min(same, key=lambda io: (-len(context & idx[io[0]].by_key.keys()), len(idx[io[0]].text), io[0]))
    if compact(source.surface) == compact(v.surface) or v.kind == "number" and _digits(source) == _digits(v):
        return Claim("quoted", citations=(i,), **base)
    rule = "era" if v.kind == "year" else "scale"
    return Claim("converted", citations=(i,), rule=rule, source_value=source.surface, **base)


def _digits(v: Value) -> str:
    return re.sub(r"[^0-9.]", "", compact(v.surface))
