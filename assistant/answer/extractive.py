"""Extractive answers: pick the sentence, bullet or table cell that answers, and cite it exactly.

Units come from the retrieved chunks (lines, sentences of long lines, cells of wide tables with
their row and column headers). Each unit is scored by IDF-weighted overlap of the question's
content words, a bonus when it has the kind of value asked for (a frequency, a date, a count…),
and the chunk's fused rank. A unit must contain the question's focus (the noun phrase the
question asks about: 「…の補助率は？」 → 補助率). Abstain when nothing covers enough of the question.
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
幾ら 幾つ 幾 つ 頻度 方法 内容 名前 名称 意味 いつ頃 頃 大体 どのような どんな どういう 其の 此の 其れ 此れ 貰う 呉れる
良い 欲しい 思う 言える 具合 程度 くらい 位 ぐらい 以下 以上 数 何年 何月 何回 何名 何人 何件
こと もの ため よう 方 場合 際 について 関する 対する 事 物 時 等 など ください 下さい くださる 下さる
？ ? 様 いう 言う 的 件 中 後 前 上 下 内 資料 記載 書く 本 事業
what which when where who how is are the a an of in to for do does did be by on with and or about please
can could will would was were there any many much
""".split())

#: Kinds of value a question asks for (cue in the question -> pattern the answer should contain).
ANSWER_TYPES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (re.compile(q), re.compile(a)) for q, a in (
        (r"頻度|何回|how often", r"[0-9]+回|毎|ごと"),
        (r"いつ|何月|日時|日程|開催日|時期|when|date", r"[0-9]+月|[0-9]+日|年度|令和|平成|[0-9]{4}年|頃|時期"),
        (r"何年|期間|how long|最長", r"[0-9]+年|か月|ヶ月|期間"),
        (r"何人|何名|人数|参加者数|how many people", r"[0-9]+名|[0-9]+人"),
        (r"誰|who", r"教授|氏|長|担当|課"),
        (r"どこ|場所|会場|where", r"場所|会場|市|町|村|県|プラザ|ホール|WEB|オンライン"),
        (r"いくら|予算|金額|budget", r"円"),
        (r"名前|名称|事業名|name", r"事業名|名称"),
        (r"いくつ|何件|何事業|何団体|how many", r"[0-9]+\s?(事業|件|団体|自治体|か所|都市|地域)"),
        (r"どれだけ|どれくらい|どのくらい", r"[0-9]"),
        (r"割合|率|何%|percent|rate", r"%|割|半数|[0-9]+/[0-9]+"),
    )
)

#: Words that name the kind of answer, not its topic: never required in the answer unit.
FOCUS_EXEMPT = frozenset("期間 時期 日時 日程 場所 会場 金額 額 人数 割合 率 件数 数 頻度 方法 内容 理由 目的 条件 期限 予定"
                         .split())

#: Questions whose answer is several bullets of one section (「どんな内容が配信される？」).
LIST_QUESTION = re.compile(r"どんな|どのような|何が|内容|一覧|挙げ|課題は|which|what kinds?")

_SENT_END = re.compile(r"(?<=[。！？!?])")
_BULLET = re.compile(r"^\s*(?:[-*●■✓]|\d+[.)])\s+")


@dataclass(frozen=True)
class Unit:
    text: str  # what is scored and shown (may add table headers)
    quote: str  # raw text to cite (an exact substring of the chunk)
    hit_rank: int
    hit: Hit
    column: str = ""  # table column header of a cell unit


def clean(text: str) -> str:
    """Readable form of a unit: no Markdown emphasis, bullets or table pipes."""
    t = text.replace("**", "").replace("<b>", "").replace("</b>", "")
    t = _BULLET.sub("", t.strip())
    t = re.sub(r"^[・-]\s*", "", t)
    if t.startswith("|"):
        t = " / ".join(c.strip() for c in t.strip("|").split("|") if c.strip())
    return re.sub(r"\s+", " ", t).strip()


