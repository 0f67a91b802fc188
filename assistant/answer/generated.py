"""Attribute a generated answer to the evidence it was given — by us, not by the model.

The model's citation keys are ignored (a small model writes none, or wrong ones). The text is
split into sentences; a sentence is kept only when every value it states (figures, years,
dates, names, e-mail addresses, URLs: :mod:`assistant.claims.values`) is stated by one of the
evidence's passages and most of its content words occur in one evidence chunk. What nothing
supports is dropped, with the reason and the values concerned (never shown to the user).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from assistant.answer.extractive import split_units
from assistant.answer.guard import strip_keys
from assistant.claims import attribute
from assistant.claims.attribute import compact
from assistant.normalize import nfkc, normalize_text

#: Reasons a sentence is dropped (keys of ``LLMAssistant.interventions`` when nothing is left).
UNGROUNDED_NUMBER = "ungrounded_number"
UNGROUNDED_DATE = "ungrounded_date"
UNGROUNDED_ENTITY = "ungrounded_entity"
UNSUPPORTED_STATEMENT = "unsupported_statement"
_REASON = {"number": UNGROUNDED_NUMBER, "year": UNGROUNDED_DATE, "date": UNGROUNDED_DATE,
           "name": UNGROUNDED_ENTITY, "email": UNGROUNDED_ENTITY, "url": UNGROUNDED_ENTITY}
NEGATED = "negated_statement"
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?\n?|\n")
#: Share of a sentence's content words one passage must contain.
MIN_TERM_SHARE = 0.5
#: Share of a sentence's noun phrases (都市再生整備計画事業, 委託事業) one passage must contain
#: whole: the same words recombined from another passage do not make the phrase.
MIN_PHRASE_SHARE = 0.6


@dataclass(frozen=True)
class Passage:
    """One evidence unit a sentence may rest on: a sentence, or a table cell read with its row
    and column labels (``text``); ``quote`` is what is cited (an exact substring of the source)
    and ``place`` the row > column of a cell (empty otherwise)."""

    evidence: int  # index into the evidence list
    text: str
    quote: str = ""
    place: str = ""
    heading: str = ""  # the heading path of its chunk (cited as the locator with the quote)

    @property
    def cited(self) -> str:
        return self.quote or self.text

    @property
    def support(self) -> str:
        """What the passage states: its text under its heading."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class Sentence:
    text: str
    kept: bool
    reason: str = ""
    unsupported: tuple[str, ...] = ()  # the values nothing supports ("number:100億")
    passages: tuple[Passage, ...] = ()


