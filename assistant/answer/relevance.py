"""Reading a question for relevance: its content words, the kind of value it asks for, its qualifiers.

* **Content words** come from Sudachi's part of speech, with its sub-levels: nouns (common and
  proper), verbs and adjectives of the independent kind, adjectival nouns. Particles, auxiliaries,
  fillers, pronouns, prefixes and suffixes, numerals, counters and adverb-like nouns (全部, 途中,
  以外) never are; nor are the few ordinary nouns listed as ``function`` words in
  ``assistant/data/question_words.tsv`` (両方, 具体, 頂戴…). Only a content word can be "a word the
  documents lack".
* **Answer types** (``assistant/data/answer_types.tsv``): 「いつまでに？」 asks for a deadline,
  「何人？」 for a number of people, 「どこ？」 for a place. A strict type must be in the passage.
* **Qualifiers**: a year (2027年度) or a quoted term (『サービスイン』) the question names must be in
  the passage too, unless the question only asks to confirm (「…だよね？」): then the passage that
  says otherwise is the answer.
* **Kind**: the noun after どの/どんな/何の (「どの決済サービス？」) names what the answer must be
  about; a grouping noun there (「どの柱に入ってる？」) is answered by the section heading.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from assistant.normalize import find_years, match_key, nfkc, normalize_era_years, normalize_text
from assistant.tokenize import get_tokenizer


@dataclass(frozen=True)
class Morph:
    surface: str
    form: str  # Sudachi normalized form, case-folded (ASCII words keep their spelling)
    pos: tuple[str, ...]  # Sudachi part of speech, all levels

    @property
    def head(self) -> str:
        return self.pos[0]


def pos_morphemes(text: str, *, normalized: bool = False) -> list[Morph]:
    """Morphemes of ``text`` (after :func:`normalize_text` unless ``normalized``) with full POS."""
    tok = get_tokenizer()
    t = text if normalized else normalize_text(text)
    out: list[Morph] = []
    with tok._lock:  # one Sudachi tokenizer per process (see assistant.tokenize)
        for piece in tok._pieces(t):
            for m in tok._tok.tokenize(piece):
                s = m.surface()
                form = s.strip().casefold() if s.isascii() else m.normalized_form().strip().casefold()
                out.append(Morph(s, form, tuple(m.part_of_speech())))
    return out


def _data(name: str) -> str:
    return resources.files("assistant").joinpath(f"data/{name}").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def word_classes() -> dict[str, frozenset[str]]:
    """class -> words, from ``assistant/data/question_words.tsv`` (NFKC, case-folded)."""
    out: dict[str, set[str]] = {}
    for line in _data("question_words.tsv").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cls, _, words = line.partition("\t")
        out.setdefault(cls.strip(), set()).update(nfkc(w).casefold() for w in words.split())
    return {k: frozenset(v) for k, v in out.items()}


def function_words() -> frozenset[str]:
    return word_classes().get("function", frozenset())


def exempt_words() -> frozenset[str]:
    return word_classes().get("exempt", frozenset())


def container_words() -> frozenset[str]:
    return word_classes().get("container", frozenset())


@dataclass(frozen=True)
class AnswerType:
    name: str
    label: str
    strict: bool
    cue: re.Pattern[str]
    answer: re.Pattern[str]


@lru_cache(maxsize=1)
def answer_types() -> tuple[AnswerType, ...]:
    """The kinds of value in ``assistant/data/answer_types.tsv``, in file order."""
    out = []
    for line in _data("answer_types.tsv").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, label, strict, cue, answer = line.split("\t")
        out.append(AnswerType(name, label, strict.strip() == "1", re.compile(cue), re.compile(answer)))
    return tuple(out)


def asked_types(question: str) -> list[AnswerType]:
    q = nfkc(question).casefold()
    return [a for a in answer_types() if a.cue.search(q)]


def _is_kana(s: str) -> bool:
    return bool(re.fullmatch(r"[ぁ-んァ-ヶー]+", s))


def is_content(m: Morph) -> bool:
    """Could this morpheme name a topic? (POS sub-levels first, then the ``function`` list.)"""
    p = m.pos
    if m.surface.isascii():
        return False  # English questions are judged by their coverage instead
    if p[0] == "名詞":
        if p[1] in ("数詞", "代名詞") or p[2] in ("副詞可能", "助数詞可能"):
            return False
    elif p[0] in ("動詞", "形容詞", "形状詞"):
        if p[1] != "一般":
            return False  # ある, いる, する, くれる, いい, みたい (非自立可能, 助動詞語幹)
    else:
        return False  # particles, auxiliaries, suffixes, prefixes, fillers, adverbs, symbols…
    if m.form in function_words() or nfkc(m.surface).casefold() in function_words():
        return False
    return not (len(m.surface) == 1 and _is_kana(m.surface))


def is_confirmation(morphs: list[Morph]) -> bool:
    """「…だよね？」「…だっけ？」: a sentence-final particle of confirmation."""
    confirm = word_classes().get("confirm", frozenset())
    tail = [m for m in morphs if m.head not in ("補助記号", "空白")][-3:]
    return any(m.pos[:2] == ("助詞", "終助詞") and m.surface in confirm for m in tail) or \
        bool(re.search(r"\bright\s*\??\s*$|\bisn'?t it\b|\bdidn'?t (it|they)\b", nfkc(
            "".join(m.surface for m in morphs)).casefold()))


def asks_for_several(morphs: list[Morph]) -> bool:
    """「両方」「それぞれ」, or a count (何件, いくつ, なんこ): the answer may be several passages."""
    several = word_classes().get("several", frozenset())
    for i, m in enumerate(morphs):
        if m.form in several or nfkc(m.surface) in several:
            return True
        if m.form in ("何", "幾") and i + 1 < len(morphs) and (
                morphs[i + 1].head == "接尾辞" or morphs[i + 1].pos[2:3] == ("助数詞可能",)):
            return True
    return False


_QUOTED = re.compile(r"[『「“\"]([^』」”\"]{2,40})[』」”\"]")


def quoted_terms(question: str) -> list[str]:
    return [q.strip() for q in _QUOTED.findall(nfkc(question)) if q.strip()]


_NOUNISH = {"名詞", "接尾辞", "接頭辞", "形状詞"}
_ASKING = {"どの", "どんな", "どういう", "どういった", "どのような", "いかなる"}


def kind_phrase(morphs: list[Morph]) -> list[Morph]:
    """The noun run after どの/どんな/何の (「どの決済サービスを」 -> 決済, サービス)."""
    for i, m in enumerate(morphs):
        start = None
        if m.surface in _ASKING:
            start = i + 1
        elif m.form == "何" and i + 1 < len(morphs) and morphs[i + 1].surface == "の":
            start = i + 2
        if start is None:
            continue
        run = []
        j = start
        while j < len(morphs) and (morphs[j].head in _NOUNISH or morphs[j].surface == "・"):
            if morphs[j].head != "補助記号":
                run.append(morphs[j])
            j += 1
        if run:
            return run
    return []


def topic_phrase(morphs: list[Morph]) -> str:
    """Surface of the noun phrase the question is about (before its last って/は/が/を), with の-modifiers:
    「海底ケーブルの整備って何年度まで？」 -> 海底ケーブルの整備."""
    for i in range(len(morphs) - 1, 0, -1):
        m = morphs[i]
        if m.head == "助詞" and m.surface in ("って", "は", "が", "を", "とは", "て") and \
                morphs[i - 1].head in _NOUNISH:
            j = i - 1
            while j >= 0 and (morphs[j].head in _NOUNISH or morphs[j].surface in ("・", "の")
                              or morphs[j].head == "補助記号" and morphs[j].surface in ("(", ")")):
                j -= 1
            parts = [x.surface for x in morphs[j + 1:i]]
            while parts and parts[0] == "の":
                parts.pop(0)
            text = "".join(parts).strip()
            if text:
                return text
    return ""


@dataclass
class Requirements:
    """What a passage must have to answer the question (see the module docstring)."""

    types: list[AnswerType] = field(default_factory=list)  # strict kinds asked for
    years: list[tuple[int, str]] = field(default_factory=list)  # (western year, as written)
    quotes: list[str] = field(default_factory=list)
    kind: frozenset[str] = frozenset()  # terms after どの/どんな (mapped to corpus words)
    names: frozenset[str] = frozenset()  # proper nouns of the question that the corpus has
    container: bool = False  # the kind is a grouping: the heading answers
    confirmation: bool = False
    several: bool = False  # the question asks for more than one thing
    topic: str = ""  # surface of the asked-about phrase, for messages
    kind_text: str = ""  # surface of the kind phrase (決済サービス), for messages

    def check(self, text: str, heading: str, toks: frozenset[str], head_toks: frozenset[str],
              chunk_toks: frozenset[str] = frozenset()) -> str | None:
        """None when the passage fits; else the reason it does not (name, answer_type, year, quote, kind).

        ``chunk_toks``: tokens of the whole section the unit is in (a name may be said once there).
        """
        if self.names and not self.names <= (toks | head_toks | chunk_toks):
            return "name"
        low = nfkc(text).casefold()
        if self.types and not any(a.answer.search(low) for a in self.types):
            return "answer_type"
        if self.quotes and not self.confirmation:
            key = match_key(text)
            if not all(match_key(q) in key for q in self.quotes):
                return "quote"
        if self.years and not self.confirmation:
            both = normalize_era_years(text + " " + heading)
            for year, _ in self.years:
                if not re.search(rf"(?<![0-9]){year}(?![0-9])", both):
                    return "year"
        if self.kind and not self.container and not (self.kind & (toks | head_toks)):
            return "kind"
        return None

    def describe(self, reason: str) -> str:
        """One polite sentence: what the documents do not say."""
        topic = f"「{self.topic}」の" if self.topic else "ご質問の"
        if reason == "answer_type" and self.types:
            return f"資料には、{topic}{self.types[0].label}は記載されていません。"
        if reason == "year" and self.years:
            return f"資料には、{topic}{'・'.join(s for _, s in self.years)}についての記載はありません。"
        if reason == "quote" and self.quotes:
            return "資料には、" + "、".join(f"「{q}」" for q in self.quotes) + "を含む記載は見当たりません。"
        if reason in ("kind", "name") and self.topic:
            what = f"の{self.kind_text}" if reason == "kind" and self.kind_text else "について、お尋ねの点"
            return f"資料には、「{self.topic}」{what}は記載されていません。"
        return "資料には、ご質問に直接当たる記載は見当たりませんでした。"


def requirements(question: str, kind_terms: frozenset[str] = frozenset(),
                 known: Callable[[str], bool] | None = None) -> Requirements:
    """Requirements of ``question`` (its kind terms, if any, already mapped to corpus words).

    ``known(term)``: whether the corpus has a term; proper nouns it has become required names.
    """
    ms = pos_morphemes(question)
    # Places and people (not countries: 日本 in 日本版MaaS names a program, not a place).
    names = frozenset(m.form for m in ms if m.pos[:2] == ("名詞", "固有名詞") and m.pos[2] in ("地名", "人名")
                      and m.pos[3] != "国" and not m.surface.isascii() and known is not None and known(m.form))
    kind = kind_phrase(ms)
    kind_forms = {m.form for m in kind if m.head in ("名詞", "形状詞")}
    container = bool(kind_forms & container_words())
    strict = [a for a in asked_types(question) if a.strict]
    years = [(y.year, y.text) for y in find_years(question)]
    return Requirements(types=strict, years=years, quotes=quoted_terms(question),
                        kind=frozenset(kind_terms) if kind_terms else frozenset(), names=names,
                        container=container, confirmation=is_confirmation(ms), several=asks_for_several(ms),
                        topic=topic_phrase(ms),
                        kind_text="".join(m.surface for m in kind))
