"""Extractive answers: pick the sentence, bullet or table row that answers, cite it exactly.

Units come from the retrieved chunks; each is scored by IDF-weighted overlap of content tokens
with the question plus the chunk's fused rank. Abstain when the question's key terms are not in
the corpus at all, or the best unit covers too little of the question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.normalize import nfkc
from assistant.types import Citation, Hit

#: Question words and generic terms that carry no content for matching.
STOP_TOKENS = frozenset("""
何 いつ どこ どう どの どれ 誰 なぜ 何故 ある いる する なる できる 為る 成る 有る 居る 出来る 教える 知る 知れる
こと もの ため よう 方 場合 際 について 関する 対する 事 物 時 等 など ください 下さい くださる 下さる
？ ? 様 いう 言う 的 件 中 後 前 上 下 内 資料 記載 書く 本 事業 ？
what which when where who how is are the a an of in to for do does did be by on with and or about please
""".split())

_SENT_END = re.compile(r"(?<=[。！？!?])")
_BULLET = re.compile(r"^\s*(?:[-*・●■✓]|\d+[.)])\s*")


@dataclass(frozen=True)
class Unit:
    text: str  # raw text (exact substring of the chunk)
    hit_rank: int
    hit: Hit


def clean(text: str) -> str:
    """Readable form of a unit: no Markdown emphasis, bullets or table pipes."""
    t = text.replace("**", "").replace("<b>", "").replace("</b>", "")
    t = _BULLET.sub("", t.strip())
    t = re.sub(r"^・\s*", "", t)
    if t.startswith("|"):
        t = " / ".join(c.strip() for c in t.strip("|").split("|") if c.strip())
    return re.sub(r"\s+", " ", t).strip()


def split_units(text: str) -> list[str]:
    """Lines, then sentences inside long lines; table rows stay whole."""
    units: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if not s or re.fullmatch(r"[|\-\s:]+", s) or s.startswith("#"):
            continue
        if s.startswith("|") or len(s) <= 120:
            units.append(s)
            continue
        for part in _SENT_END.split(s):
            if part.strip():
                units.append(part.strip())
    return units


class Extractor:
    """Choose answer units from hits. ``tokens`` is the BM25 tokenizer; ``df`` maps token -> doc freq."""

    def __init__(self, tokens: Callable[[str], list[str]], df: Callable[[str], int], n_docs: int,
                 min_coverage: float = 0.35) -> None:
        self.tokens = tokens
        self.df = df
        self.n_docs = max(1, n_docs)
        self.min_coverage = min_coverage

    def idf(self, tok: str) -> float:
        return math.log(1 + self.n_docs / (1 + self.df(tok)))

    def key_terms(self, question: str) -> list[str]:
        seen: list[str] = []
        for t in self.tokens(question):
            if t in STOP_TOKENS or len(t) == 1 and not t.isdigit() and not re.match(r"[一-龥]", t):
                continue
            if t not in seen:
                seen.append(t)
        return seen

    def missing_terms(self, question: str) -> list[str]:
        """Content terms of the question that appear nowhere in the corpus."""
        return [t for t in self.key_terms(question) if self.df(t) == 0 and not t.isdigit()]

    def best_units(self, question: str, hits: Sequence[Hit], max_units: int = 2) -> tuple[list[Unit], float]:
        terms = self.key_terms(question)
        if not terms or not hits:
            return [], 0.0
        weights = {t: self.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        scored: list[tuple[float, float, Unit]] = []
        for rank, hit in enumerate(hits):
            body = hit.chunk.meta.get("body") or hit.chunk.text
            heading = hit.chunk.locator
            head_toks = set(self.tokens(heading))
            for u in split_units(body):
                toks = set(self.tokens(u))
                cov = sum(w for t, w in weights.items() if t in toks) / total
                ctx = sum(w for t, w in weights.items() if t in head_toks and t not in toks) / total
                score = cov + 0.5 * ctx + 0.15 / (rank + 1)
                if len(clean(u)) < 6:
                    score -= 0.2
                scored.append((score, cov + 0.5 * ctx, Unit(u, rank, hit)))
        if not scored:
            return [], 0.0
        scored.sort(key=lambda x: -x[0])
        best_score, best_cov, best = scored[0]
        chosen = [best]
        # A heading-like line ("配信時期：月2回") is often followed by the details that answer.
        for score, _cov, u in scored[1:]:
            if len(chosen) >= max_units:
                break
            if u.hit is best.hit and score >= best_score * 0.8 and u.text != best.text:
                chosen.append(u)
        return chosen, best_cov

    def answer(self, question: str, hits: Sequence[Hit], source_text: Callable[[str], str],
               title: Callable[[str], str]) -> tuple[str, list[Citation], float] | None:
        """(answer text, citations, coverage) or None when nothing adequate is found."""
        units, coverage = self.best_units(question, hits)
        if not units or coverage < self.min_coverage:
            return None
        texts, cites = [], []
        for u in units:
            src = u.hit.chunk.source
            quote = exact_quote(u.text, source_text(src))
            if not quote:
                continue
            texts.append(clean(u.text))
            cites.append(Citation(src, u.hit.chunk.locator, quote, title(src)))
        if not cites:
            return None
        return "\n".join(texts), cites, coverage


def exact_quote(unit: str, source: str) -> str | None:
    """The unit (or its longest cleaned form) as an exact substring of ``source`` after NFKC."""
    src = nfkc(source)
    cand = nfkc(unit).strip()
    for c in (cand, _BULLET.sub("", cand), cand.replace("**", "")):
        if c and c in src:
            return c
    # Fall back to the longest sentence piece that is present.
    pieces = sorted((p.strip() for p in re.split(r"\*\*|[。]", cand) if len(p.strip()) >= 6), key=len, reverse=True)
    for p in pieces:
        if p in src:
            return p
    return None
