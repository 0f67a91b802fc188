"""Operators of the records query algebra, read from the question's grammar.

Cue stems are data (``assistant/data/operators.tsv``): superlatives (max/min, earliest/latest),
set predicates (all, same), negation, reversal, grouping, sums and differences. Which column a
superlative or a grouping is about comes from the noun next to it (地方・都道府県・年度・技術), and
a negated technology is one followed by a negation before the next entity (「AIを使っていない」).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

#: Nouns that name a column to group by or rank on (the records' columns, as people say them).
GROUP_NOUNS: dict[str, tuple[str, ...]] = {
    "region": ("地方", "ブロック", "地域", "region"),
    "prefecture": ("都道府県", "県", "prefecture"),
    "year": ("年度", "採択年", "年", "year"),
    "technology": ("技術", "technolog"),
}
_KANJI_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


@lru_cache(maxsize=1)
def operator_cues() -> dict[str, tuple[str, ...]]:
    text = resources.files("assistant").joinpath("data/operators.tsv").read_text(encoding="utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        op, cues = line.split("\t", 1)
        out[op.strip()] = tuple(c.casefold().replace("_", " ") for c in cues.split())
    return out


def has_op(text: str, op: str) -> bool:
    low = text.casefold()
    for c in operator_cues().get(op, ()):
        if c.isascii():
            if re.search(rf"\b{re.escape(c)}\b", low):
                return True
        elif c in low:
            return True
    return False


def op_position(text: str, op: str) -> int:
    low = text.casefold()
    found = []
    for c in operator_cues().get(op, ()):
        if c.isascii():
            m = re.search(rf"\b{re.escape(c)}\b", low)
            if m:
                found.append(m.start())
        elif c in low:
            found.append(low.find(c))
    return min(found) if found else -1


def group_by(text: str) -> str | None:
    """The column named with 別/ごと/単位 (「地方別」「都道府県ごと」) or asked for by a superlative
    (「事業が最も多い都道府県」「どの地方」)."""
    low = text.casefold()
    for key, nouns in GROUP_NOUNS.items():
        for n in nouns:
            if re.search(rf"{re.escape(n)}(ブロック)?(別|ごと|毎|単位)|\bby {re.escape(n)}|どの{re.escape(n)}|which {re.escape(n)}",
                         low):
                return key
    if has_op(text, "max") or has_op(text, "min") or split_superlative(text) or ordinal(text):
        for key, nouns in GROUP_NOUNS.items():
            for n in nouns:
                if re.search(rf"(多い|少ない|多かった|少なかった|トップ|最多|最少)(のは|は)?(どの|どこの)?{re.escape(n)}", low):
                    return key
    return None


def group_after(text: str) -> str | None:
    """The column named right after a count phrase (「1件しかない都道府県」 → prefecture)."""
    m = re.search(r"[0-9]+(件|事業|つ)(しか|だけ|のみ)[^、。?？]{0,6}", text)
    if not m:
        return None
    tail = text[m.end(2):m.end(2) + 12].casefold()
    best = None
    for key, nouns in GROUP_NOUNS.items():
        for n in nouns:
            i = tail.find(n)
            if i >= 0 and (best is None or i < best[0]):
                best = (i, key)
    return best[1] if best else None


def ordinal(text: str) -> int | None:
    m = re.search(r"([0-9]+|[一二三四五])番目", text)
    if m:
        v = m.group(1)
        return int(v) if v.isdigit() else _KANJI_NUM[v]
    m = re.search(r"\b(second|third|fourth)\b", text.casefold())
    return {"second": 2, "third": 3, "fourth": 4}[m.group(1)] if m else None


def having_count(text: str) -> int | None:
    """「事業が2件だけの県」: groups with exactly N rows."""
    m = re.search(r"([0-9]+)(件|事業|つ)(しか|だけ|のみ)", text)
    return int(m.group(1)) if m else None


_NEG_AFTER = re.compile(r"^[^、。,?？]{0,10}?(ない|無い|なし|無し|ず[、。に]|ずに|以外|除く|除いて|抜き)")
_NEG_BEFORE_EN = re.compile(r"\b(not|without|except|excluding|but not|no)\s+(use\s+|using\s+)?$")


def negated(text: str, start: int, end: int, next_start: int) -> bool:
    """Whether the entity at ``text[start:end]`` is negated: a negation follows it before the
    next entity (「AIを使っていない」「自動運転以外」) or precedes it in English ("not AI")."""
    tail = text[end:next_start]
    if _NEG_AFTER.match(tail) and not re.match(r"^[^、。?？]{0,10}?(ないか|ないの\?|ないです)", tail):
        return True
    return bool(_NEG_BEFORE_EN.search(text[max(0, start - 20):start].casefold()))


def municipality_kind(text: str) -> str | None:
    """「町の事業」「村で採択」: projects of towns, cities or villages (not part of a name)."""
    m = re.search(r"(?<![一-龥ァ-ヶA-Za-z])(市|町|村|県|都|府)(の事業|で採択|の自治体|が採択|が申請)", text)
    return m.group(1) if m else None


def split_superlative(text: str) -> str | None:
    """「一番事業が多い」「最も採択が早い」: max | min | earliest | latest, or None."""
    cues = operator_cues()
    for adv in cues.get("superlative_adverb", ()):
        for m in re.finditer(re.escape(adv), text):
            window = text[m.end():m.end() + 8]
            found = [(window.find(stem), name) for name in ("max", "min", "earliest", "latest")
                     for stem in cues.get(f"direction_{name}", ()) if stem in window]
            if found:
                return min(found)[1]
    return None


def direction(text: str) -> str | None:
    """max | min | earliest | latest from the first direction stem in ``text`` (「多い」「少ない」…)."""
    cues = operator_cues()
    found = [(text.find(stem), name) for name in ("max", "min", "earliest", "latest")
             for stem in cues.get(f"direction_{name}", ()) if stem in text]
    return min(found)[1] if found else None
