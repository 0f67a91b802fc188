"""Draft KPI targets from a document's statements (``assistant records extract``).

KPIs are rarely tables: a deck states them as list items or sentences, each a *name* and one or
more *targets*, each target with its *deadline*. Two shapes are read, by punctuation and part of
speech, never by wording:

- a label and its targets: ``NAME：TARGET（DEADLINE）、TARGET（DEADLINE）`` — the deadline is a
  parenthesised group holding a year; other groups stay part of the target;
- a sentence whose first clause is the object or topic (ends in a particle, Sudachi):
  ``NAMEを、DEADLINEまでにTARGET、DEADLINEまでにTARGETとする。`` — the deadline is a leading year
  with the kana after it.

Trailing verbs and particles of a target (…とする, …を目指す, …し) are cut by their part of speech;
the value is the first written number and the unit the morpheme after it (万/億/千 kept with the
unit, as the records write 230万人). ``A→B`` is a baseline and a target. A statement is drafted
when one of its targets has a number and a deadline, or when it stands under a heading that names
KPIs (``assistant/data/statement_contexts.tsv``). The quote is the statement as the loader's text
has it (line breaks included), so it is an exact substring.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.normalize import find_years, match_key, nfkc
from assistant.records.doc_lines import Line, walk
from assistant.records.load import RecordSet
from assistant.records.schema import Kpi
from assistant.tokenize import parts_of_speech
from assistant.types import Document

CONTEXTS_FILE = Path(__file__).resolve().parent.parent / "data" / "statement_contexts.tsv"
_ITEM = re.compile(r"^\s*(?:[-*+]\s+|[・●○■◆◇▪]\s*|[0-9]+[.)]\s+)")
_CUT_TAIL = {"動詞", "助詞", "助動詞", "補助記号", "空白"}
_RANGE = re.compile(r"((?:19|20)[0-9]{2})(?:年度?)?\s*[~〜～\-－]\s*(?:19|20)[0-9]{2}")
_MULTIPLIER = re.compile(r"^([0-9][0-9,]*(?:\.[0-9]+)?)([万億千]*)$")


@dataclass(frozen=True)
class Statement:
    """A list item or a sentence: ``quote`` is ``doc.text[start:start + len(quote)]``."""

    start: int
    quote: str
    headings: tuple[str, ...]
    page: int | None

    @property
    def flat(self) -> str:
        """The statement on one line, without Markdown emphasis (wrapped Japanese joins without a space)."""
        t = re.sub(r"(?<=[A-Za-z0-9])[ \t]*\n[ \t]*(?=[A-Za-z0-9])", " ", nfkc(self.quote))
        return re.sub(r"[ \t]*\n[ \t]*", "", t).replace("**", "").strip()

    @property
    def locator(self) -> str:
        return " > ".join(([f"p.{self.page}"] if self.page else []) + list(self.headings))


@dataclass(frozen=True)
class Target:
    as_written: str
    deadline: str
    value: float | None
    unit: str
    baseline: str = ""
    baseline_value: float | None = None


def load_contexts(path: Path = CONTEXTS_FILE) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            table, words = line.split("\t")
            out[table] = tuple(match_key(w) for w in words.split("|") if w)
    return out


# ---------------------------------------------------------------- statements of the text

def _trimmed(text: str, start: int) -> tuple[int, str]:
    lead = len(text) - len(text.lstrip())
    return start + lead, text.strip()


def _colon_at(flat: str) -> int | None:
    """Where the label of ``flat`` ends: its first colon outside brackets and not inside a time (10:30)."""
    spans = _top_level(flat, ":")
    return next((b for a, b in spans[:-1] if not (flat[b - 1:b].isdigit() and flat[b + 1:b + 2].isdigit())), None)


def _pieces(lines: list[Line]) -> list[list[Line]]:
    """A paragraph's lines grouped into label statements when its list markers are lost (a PDF):
    a line with a label colon starts a statement unless the one being read has no colon yet (then it
    ends its wrapped name); a line without one continues a statement that has no colon yet or
    whose last line ends in 、, else starts a new one; a line ending in 。 ends a statement."""
    out: list[list[Line]] = []
    colon = done = False
    for line in lines:
        t = nfkc(line.stripped)
        has = _colon_at(t) is not None
        joins = bool(out) and not done and (
            (has and not colon) or (not has and (not colon or nfkc(out[-1][-1].stripped).endswith("、"))))
        if joins:
            out[-1].append(line)
            colon = colon or has
        else:
            out.append([line])
            colon = has
        done = t.endswith("。")
    return out


def statements(doc: Document) -> Iterator[Statement]:
    """List items (with their wrapped lines), label lines and the sentences of paragraphs, in order."""
    text = doc.text
    block: list[Line] = []
    item = False

    def emit(lines: list[Line], start: int, sentences: bool) -> Iterator[Statement]:
        first, last = lines[0], lines[-1]
        span = text[start:last.start + len(last.text)]
        for m in (re.finditer(r"[^。]+。?", span) if sentences else [re.match(r"(?s).*", span)]):
            s, q = _trimmed(m.group(0), start + m.start())
            if q:
                yield Statement(s, q, first.headings, first.page)

    def flush() -> Iterator[Statement]:
        if not block:
            return
        if item:
            yield from emit(block, block[0].start + _ITEM.match(block[0].text).end(), False)
            return
        for lines in _pieces(block):
            yield from emit(lines, lines[0].start, True)

    for line in walk(doc):
        t = line.stripped
        starts_item = bool(_ITEM.match(line.text)) and not t.startswith("|")
        breaks = not t or line.is_heading or t.startswith("|")
        if breaks or starts_item:
            yield from flush()
            block, item = [], False
        if breaks:
            continue
        if starts_item:
            item = True
        block.append(line)
    yield from flush()


# ---------------------------------------------------------------- a statement's parts

def _top_level(text: str, sep: str) -> list[tuple[int, int]]:
    """Spans of ``text`` split at ``sep`` outside brackets."""
    depth, start, out = 0, 0, []
    for i, ch in enumerate(text):
        if ch in "(「[":
            depth += 1
        elif ch in ")」]" and depth:
            depth -= 1
        elif ch == sep and depth == 0:
            out.append((start, i))
            start = i + 1
    out.append((start, len(text)))
    return out


def _is_deadline(text: str, at: int = 0) -> bool:
    """A year at or after ``at``, not a date (no month after it)."""
    years = [y for y in find_years(text) if y.start >= at]
    return bool(years) and not any(re.match(r"\s*[0-9]+月", text[y.end:]) for y in years)


def _cut_tail(text: str) -> str:
    """``text`` without its trailing verbs, particles, auxiliaries and symbols (Sudachi)."""
    ms = parts_of_speech(text)
    keep = len(ms)
    while keep and ms[keep - 1][1][0] in _CUT_TAIL and ms[keep - 1][0] != ")":
        keep -= 1
    return "".join(m[0] for m in ms[:keep]).strip() if keep < len(ms) else text.strip()


def _unit(ms: list[tuple[str, tuple[str, ...]]]) -> str:
    """The unit the morphemes after a number spell: a suffix (人), a counter noun (か所, %), or a
    noun with its suffix or counter (事業者, 自治体); qualifiers after it (程度, 強) are not part of it."""
    out = ""
    for surface, pos in ms:
        if pos[0] not in ("名詞", "接尾辞") or pos[1] == "数詞":
            break
        out += surface
        if pos[0] == "接尾辞" or pos[2] == "助数詞可能":
            break
    return out


def _quantity(text: str) -> tuple[float | None, str]:
    """The first number of ``text`` (outside brackets first) and its unit: ``230万人`` → (230, 万人);
    a number in kanji (十数か所) gives (None, か所)."""
    outside = re.sub(r"\([^()]*\)", " ", text)
    for part in (outside, text):
        ms = parts_of_speech(part)
        for i, (surface, pos) in enumerate(ms):
            if pos[1] != "数詞":
                continue
            j = i
            while j + 1 < len(ms) and ms[j + 1][1][1] == "数詞":
                j += 1
            m = _MULTIPLIER.match(surface) if j == i else None
            if m is None:
                return None, _unit(ms[j + 1:])
            return float(m.group(1).replace(",", "")), m.group(2) + _unit(ms[i + 1:])
    return None, ""


def _target(segment: str) -> Target | None:
    deadline, rest = "", re.sub(r"(?<=[)\s])等$", "", segment.strip()).strip()
    for start, end in _groups(rest):
        inner = rest[start + 1:end - 1]
        if _is_deadline(inner):
            deadline, rest = inner.strip(), (rest[:start] + rest[end:]).strip()
            break
    else:
        years = find_years(rest)
        if years and years[0].start == 0 and _is_deadline(rest):
            kana = re.match(r"[ぁ-ゖ]*", rest[years[0].end:]).group(0)
            cut = years[0].end + len(kana)
            deadline, rest = rest[:cut], rest[cut:].strip()
    written = _cut_tail(rest) if rest else ""
    if not written:
        return None
    baseline, after = ("", written)
    if "→" in written:
        baseline, after = (p.strip() for p in written.split("→", 1))
    value, unit = _quantity(after)
    if value is None and not unit and not deadline:
        return None
    base_value, base_unit = _quantity(baseline) if baseline else (None, "")
    return Target(written, deadline, value, unit, baseline, base_value if base_unit == unit else None)


def _groups(text: str) -> list[tuple[int, int]]:
    """Spans of the top-level parenthesised groups of ``text``."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, i + 1))
    return out


