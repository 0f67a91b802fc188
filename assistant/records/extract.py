"""Draft record CSVs from a document's tables (``assistant records extract DOCUMENT``).

The document is read by the corpus loader (:func:`assistant.ingest.loaders.load_document`, so
Markdown, HTML and PDF alike) and its pipe tables by :func:`assistant.records.cells.parse_tables`.
A table becomes a record table by its header cells, matched against the words of
``assistant/data/record_headers.tsv`` (自治体 → ``entry``, 採択年度 → ``selection_year`` …), never
by its title. Every drafted row cites the document: ``source``, a ``locator`` (page, heading
path, the table's header and caption) and a ``quote`` that is an exact substring of the loader's
text (a whole table line, or one cell of a transposed table).

What the tables hold is drafted: ``projects``, ``support_ended``, ``programs`` and
``program_selections`` (from the programs' 選定数 cells). KPI targets are stated in list items and
sentences: they are drafted from those statements (:mod:`assistant.records.extract_kpis`). Events
and program facts are described in prose; they are not drafted (their files in the draft have a
header and no rows, and ``draft.json`` says so), and ``records accept`` leaves them as they are.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.errors import RecordsInvalidError, UsageError
from assistant.ingest.loaders import LoadError, load_document
from assistant.normalize import match_key, nfkc, parse_fiscal_year
from assistant.records.cells import Table, parse_tables
from assistant.records.doc_lines import walk
from assistant.records.extract_kpis import draft_kpis
from assistant.records.load import TABLES, RecordSet, read_records
from assistant.records.schema import Program, ProgramSelection, Project, SupportEnded
from assistant.types import Document

DATA = Path(__file__).resolve().parent.parent / "data"
HEADERS_FILE = DATA / "record_headers.tsv"
MANIFEST = "draft.json"
#: Tables stated in sentences, not tables: not drafted (why, for the manifest and the report).
NOT_DRAFTED = {
    "events": "events are described in label:value paragraphs and sentences (the city), not tables",
    "facts": "program facts (最長5年, 合計53事業 …) are figures in sentences",
}
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_SELECTION = re.compile(r"(?<![0-9a-z])([hrs])([0-9]{1,2}):([0-9]+)")


# ---------------------------------------------------------------- header rules

@dataclass(frozen=True)
class TableRule:
    table: str  # attribute of RecordSet: projects, programs, …
    fields: dict[str, tuple[str, ...]]
    layout: str = "columns"
    context: tuple[str, ...] = ()


def _key(text: str) -> str:
    return match_key(nfkc(text).replace("**", "")).rstrip(".")


def load_rules(path: Path = HEADERS_FILE) -> list[TableRule]:
    fields: dict[str, dict[str, tuple[str, ...]]] = {}
    special: dict[str, dict[str, tuple[str, ...]]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        table, name, words = (raw.split("\t") + ["", ""])[:3]
        parts = tuple(_key(w) for w in words.split("|") if w.strip())
        (special if name.startswith("@") else fields).setdefault(table, {})[name.lstrip("@")] = parts
    return [TableRule(t, f, (special.get(t, {}).get("layout") or ("columns",))[0],
                      special.get(t, {}).get("context", ())) for t, f in fields.items()]


def _matches(cell: str, word: str) -> int:
    """Length of ``word`` when ``cell`` is or contains it, else 0."""
    if cell == word or (len(word) >= 2 and not word.isascii() and word in cell):
        return len(word)
    return 0


def match_labels(cells: Sequence[str], rule: TableRule) -> dict[str, int] | None:
    """field -> index of the distinct cell it matches (the longest word wins), or None."""
    keys = [_key(c) for c in cells]
    pairs = sorted(((max((_matches(k, w) for w in words), default=0), name, i)
                    for name, words in rule.fields.items() for i, k in enumerate(keys)), reverse=True)
    out: dict[str, int] = {}
    for score, name, i in pairs:
        if score and name not in out and i not in out.values():
            out[name] = i
    return out if len(out) == len(rule.fields) else None


# ---------------------------------------------------------------- tables in place

@dataclass
class Located:
    """A table of the document with where it is: headings above it, caption, page."""

    table: Table
    headings: list[str]
    caption: str = ""
    page: int | None = None

    @property
    def locator(self) -> str:
        head = " / ".join(c.text.replace("**", "") for c in self.table.lines[0] if c.text)
        name = f"表「{head if len(head) <= 40 else head[:39] + '…'}」"
        if self.caption:
            name += f" ({self.caption})"
        parts = ([f"p.{self.page}"] if self.page else []) + self.headings + [name]
        return " > ".join(parts)


def locate_tables(doc: Document) -> list[Located]:
    """Every pipe table of the loader's text, with its heading path, caption and page."""
    out: list[Located] = []
    tables = iter(parse_tables(doc.text))
    previous: list[str] = []
    in_table = False
    for line in walk(doc):
        text = line.stripped
        if line.is_heading:
            previous = []
        if text.startswith("|"):
            if not in_table:
                table = next(tables, None)
                if table is not None:
                    caption = previous[-1] if previous and len(previous[-1]) <= 40 else ""
                    out.append(Located(table, list(line.headings), caption, line.page))
            in_table = True
            continue
        if in_table:
            previous = []
        in_table = False
        if text and not line.is_heading:
            previous.append(text)
    return out


