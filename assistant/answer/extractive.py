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

from assistant.answer.relevance import (
    Requirements,
    answer_types,
    exempt_words,
    function_words,
    is_content,
    kind_phrase,
    pos_morphemes,
    requirements,
)
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

def _answer_types() -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
    """(cue in the question, pattern the answer should contain), from assistant/data/answer_types.tsv."""
    return tuple((a.cue, a.answer) for a in answer_types())


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
    row: str = ""  # table row label of a cell unit

    def locator(self) -> str:
        """Where the quote is: the chunk's heading path, and for a table cell its row and column
        (the labels an answer shows with the cell are text of the source too)."""
        base = self.hit.chunk.locator
        return f"{base} > {self.row} > {self.column}" if self.column and self.row else base


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


def table_units(body: str, header: str) -> list[tuple[str, str, str, str]]:
    """(scored text, quote, column header, row label) per cell of a wide table whose first
    column labels the row."""
    head = _cells(header.splitlines()[0]) if header else []
    out: list[tuple[str, str, str, str]] = []
    for line in body.splitlines():
        if not line.strip().startswith("|") or re.fullmatch(r"[|\-\s:]+", line.strip()):
            continue
        cells = _cells(line)
        if head and not any(head) and len(cells) > 1:  # a grid without headers: each cell stands alone
            out.extend((c, c, "", "") for c in cells if c)
            continue
        wide = len(cells) >= 4 and sum(len(c) for c in cells[1:]) / max(1, len(cells) - 1) >= 12
        if not wide or len(head) != len(cells):
            out.append((line.strip(), line.strip(), "", ""))
            continue
        for col, cell in zip(head[1:], cells[1:], strict=False):
            if cell:
                out.append((f"{cells[0]}（{col}）: {cell}", cell, col, cells[0]))
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

    def _noise(self, question: str) -> frozenset[str]:
        """Words of the question that are not content (POS, function list) and unknown to the corpus:
        they neither count for coverage nor make the question "about" something the corpus lacks."""
        if self.morphemes is None:
            return frozenset()
        return frozenset(m.form for m in pos_morphemes(question)
                         if not is_content(m) and not m.surface.isascii() and self.df(m.form) == 0)

    def key_terms(self, question: str) -> list[str]:
        noise = self._noise(question)
        seen: list[str] = []
        for t in self.tokens(question):
            if t in STOP_TOKENS or t in noise or (len(t) == 1 and not t.isdigit() and not re.match(r"[一-龥a-z]", t)):
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
        """Content words of the question that appear nowhere in the corpus.

        Only nouns and adjectival nouns that Sudachi's part of speech marks as content can be
        missing (see :func:`assistant.answer.relevance.is_content`): not particles, auxiliaries,
        sentence-final forms, fillers, counters, adverb-like nouns (全部, 途中) or function nouns
        (両方, 頂戴). ASCII words are left out: an English question is judged by its coverage instead.
        """
        out: list[str] = []
        if self.morphemes is not None:
            for m in pos_morphemes(question):
                t = m.form
                if m.head in ("名詞", "形状詞") and is_content(m) and t not in STOP_TOKENS \
                        and self.df(t) == 0 and t not in out:
                    out.append(t)
            return out
        for t in self.tokens(question):
            if t in STOP_TOKENS or t.isascii() or self.df(t) > 0 or t in out:
                continue
            out.append(t)
        return out

    def focus(self, question: str) -> list[str]:
        """Content words of the noun phrase the question asks about.

        That is the noun run before the last topic or object marker (は/が/を/って/とは), or before
        a verb when the particle is dropped (「名前わかる？」). When the run only names the kind of
        answer (事例, 期間, 名前: the ``exempt`` words), the phrase it modifies across の counts
        (「自動運転バスの事例」 -> 自動運転バス).
        """
        if self.morphemes is None:
            return []
        ms = [(m.surface, m.form, m.head, m.pos) for m in pos_morphemes(question)]
        nounish = {"名詞", "接尾辞", "接頭辞", "形状詞"}
        skip = function_words() | exempt_words()
        for i in range(len(ms) - 1, 0, -1):
            marker = (ms[i][0] in ("は", "が", "を", "って", "とは") and ms[i][2] == "助詞") or \
                ms[i][3][:2] in (("動詞", "一般"), ("形容詞", "一般"))  # 「名前わかる？」: particle dropped
            if not marker or ms[i - 1][2] not in nounish:
                continue
            j = i - 1
            while j >= 0:
                run: list[str] = []
                while j >= 0 and (ms[j][2] in nounish or ms[j][0] == "・"):
                    if ms[j][2] not in ("補助記号", "接頭辞"):  # prefixes (約, 御) are not content terms
                        run.append(ms[j][1])
                    j -= 1
                terms = [t for t in reversed(run) if t not in STOP_TOKENS and t not in skip and not t.isdigit()]
                terms = [t for t in terms if self.df(t) > 0 or not t.isascii()]
                if terms:
                    return terms
                if not run or j < 1 or ms[j][0] != "の" or ms[j - 1][2] not in nounish:
                    break
                j -= 1  # 「…の事例」: the phrase before の
        return []

    def kind(self, question: str) -> list[str]:
        """Content words after どの/どんな/何の: what the answer must be about (「どの決済サービス？」)."""
        if self.morphemes is None:
            return []
        function = function_words()
        return [m.form for m in kind_phrase(pos_morphemes(question))
                if m.head in ("名詞", "形状詞") and m.form not in STOP_TOKENS and m.form not in FOCUS_EXEMPT
                and m.form not in function and m.form not in exempt_words() and not m.form.isdigit()]

    def requirements(self, question: str) -> Requirements:
        """What a unit must have to answer ``question`` (answer type, years, quotes, kind)."""
        if self.morphemes is None:
            return Requirements()
        return requirements(question, frozenset(self.kind(question)), known=lambda t: self.df(t) > 0)

    def _verbs(self, text: str) -> frozenset[str]:
        """Content verbs and adjectives (dictionary forms) of ``text``: 目指す, 聞く…"""
        if self.morphemes is None:
            return frozenset()
        key = "\x00verbs\x00" + text
        got = self._token_cache.get(key)
        if got is None:
            got = self._token_cache[key] = frozenset(
                m.form for m in pos_morphemes(text) if m.head in ("動詞", "形容詞") and is_content(m))
        return got

    def _units(self, hit: Hit, rank: int) -> list[Unit]:
        body = hit.chunk.meta.get("body") or hit.chunk.text
        header = hit.chunk.meta.get("table_header") or ""
        if hit.chunk.meta.get("table"):
            return [Unit(text, quote, rank, hit, col, row) for text, quote, col, row in table_units(body, header)]
        return [Unit(u, u, rank, hit) for u in split_units(body)]

    def best_units(self, question: str, hits: Sequence[Hit], context: str = "",
                   max_units: int = 2, column_hint: str = "",
                   require: Requirements | None = None) -> tuple[list[Unit], float]:
        found = self.search_units(question, hits, context, max_units, column_hint, require)
        return found.units, found.coverage

    def search_units(self, question: str, hits: Sequence[Hit], context: str = "",
                     max_units: int = 2, column_hint: str = "",
                     require: Requirements | None = None,
                     aliases: dict[str, frozenset[str]] | None = None) -> Search:
        """The units that answer, or why none does (with the nearest units that are about it).

        ``aliases``: term -> other corpus words that stand for it (the alternatives of a mapped
        word); a unit with an alias counts as having the term, for the focus and the score.
        """
        aliases = aliases or {}
        terms = self.key_terms(question)
        weights = {t: self.weight(t) for t in terms}
        for t in self.key_terms(context) if context else []:
            weights.setdefault(t, 0.3 * self.weight(t))  # earlier turns help, less
        total = sum(weights.values())
        if not total or not hits:
            return Search([], 0.0, "low_coverage", [])
        focus = set(self.focus(question))
        focus_w = {t: self.weight(t) for t in focus}
        focus_total = sum(focus_w.values())

        def has(t: str, toks: frozenset[str]) -> bool:
            return t in toks or bool(aliases.get(t, frozenset()) & toks)

        def focus_share(toks: frozenset[str]) -> float:
            """Share of the focus (IDF-weighted) in ``toks``: 会津若松市 is not had by another 市."""
            return sum(w for t, w in focus_w.items() if has(t, toks)) / focus_total if focus_total else 1.0
        verbs = self._verbs(question)
        wanted = [a for q, a in _answer_types() if q.search(question.casefold())]
        q_toks = set(terms) | set(self.tokens(column_hint))  # hint: the ministry of a named program
        scored: list[tuple[float, float, Unit]] = []
        rejected: list[tuple[float, str, Unit]] = []
        via_heading: set[int] = set()
        for rank, hit in enumerate(hits):
            head_toks = self.token_set(hit.chunk.locator)
            # A name said once in a section covers its lines; a table's cells stand alone.
            chunk_toks = self.token_set(hit.chunk.text) if require is not None and require.names \
                and not hit.chunk.meta.get("table") else frozenset()
            units = self._units(hit, rank)
            # A question naming one column of a table (総務省, 都市局…) is not answered by another.
            col_match = {u.column: len(q_toks & self.token_set(u.column)) for u in units if u.column}
            best_col = max(col_match.values(), default=0)
            for u in units:
                if u.column and best_col and col_match[u.column] < best_col:
                    continue
                toks = self.token_set(u.text)
                if focus and focus_share(toks | head_toks) < 0.5:
                    continue
                cov = sum(w for t, w in weights.items() if has(t, toks)) / total
                ctx = sum(w for t, w in weights.items() if has(t, head_toks) and not has(t, toks)) / total
                score = cov + ctx + 0.15 / (rank + 1)
                if wanted and any(a.search(u.text) for a in wanted):
                    score += 0.4
                if len(clean(u.text)) < 6:
                    score -= 0.2
                if verbs:
                    score += 0.1 * min(2, len(verbs & self._verbs(u.text)))  # 「目指す社会」: the verb too
                if require is not None:
                    why = require.check(u.text, hit.chunk.locator, toks, head_toks, chunk_toks)
                    if why is not None:
                        rejected.append((score, why, u))
                        continue
                if focus and focus_share(toks) < 0.5:
                    via_heading.add(id(u))
                scored.append((score, cov + ctx, u))
        if not scored:
            rejected.sort(key=lambda x: -x[0])
            reason = rejected[0][1] if rejected else ("focus" if focus else "low_coverage")
            return Search([], 0.0, reason, [u for _, _, u in rejected[:2]])
        scored.sort(key=lambda x: -x[0])
        best_score, best_cov, best = scored[0]
        bullets_only = id(best) in via_heading and _is_bullet(best.quote)
        if bullets_only:
            max_units = max(max_units, 5)  # the heading names the topic (【参加者の声】): its bullets answer
        chosen = [best]
        for score, _cov, u in scored[1:]:
            if len(chosen) >= max_units:
                break
            ratio = 0.7 if max_units > 2 else 0.85  # a list question takes the section's siblings
            if u.quote == best.quote or (bullets_only and not re.match(r"^\s*-\s", u.quote)):
                continue
            # Another section only when the question asks for several things (「両方」「いくつ」), and
            # the unit has the whole focus or, without a focus, the places or people it names.
            utoks = self.token_set(u.text)
            about = bool(require and require.several) and (
                focus_share(utoks) == 1 if focus else bool(require.names and require.names <= utoks))
            if (u.hit is best.hit and score >= best_score * ratio) or (u.hit is not best.hit and about
                                                                      and score >= best_score * 0.7):
                chosen.append(u)
        body = best.hit.chunk.meta.get("body") or best.hit.chunk.text
        if _QUESTION_LINE.search(best.quote) and not best.column:
            follow = _following_bullets(self._units(best.hit, best.hit_rank), best)
            if follow:
                chosen = follow  # 「Q：座談会についてはいかがでしたか」: the answers are the bullets below it
        chosen.sort(key=lambda u: body.find(u.quote) if u.hit is best.hit else 10**6)
        return Search(chosen, best_cov, "", [u for _, _, u in scored[:2]])

    def answer(self, question: str, hits: Sequence[Hit], source_text: Callable[[str], str],
               title: Callable[[str], str], context: str = "",
               min_coverage: float | None = None, column_hint: str = "") -> tuple[str, list[Citation], float] | None:
        """(answer text, citations, coverage) or None when nothing adequate is found."""
        found = self.find(question, hits, source_text, title, context, min_coverage, column_hint)
        if found.text is None:
            return None
        return found.text, found.citations, found.coverage

    def find(self, question: str, hits: Sequence[Hit], source_text: Callable[[str], str],
             title: Callable[[str], str], context: str = "", min_coverage: float | None = None,
             column_hint: str = "", require: Requirements | None = None,
             aliases: dict[str, frozenset[str]] | None = None) -> Finding:
        """The answer (text, citations, coverage), or the reason there is none and the nearest units."""
        require = require if require is not None else self.requirements(question)
        max_units = 5 if LIST_QUESTION.search(question) else 2
        found = self.search_units(question, hits, context, max_units=max_units, column_hint=column_hint,
                                  require=require, aliases=aliases)
        threshold = self.min_coverage if min_coverage is None else min_coverage
        if not found.units:
            return Finding(None, [], 0.0, found.reason or "low_coverage", found.near)
        if found.coverage < threshold:
            return Finding(None, [], found.coverage, "low_coverage", found.units[:1])
        texts, cites = [], []
        for u in found.units:
            src = u.hit.chunk.source
            quote = exact_quote(u.quote, source_text(src))
            if not quote:
                continue
            texts.append(clean(u.text))
            cites.append(Citation(src, u.locator(), quote, title(src)))
        if not cites:
            return Finding(None, [], found.coverage, "low_coverage", found.units[:1])
        text = "\n".join(texts)
        if require.container:
            section = section_name(found.units[0].hit.chunk.locator)
            if section and nfkc(section) not in nfkc(text):
                text = f"「{section}」に含まれています。\n{text}"
        return Finding(text, cites, found.coverage, "", [])


