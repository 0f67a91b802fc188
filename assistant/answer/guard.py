"""Grounding guard for generated answers: pure functions, no model, no I/O.

A generated answer passes only when it cites at least one known evidence key and every number,
date, amount and (simply detectable) named entity it states appears in the text of the evidence
it cites. Both sides are compared after :func:`assistant.normalize.normalize_text` (NFKC, era
years as western fiscal years, synonyms), without whitespace or thousands separators, so
``令和4年度`` matches ``R4年度`` and ``1,000団体`` matches ``１０００団体``.

Evidence sentences that look like instructions to a model (prompt injection) are redacted from
the evidence before it reaches the model and before grounding: a figure that only an injected
sentence states grounds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from assistant.answer import ABSTAIN_PHRASE
from assistant.normalize import kanji_number, nfkc, normalize_text

#: Failure reasons (the keys of ``LLMAssistant.interventions``).
NO_CITATION = "no_citation"
UNGROUNDED_NUMBER = "ungrounded_number"
UNGROUNDED_DATE = "ungrounded_date"
UNGROUNDED_ENTITY = "ungrounded_entity"
UNGROUNDED_QUOTE = "ungrounded_quote"
EMPTY = "empty"

REDACTED = "（資料中の指示文のため省略）"

# [S1], [S1][S2], [S1, S3], 【S2】, (S4) — after NFKC (so ［Ｓ１］ works too).
_KEY_GROUP = re.compile(r"[\[【(]\s*([Ss]\d{1,3}(?:\s*[,、・/]\s*[Ss]\d{1,3})*)\s*[\]】)]")
_KEY = re.compile(r"[Ss](\d{1,3})")

# Sentences that address a model rather than inform a reader.
_INJECTION = re.compile(
    r"(?:以前|これまで|前|上記|先|全て|すべて)の指示を(?:無視|忘れ)|指示を無視|指示に従わ(?:ず|ないで)"
    r"|と(?:答え|回答し|返答し|出力し)(?:よ|ろ|なさい)|システムプロンプト"
    r"|ignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+(?:instructions|prompts?)"
    r"|disregard\s+(?:all\s+|the\s+)?(?:previous|prior|above)|system\s+prompt|you\s+are\s+now",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]|\n|$)")

_NUMBER = re.compile(r"(?<![0-9.])([0-9]+(?:\.[0-9]+)?)([万億兆]*)")
# Fractions and ranges stay whole: 補助率1/2 is not grounded by 2/2 elsewhere, 年2~3回 not by 3~3.
_COMPOUND = re.compile(r"(?<![0-9.])[0-9]+(?:\.[0-9]+)?(?:[/~][0-9]+(?:\.[0-9]+)?)+")
_DATE = re.compile(r"(?<![0-9])[0-9]{1,2}月[0-9]{1,2}日")
_COUNTERS = ("か所|カ所|ヶ所|箇所|件|人|名|年|か月|ヶ月|カ月|月|日|回|団体|事業|自治体|地域|社|個|つ|円|倍|割|"
             "校|市|町|村|県|週|時間|分|点|種|項目|者|歳|百|千|万|億|兆")
_KANJI_NUMBER = re.compile(rf"(?<![一-龥々])[〇一二三四五六七八九十百千万億兆数]+(?=(?:{_COUNTERS}))")
# Unit classes: a figure must keep its kind of quantity (counts, years, money …).
_UNITS = [(cls, re.compile(rx)) for cls, rx in (
    ("year", r"年"), ("duration", r"か月|ヶ月|カ月|週間|日間|時間"), ("month", r"月"),
    ("day", r"日"), ("money", r"円"), ("percent", r"%|パーセント|割"), ("people", r"人|名"),
    ("count", r"件|事業|団体|自治体|地域|か所|カ所|ヶ所|箇所|社|個|つ|市町村|市|町|村|校|回|種|項目|者"),
)]
_KANJI_DIGIT = set("〇一二三四五六七八九十百千")
_QUOTED = re.compile(r"[「『“\"]([^「」『』“”\"]{1,80})[」』”\"]")
_NAME_RUN = re.compile(r"[一-龥々〆ヵヶァ-ヴー]+")
_NAME_PIECE = re.compile(r".*?(?:北海道|東京都|交付金|補助金|事務局|事業|構想|特区|[市町村県府省庁])")
# Words that end like a name but name nothing in particular (都市, 同市, 本事業, 各府省 …).
_GENERIC_STEMS = frozenset(
    "各 同 本 当 全 他 当該 都 都道 関係 市 町 村 県 府 省 区 政令 中核 指定 指定都 近隣 周辺 地元 隣接 地方 国 "
    "関係府 各府 府省 省庁 一部 複数 対象 選定 実装 支援 補助 交付 モデル 先行 実証 同様 その他".split()
)


@dataclass(frozen=True)
class GuardResult:
    """``ok`` when the answer is grounded; ``reasons`` are the failure kinds (sorted, unique);
    ``kept_keys`` the valid keys cited (first-appearance order); ``unsupported`` the offending
    values (``number:100億``); ``text`` the answer without any citation key."""

    ok: bool
    reasons: tuple[str, ...]
    kept_keys: tuple[str, ...]
    dropped_keys: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    text: str = ""
    checked: dict[str, list[str]] = field(default_factory=dict)


def canon(text: str) -> str:
    """Comparison form: normalize_text, no whitespace, no thousands separators."""
    t = normalize_text(text)
    t = re.sub(r"(?<=[0-9])[,，](?=[0-9]{3})", "", t)
    return re.sub(r"\s+", "", t)


def is_injection(sentence: str) -> bool:
    """True for a sentence that tries to instruct the model (「以前の指示を無視して…と答えよ」)."""
    return bool(_INJECTION.search(nfkc(sentence)))


def redact_injections(text: str) -> str:
    """Replace every injection-like sentence of ``text`` by :data:`REDACTED`."""
    return "".join(REDACTED + ("\n" if s.endswith("\n") else "") if is_injection(s) else s
                   for s in _SENTENCE.findall(text))


def citation_keys(text: str) -> list[str]:
    """Citation keys in order of first appearance, e.g. ``['S2', 'S1']``."""
    keys: list[str] = []
    for group in _KEY_GROUP.finditer(nfkc(text)):
        for m in _KEY.finditer(group.group(1)):
            k = f"S{int(m.group(1))}"
            if k not in keys:
                keys.append(k)
    return keys


def strip_keys(text: str) -> str:
    """The text without citation keys (and without the blanks they leave)."""
    t = _KEY_GROUP.sub("", nfkc(text))
    t = re.sub(r"[ \t]+([。、．，.,!?！？])", r"\1", t)
    return re.sub(r"[ \t]{2,}", " ", t).strip()


def is_abstention(text: str) -> bool:
    """The model said the evidence lacks the answer (the fixed phrase, and nothing cited)."""
    t = nfkc(text)
    said = ABSTAIN_PHRASE in t or bool(re.search(r"資料(?:に|には|の中に)記載(?:が|は)?(?:ありません|ない)", t))
    return said and (not citation_keys(t) or len(strip_keys(t)) <= len(ABSTAIN_PHRASE) + 12)


def numbers(text: str) -> list[str]:
    """Figures of ``text`` in comparison form: ``100億``, ``2022``, ``3.5``."""
    return _unique(m.group(1) + m.group(2) for m in _NUMBER.finditer(canon(strip_keys(text))))


def dates(text: str) -> list[str]:
    """Month-day dates, fractions and numeric ranges, which must appear whole."""
    t = canon(strip_keys(text))
    return _unique([*_DATE.findall(t), *_COMPOUND.findall(t)])


def kanji_numbers(text: str) -> list[str]:
    """Kanji numerals used as quantities: 十数(か所), 三(件), 二十(人)."""
    return _unique(m.group(0) for m in _KANJI_NUMBER.finditer(canon(strip_keys(text)))
                   if any(c in _KANJI_DIGIT for c in m.group(0)))


def entities(text: str) -> list[str]:
    """Quoted phrases and names that look like municipalities, prefectures, ministries,
    agencies, programmes and grants (a simple suffix rule; generic words are skipped)."""
    t = canon(strip_keys(text))
    found = [q for q in _QUOTED.findall(t) if q.strip()]
    for run in _NAME_RUN.findall(t):
        for piece in _NAME_PIECE.findall(run):
            stem = re.sub(r"(?:北海道|東京都|交付金|補助金|事務局|事業|構想|特区|[市町村県府省庁])$", "", piece)
            if piece in ("北海道", "東京都"):
                found.append(piece)
            elif piece.endswith(("都市", "政府")):  # 地方都市, 日本政府: common nouns
                continue
            elif len(piece) >= 3 and stem and stem not in _GENERIC_STEMS and not (
                piece.endswith("事業") and len(piece) < 5
            ):
                found.append(piece)
    return _unique(found)


def _unique(items) -> list[str]:
    out: list[str] = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def unit_class(after: str) -> str | None:
    """The kind of quantity a number is followed by: count, year, month, day, money, … or None."""
    for cls, rx in _UNITS:
        if rx.match(after):
            return cls
    return None


def number_mentions(text: str) -> list[tuple[str, str | None]]:
    """(figure, unit class) pairs of ``text``: ``令和4年度に10事業`` -> [('2022', 'year'), ('10', 'count')]."""
    t = canon(strip_keys(text))
    return _unique((m.group(1) + m.group(2), unit_class(t[m.end():])) for m in _NUMBER.finditer(t))


def _has_number(num: str, evidence: str, cls: str | None = None) -> bool:
    """``num`` occurs in ``evidence`` as a whole figure, with a unit of the same class when the
    answer gives one (12事業 is not grounded by 5月12日) or bare (R4:10)."""
    for m in re.finditer(rf"(?<![0-9.]){re.escape(num)}(?![0-9]|\.[0-9])", evidence):
        found = unit_class(evidence[m.end():])
        if cls is None or found is None or found == cls:
            return True
    return False


def check_answer(answer: str, evidence: Mapping[str, str]) -> GuardResult:
    """Check a generated ``answer`` against ``evidence`` (citation key -> evidence text)."""
    cited = citation_keys(answer)
    kept = tuple(k for k in cited if k in evidence)
    dropped = tuple(k for k in cited if k not in evidence)
    body = strip_keys(answer)
    if not body:
        return GuardResult(False, (EMPTY,), kept, dropped, (), body)
    if not kept:
        return GuardResult(False, (NO_CITATION,), kept, dropped, (), body)
    ev = canon("\n".join(redact_injections(evidence[k]) for k in kept))
    checked = {"numbers": numbers(body), "dates": dates(body), "kanji_numbers": kanji_numbers(body),
               "entities": entities(body)}
    bad: list[tuple[str, str]] = []
    for n, cls in number_mentions(body):
        if not _has_number(n, ev, cls) and f"number:{n}" not in (v for _, v in bad):
            bad.append((UNGROUNDED_NUMBER, f"number:{n}"))
    for d in checked["dates"]:
        if d not in ev:
            bad.append((UNGROUNDED_DATE if "月" in d else UNGROUNDED_NUMBER, f"{'date' if '月' in d else 'number'}:{d}"))
    for k in checked["kanji_numbers"]:
        value = kanji_number(k)
        if k not in ev and (value is None or not _has_number(str(value), ev)):
            bad.append((UNGROUNDED_NUMBER, f"number:{k}"))
    for e in checked["entities"]:
        if e not in ev:
            quoted = e in _QUOTED.findall(canon(body))
            bad.append((UNGROUNDED_QUOTE if quoted else UNGROUNDED_ENTITY, f"entity:{e}"))
    reasons = tuple(sorted({r for r, _ in bad}))
    return GuardResult(not bad, reasons, kept, dropped, tuple(v for _, v in bad), body, checked)