def _logical_lines(text: str) -> list[str]:
    """Lines, with Markdown hard breaks (two trailing spaces) joined to the next line."""
    out: list[str] = []
    carry = ""
    for line in text.splitlines():
        if line.endswith("  ") and not line.lstrip().startswith("|"):
            carry += line + "\n"  # the original break is kept: the unit stays an exact substring
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return out


def split_units(text: str) -> list[str]:
    """Lines (hard breaks joined), then sentences inside long lines; table rows stay whole."""
    units: list[str] = []
    for line in _logical_lines(text):
        s = line.strip()
        if not s or re.fullmatch(r"[|\-\s:]+", s) or s.startswith("#"):
            continue
        if s.startswith("|") or len(s) <= 120:
            units.append(s)
            continue
        units.extend(p.strip() for p in _SENT_END.split(s) if p.strip())
    return units


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def table_units(body: str, header: str) -> list[tuple[str, str, str]]:
    """(scored text, quote, column header) per cell of a wide table whose first column labels the row."""
    head = _cells(header.splitlines()[0]) if header else []
    out: list[tuple[str, str, str]] = []
    for line in body.splitlines():
        if not line.strip().startswith("|") or re.fullmatch(r"[|\-\s:]+", line.strip()):
            continue
        cells = _cells(line)
        wide = len(cells) >= 4 and sum(len(c) for c in cells[1:]) / max(1, len(cells) - 1) >= 12
        if not wide or len(head) != len(cells):
            out.append((line.strip(), line.strip(), ""))
            continue
        for col, cell in zip(head[1:], cells[1:], strict=False):
            if cell:
                out.append((f"{cells[0]}（{col}）: {cell}", cell, col))
    return out