@dataclass
class Search:
    units: list[Unit]
    coverage: float
    reason: str  # "" when units answer; else low_coverage | focus | answer_type | year | quote | kind
    near: list[Unit]  # the nearest units about the question (for an abstention)


@dataclass
class Finding:
    text: str | None  # None: no answer
    citations: list[Citation]
    coverage: float
    reason: str
    near: list[Unit]


_QUESTION_LINE = re.compile(r"^\s*(?:[-*]\s*)?(?:Q|Ｑ|問)\s*[:：.]|[？?]\s*$")


def _is_bullet(line: str) -> bool:
    return bool(_BULLET.match(line) or re.match(r"^\s*[・-]", line))


def _following_bullets(units: list[Unit], head: Unit, limit: int = 6) -> list[Unit]:
    """The bullet lines right after ``head`` (skipping a legend line or two before them)."""
    try:
        i = next(k for k, u in enumerate(units) if u.quote == head.quote)
    except StopIteration:
        return []
    out: list[Unit] = []
    for u in units[i + 1:]:
        if re.match(r"^\s*-\s", u.quote):
            out.append(u)
            if len(out) >= limit:
                break
        elif out or _QUESTION_LINE.search(u.quote):
            break
    return out


def section_name(locator: str) -> str:
    """The innermost heading of a locator, without a table suffix (「… > 表 (1〜9)」)."""
    parts = [p.strip() for p in locator.split(" > ") if p.strip() and not re.match(r"^表\s*[(（]", p.strip())]
    return parts[-1].strip("<>＜＞ ") if parts else ""


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
