"""Metamorphic variants of QA questions: rewrites that must not change a correct answer.

``assistant eval --variants`` asks every item again in each variant of its question and reports
how many variants of a correctly answered item are still answered correctly (the "kept" rate).
Every variant is derived by a general rule, never from a list of the QA file's own words:

- ``hiragana`` / ``katakana`` / ``romaji``: a place name of the records vocabulary (municipalities
  of the records, the 47 prefectures) written by its reading, the 市町村/都府県 suffix kept in
  kanji as users write it (盛岡市 → もりおか市 / モリオカ市 / Morioka市). Readings come from
  Sudachi; a name whose reading is unreliable (a numeral such as 四万十) or shared by another
  name of the vocabulary (三郷町/美郷町 → みさと町) is left alone.
- ``width``: ASCII digits and Latin letters to full width, full width to ASCII (R4 ⇄ Ｒ４).
- ``era``: year mentions respelled (R4 / 令和4年度 / 2022年度; H30 / 平成30年度 / 2018年度).
- ``politeness``: the final predicate changed between the polite, plain and colloquial
  register, by the endings table ``assistant/data/endings.tsv`` and Sudachi's part of speech and
  conjugation (〜ですか？ ⇄ 〜？ ⇄ 〜なの？, 教えてください ⇄ 教えて ⇄ 教えてちょうだい,
  続きますか？ ⇄ 続く？ ⇄ 続くの？).
- ``abbreviation``: long forms shortened as staff write them, by
  ``assistant/data/abbreviations.tsv`` (経済産業省 → 経産, シンポジウム → シンポ).
- ``order``: two leading entity phrases joined by the same particle swapped
  (R2年度の大阪府の事業 → 大阪府のR2年度の事業).

A variant never changes a fact of its question: :func:`facts` (the numbers, with every year
spelled the same way) must be equal, and a rewrite that would change them is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jaconv

from assistant.evaluate.metrics import numbers_in
from assistant.normalize import find_years, nfkc, normalize_era_years, western_to_era, western_to_era_full
from assistant.records.schema import TECHNOLOGIES
from assistant.records.vocab import municipality_stem, prefecture_stem, prefectures
from assistant.tokenize import get_tokenizer

KINDS: tuple[str, ...] = ("hiragana", "katakana", "romaji", "width", "era", "politeness", "abbreviation", "order")
READING_KINDS = ("hiragana", "katakana", "romaji")
REGISTERS = ("polite", "plain", "colloquial")

#: Suffixes of place names that stay in kanji; a stem glued to one is part of another name.
_SUFFIX_CHARS = "市町村区都道府県"
#: Trailing punctuation of a question (kept apart from its ending).
_MARKS = "？?。．.！!　 \t\n"
_KATAKANA_RE = re.compile(r"[ァ-ヺー]+")
_JAPANESE_RE = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff々]")


@dataclass(frozen=True)
class Variant:
    """One rewrite of an item's question (``original``) that must keep its answer."""

    item_id: str
    kind: str
    question: str
    original: str
    note: str = ""


# ---------------------------------------------------------------- facts


def facts(text: str) -> Counter[str]:
    """The numbers of ``text`` after NFKC with every year mention written as a western year:
    what a variant must not change (``R4`` and ``2022年度`` are the same fact)."""
    return Counter(numbers_in(normalize_era_years(nfkc(text))))


def has_japanese(text: str) -> bool:
    return bool(_JAPANESE_RE.search(text))


# ---------------------------------------------------------------- Sudachi


@dataclass(frozen=True)
class Morph:
    surface: str
    pos: tuple[str, ...]  # Sudachi's six levels: pos[0] part of speech … pos[4] type, pos[5] form
    dictionary_form: str
    begin: int
    end: int

    @property
    def conj_type(self) -> str:
        return self.pos[4] if len(self.pos) > 4 else "*"

    @property
    def conj_form(self) -> str:
        return self.pos[5] if len(self.pos) > 5 else "*"


def morphs(text: str) -> list[Morph]:
    """Morphemes of ``text`` as written (no normalization), with character offsets."""
    if not text:
        return []
    tok = get_tokenizer()
    with tok._lock:  # the process-wide Sudachi tokenizer is not re-entrant
        return [Morph(m.surface(), tuple(m.part_of_speech()), m.dictionary_form(), m.begin(), m.end())
                for m in tok._tok.tokenize(text)]


