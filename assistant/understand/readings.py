"""Place names by reading: kana and romaji spellings, homophone and near-miss typos.

Every municipality and prefecture of the records is indexed by its kana reading (Sudachi, with
and without its suffix and prefecture, since readings of place names vary: 三郷町 is ミサト alone
and サンゴウ after 奈良県) and by the romanization of that reading. A question's kana run
(「うれしの市」「シオジリ市」「しずおかの」), Latin word (「ureshino市」「Shiojiri」) or unknown kanji place
name (「陸前高多市」, a homophone typo of 陸前高田市) is matched by reading; a reading one edit
away from exactly one known reading is a near miss that the answer names (「〜のことと解釈しました」).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import jaconv

from assistant.records.vocab import municipality_stem, prefecture_stem, romaji_key

#: Readings of the suffixes 市・町・村・区・県・府・都 (stripped so 塩尻市 and しおじり are one key).
_SUFFIX_READINGS = ("シ", "チョウ", "マチ", "ムラ", "ソン", "ク", "ケン", "フ", "ト")
#: What may follow a place name written in kana: a suffix (kanji or kana) or a particle.
_AFTER_NAME = re.compile(r"^(?:[市町村区県府都]|し|ちょう|まち|むら|けん|って|の|で|は|が|と|も|に|や|から|まで|$|[^ぁ-んァ-ヶー])")


def hira(text: str) -> str:
    return jaconv.kata2hira(text)


def kana_romaji(kana: str) -> str:
    return romaji_key(jaconv.kana2alphabet(hira(kana)))


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance, stopping early above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class Named:
    kind: str  # municipality | prefecture
    value: str  # canonical name


@dataclass(frozen=True)
class ReadingMatch:
    named: tuple[Named, ...]  # one: resolved; several: ambiguous
    start: int
    end: int
    how: str  # reading | romaji | near


class ReadingIndex:
    """Known place names keyed by hiragana reading (without suffix) and by romaji."""

    def __init__(self, municipalities: Iterable[tuple[str, str]], prefectures: Iterable[str],
                 reading: Callable[[str], str]) -> None:
        self.by_kana: dict[str, set[Named]] = {}
        self.by_romaji: dict[str, set[Named]] = {}
        self._reading = reading
        for p in prefectures:
            stem = prefecture_stem(p)
            self._add(Named("prefecture", p), [reading(stem)])
        for pref, name in municipalities:
            stem = municipality_stem(name) or name
            pref_reading = reading(pref)
            keys = [reading(stem), self._strip_suffix(reading(name))]
            full = reading(pref + name)
            if full.startswith(pref_reading):
                keys.append(self._strip_suffix(full[len(pref_reading):]))
            self._add(Named("municipality", name), keys)

    @staticmethod
    def _strip_suffix(kana: str) -> str:
        for s in _SUFFIX_READINGS:
            if kana.endswith(s) and len(kana) > len(s) + 1:
                return kana[: -len(s)]
        return kana

    def _add(self, named: Named, keys: Iterable[str]) -> None:
        for k in keys:
            h = hira(k)
            if len(h) < 2 or not re.fullmatch(r"[ぁ-んー]+", h):
                continue
            self.by_kana.setdefault(h, set()).add(named)
            r = kana_romaji(h)
            if len(r) >= 3:
                self.by_romaji.setdefault(r, set()).add(named)

    def lookup_kana(self, kana: str, near: bool = False) -> tuple[tuple[Named, ...], str]:
        """Names whose reading is ``kana`` (or, with ``near``, one edit away when nothing is exact)."""
        h = hira(kana)
        exact = self.by_kana.get(h)
        if exact:
            return tuple(sorted(exact, key=lambda n: (n.kind, n.value))), "reading"
        if near and len(h) >= 4:
            close = {n for k, names in self.by_kana.items() if len(k) >= 3 and edit_distance(h, k, 1) <= 1
                     for n in names}
            if close:
                return tuple(sorted(close, key=lambda n: (n.kind, n.value))), "near"
        return (), ""

    def readings_of(self, word: str) -> list[str]:
        """Candidate readings of an unknown name: whole (suffix reading stripped) and stem alone
        (Sudachi may read 陸前高多市 as one odd word but 陸前高多 as リクゼンタカタ)."""
        stem = municipality_stem(word) or word
        out = [hira(self._strip_suffix(self._reading(word))), hira(self._reading(stem))]
        return list(dict.fromkeys(out))

    def find_kana(self, text: str, taken: list[bool]) -> list[ReadingMatch]:
        """Kana runs of ``text`` that begin with a known reading followed by a suffix or particle."""
        out: list[ReadingMatch] = []
        for m in re.finditer(r"[ぁ-んー]{2,}|[ァ-ヶー]{2,}", text):
            s = m.start()
            if any(taken[s:m.end()]):
                continue
            run = hira(m.group(0))
            if m.end() < len(text) and text[m.end()] in "市町村区" and run not in self.by_kana:
                # A whole kana run glued to 市町村 names one place: known by reading, or unknown.
                names, how = self.lookup_kana(run, near=True)
                names = tuple(n for n in names if n.kind == "municipality")
                out.append(ReadingMatch(names, s, m.end() + 1, how or "unknown"))
                continue
            out += self._names_in_run(text, s, m.end(), run)
        return out

    def _names_in_run(self, text: str, start: int, run_end: int, run: str) -> list[ReadingMatch]:
        """Names at the start of a kana run, and after a coordinating particle inside it
        (「うれしのとしおじり」 → うれしの, しおじり). A two-kana reading needs a suffix after it, or must be
        the whole run (「ウベって」) or follow a coordinating particle."""
        out: list[ReadingMatch] = []
        pos, after_particle = 0, False
        while pos < len(run):
            s = start + pos
            found = None
            for n in range(len(run) - pos, 1, -1):  # longest reading first
                names = self.by_kana.get(run[pos:pos + n])
                whole = pos == 0 and n == len(run)
                short_ok = n > 2 or whole or after_particle or (
                    s + n < len(text) and text[s + n] in "市町村区県府都")
                if names and short_ok and _AFTER_NAME.match(text[s + n:]):
                    end = s + n
                    if end < len(text) and text[end] in "市町村区県府都":
                        # 「ぎふ市」 is the city, 「ぎふ県」 the prefecture (both read ぎふ).
                        want = "municipality" if text[end] in "市町村区" else "prefecture"
                        names = {x for x in names if x.kind == want} or names
                        end += 1
                    found = ReadingMatch(tuple(sorted(names, key=lambda x: (x.kind, x.value))), s, end, "reading")
                    break
            if found is None:
                break
            out.append(found)
            pos = found.end - start
            if pos < len(run) and run[pos] in "とやも":  # 「AとB」「AやB」: another name may follow
                pos += 1
                after_particle = True
            else:
                break
        return out

    def find_romaji(self, text: str, taken: list[bool]) -> list[ReadingMatch]:
        """Latin words that spell a known reading (「ureshino市」「Shiojiri」「Kawachinagano」)."""
        out: list[ReadingMatch] = []
        for m in re.finditer(r"[A-Za-zŌōŪūĀā']+", text):
            s, e = m.span()
            if any(taken[s:e]):
                continue
            word = re.sub(r"'s?$", "", m.group(0)).translate(str.maketrans("ŌōŪūĀā", "oouuaa"))  # Toyohashi's
            key = romaji_key(re.sub(r"(?i)(shi|city|town|village|ken|prefecture|cho|machi|mura)$", "", word)
                             if len(word) > 6 else word)
            names = self.by_romaji.get(key) or self.by_romaji.get(romaji_key(word))
            if names:
                after = text[e:e + 12].casefold()
                kind = ("municipality" if re.match(r"\s*(市|町|村|city|town|village|-shi)", after) else
                        "prefecture" if re.match(r"\s*(県|府|都|prefecture|-ken)", after) else None)
                if kind and any(n.kind == kind for n in names):
                    names = {n for n in names if n.kind == kind}
                if e < len(text) and text[e] in "市町村区県府都":
                    e += 1
                out.append(ReadingMatch(tuple(sorted(names, key=lambda x: (x.kind, x.value))), s, e, "romaji"))
        return out
