"""Fuzzy matching of programs and KPI names against a question (data-driven, no fixed list)."""

from __future__ import annotations

import re
from collections.abc import Callable
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
    """Program ids named in ``text``; a coordinated list (「AとBの予算」) names each of its parts."""
    parts = [p for p in re.split(r"と|、|,|及び|および|\band\b", text) if p.strip()]
    if len(parts) > 1:
        found = [match_one_program(p, programs) for p in parts]
        named = [f for f in found if f and len(f) < len(programs)]
        if len(named) > 1:
            return list(dict.fromkeys(pid for f in named for pid in f))
    return match_one_program(text, programs)


def match_one_program(text: str, programs: list[Program]) -> list[str]:
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
    # A bureau narrows its own ministry only (「総務と国交都市局」: all of 総務省, MLIT's 都市局).
    named_bureau_of = {p.ministry for p in programs if p.bureau in bureaus}
    by_org = [p.program_id for p in programs
              if (not ministries or p.ministry in ministries)
              and (p.ministry not in named_bureau_of or p.bureau in bureaus)
              and (ministries or not bureaus or p.bureau in bureaus)]
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


#: Words that ask about a KPI without naming it.
KPI_QUESTION_WORDS = frozenset("kpi 目標 期限 目途 目処 数値 達成 いつ まで 年度 target goal due".split())


def kpi_name_tokens(kpis: list[Kpi], tokens: Callable[[str], list[str]]) -> dict[str, frozenset[str]]:
    """Content words of each KPI name, computed once per records set."""
    return {k.kpi_id: frozenset(tokens(k.name)) for k in kpis}


def match_kpis(text: str, names: dict[str, frozenset[str]], tokens: Callable[[str], list[str]],
               threshold: float = 0.6) -> list[str]:
    """KPI ids whose name (``names``: id -> its words) holds most of the question's content words.

    「物流DXの目標は？」 names 物流 and DX: the KPI whose name has both wins, however long its name.
    """
    q = {t for t in tokens(text) if t not in KPI_QUESTION_WORDS and not t.isdigit()}
    if not q:
        return []
    scored: list[tuple[float, str]] = []
    for kpi_id, name in names.items():
        score = len(q & name) / len(q)
        # Or most of the KPI's own name is in a longer question (「光ファイバの世帯カバー率って最終的に何％を…」).
        named = len(q & name) / len(name) if name else 0.0
        if score >= threshold or (named >= 0.75 and len(q & name) >= 2):
            scored.append((max(score, named), kpi_id))
    if not scored:
        return []
    best = max(sc for sc, _ in scored)
    out: list[str] = []
    for sc, kid in sorted(scored, key=lambda x: -x[0]):
        if sc >= best and kid not in out:
            out.append(kid)
    return out
