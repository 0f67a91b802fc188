"""Text normalization used by every stage: NFKC, Japanese era years, synonyms."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# Era name -> western year of era year 1.
ERA_BASE = {"令和": 2018, "平成": 1988, "昭和": 1925, "R": 2018, "H": 1988, "S": 1925}
ERA_LETTER = {"令和": "R", "平成": "H", "昭和": "S"}
_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def match_key(text: str) -> str:
    """Normalization for comparing strings (qa-format): NFKC, casefold, no whitespace or ','."""
    return re.sub(r"[\s,]", "", nfkc(text).casefold())


def kanji_number(s: str) -> int | None:
    """Parse 元, arabic digits or simple kanji numerals (一..九十九) into an int."""
    s = s.strip()
    if not s:
        return None
    if s == "元":
        return 1
    if s.isdigit():
        return int(s)
    if all(c in _KANJI_DIGITS or c == "十" for c in s):
        if "十" not in s:
            return int("".join(str(_KANJI_DIGITS[c]) for c in s))
        tens, _, ones = s.partition("十")
        t = _KANJI_DIGITS[tens] if tens else 1
        o = _KANJI_DIGITS[ones] if ones else 0
        return t * 10 + o
    return None


# 令和4年度, 令和元年度, R4年度, R4, H30, Ｒ４, 令和四年度. The era letter must not be glued to
# ASCII letters/digits (so "HR4" or "R4.12" as a month are handled separately).
_NUM = r"(元|[0-9]{1,2}|[一二三四五六七八九十]{1,3})"
ERA_RE = re.compile(
    rf"(?<![A-Za-z0-9])(令和|平成|昭和|R|H|S)\s?{_NUM}(?![0-9])(?!\.[0-9])(?:\s?(年度|年))?"
)
WESTERN_FY_RE = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})\s?(年度|年)")
FY_EN_RE = re.compile(r"\bFY\s?((?:19|20)[0-9]{2})\b", re.IGNORECASE)


@dataclass(frozen=True)
class YearMention:
    start: int
    end: int
    year: int  # western (fiscal) year
    text: str
    fiscal: bool  # True when written as 年度 / era without 年 / FY


def era_to_western(era: str, n: int) -> int:
    return ERA_BASE[era] + n


def western_to_era(year: int) -> str:
    """2022 -> 'R4', 2018 -> 'H30', 2019 -> 'R1' (fiscal years: R1 = FY2019)."""
    if year >= 2019:
        return f"R{year - 2018}"
    if year >= 1989:
        return f"H{year - 1988}"
    return f"S{year - 1925}"


def western_to_era_full(year: int) -> str:
    """2022 -> '令和4年度', 2019 -> '令和元年度'."""
    label = western_to_era(year)
    name = {"R": "令和", "H": "平成", "S": "昭和"}[label[0]]
    n = int(label[1:])
    return f"{name}{'元' if n == 1 else n}年度"


def find_years(text: str) -> list[YearMention]:
    """All year mentions in ``text`` (NFKC applied first), in order."""
    t = nfkc(text)
    found: list[YearMention] = []
    for m in ERA_RE.finditer(t):
        n = kanji_number(m.group(2))
        if n is None or n == 0 or n > 64:
            continue
        era = m.group(1)
        # A bare letter needs a 年度/年 suffix or a short number (R4, H30) to count.
        found.append(YearMention(m.start(), m.end(), era_to_western(era, n), m.group(0),
                                 m.group(3) != "年"))
    for m in WESTERN_FY_RE.finditer(t):
        found.append(YearMention(m.start(), m.end(), int(m.group(1)), m.group(0), m.group(2) == "年度"))
    for m in FY_EN_RE.finditer(t):
        found.append(YearMention(m.start(), m.end(), int(m.group(1)), m.group(0), True))
    found.sort(key=lambda y: y.start)
    # Drop overlaps (keep the first).
    out: list[YearMention] = []
    for y in found:
        if not out or y.start >= out[-1].end:
            out.append(y)
    return out


def parse_fiscal_year(text: str) -> int | None:
    """'R4' / '令和4年度' / '2022年度' / 'Ｈ３０' / 'FY2022' / '2022' -> western year, else None."""
    t = nfkc(text).strip()
    if re.fullmatch(r"(19|20)[0-9]{2}", t):
        return int(t)
    ys = find_years(t)
    if len(ys) == 1 and ys[0].start == 0 and ys[0].end == len(t):
        return ys[0].year
    return None


def normalize_era_years(text: str) -> str:
    """Rewrite every era-year mention as a western fiscal year: 'R4年度' -> '2022年度'."""
    t = nfkc(text)
    parts: list[str] = []
    pos = 0
    for y in find_years(t):
        parts.append(t[pos:y.start])
        parts.append(f"{y.year}年度" if y.fiscal else f"{y.year}年")
        pos = y.end
    parts.append(t[pos:])
    return "".join(parts)


@lru_cache(maxsize=1)
def synonym_table() -> tuple[tuple[str, str], ...]:
    """(variant, canonical) pairs, longest variant first, from ``assistant/data/synonyms.tsv``."""
    raw = resources.files("assistant").joinpath("data/synonyms.tsv").read_text(encoding="utf-8")
    pairs: list[tuple[str, str]] = []
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        canonical, _, variants = line.partition("\t")
        for v in variants.split(","):
            v = nfkc(v.strip())
            if v:
                pairs.append((v, nfkc(canonical.strip())))
    pairs.sort(key=lambda p: -len(p[0]))
    return tuple(pairs)


def _variant_pattern(variant: str) -> re.Pattern[str]:
    if re.fullmatch(r"[A-Za-z][A-Za-z \-]*", variant):
        return re.compile(rf"(?<![A-Za-z]){re.escape(variant)}(?![A-Za-z])", re.IGNORECASE)
    return re.compile(re.escape(variant))


@lru_cache(maxsize=1)
def _synonym_regex() -> tuple[re.Pattern[str], dict[str, str]]:
    table = synonym_table()
    alts = []
    lookup: dict[str, str] = {}
    for variant, canonical in table:
        alts.append(_variant_pattern(variant).pattern)
        lookup[variant.casefold()] = canonical
    return re.compile("|".join(f"(?:{a})" for a in alts), re.IGNORECASE), lookup


def apply_synonyms(text: str) -> str:
    """Replace known variants by their canonical term in one pass (no chained rewrites).

    A variant that is already part of its canonical term (協議会 in 地域実装協議会, VR in VR/AR)
    is left alone there.
    """
    t = nfkc(text)
    rx, lookup = _synonym_regex()

    def repl(m: re.Match[str]) -> str:
        canonical = lookup.get(m.group(0).casefold(), m.group(0))
        # Keep the text when the canonical term already surrounds the match.
        s = max(0, m.start() - len(canonical))
        window = t[s:m.end() + len(canonical)]
        if canonical in window and canonical != m.group(0):
            return m.group(0)
        return canonical

    return rx.sub(repl, t)


def normalize_text(text: str) -> str:
    """Question/document normalization for matching: NFKC, era years to western, synonyms."""
    t = nfkc(text)
    t = t.replace("〜", "~").replace("～", "~")
    t = re.sub(r"[\u0000-\u0008\u000b-\u001f\u007f]", "", t)
    return apply_synonyms(normalize_era_years(t))
