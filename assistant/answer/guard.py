"""What the LLM answerer does with a model's raw text before attribution: pure functions.

- Evidence sentences that look like instructions to a model (prompt injection) are redacted
  from the evidence before it reaches the model, so a figure only an injected sentence states
  supports nothing.
- Citation keys the model may write ([S1], 【S2】) are removed: attribution is ours
  (:mod:`assistant.answer.generated`), checked by the one verifier (:mod:`assistant.claims`).
- A reply that only says the evidence lacks the answer is recognised as an abstention.
"""

from __future__ import annotations

import re

from assistant.answer import ABSTAIN_PHRASE
from assistant.normalize import nfkc

#: The model returned nothing to show.
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