def _boundaries(text: str) -> set[int]:
    out = {0, len(text)}
    for m in morphs(text):
        out.add(m.begin)
        out.add(m.end)
    return out


# ---------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class PlaceName:
    name: str  # 盛岡市
    stem: str  # 盛岡
    suffix: str  # 市 ("" for 北海道)
    kind: str  # municipality | prefecture
    reading: str  # katakana; "" when unreliable or ambiguous


@dataclass(frozen=True)
class Abbreviation:
    short: str
    long: str
    kind: str


@dataclass(frozen=True)
class Vocabulary:
    places: tuple[PlaceName, ...] = ()
    abbreviations: tuple[Abbreviation, ...] = ()
    technologies: tuple[str, ...] = TECHNOLOGIES


def place_reading(stem: str) -> str:
    """Katakana reading of a place-name stem, or "" when Sudachi's reading is not trustworthy:
    the stem must be made of common or proper nouns only (no numeral: 四万十 → ヨンマンジュウ)."""
    if not stem:
        return ""
    if all(_KATAKANA_RE.fullmatch(jaconv.hira2kata(c)) for c in stem):
        return jaconv.hira2kata(stem)  # written in kana already
    ms = morphs(stem)
    if not ms or any(m.pos[0] != "名詞" or m.pos[1] not in ("固有名詞", "普通名詞") for m in ms):
        return ""
    tok = get_tokenizer()
    with tok._lock:
        reading = "".join(m.reading_form() for m in tok._tok.tokenize(stem))
    return reading if _KATAKANA_RE.fullmatch(reading) else ""


def _split_place(name: str, kind: str) -> tuple[str, str]:
    stem = prefecture_stem(name) if kind == "prefecture" else municipality_stem(name)
    return stem, name[len(stem):]


def build_vocabulary(municipalities: Iterable[str], prefecture_names: Iterable[str] | None = None,
                     abbreviations: Sequence[Abbreviation] | None = None,
                     technologies: Sequence[str] = TECHNOLOGIES) -> Vocabulary:
    """Places with their readings; names sharing a reading (and suffix) get none."""
    raw: list[tuple[str, str]] = [(p, "prefecture") for p in (prefectures() if prefecture_names is None
                                                               else prefecture_names)]
    raw += [(m, "municipality") for m in dict.fromkeys(municipalities) if m]
    seen: set[str] = set()
    places: list[PlaceName] = []
    for name, kind in raw:
        if name in seen:
            continue
        seen.add(name)
        stem, suffix = _split_place(name, kind)
        places.append(PlaceName(name, stem, suffix, kind, place_reading(stem)))
    # A reading is only usable when it names one place: みさと町 could be 三郷町 or 美郷町.
    by_key: dict[tuple[str, str], set[str]] = {}
    by_stem_reading: dict[str, set[str]] = {}
    for p in places:
        if p.reading:
            by_key.setdefault((p.reading, p.suffix), set()).add(p.name)
            by_stem_reading.setdefault(p.reading, set()).add(p.stem)
    out = []
    for p in places:
        ambiguous = p.reading and (len(by_key[(p.reading, p.suffix)]) > 1
                                   or len(by_stem_reading[p.reading]) > 1)
        out.append(PlaceName(p.name, p.stem, p.suffix, p.kind, "" if ambiguous else p.reading))
    return Vocabulary(tuple(out), tuple(load_abbreviations() if abbreviations is None else abbreviations),
                      tuple(technologies))


def load_vocabulary(records_path: Path) -> Vocabulary:
    """The vocabulary of the records in ``records_path`` (municipalities of every table)."""
    from assistant.records.load import load_records

    names: list[str] = []
    try:
        rs = load_records(records_path)
    except (OSError, ValueError):
        rs = None
    if rs is not None:
        for table in (rs.projects, rs.selections):
            for row in table:
                names += list(getattr(row, "municipalities", []) or [])
    return build_vocabulary(names)


def _data_lines(name: str, path: Path | None) -> list[list[str]]:
    text = (path.read_text(encoding="utf-8") if path is not None
            else resources.files("assistant").joinpath(f"data/{name}").read_text(encoding="utf-8"))
    rows = []
    for i, line in enumerate(text.lstrip("\ufeff").splitlines()):
        if not line.strip() or line.lstrip().startswith("#") or i == 0:
            continue  # blank, comment, header
        rows.append([c.strip() for c in line.split("\t")])
    return rows