def _opens_with_deadline(segment: str) -> bool:
    years = find_years(segment.strip())
    return bool(years) and years[0].start == 0 and _is_deadline(segment.strip())


def _names_object(clause: str) -> bool:
    """A clause that ends in a case or topic particle and states no figure (…団体を / …は)."""
    ms = parts_of_speech(clause.strip())
    return (len(ms) > 1 and ms[-1][1][0] == "助詞" and ms[-1][1][1] in ("格助詞", "係助詞")
            and not find_years(clause) and not re.search(r"[0-9]", clause))


def parse(flat: str) -> tuple[str, list[Target]]:
    """(name, targets) of one statement; ('', []) when it is not a name with targets."""
    colon = _colon_at(flat)
    if colon is not None:
        name, rest = flat[:colon].strip(), flat[colon + 1:]
        segments = [rest[a:b] for a, b in _top_level(rest, "、")]
    else:
        parts = [flat[a:b] for a, b in _top_level(flat.rstrip("。"), "、")]
        first = next((i for i, seg in enumerate(parts) if i and _opens_with_deadline(seg)), None)
        if first is None or not _names_object(parts[first - 1]):
            return "", []
        clause = parts[first - 1].strip()
        name = clause[: -len(parts_of_speech(clause)[-1][0])].strip()
        segments = parts[first:]
    targets = [t for s in segments if (t := _target(s)) is not None]
    return (name, targets) if name and targets else ("", [])