class Extractor:
    """Choose answer units from hits. ``tokens`` gives content words; ``df`` their document frequency."""

    def __init__(self, tokens: Callable[[str], list[str]], df: Callable[[str], int], n_docs: int,
                 min_coverage: float = 0.35,
                 morphemes: Callable[[str], list[tuple[str, str, str]]] | None = None) -> None:
        self.tokens = tokens
        self._token_cache: dict[str, frozenset[str]] = {}  # unit text -> tokens (units repeat)
        self.df = df
        self.n_docs = max(1, n_docs)
        self.min_coverage = min_coverage
        self.morphemes = morphemes

    def token_set(self, text: str) -> frozenset[str]:
        toks = self._token_cache.get(text)
        if toks is None:
            if len(self._token_cache) > 50_000:
                self._token_cache.clear()
            toks = self._token_cache[text] = frozenset(self.tokens(text))
        return toks

    def idf(self, tok: str) -> float:
        return math.log(1 + self.n_docs / (1 + self.df(tok)))

    def key_terms(self, question: str) -> list[str]:
        seen: list[str] = []
        for t in self.tokens(question):
            if t in STOP_TOKENS or (len(t) == 1 and not t.isdigit() and not re.match(r"[一-龥a-z]", t)):
                continue
            if t not in seen:
                seen.append(t)
        return seen

    def weight(self, tok: str) -> float:
        if tok.isdigit():
            return 0.5  # years and counts are weak evidence of relevance
        if tok.isascii() and self.df(tok) == 0:
            return 1.0  # an English word the Japanese corpus cannot contain
        return self.idf(tok)

    def missing_terms(self, question: str) -> list[str]:
        """Content words (nouns) of the question that appear nowhere in the corpus.

        ASCII words are left out: an English question is judged by its coverage instead.
        """
        out: list[str] = []
        for t in self.tokens(question):
            if t in STOP_TOKENS or t.isascii() or self.df(t) > 0 or t in out:
                continue
            out.append(t)
        return out

    def focus(self, question: str) -> list[str]:
        """Content words of the noun phrase the question asks about (before its last は/が/を)."""
        if self.morphemes is None:
            return []
        ms = self.morphemes(question)
        nounish = {"名詞", "接尾辞", "接頭辞", "形状詞"}
        for i in range(len(ms) - 1, 0, -1):
            if ms[i][0] in ("は", "が", "を") and ms[i][2] == "助詞" and ms[i - 1][2] in nounish:
                run: list[str] = []
                j = i - 1
                while j >= 0 and (ms[j][2] in nounish or ms[j][0] == "・"):
                    if ms[j][2] != "補助記号":
                        run.append(ms[j][1])
                    j -= 1
                terms = [t for t in reversed(run) if t not in STOP_TOKENS and t not in FOCUS_EXEMPT]
                return [t for t in terms if self.df(t) > 0 or not t.isascii()]
        return []

    def _units(self, hit: Hit, rank: int) -> list[Unit]:
        body = hit.chunk.meta.get("body") or hit.chunk.text
        header = hit.chunk.meta.get("table_header") or ""
        if hit.chunk.meta.get("table"):
            return [Unit(text, quote, rank, hit, col) for text, quote, col in table_units(body, header)]
        return [Unit(u, u, rank, hit) for u in split_units(body)]

    def best_units(self, question: str, hits: Sequence[Hit], context: str = "",
                   max_units: int = 2, column_hint: str = "") -> tuple[list[Unit], float]:
        terms = self.key_terms(question)
        weights = {t: self.weight(t) for t in terms}
        for t in self.key_terms(context) if context else []:
            weights.setdefault(t, 0.3 * self.weight(t))  # earlier turns help, less
        total = sum(weights.values())
        if not total or not hits:
            return [], 0.0
        focus = set(self.focus(question))
        wanted = [a for q, a in ANSWER_TYPES if q.search(question.casefold())]
        q_toks = set(terms) | set(self.tokens(column_hint))  # hint: the ministry of a named program
        scored: list[tuple[float, float, Unit]] = []
        for rank, hit in enumerate(hits):
            head_toks = self.token_set(hit.chunk.locator)
            units = self._units(hit, rank)
            # A question naming one column of a table (総務省, 都市局…) is not answered by another.
            col_match = {u.column: len(q_toks & self.token_set(u.column)) for u in units if u.column}
            best_col = max(col_match.values(), default=0)
            for u in units:
                if u.column and best_col and col_match[u.column] < best_col:
                    continue
                toks = self.token_set(u.text)
                if focus and not (focus & (toks | head_toks)):
                    continue
                cov = sum(w for t, w in weights.items() if t in toks) / total
                ctx = sum(w for t, w in weights.items() if t in head_toks and t not in toks) / total
                score = cov + ctx + 0.15 / (rank + 1)
                if wanted and any(a.search(u.text) for a in wanted):
                    score += 0.4
                if len(clean(u.text)) < 6:
                    score -= 0.2
                scored.append((score, cov + ctx, u))
        if not scored:
            return [], 0.0
        scored.sort(key=lambda x: -x[0])
        best_score, best_cov, best = scored[0]
        chosen = [best]
        for score, _cov, u in scored[1:]:
            if len(chosen) >= max_units:
                break
            ratio = 0.7 if max_units > 2 else 0.85  # a list question takes the section's siblings
            if u.hit is best.hit and score >= best_score * ratio and u.quote != best.quote:
                chosen.append(u)
        body = best.hit.chunk.meta.get("body") or best.hit.chunk.text
        chosen.sort(key=lambda u: body.find(u.quote) if u.hit is best.hit else 10**6)
        return chosen, best_cov

    def answer(self, question: str, hits: Sequence[Hit], source_text: Callable[[str], str],
               title: Callable[[str], str], context: str = "",
               min_coverage: float | None = None, column_hint: str = "") -> tuple[str, list[Citation], float] | None:
        """(answer text, citations, coverage) or None when nothing adequate is found."""
        max_units = 5 if LIST_QUESTION.search(question) else 2
        units, coverage = self.best_units(question, hits, context, max_units=max_units, column_hint=column_hint)
        if not units or coverage < (self.min_coverage if min_coverage is None else min_coverage):
            return None
        texts, cites = [], []
        for u in units:
            src = u.hit.chunk.source
            quote = exact_quote(u.quote, source_text(src))
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
    pieces = sorted((p.strip() for p in re.split(r"\*\*|[。\n]", cand) if len(p.strip()) >= 6), key=len, reverse=True)
    for p in pieces:
        if p in src:
            return p
    return None