@lru_cache(maxsize=4)
def load_abbreviations(path: Path | None = None) -> tuple[Abbreviation, ...]:
    """Rows of ``assistant/data/abbreviations.tsv`` (``short\\tlong\\tkind``), in file order."""
    return tuple(Abbreviation(r[0], r[1], r[2] if len(r) > 2 else "") for r in _data_lines("abbreviations.tsv", path)
                 if len(r) >= 2 and r[0] and r[1])


# ---------------------------------------------------------------- place readings


def romaji_of(katakana: str) -> str:
    """Hepburn-like spelling users type: long vowels folded (トウキョウ → Tokyo, オオイタ → Oita)."""
    r = jaconv.kana2alphabet(jaconv.kata2hira(katakana))
    r = r.replace("oo", "o").replace("uu", "u")
    r = re.sub(r"ou(?![aiueo])", "o", r)
    return r[:1].upper() + r[1:]


def _glued(text: str, i: int) -> bool:
    """Whether the character at ``i`` (if any) would make a bare stem part of a longer word."""
    if i < 0 or i >= len(text):
        return False
    c = text[i]
    return c in _SUFFIX_CHARS or bool(re.match(r"[\u4e00-\u9fff々\u30a1-\u30faー]", c))


def _place_spans(question: str, vocab: Vocabulary) -> list[tuple[int, int, PlaceName, bool]]:
    """Non-overlapping (start, end, place, written with its suffix) of the question, longest first."""
    bounds = _boundaries(question)
    taken = [False] * len(question)
    spans: list[tuple[int, int, PlaceName, bool]] = []

    def claim(surface: str, place: PlaceName, full: bool) -> None:
        for m in re.finditer(re.escape(surface), question):
            s, e = m.span()
            # A name must start a word (大阪市 in 東大阪市 does not); a stem must also end one.
            if any(taken[s:e]) or s not in bounds or (e not in bounds and not (full and place.suffix)):
                continue
            if not full and (_glued(question, s - 1) or _glued(question, e)):
                continue  # 京都 in 京都市, 高知 in 高知大学: part of another name
            for i in range(s, e):
                taken[i] = True
            spans.append((s, e, place, full))

    for p in sorted(vocab.places, key=lambda p: -len(p.name)):
        claim(p.name, p, True)
    for p in sorted(vocab.places, key=lambda p: -len(p.stem)):
        if p.suffix and len(p.stem) >= 2 and p.reading:
            claim(p.stem, p, False)
    return sorted(spans, key=lambda s: s[0])


def _spell(reading: str, kind: str) -> str:
    if kind == "hiragana":
        return jaconv.kata2hira(reading)
    if kind == "katakana":
        return reading
    return romaji_of(reading)


def reading_variants(question: str, vocab: Vocabulary) -> list[tuple[str, str, str]]:
    """(kind, question, note) with each usable place name written by its reading."""
    spans = [s for s in _place_spans(question, vocab) if s[2].reading]
    out = []
    for kind in READING_KINDS:
        parts, pos, notes = [], 0, []
        for s, e, place, full in spans:
            new = _spell(place.reading, kind) + (place.suffix if full else "")
            if new == question[s:e]:
                continue
            parts += [question[pos:s], new]
            notes.append(f"{question[s:e]}→{new}")
            pos = e
        if notes:
            out.append((kind, "".join(parts) + question[pos:], ", ".join(notes)))
    return out


# ---------------------------------------------------------------- width


def _toggle_width(c: str) -> str:
    if c.isascii() and c.isalnum():
        return chr(ord(c) + 0xFEE0)
    if "０" <= c <= "９" or "Ａ" <= c <= "Ｚ" or "ａ" <= c <= "ｚ":
        return chr(ord(c) - 0xFEE0)
    return c


def width_variant(question: str) -> tuple[str, str] | None:
    """ASCII letters/digits to full width and full-width ones to ASCII (Japanese questions only)."""
    if not has_japanese(question):
        return None
    new = "".join(_toggle_width(c) for c in question)
    if new == question:
        return None
    full = sum(1 for a, b in zip(question, new, strict=True) if a != b and b.isascii())
    return new, "full width → ASCII" if full else "ASCII → full width"


# ---------------------------------------------------------------- era


def _year_form(text: str) -> str:
    if text[:2] in ("令和", "平成", "昭和"):
        return "full"
    if text[:1] in "RHS":
        return "letter"
    return "western"


