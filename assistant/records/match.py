"""Fuzzy matching of programs and KPI names against a question (data-driven, no fixed list)."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from assistant.normalize import normalize_text
from assistant.records.schema import Kpi, Program

#: Words too common in program names to identify one.
GENERIC_NAME_WORDS = ("のための", "事業", "推進", "支援", "地域", "創出", "社会", "実装", "・")
MINISTRIES = ("内閣府", "総務省", "国土交通省", "経済産業省", "文部科学省", "厚生労働省", "農林水産省",
              "環境省", "デジタル庁", "法務省", "外務省", "財務省", "防衛省")


def _lcs(a: str, b: str) -> str:
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return a[m.a:m.a + m.size]


def _distinctive(s: str) -> str:
    for w in GENERIC_NAME_WORDS:
        s = s.replace(w, "")
    return re.sub(r"[ぁ-ん]", "", s)  # particles (の, ための) identify nothing


def match_programs(text: str, programs: list[Program]) -> list[str]:
    """Program ids named in ``text``: by the distinctive part of the name, then ministry/bureau.

    Ties are all returned (e.g. "MaaS" names two programs); a ministry narrows them down.
    """
    t = normalize_text(text)
    low = t.casefold()
    scores: dict[str, int] = {}
    for p in programs:
        common = _lcs(low, normalize_text(p.program_name).casefold())
        scores[p.program_id] = len(_distinctive(common))
    best = max(scores.values(), default=0)
    named = [pid for pid, s in scores.items() if best >= 3 and s == best]
    ministries = [m for m in MINISTRIES if m in t]
    bureaus = [p.bureau for p in programs if p.bureau and p.bureau in t]
    if "道路局" in t:  # the (※) flag names MLIT's road bureau; it is not a program of the table
        ministries = [m for m in ministries if m != "国土交通省"]
    by_org = [p.program_id for p in programs
              if (not ministries or p.ministry in ministries) and (not bureaus or p.bureau in bureaus)]
    if named and (ministries or bureaus):
        narrowed = [pid for pid in named if pid in by_org]
        return narrowed or named
    if named:
        return named
    if ministries or bureaus:
        return by_org
    return []


def unknown_ministries(text: str, programs: list[Program]) -> list[str]:
    """Ministries named in ``text`` that run none of the programs in the records."""
    t = normalize_text(text)
    known = {p.ministry for p in programs}
    return [m for m in MINISTRIES if m in t and m not in known and not (m == "国土交通省" and "道路局" in t)]


def _bigrams(s: str) -> set[str]:
    s = re.sub(r"[\s、。,.:：()（）「」]", "", s)
    return {s[i:i + 2] for i in range(len(s) - 1)}


def match_kpis(text: str, kpis: list[Kpi], threshold: float = 0.5) -> list[str]:
    """KPI ids whose name shares enough character bigrams with ``text`` (best matches first)."""
    q = _bigrams(normalize_text(text).casefold())
    scored: list[tuple[float, str]] = []
    for k in kpis:
        name = _bigrams(normalize_text(k.name).casefold())
        if not name:
            continue
        score = len(name & q) / min(len(name), 12)
        if score >= threshold:
            scored.append((score, k.kpi_id))
    if not scored:
        return []
    best = max(s for s, _ in scored)
    seen: list[str] = []
    for s, kid in sorted(scored, reverse=True):
        if s >= best - 0.15 and kid not in seen:
            seen.append(kid)
    return seen