# ---------------------------------------------------------------- rows of each record table

@dataclass
class Draft:
    document: Document
    rows: dict[str, list[BaseModel]] = field(default_factory=dict)  # attr -> rows
    tables: dict[str, str] = field(default_factory=dict)  # attr -> locator(s) it was drafted from
    notes: list[str] = field(default_factory=list)


def _value(cell: str) -> str:
    """A cell's value: as written, without Markdown emphasis."""
    return cell.replace("**", "").strip()


def _prefectures() -> list[str]:
    names = (DATA / "prefectures.txt").read_text(encoding="utf-8").split()
    return sorted(names, key=len, reverse=True)


def _places(entry: str) -> tuple[str, list[str], bool]:
    """'北海道、岩見沢市、更別村' -> ('北海道', ['岩見沢市', '更別村'], True)."""
    text = nfkc(entry).replace("(※)", "").replace("※", "").strip()
    prefs = _prefectures()
    prefecture = next((p for p in prefs if text.startswith(p)), "")
    rest = text[len(prefecture):]
    municipalities = []
    for part in re.split(r"[、,・]", rest):
        part = part.strip()
        part = part[len(p):] if (p := next((q for q in prefs if part.startswith(q)), "")) else part
        if part:
            municipalities.append(part)
    return prefecture, municipalities, rest == "" or rest.startswith(("、", ",", "・"))


def _technologies(written: str) -> list[str]:
    parts = (re.sub(r"等$", "", p.strip()) for p in re.split(r"[、・,;]", nfkc(written)))
    return [p for p in parts if p]


def _build(draft: Draft, model: type[BaseModel], data: dict[str, Any], where: str) -> BaseModel | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        draft.notes.append(f"{where}: skipped ({'.'.join(map(str, err['loc']))}: {err['msg']})")
        return None


def _cite(doc: Document, loc: Located, quote: str) -> dict[str, str]:
    return {"source": doc.source, "locator": loc.locator, "quote": quote}


def _column_rows(draft: Draft, loc: Located, cols: dict[str, int]) -> Iterable[tuple[str, dict[str, Any]]]:
    for i, line in enumerate(loc.table.lines[1:], start=1):
        cells = {name: _value(line[j].text) if j < len(line) else "" for name, j in cols.items()}
        if not any(cells.values()):
            continue
        entry = cells["entry"]
        prefecture, municipalities, applicant = _places(entry)
        written = cells["technologies_as_written"]
        number = re.sub(r"\D", "", nfkc(cells["no"]))
        data: dict[str, Any] = {**_cite(draft.document, loc, loc.table.texts[i]), "entry": entry,
                                "no": int(number) if number else None, "prefecture": prefecture,
                                "municipalities": municipalities, "technologies": _technologies(written),
                                "technologies_as_written": written}
        if "selection_year" in cells:
            data.update(selection_year=cells["selection_year"], prefecture_is_applicant=applicant,
                        selection_fy=parse_fiscal_year(cells["selection_year"]),
                        mlit_autonomous_support="※" in entry)
        yield f"{loc.locator} line {i}", data


def _entry_key(entry: str) -> str:
    return _key(entry.replace("(※)", "").replace("（※）", ""))