def _spell_year(year: int, target: str, suffix: str, english: bool) -> str | None:
    """``year`` in the ``target`` spelling; ``suffix`` is 年度, 年 or "" as the mention had it."""
    calendar = suffix == "年"
    if target != "western" and calendar and year in (1989, 2019):
        return None  # the era changed during that calendar year
    if target == "western":
        if english:
            return f"FY{year}"
        return f"{year}年" if calendar else f"{year}年度"
    if target == "letter":
        return western_to_era(year) + suffix
    if english:
        return None
    full = western_to_era_full(year)  # 令和4年度
    return full[:-1] if calendar else full


def era_variants(question: str) -> list[tuple[str, str, str]]:
    """("era", question, note) for each other spelling of the question's year mentions."""
    t = question if len(nfkc(question)) == len(question) else nfkc(question)
    mentions = find_years(t)
    if not mentions:
        return []
    english = not has_japanese(t)
    out = []
    for target in ("western", "letter", "full"):
        parts, pos, notes = [], 0, []
        for y in mentions:
            raw = t[y.start:y.end]
            if _year_form(nfkc(raw)) == target:
                continue
            suffix = "年度" if raw.endswith("年度") else "年" if raw.endswith("年") else ""
            if english and target == "letter":
                suffix = ""
            new = _spell_year(y.year, target, suffix, english)
            if new is None or new == raw:
                continue
            parts += [t[pos:y.start], new]
            notes.append(f"{raw}→{new}")
            pos = y.end
        if notes:
            out.append(("era", "".join(parts) + t[pos:], ", ".join(notes)))
    return out


# ---------------------------------------------------------------- politeness


@dataclass(frozen=True)
class EndingRow:
    family: str
    after: tuple[str, ...]
    cells: dict[str, tuple[str, ...]]  # register -> spellings, the first one written


@dataclass(frozen=True)
class ConjRule:
    key: str
    plain_end: str  # 終止形 ending (く)
    masu_end: str  # 連用形 ending before ます (き)
    ta_end: str  # た-form ending (いた)


@dataclass(frozen=True)
class Endings:
    rows: tuple[EndingRow, ...]
    conj: dict[str, ConjRule] = field(default_factory=dict)

    def rule(self, m: Morph, dictionary_form: str | None = None) -> ConjRule | None:
        d = dictionary_form or m.dictionary_form
        for key in (d, m.conj_type, m.conj_type.split("-")[0]):
            r = self.conj.get(key)
            if r is not None and d.endswith(r.plain_end):
                return r
        return None


def _cell(value: str) -> tuple[str, ...]:
    return tuple("" if v.strip() == "-" else v.strip() for v in value.split("|"))


@lru_cache(maxsize=4)
def load_endings(path: Path | None = None) -> Endings:
    """``assistant/data/endings.tsv``: ending rows by family and register, conjugation rules."""
    rows, conj = [], {}
    for r in _data_lines("endings.tsv", path):
        r += [""] * (6 - len(r))
        kind, name, after, polite, plain, colloquial = r[:6]
        if kind == "ending":
            rows.append(EndingRow(name, tuple(a for a in after.split("|") if a),
                                  {"polite": _cell(polite), "plain": _cell(plain), "colloquial": _cell(colloquial)}))
        elif kind == "conj":
            def blank(v: str) -> str:
                return "" if v == "-" else v

            conj[name] = ConjRule(name, blank(after), blank(polite), blank(plain))
    return Endings(tuple(rows), conj)


def _pos_ok(m: Morph | None, after: Sequence[str]) -> bool:
    if m is None:
        return False
    for a in after:
        first, _, second = a.partition("/")
        if m.pos[0] == first and (not second or m.pos[1] == second):
            return True
    return False


@dataclass(frozen=True)
class _Ending:
    row: EndingRow
    register: str
    start: int  # where the rewritten part begins
    length: int  # characters of the matched ending (longest wins)
    plain_form: str = ""  # verb families: the verb in its plain (終止形 / た) form
    masu_stem: str = ""  # verb families: the verb before ます