# ---------------------------------------------------------------- rows

def _kpi_id(name: str, deadline_fy: int | None, current: RecordSet, taken: set[str]) -> str:
    """The id the current records give this KPI (same name and deadline), else a new short id."""
    for k in current.kpis:
        if match_key(k.name) == match_key(name) and k.deadline_fy == deadline_fy and k.kpi_id not in taken:
            return k.kpi_id
    stem = "kpi-" + hashlib.sha1(match_key(name).encode()).hexdigest()[:8]
    kid = f"{stem}-{deadline_fy}" if deadline_fy else stem
    n = 2
    while kid in taken:
        kid, n = f"{stem}-{deadline_fy or 'x'}-{n}", n + 1
    return kid


def draft_kpis(doc: Document, current: RecordSet, contexts: dict[str, tuple[str, ...]] | None = None) -> list[Kpi]:
    """Every KPI target the document states, each with source, locator and exact quote."""
    words = (contexts if contexts is not None else load_contexts()).get("kpis", ())
    out: list[Kpi] = []
    taken: set[str] = set()
    for st in statements(doc):
        name, targets = parse(st.flat)
        if not targets:
            continue
        in_context = any(w in match_key(" ".join(st.headings)) for w in words)
        if not in_context and not any(t.value is not None and t.deadline for t in targets):
            continue
        for t in targets:
            years = [y.year for y in find_years(t.deadline)]
            deadline_fy = max(years) if years else None
            span = _RANGE.search(nfkc(t.deadline))
            start_fy = int(span.group(1)) if span and deadline_fy and int(span.group(1)) < deadline_fy else None
            kid = _kpi_id(name, deadline_fy, current, taken)
            taken.add(kid)
            out.append(Kpi(source=doc.source, locator=st.locator, quote=st.quote, kpi_id=kid, name=name,
                           target_as_written=t.as_written, value=t.value, unit=t.unit,
                           deadline_as_written=t.deadline, deadline_fy=deadline_fy, period_start_fy=start_fy,
                           section=st.headings[-1] if st.headings else "", baseline_as_written=t.baseline,
                           baseline_value=t.baseline_value))
    return out