@dataclass
class GeneratedAttribution:
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def kept(self) -> list[Sentence]:
        return [s for s in self.sentences if s.kept]

    @property
    def dropped(self) -> list[Sentence]:
        return [s for s in self.sentences if not s.kept and s.text.strip()]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.kept).strip()

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(sorted({s.reason for s in self.dropped}))

    @property
    def passages(self) -> list[Passage]:
        return list(dict.fromkeys(p for s in self.kept for p in s.passages))


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (each with its end mark), without citation keys."""
    return [m.group(0) for m in _SENTENCE.finditer(strip_keys(nfkc(text))) if m.group(0)]


@lru_cache(maxsize=1)
def _negation_forms() -> tuple[frozenset[str], frozenset[str]]:
    """(auxiliary forms, word forms) that negate a statement (``assistant/data/negation.tsv``)."""
    aux: set[str] = set()
    words: set[str] = set()
    text = resources.files("assistant").joinpath("data/negation.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        kind, forms = line.split("\t", 1)
        (aux if kind.strip() == "auxiliary" else words).update(forms.split())
    return frozenset(aux), frozenset(words)


def is_negative(text: str) -> bool:
    """The statement is negated: 「できません」「不可」「必要ない」 (Sudachi auxiliaries and words)."""
    from assistant.tokenize import morphemes

    aux, words = _negation_forms()
    return any((pos == "助動詞" and form in aux) or form in words for _s, form, pos in morphemes(text))


_CLAUSE = re.compile(r"[^。、，,\n]+")


def same_polarity(sentence: str, passage: str, words: Callable[[str], list[str]]) -> bool:
    """The passage's clause closest to ``sentence`` (most shared content words) is negated exactly
    when the sentence is (a model turning 「申請いただくことは可能」 into 「申請できません」 is caught)."""
    clauses = [m.group(0) for m in _CLAUSE.finditer(passage) if m.group(0).strip()]
    if not clauses:
        return True
    want = set(words(sentence))
    best = max(clauses, key=lambda c: len(want & set(words(c))))
    return is_negative(sentence) == is_negative(best)


def noun_phrases(text: str) -> list[str]:
    """Runs of nouns, prefixes and suffixes of ``text`` (Sudachi), two characters or more, in
    comparison form: 「都市再生整備計画事業等により支援」 -> 都市再生整備計画事業等, 支援."""
    from assistant.tokenize import morphemes

    runs: list[str] = []
    cur = ""
    for surface, _form, pos in morphemes(text):
        if pos in ("名詞", "接尾辞", "接頭辞") and surface.strip():
            cur += surface
            continue
        if cur:
            runs.append(cur)
        cur = ""
    if cur:
        runs.append(cur)
    # Figures are checked as values (assistant.claims), not as phrases.
    return [r for r in dict.fromkeys(compact(normalize_text(r)) for r in runs)
            if len(r) >= 2 and not any(c.isdigit() for c in r)]


def attribute_generated(text: str, passages: Sequence[Passage], terms: Callable[[str], list[str]],
                        min_share: float = MIN_TERM_SHARE,
                        phrases: Callable[[str], list[str]] = noun_phrases) -> GeneratedAttribution:
    """Which sentences of ``text`` the evidence ``passages`` support.

    A sentence is kept when ONE passage states all its values and holds at least ``min_share``
    of its content words (``terms``: Sudachi in production) and :data:`MIN_PHRASE_SHARE` of its
    noun phrases whole: facts of different passages — two columns of a comparison table — are
    not combined into a claim none of them makes."""
    words_of = [set(terms(p.support)) for p in passages]
    flat = [compact(normalize_text(p.support)) for p in passages]
    out = GeneratedAttribution()
    for s in sentences(text):
        if not s.strip():
            out.sentences.append(Sentence(s, False))
            continue
        out.sentences.append(_sentence(s, passages, words_of, flat, terms, phrases, min_share))
    return out


def passages_of(evidence: Sequence[str]) -> list[Passage]:
    """Plain evidence texts cut into passages (sentences and table rows); a first line followed
    by more text is the heading of every passage after it (chunks start with their heading)."""
    out: list[Passage] = []
    for i, e in enumerate(evidence):
        head, _, body = e.partition("\n")
        heading = head.strip() if body.strip() else ""
        out += [Passage(i, u, heading=heading) for u in split_units(body if heading else e)]
    return out


def _sentence(s: str, passages: Sequence[Passage], words_of: list[set[str]], flat: list[str],
              terms: Callable[[str], list[str]], phrases: Callable[[str], list[str]], min_share: float) -> Sentence:
    everywhere = attribute(s, [p.support for p in passages])
    if everywhere.unsupported:  # a value no passage states at all
        first = everywhere.unsupported[0]
        return Sentence(s, False, _REASON[first.value_kind], tuple(c.key for c in everywhere.unsupported))
    words = set(terms(s))
    wanted = phrases(s)
    best: tuple[float, int] | None = None
    for i, p in enumerate(passages):
        share = len(words & words_of[i]) / len(words) if words else 1.0
        if share < min_share or (best is not None and share <= best[0]):
            continue
        if wanted and sum(ph in flat[i] for ph in wanted) / len(wanted) < MIN_PHRASE_SHARE:
            continue
        if attribute(s, [p.support]).unsupported:
            continue
        best = (share, i)
    if best is None:
        return Sentence(s, False, UNSUPPORTED_STATEMENT)
    if not same_polarity(s, passages[best[1]].support, terms):
        return Sentence(s, False, NEGATED)
    return Sentence(s, True, passages=(passages[best[1]],))