def _verb_forms(endings: Endings, row: EndingRow, register: str, ms: list[Morph], start: int,
                body: str) -> tuple[int, str, str] | None:
    """(rewrite start, plain form, masu stem) of the verb before the ending at ``start``."""
    idx = next((i for i, m in enumerate(ms) if m.end == start), None)
    if idx is None:
        return None
    m = ms[idx]
    past = row.family == "verb_past"
    if register == "polite":  # 続き|ますか, 続き|ましたか: m is the 連用形
        if m.pos[0] not in ("動詞", "助動詞") or not m.conj_form.startswith("連用形-一般"):
            return None
        r = endings.rule(m)
        if r is None:
            return None
        d = m.dictionary_form
        plain = d[:len(d) - len(r.plain_end)] + r.ta_end if past else d
        if not m.surface.endswith(r.masu_end) or plain == m.surface:
            return None
        return m.begin, plain, m.surface
    # plain / colloquial: 続く|？, 続く|の？, 続い+た|？, 続い+た|の？
    if past:
        if m.conj_type != "助動詞-タ" or idx == 0:
            return None
        v = ms[idx - 1]
        if v.pos[0] not in ("動詞", "助動詞") or not v.conj_form.startswith("連用形"):
            return None
        r = endings.rule(v)
        if r is None:
            return None
        d = v.dictionary_form
        return v.begin, body[v.begin:m.end], d[:len(d) - len(r.plain_end)] + r.masu_end
    if m.pos[0] not in ("動詞", "助動詞") or not (m.conj_form.startswith("終止形")
                                                 or (register == "colloquial" and m.conj_form.startswith("連体形"))):
        return None
    r = endings.rule(m, m.surface)
    if r is None:
        return None
    return m.begin, m.surface, m.surface[:len(m.surface) - len(r.plain_end)] + r.masu_end


def _find_ending(question: str, endings: Endings) -> tuple[str, _Ending] | None:
    body = question.rstrip(_MARKS)
    tail = question[len(body):]
    asked = any(c in "？?" for c in tail)
    if not body or not has_japanese(body) or not re.search(r"[\u3041-\u3096]", body):
        return None
    ms = morphs(body)
    by_end = {m.end: m for m in ms}
    best: _Ending | None = None
    for row in endings.rows:
        verb = row.family in ("verb", "verb_past")
        for register in REGISTERS:
            for spelling in row.cells[register]:
                ending = spelling.rstrip(_MARKS)
                if spelling.endswith("？") and not (asked or ending.endswith("か")):
                    continue
                if not body.endswith(ending) or len(ending) >= len(body):
                    continue
                start = len(body) - len(ending)
                if best is not None and len(ending) <= best.length:
                    continue
                if verb:
                    forms = _verb_forms(endings, row, register, ms, start, body)
                    if forms is None:
                        continue
                    best = _Ending(row, register, forms[0], len(ending), forms[1], forms[2])
                elif _pos_ok(by_end.get(start), row.after):
                    best = _Ending(row, register, start, len(ending))
    return (body, best) if best is not None else None


def politeness_variants(question: str, endings: Endings | None = None,
                        followup: bool = False) -> list[tuple[str, str, str]]:
    """("politeness", question, note) in the two other registers of the question's ending;
    ``followup``: the question follows earlier turns (``<family>_followup`` rows are written)."""
    endings = endings or load_endings()
    found = _find_ending(question, endings)
    if found is None:
        return []
    body, e = found
    row = e.row
    if followup:
        row = next((r for r in endings.rows if r.family == f"{e.row.family}_followup"), row)
    out = []
    for register in REGISTERS:
        if register == e.register:
            continue
        written = row.cells[register][0]
        if e.row.family in ("verb", "verb_past"):
            stem = e.masu_stem if register == "polite" else e.plain_form
            new = body[:e.start] + stem + written
        else:
            new = body[:e.start] + written
        if new != question and new.rstrip(_MARKS) != body:
            out.append(("politeness", new, f"{e.row.family}: {e.register} → {register}"))
    return out


# ---------------------------------------------------------------- abbreviations


def abbreviation_variants(question: str, abbreviations: Sequence[Abbreviation]) -> list[tuple[str, str]]:
    """(question, note) for each long form of the table found in the question, shortened to its
    first short form everywhere (a long form inside a longer one, シンポジウム in ミニシンポジウム,
    belongs to the longer one)."""
    first: dict[str, str] = {}
    for a in abbreviations:
        first.setdefault(a.long, a.short)
    taken = [False] * len(question)
    spans: dict[str, list[tuple[int, int]]] = {}
    for long in sorted(first, key=len, reverse=True):
        for m in re.finditer(re.escape(long), question):
            s, e = m.span()
            if any(taken[s:e]):
                continue
            for i in range(s, e):
                taken[i] = True
            spans.setdefault(long, []).append((s, e))
    out = []
    for long, where in sorted(spans.items(), key=lambda kv: kv[1][0][0]):
        parts, pos = [], 0
        for s, e in where:
            parts += [question[pos:s], first[long]]
            pos = e
        out.append(("".join(parts) + question[pos:], f"{long}→{first[long]}"))
    return out