def _draft_people(draft: Draft, projects: list[tuple[Located, dict[str, int]]],
                  ended: list[tuple[Located, dict[str, int]]]) -> None:
    ended_rows = [(w, d) for loc, cols in ended for w, d in _column_rows(draft, loc, cols)]
    ended_keys = {(_entry_key(d["entry"]), tuple(d["technologies"])) for _, d in ended_rows}
    out: list[BaseModel] = []
    for loc, cols in projects:
        for where, data in _column_rows(draft, loc, cols):
            data["support_ends_r4"] = (_entry_key(data["entry"]), tuple(data["technologies"])) in ended_keys
            if (row := _build(draft, Project, data, where)) is not None:
                out.append(row)
    if projects and not ended:
        draft.notes.append("projects: no support-ended table (支援満了) in the document: support_ends_r4 is false")
    draft.rows["projects"] = out
    support: list[BaseModel] = []
    for where, data in ended_rows:
        same = [p for p in out if _entry_key(p.entry) == _entry_key(data["entry"])]
        match = [p for p in same if p.technologies == data["technologies"]] or same
        data["project_no"] = match[0].no if match else None
        if not match:
            draft.notes.append(f"{where}: no project with entry {data['entry']!r}; project_no left empty")
        if (row := _build(draft, SupportEnded, data, where)) is not None:
            support.append(row)
    draft.rows["support_ended"] = support


def _program_id(name: str, ministry: str, current: RecordSet, taken: set[str]) -> str:
    """The id the current records give the program (same name), else ``program-N``."""
    for p in current.programs:
        if _key(p.program_name) == _key(name) or (_key(p.ministry) == _key(ministry) and _key(p.program_name) in _key(name)):
            if p.program_id not in taken:
                return p.program_id
    n = 1
    while f"program-{n}" in taken or any(p.program_id == f"program-{n}" for p in current.programs):
        n += 1
    return f"program-{n}"


def _draft_programs(draft: Draft, found: list[tuple[Located, dict[str, int]]], current: RecordSet) -> None:
    programs: list[BaseModel] = []
    selections: list[BaseModel] = []
    taken: set[str] = set()
    doc = draft.document
    for loc, labels in found:
        lines = loc.table.lines
        for col in range(1, len(lines[0])):
            cell = {name: _value(lines[i][col].text) if col < len(lines[i]) else "" for name, i in labels.items()}
            if not cell["program_name"]:
                continue
            head = _value(lines[0][col].text)
            m = re.match(r"^(.*?)\s*[(（](.*)[)）]\s*$", head)
            ministry, bureau = (m.group(1), m.group(2)) if m else (head, "")
            budget = re.search(r"([0-9]+(?:\.[0-9]+)?)\s*億円", nfkc(cell["budget_r5"]))
            email = _EMAIL.search(cell["contact"])
            pid = _program_id(cell["program_name"], ministry, current, taken)
            taken.add(pid)
            data = {**_cite(doc, loc, lines[labels["program_name"]][col].text), "program_id": pid, "ministry": ministry,
                    "bureau": bureau, **cell, "budget_r5_oku_yen": float(budget.group(1)) if budget else None,
                    "contact": _EMAIL.sub("", cell["contact"]).strip(),
                    "contact_email": email.group(0) if email else ""}
            if (row := _build(draft, Program, data, f"{loc.locator} column {col}")) is None:
                continue
            programs.append(row)
            written = lines[labels["selections_as_written"]][col].text  # the cell as written: the quote
            label = lines[labels["selections_as_written"]][0].text
            for era, year, count in _SELECTION.findall(_key(written)):
                data = {"source": doc.source, "locator": f"{loc.locator} > {label}", "quote": written,
                        "program_id": pid, "fiscal_year_label": f"{era.upper()}{year}",
                        "fiscal_year": parse_fiscal_year(f"{era.upper()}{year}"), "count": int(count)}
                if (sel := _build(draft, ProgramSelection, data, f"{loc.locator} {pid}")) is not None:
                    selections.append(sel)
    draft.rows["programs"], draft.rows["selections"] = programs, selections


# ---------------------------------------------------------------- whole document

