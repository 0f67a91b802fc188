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

from assistant.answer.extractive import split_units
from assistant.answer.guard import strip_keys
from assistant.claims import attribute
from assistant.normalize import nfkc

#: Reasons a sentence is dropped (keys of ``LLMAssistant.interventions`` when nothing is left).
UNGROUNDED_NUMBER = "ungrounded_number"
UNGROUNDED_DATE = "ungrounded_date"
UNGROUNDED_ENTITY = "ungrounded_entity"
UNSUPPORTED_STATEMENT = "unsupported_statement"
_REASON = {"number": UNGROUNDED_NUMBER, "year": UNGROUNDED_DATE, "date": UNGROUNDED_DATE,
           "name": UNGROUNDED_ENTITY, "email": UNGROUNDED_ENTITY, "url": UNGROUNDED_ENTITY}
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?\n?|\n")
#: Share of a sentence's content words one evidence chunk must contain.
MIN_TERM_SHARE = 0.5


@dataclass(frozen=True)
class Passage:
    """One evidence unit (sentence or table row) a kept sentence rests on."""

    evidence: int  # index into the evidence list
    text: str


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


def attribute_generated(text: str, evidence: Sequence[str], terms: Callable[[str], list[str]],
                        min_share: float = MIN_TERM_SHARE) -> GeneratedAttribution:
    """Which sentences of ``text`` the ``evidence`` texts support, and by which passages.

    ``terms`` gives a text's content words (Sudachi in production; any tokenizer in tests)."""
    units = [Passage(i, u) for i, e in enumerate(evidence) for u in split_units(e)]
    ev_terms = [set(terms(e)) for e in evidence]
    out = GeneratedAttribution()
    for s in sentences(text):
        if not s.strip():
            out.sentences.append(Sentence(s, False))
            continue
        out.sentences.append(_sentence(s, units, ev_terms, terms, min_share))
    return out


def _sentence(s: str, units: list[Passage], ev_terms: list[set[str]], terms: Callable[[str], list[str]],
              min_share: float) -> Sentence:
    found = attribute(s, [u.text for u in units])
    if found.unsupported:
        first = found.unsupported[0]
        return Sentence(s, False, _REASON[first.value_kind], tuple(c.key for c in found.unsupported))
    used = [units[i] for c in found.claims for i in c.citations]
    words = set(terms(s))
    if not ev_terms:
        return Sentence(s, False, UNSUPPORTED_STATEMENT)
    # The chunk holding most of the sentence's words (ties: the one its values came from).
    from_values = {p.evidence for p in used}
    best = max(range(len(ev_terms)), key=lambda i: (len(words & ev_terms[i]), i in from_values, -i))
    share = len(words & ev_terms[best]) / len(words) if words else 1.0
    if share < min_share:
        return Sentence(s, False, UNSUPPORTED_STATEMENT)
    if not used:  # no values: cite the passage of that chunk sharing most words
        cands = [u for u in units if u.evidence == best]
        if cands:
            used = [max(cands, key=lambda u: len(words & set(terms(u.text))))]
    return Sentence(s, True, passages=tuple(dict.fromkeys(used)))