# ---------------------------------------------------------------- order


def _entity_at(question: str, pos: int, vocab: Vocabulary, ms: Sequence[Morph]) -> tuple[int, str] | None:
    """(end, kind) of a place, year or technology written at ``pos``. A year may carry one verbal
    noun (R4年度採択, 2022年度選定): the year it qualifies is still the entity."""
    for y in find_years(question):
        if y.start == pos:
            nxt = next((m for m in ms if m.begin == y.end), None)
            if nxt is not None and nxt.pos[:3] == ("名詞", "普通名詞", "サ変可能"):
                return nxt.end, "year"
            return y.end, "year"
    by_length = sorted(vocab.places, key=lambda p: -len(p.name))
    for p in by_length:
        if question.startswith(p.name, pos):
            end = pos + len(p.name)
            town = next((t for t in by_length if t.kind == "municipality" and question.startswith(t.name, end)), None)
            return end + (len(town.name) if town else 0), "place"  # 岩手県盛岡市: one place
    for tech in sorted(vocab.technologies, key=len, reverse=True):
        if question.startswith(tech, pos):
            return pos + len(tech), "technology"
    return None


def order_variant(question: str, vocab: Vocabulary) -> tuple[str, str] | None:
    """「E1のE2の…」 → 「E2のE1の…」 when the question starts with two entities of different kinds
    (place, year, technology) each followed by the same particle の or で."""
    if len(nfkc(question)) != len(question):
        return None
    ms = morphs(question)
    bounds = {m.begin for m in ms} | {len(question)}
    first = _entity_at(question, 0, vocab, ms)
    if first is None or first[0] >= len(question) or question[first[0]] not in "ので":
        return None
    particle = question[first[0]]
    second = _entity_at(question, first[0] + 1, vocab, ms)
    if second is None or second[1] == first[1] or first[0] not in bounds or second[0] not in bounds:
        return None
    end2 = second[0]
    if end2 + 1 >= len(question) or question[end2] != particle:
        return None
    e1, e2 = question[:first[0]], question[first[0] + 1:end2]
    return f"{e2}{particle}{e1}{particle}{question[end2 + 1:]}", f"{e1} ⇄ {e2}"


# ---------------------------------------------------------------- all kinds


def generate_variants(item_id: str, question: str, vocab: Vocabulary, kinds: Sequence[str] = KINDS,
                      endings: Endings | None = None, followup: bool = False) -> list[Variant]:
    """Every variant of ``question`` of the given kinds; none repeats the question or another
    variant, and none changes its :func:`facts`. ``followup``: the question has a history."""
    found: list[tuple[str, str, str]] = []
    wanted = set(kinds)
    if wanted & set(READING_KINDS):
        found += [v for v in reading_variants(question, vocab) if v[0] in wanted]
    if "width" in wanted and (w := width_variant(question)):
        found.append(("width", *w))
    if "era" in wanted:
        found += era_variants(question)
    if "politeness" in wanted:
        found += politeness_variants(question, endings, followup)
    if "abbreviation" in wanted:
        found += [("abbreviation", *a) for a in abbreviation_variants(question, vocab.abbreviations)]
    if "order" in wanted and (o := order_variant(question, vocab)):
        found.append(("order", *o))
    base = facts(question)
    seen = {unicodedata.normalize("NFC", question)}
    out = []
    for kind, text, note in found:
        key = unicodedata.normalize("NFC", text)
        if key in seen or facts(text) != base:
            continue
        seen.add(key)
        out.append(Variant(item_id, kind, text, question, note))
    return out


def variants_for_items(items: Iterable, vocab: Vocabulary, kinds: Sequence[str] = KINDS) -> list[Variant]:
    """Variants of each QA item's current question (its history is kept as it is)."""
    endings = load_endings()
    out: list[Variant] = []
    for item in items:
        out += generate_variants(item.id, item.question, vocab, kinds, endings, bool(item.history))
    return out
