"""Vocabularies the question parser matches against, built from the records themselves."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from assistant.normalize import nfkc, normalize_text
from assistant.records.schema import TECHNOLOGIES

#: English and other spellings of the technology vocabulary (after ``normalize_text``).
TECH_ALIASES: dict[str, tuple[str, ...]] = {
    "AI": ("AI", "人工知能", "artificial intelligence"),
    "IoT": ("IoT", "internet of things"),
    "5G": ("5G",),
    "自動運転": ("自動運転",),
    "ロボット": ("ロボット",),
    "ドローン": ("ドローン",),
    "クラウドコンピューティング": ("クラウドコンピューティング",),
    "キャッシュレス": ("キャッシュレス",),
    "ブロックチェーン": ("ブロックチェーン",),
    "ビッグデータ": ("ビッグデータ",),
    "VR/AR": ("VR/AR",),
}

#: Place-like words that are not municipality names.
GENERIC_PLACES = ("市町村", "市区町村", "都市", "町村", "区市町村", "政令指定都市", "全市", "各市", "都道府県")


def romaji_key(word: str) -> str:
    """Loose Hepburn spelling for matching English text: long vowels folded (Ōsaka/Oosaka/Osaka)."""
    w = re.sub(r"[^a-z]", "", word.casefold())
    for long, short in (("ou", "o"), ("oo", "o"), ("uu", "u"), ("ei", "e"), ("aa", "a"), ("ii", "i")):
        w = w.replace(long, short)
    return w


def romaji(kana: str) -> str:
    import jaconv

    return romaji_key(jaconv.kana2alphabet(jaconv.kata2hira(kana)))


@lru_cache(maxsize=1)
def prefectures() -> tuple[str, ...]:
    text = resources.files("assistant").joinpath("data/prefectures.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def prefecture_stem(name: str) -> str:
    """東京都 -> 東京, 北海道 -> 北海道, 大阪府 -> 大阪."""
    return name if name == "北海道" else re.sub(r"[都府県]$", "", name)


def municipality_stem(name: str) -> str:
    return re.sub(r"[市町村区]$", "", name)


@dataclass(frozen=True)
class Term:
    """A vocabulary entry found in a question."""

    kind: str  # prefecture | municipality | region | technology | place (unknown) | ambiguous
    value: str  # canonical value
    start: int
    end: int
    how: str = "exact"  # exact | reading | romaji | near (a near-miss spelling, named in the answer)
    alternatives: tuple[str, ...] = ()  # the candidates of an ambiguous reading


@dataclass
class Vocabulary:
    municipalities: dict[str, str] = field(default_factory=dict)  # surface -> canonical name
    prefectures: dict[str, str] = field(default_factory=dict)
    municipality_stems: dict[str, str] = field(default_factory=dict)  # 盛岡 -> 盛岡市
    prefecture_stems: dict[str, str] = field(default_factory=dict)  # 大阪 -> 大阪府
    technologies: dict[str, str] = field(default_factory=dict)
    romaji: dict[str, tuple[str, str]] = field(default_factory=dict)  # morioka -> (municipality, 盛岡市)

    @classmethod
    def build(cls, municipality_names: list[str], extra_prefectures: list[str] = (),
              reading: Callable[[str], str] | None = None) -> Vocabulary:
        """``reading`` (katakana of a word) adds romaji names for English questions (Morioka, Osaka)."""
        v = cls()
        for name in municipality_names:
            v.municipalities[name] = name
            stem = municipality_stem(name)
            if len(stem) >= 2:
                v.municipality_stems.setdefault(stem, name)
        for p in list(prefectures()) + list(extra_prefectures):
            v.prefectures[p] = p
            stem = prefecture_stem(p)
            if len(stem) >= 2:
                v.prefecture_stems.setdefault(stem, p)
        if reading is not None:
            for p in list(prefectures()) + list(extra_prefectures):
                v.romaji.setdefault(romaji(reading(prefecture_stem(p))), ("prefecture", p))
            for name in municipality_names:  # municipalities win over a prefecture of the same name
                key = romaji(reading(municipality_stem(name) or name))
                if len(key) >= 3:
                    v.romaji[key] = ("municipality", name)
        for tech in TECHNOLOGIES:
            for alias in TECH_ALIASES.get(tech, (tech,)):
                v.technologies[normalize_text(alias).casefold()] = tech
        return v

    def find(self, text: str) -> list[Term]:
        """Non-overlapping vocabulary matches in ``text`` (normalized), longest first.

        Municipalities are matched before prefectures so 岐阜市 does not also count as 岐阜県.
        """
        t = nfkc(text)
        low = t.casefold()
        taken = [False] * len(t)
        terms: list[Term] = []

        def claim(kind: str, table: dict[str, str], ascii_words: bool = False, stem: bool = False) -> None:
            for surface in sorted(table, key=len, reverse=True):
                key = surface.casefold()
                for m in re.finditer(re.escape(key), low):
                    s, e = m.span()
                    if any(taken[s:e]):
                        continue
                    # A stem glued to 市町村区 is part of another place name (京都 in 京都市).
                    if stem and e < len(low) and low[e] in "市町村区都道府県":
                        continue
                    if ascii_words and re.fullmatch(r"[a-z0-9 /]+", key):
                        if (s > 0 and low[s - 1].isascii() and low[s - 1].isalnum()) or (
                            e < len(low) and low[e].isascii() and low[e].isalnum()
                        ):
                            continue
                    for i in range(s, e):
                        taken[i] = True
                    terms.append(Term(kind, table[surface], s, e))

        claim("municipality", self.municipalities)
        claim("prefecture", self.prefectures)
        claim("prefecture", self.prefecture_stems, stem=True)
        claim("municipality", self.municipality_stems, stem=True)
        claim("technology", self.technologies, ascii_words=True)
        # Romanized names in English questions ("Morioka", "Osaka Prefecture").
        for m in re.finditer(r"[A-Za-zŌōŪū]+", t):
            hit = self.romaji.get(romaji_key(m.group(0).replace("ō", "o").replace("Ō", "o").replace("ū", "u")))
            if hit and not any(taken[m.start():m.end()]):
                for i in range(m.start(), m.end()):
                    taken[i] = True
                terms.append(Term(hit[0], hit[1], m.start(), m.end()))
        # Unknown place names (札幌市, 渋谷区): kanji/kana run ending in 市町村区, not generic.
        masked = "".join("|" if taken[i] else ch for i, ch in enumerate(t))  # known names are not stems
        for m in re.finditer(r"([一-龥ぁ-んァ-ヶ々]{1,6}?)(市|町|村|区)(?![一-龥])", masked):
            s, e = m.span()
            word = m.group(0)
            if any(taken[s:e]) or word in GENERIC_PLACES or any(
                    word.endswith(g) for g in GENERIC_PLACES if len(g) >= 3):
                continue
            if word.endswith("都市") and not re.fullmatch(r"[一-龥]{1,2}都市", word):  # 政令指定都市, 10万人都市
                continue
            stem = m.group(1)
            if len(stem) < 2 or re.search(r"[ぁ-ん]", stem[-1]) or stem.endswith(("の", "各", "全")):
                continue
            terms.append(Term("place", word, s, e))
        terms.sort(key=lambda x: x.start)
        return terms