def recognise(located: list[Located], rules: list[TableRule]) -> list[tuple[TableRule, Located, dict[str, int]]]:
    """Each table with the record table its header matches best (tables matching none are left out)."""
    out = []
    for loc in located:
        best: tuple[int, bool, TableRule, dict[str, int]] | None = None
        for rule in rules:
            cells = [c.text for c in loc.table.lines[0]] if rule.layout == "columns" else \
                [line[0].text if line else "" for line in loc.table.lines]
            found = match_labels(cells, rule)
            where = _key(" ".join([*loc.headings, loc.caption]))
            context = any(w in where for w in rule.context)
            if found is None or (rule.context and not context):
                continue
            if best is None or (len(found), context) > (best[0], best[1]):
                best = (len(found), context, rule, found)
        if best is not None:
            out.append((best[2], loc, best[3]))
    return out


def extract(path: Path, root: Path, current: RecordSet, rules: list[TableRule] | None = None) -> Draft:
    """Draft every record table the document's tables hold."""
    try:
        doc = load_document(path, root)
    except LoadError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    draft = Draft(doc)
    found = recognise(locate_tables(doc), rules or load_rules())
    by_table: dict[str, list[tuple[Located, dict[str, int]]]] = {}
    for rule, loc, cols in found:
        by_table.setdefault(rule.table, []).append((loc, cols))
        draft.tables[rule.table] = "; ".join(filter(None, [draft.tables.get(rule.table, ""), loc.locator]))
    if "projects" in by_table or "support_ended" in by_table:
        _draft_people(draft, by_table.get("projects", []), by_table.get("support_ended", []))
    if "programs" in by_table:
        _draft_programs(draft, by_table["programs"], current)
        draft.tables["selections"] = draft.tables["programs"] + " > 選定数"
    kpis = draft_kpis(doc, current)
    if kpis:
        draft.rows["kpis"] = kpis
        draft.tables["kpis"] = "; ".join(dict.fromkeys(k.locator for k in kpis)) + " (statements)"
    return draft


# ---------------------------------------------------------------- CSV out

def csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def write_table(path: Path, model: type[BaseModel], rows: Iterable[BaseModel]) -> None:
    """One records CSV (UTF-8, header = the model's fields, in order)."""
    names = list(model.model_fields)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([csv_cell(getattr(row, n)) for n in names])


def edition(doc: Document) -> dict[str, str]:
    """Title, date, publisher and series of the document (a PDF has no front matter: its date is
    the one its cover states, as the answerers date editions)."""
    from assistant.editions import cover_date

    meta = doc.meta
    day = meta.get("date") or meta.get("as_of") or (cover_date(doc.text)[0] or "")
    return {"title": doc.title, "date": str(day),
            "publisher": str(meta.get("publisher") or ""), "series": str(meta.get("series") or "")}


def write_draft(draft: Draft, out: Path) -> dict[str, Any]:
    """The draft folder: every table's CSV (empty ones for tables not drafted) and ``draft.json``."""
    out.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Any] = {}
    for attr, (file_name, model) in TABLES.items():
        rows = draft.rows.get(attr, [])
        write_table(out / file_name, model, rows)
        if attr in draft.rows:
            tables[file_name] = {"drafted": True, "rows": len(rows), "from": draft.tables.get(attr, "")}
        else:
            tables[file_name] = {"drafted": False, "rows": 0,
                                 "why": NOT_DRAFTED.get(attr, "no table of the document has its headers")}
    manifest = {"source": draft.document.source, **edition(draft.document), "tables": tables, "notes": draft.notes}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def extract_command(settings: Any, document: Path, out: Path | None) -> int:
    """CLI: draft, write, print what was drafted and what was not."""
    path = Path(document).resolve()
    if not path.is_file():
        raise UsageError(f"{document} is not a file")
    draft = extract(path, settings.root, read_records(settings.records_path))
    if not draft.rows:
        raise RecordsInvalidError(f"no table of {document} has the headers of a record table "
                                  f"(see {HEADERS_FILE.relative_to(DATA.parent.parent)})")
    folder = Path(out) if out else settings.var_path / "records-review" / path.stem
    manifest = write_draft(draft, folder)
    print(f"draft of {manifest['source']} ({manifest['title']}, {manifest['date'] or 'no date'}) in {folder}")
    for file_name, info in manifest["tables"].items():
        state = f"{info['rows']} rows from {info['from']}" if info["drafted"] else f"not drafted: {info['why']}"
        print(f"  {file_name}: {state}")
    for note in draft.notes:
        print(f"  note: {note}")
    print(f"next: assistant records validate {folder} && assistant records review {folder}")
    return 0
