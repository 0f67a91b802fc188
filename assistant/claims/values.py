"""The checkable values of a text: numbers, years, dates, e-mail addresses, URLs and names.

Every value an answer states must belong to a claim (:mod:`assistant.claims.model`); this module
finds them with their positions, so the same finder serves the answerers (to attribute), the
verifier (to check that nothing is left unclaimed) and the LLM guard.

Positions are offsets into the NFKC form of the text (answers are NFKC already). A value's
``key`` is its comparison form: a year as its western fiscal year (``R4`` and ``2022年度`` both
``year:2022``), an amount in yen units where it has a scale (``4.0億円`` -> ``number:400000000``),
otherwise the digits without separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Literal

from assistant.normalize import find_years, kanji_number, nfkc

ValueKind = Literal["number", "year", "date", "email", "url", "name"]

EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
URL = re.compile(r"https?://[^\s「」『』（）()<>、。]+")
# 10月27日, 2022年10月27日, 10/27(木) — the year part is found separately as a year.
DATE = re.compile(r"(?<![0-9])(1[0-2]|0?[1-9])月(3[01]|[12][0-9]|0?[1-9])日")
# Fractions and ranges stay whole: 補助率1/2 does not support 2/2, 年2～3回 not 3～3.
COMPOUND = re.compile(r"(?<![0-9.])[0-9]+(?:\.[0-9]+)?(?:\s?[/~〜]\s?[0-9]+(?:\.[0-9]+)?)+(?![0-9])")
# The end of a fiscal year in calendar form: 2026年3月末 (R7年度末).
MONTH_END = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})年(1[0-2]|0?[1-9])月末")
# 1,000 / 4.0 / 12 with an optional scale (万 億 兆) — a figure, not part of a longer token.
NUMBER = re.compile(r"(?<![0-9A-Za-z.])([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?\s?([万億兆]*)")
# Kanji numerals used as quantities: 三件, 二十人 (not 一部, 一覧: a counter must follow).
KANJI_NUMBER = re.compile(r"(?<![一-龥々])([〇一二三四五六七八九十百千]+)(?=(?:件|人|名|回|団体|事業|自治体|か所|年|か月|日|社|校))")
# Enumeration labels are structure, not values: circled numbers, and a line's leading 1. / (1) / 1)
LIST_LABEL = re.compile(r"[\u2460-\u2473\u24f5-\u24fe\u2776-\u277f]|(?m:^[ \t]*(?:\(\d{1,2}\)|\d{1,2}[.)．）](?![0-9])))")
SCALE = {"": 1, "万": 10**4, "億": 10**8, "兆": 10**12, "万億": 10**12}
# Names: the shortest run of kanji/katakana ending in a suffix that names a place or an
# organisation (北海道岩見沢市 is 岩見沢市 after the prefecture; 内閣府地方創生推進事務局 is two).
NAME = re.compile(r"[一-龥々〆ヵヶァ-ヴー]{1,14}?(?:府|県|市|町|村|区|省|庁|局)")
# Words that end like a name but name nothing in particular (都市, 同市, 各府省, 関係省庁 …).
GENERIC_NAME_STEMS = frozenset(
    "各 同 本 当 全 他 当該 都 道 関係 市 町 村 県 府 省 区 政令 中核 指定 指定都 近隣 周辺 地元 隣接 地方 国 "
    "関係府 各府 府省 省 一部 複数 対象 都道 都道府 市区 市区町 都市 者 年度 結".split()
)


_PREFECTURE = re.compile("|".join(sorted(
    resources.files("assistant").joinpath("data/prefectures.txt").read_text(encoding="utf-8").split(),
    key=len, reverse=True)))


@dataclass(frozen=True)
class Value:
    """One value of a text: its kind, its exact surface, its span and its comparison key."""

    kind: ValueKind
    surface: str
    start: int
    end: int
    key: str

    @property
    def number(self) -> Decimal | None:
        """The numeric value of a number or year (None for the other kinds)."""
        if self.kind not in ("number", "year"):
            return None
        try:
            return Decimal(self.key.split(":", 1)[1])
        except InvalidOperation:  # a fraction or a range (1/2, 2~3)
            return None


def written_figure(surface: str) -> Decimal | None:
    """The figure as written, without its scale: ``4.0億`` -> 4.0, ``1,000`` -> 1000."""
    m = re.search(r"[0-9][0-9,]*(?:\.[0-9]+)?", nfkc(surface))
    try:
        return Decimal(m.group(0).replace(",", "")) if m else None
    except InvalidOperation:
        return None


def number_key(digits: str, fraction: str = "", scale: str = "") -> str:
    """``number:`` key of a figure: ``1,000`` -> ``number:1000``; ``4.0億`` -> ``number:400000000``."""
    try:
        value = Decimal(digits.replace(",", "") + (fraction or "")) * SCALE.get(scale, 1)
    except InvalidOperation:
        return f"number:{digits}{fraction}"
    return f"number:{normalize_decimal(value)}"


def normalize_decimal(value: Decimal | float | int) -> str:
    """``Decimal('4.00')`` -> ``'4'``; ``0.55`` -> ``'0.55'`` (no exponent, no trailing zeros)."""
    d = Decimal(str(value)).normalize()
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def find_values(text: str, names: bool = True) -> list[Value]:
    """The values of ``text`` in order (NFKC offsets); overlapping finds keep the more specific
    kind (an e-mail address is not also a number; ``R4年度`` is a year, not the number 4)."""
    # Circled labels are masked before NFKC (which would make ① a 1); both keep their length.
    t = nfkc(re.sub(r"[\u2460-\u2473\u24f5-\u24fe\u2776-\u277f]", "・", text))
    found: list[Value] = []
    taken: list[tuple[int, int]] = [(m.start(), m.end()) for m in LIST_LABEL.finditer(t)]

    def add(kind: ValueKind, start: int, end: int, key: str) -> None:
        if start < end and not _overlaps((start, end), taken):
            found.append(Value(kind, t[start:end], start, end, key))
            taken.append((start, end))

    for m in URL.finditer(t):
        add("url", m.start(), m.end(), "url:" + m.group(0).rstrip("/").casefold())
    for m in EMAIL.finditer(t):
        add("email", m.start(), m.end(), "email:" + m.group(0).casefold())
    for m in MONTH_END.finditer(t):
        add("date", m.start(), m.end(), f"date:{int(m.group(1))}-{int(m.group(2))}-end")
    for m in DATE.finditer(t):
        add("date", m.start(), m.end(), f"date:{int(m.group(1))}-{int(m.group(2))}")
    for m in COMPOUND.finditer(t):
        add("number", m.start(), m.end(), "number:" + re.sub(r"\s", "", m.group(0)).replace("〜", "~"))
    for y in find_years(t):
        add("year", y.start, y.end, f"year:{y.year}")
    for m in NUMBER.finditer(t):
        digits, fraction, scale = m.group(1), m.group(2) or "", m.group(3)
        end = m.end() if scale else m.start(2) + len(fraction) if fraction else m.end(1)
        add("number", m.start(), end, number_key(digits, fraction, scale))
    for m in KANJI_NUMBER.finditer(t):
        n = kanji_number(m.group(1))
        if n is not None:
            add("number", m.start(), m.end(), f"number:{n}")
    if names:
        masked = t
        for m in _PREFECTURE.finditer(t):
            add("name", m.start(), m.end(), "name:" + m.group(0))
            masked = masked[:m.start()] + "・" * (m.end() - m.start()) + masked[m.end():]
        for m in NAME.finditer(masked):
            stem = m.group(0)
            core = re.sub(r"[都道府県市町村区省庁局]+$", "", stem)
            if len(stem) >= 3 and core and core not in GENERIC_NAME_STEMS and not core.endswith(("都市", "地方")):
                add("name", m.start(), m.end(), "name:" + stem)
    found.sort(key=lambda v: v.start)
    return found


def value_keys(text: str, names: bool = True) -> dict[str, list[Value]]:
    """The values of ``text`` grouped by key (to ask "does this quote state that value?")."""
    out: dict[str, list[Value]] = {}
    for v in find_values(text, names=names):
        out.setdefault(v.key, []).append(v)
    return out
