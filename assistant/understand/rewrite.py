"""Expand the short forms people type (国交, 経産, シンポ, アンケ, メアド) to the documents' words.

Short forms come from ``assistant/data/abbreviations.tsv`` and are also derived from the
vocabulary: the initials of a name's parts (国土交通省 → 国交, 経済産業省 → 経産). A short form is
expanded only when the documents do not use it themselves and the long form is a word the
documents or the records know — so 自治体, DX or アプリ, which the documents write, stay as typed.
A ministry's bare form (総務, 国交) is expanded only as a whole word (not 総務課, not 総務省).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def abbreviation_table() -> tuple[tuple[str, str, str], ...]:
    """(short, long, kind) rows of the data file."""
    text = resources.files("assistant").joinpath("data/abbreviations.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) < 2 or line.startswith("#") or cols[0] == "short":
            continue
        rows.append((cols[0].strip(), cols[1].strip(), (cols[2] if len(cols) > 2 else "term").strip()))
    return tuple(rows)


def initials(parts: list[str], suffixes: str = "省府庁局") -> str:
    """「国土/交通/省」 → 国交: the first character of each part but a final 省/府/庁/局."""
    core = parts[:-1] if len(parts) > 1 and parts[-1] in suffixes else parts
    return "".join(p[0] for p in core) if len(core) > 1 else ""


_DIGIT = dict(zip("〇一二三四五六七八九", "0123456789", strict=True))
#: Kanji numerals before a counter or a year (二〇二二年度, 十二事業, 令和五年度): written as digits.
_KANJI_NUMBER = re.compile(r"([〇一二三四五六七八九十百]+)(?=年|事業|件|名|人|月|日|か所|箇所|団体|自治体|番目)")


def kanji_numerals(text: str) -> str:
    """二〇二二年度 → 2022年度, 十二事業 → 12事業, 令和五年度 → 令和5年度 (formal written Japanese)."""
    from assistant.normalize import kanji_number

    def repl(m: re.Match[str]) -> str:
        k = m.group(1)
        if "十" not in k and "百" not in k:
            return "".join(_DIGIT[c] for c in k)  # positional: 二〇二二
        n = kanji_number(k)
        return str(n) if n is not None else k

    return _KANJI_NUMBER.sub(repl, text)


class Rewriter:
    """Expands short forms in a question. ``known(word)`` tells whether the documents or records
    use a word; ``split(name)`` gives a name's parts (Sudachi, short units)."""

    def __init__(self, known: Callable[[str], bool], split: Callable[[str], list[str]],
                 names: Iterable[tuple[str, str]] = (), bureaus: Iterable[str] = ()) -> None:
        self.bureaus = tuple(sorted(set(bureaus), key=len, reverse=True))
        pairs: dict[str, tuple[str, str]] = {}
        for short, long, kind in abbreviation_table():
            pairs.setdefault(short, (long, kind))
        for long, kind in names:  # derived from the vocabulary: 国土交通省 → 国交
            short = initials(split(long))
            if len(short) >= 2:
                pairs.setdefault(short, (long, kind))
        # A ministry's bare form is a word of its own too (総務 in 総務省): the whole-word rule decides.
        self.pairs = {s: lk for s, lk in pairs.items()
                      if (lk[1] in ("ministry", "agency") or not known(s)) and (known(lk[0]) or lk[1] != "term")}
        self._re = re.compile("|".join(re.escape(s) for s in sorted(self.pairs, key=len, reverse=True))) \
            if self.pairs else None

    def rewrite(self, text: str) -> str:
        text = kanji_numerals(text)
        if self._re is None:
            return text

        def repl(m: re.Match[str]) -> str:
            short = m.group(0)
            long, kind = self.pairs[short]
            before, after = text[:m.start()], text[m.end():]
            if after.startswith(long[len(short):]) and long.startswith(short) and long != short:
                return short  # already the long form (総務省)
            if kind in ("ministry", "agency") and re.match(r"[一-龥]", after[:1]) and not after.startswith(
                    self.bureaus or ("\0",)):
                return short  # part of another word (総務課, 国交相), unless a bureau follows (国交都市局)
            if re.search(r"[A-Za-z]$", before) and short.isascii():
                return short
            return long

        return self._re.sub(repl, text)
