"""Entity mentions of a question: places (any spelling), regions and technologies.

Layers, each only on spans the earlier ones left free: the records' own names in kanji
(:class:`~assistant.records.vocab.Vocabulary`), regions (data file), kana readings and romaji of
the known names (:class:`~assistant.understand.readings.ReadingIndex`), and Sudachi's place-name
tagging for unknown kanji names (a homophone typo such as 陸前高多市 resolves to 陸前高田市 by reading;
a name that matches nothing stays an unknown place, so the answer can say it is not listed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from assistant.records.vocab import Term, Vocabulary, prefectures
from assistant.understand.readings import ReadingIndex, ReadingMatch
from assistant.understand.regions import Region, regions

#: Technology spellings beyond the table's own (data-like; English glossary words included).
EXTRA_TECH = {"vr": "VR/AR", "ar": "VR/AR", "ロボ": "ロボット", "robot": "ロボット", "drone": "ドローン",
              "robots": "ロボット", "iot": "IoT", "ai": "AI", "ビッグデータ": "ビッグデータ",
              "autonomous": "自動運転", "automated driving": "自動運転", "self-driving": "自動運転"}


class Lexicon:
    """Finds places, regions and technologies in a normalized question."""

    def __init__(self, vocab: Vocabulary, municipalities: Iterable[tuple[str, str]],
                 reading: Callable[[str], str], place_names: Callable[[str], list[tuple[int, int, str]]]) -> None:
        self.vocab = vocab
        self.readings = ReadingIndex(municipalities, prefectures(), reading)
        self._place_names = place_names  # Sudachi: (start, end, reading) of each 地名 token
        self.regions = regions()
        self.region_by_name = {r.name: r for r in self.regions}
        surfaces: dict[str, Region] = {}
        for r in self.regions:
            for s in (r.name, *r.aliases):
                surfaces.setdefault(s.casefold(), r)
        self._region_surfaces = sorted(surfaces.items(), key=lambda kv: -len(kv[0]))

    def find(self, text: str) -> list[Term]:
        found = self.vocab.find(text)
        terms = [t for t in found if t.kind != "place"]
        unknown = [t for t in found if t.kind == "place"]
        taken = [False] * len(text)
        for t in terms:
            for i in range(t.start, t.end):
                taken[i] = True
        low = text.casefold()
        # Regions: 「東北」「北陸3県」「Chugoku region」; not a region word inside a place name (東海村).
        for surface, region in self._region_surfaces:
            for m in re.finditer(re.escape(surface), low):
                s, e = m.span()
                if any(taken[s:e]) or (e < len(text) and text[e] in "市町村区"):
                    continue
                if surface.isascii() and ((s > 0 and low[s - 1].isalpha()) or (e < len(low) and low[e].isalpha())):
                    continue
                if region.name == "北海道" and any(t.kind == "prefecture" and t.value == "北海道" for t in terms):
                    continue
                if e < len(text) and text[e] == "地" and text[e:e + 2] == "地方":
                    e += 2
                for i in range(s, e):
                    taken[i] = True
                terms.append(Term("region", region.name, s, e))
        # Kana and romaji spellings of known names.
        for rm in self.readings.find_kana(text, taken) + self.readings.find_romaji(text, taken):
            if not rm.named and not self._could_be_name(text[rm.start:rm.end - 1]):
                continue  # 「そのうち町」: ordinary words before 町, not a place name
            surface = text[rm.start:rm.end]
            if rm.named and rm.how == "reading" and surface[-1] not in "市町村区県府都" \
                    and re.fullmatch(r"[ぁ-ん]{1,3}", surface) and not self._could_be_name(surface):
                continue  # 「市町村なら」: the particle なら, not 奈良
            terms.append(self._term(rm) if rm.named else Term("place", text[rm.start:rm.end], rm.start, rm.end))
            for i in range(rm.start, rm.end):
                taken[i] = True
        # Unknown kanji place names: by reading (homophone typo), else near miss, else unknown.
        spans = [(t.start, t.end, t.value) for t in unknown]
        spans += [(s, e, "") for s, e, _ in self._place_names(text)]
        for s, e, word in spans:
            if any(taken[s:e]):
                continue
            word = word or text[s:e]
            names = ()
            for kana in self.readings.readings_of(word):
                names, _ = self.readings.lookup_kana(kana, near=True)
                if names:
                    break
            # A 市町村 name only matches municipalities (大阪市 is not 大阪府), a 県 name prefectures.
            want = "municipality" if word.endswith(tuple("市町村区")) else "prefecture" if word.endswith(
                tuple("都道府県")) else None
            names = tuple(n for n in names if want is None or n.kind == want)
            if names:
                end = e + (1 if e < len(text) and text[e] in "市町村区" and not word.endswith(tuple("市町村区")) else 0)
                # The spelling differs from the table's (typo or variant kanji): the answer names it.
                terms.append(self._term(ReadingMatch(names, s, end, "near")))
            elif word.endswith(tuple("市町村区")):
                terms.append(Term("place", word, s, e))
            else:
                continue
            for i in range(s, e):
                taken[i] = True
        terms.sort(key=lambda x: x.start)
        return terms

    @staticmethod
    def _could_be_name(kana: str) -> bool:
        """A kana run that Sudachi reads as function words, adverbs or verbs names no place."""
        from assistant.tokenize import morphemes

        grammar = {"助詞", "助動詞", "副詞", "連体詞", "代名詞", "接続詞", "動詞", "形容詞"}
        first = morphemes(kana)[:1]  # 「そのうち」「この」: the run opens with a function word
        return not (first and first[0][2] in grammar)

    @staticmethod
    def _term(rm: ReadingMatch) -> Term:
        if len(rm.named) == 1:
            n = rm.named[0]
            return Term(n.kind, n.value, rm.start, rm.end, how=rm.how)
        kinds = {n.kind for n in rm.named}
        if kinds == {"municipality", "prefecture"}:  # 千葉 (prefecture and city): the city only with 市
            pref = next(n for n in rm.named if n.kind == "prefecture")
            return Term("prefecture", pref.value, rm.start, rm.end, how=rm.how)
        return Term("ambiguous", rm.named[0].value, rm.start, rm.end, how=rm.how,
                    alternatives=tuple(n.value for n in rm.named))


def sudachi_place_names(text: str) -> list[tuple[int, int, str]]:
    """(start, end, reading) of the tokens Sudachi tags 名詞-固有名詞-地名 (place names)."""
    from assistant.tokenize import get_tokenizer

    tok = get_tokenizer()
    out: list[tuple[int, int, str]] = []
    with tok._lock:
        offset = 0
        for line in text.splitlines(keepends=True):
            for i in range(0, len(line), 4000):  # Sudachi refuses inputs above ~49k bytes
                piece = line[i:i + 4000]
                if piece.strip():
                    for m in tok._tok.tokenize(piece):
                        pos = m.part_of_speech()
                        if pos[1] == "固有名詞" and pos[2] == "地名" and not m.surface().isascii():
                            out.append((offset + i + m.begin(), offset + i + m.end(), m.reading_form()))
            offset += len(line)
    return out
