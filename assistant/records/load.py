"""Load the records CSVs (``corpus/records``) into the pydantic models of ``schema.py``.

Files are read as UTF-8 with or without BOM (Excel's "CSV UTF-8"), CRLF or LF. Empty cells
become ``None`` for optional fields and ``[]`` for list fields; booleans accept
true/false/1/0/yes/no/○/×. Rows that do not parse are skipped and reported as ``Problem``s, so
the assistant keeps working while ``assistant records validate`` tells staff what to fix.
"""

from __future__ import annotations

import csv
import logging
import threading
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.records.schema import (
    Event,
    Kpi,
    Program,
    ProgramFact,
    ProgramSelection,
    Project,
    SupportEnded,
)

log = logging.getLogger(__name__)

#: attribute of ``RecordSet`` -> (file name, model)
TABLES: dict[str, tuple[str, type[BaseModel]]] = {
    "projects": ("projects.csv", Project),
    "programs": ("programs.csv", Program),
    "selections": ("program_selections.csv", ProgramSelection),
    "kpis": ("kpis.csv", Kpi),
    "support_ended": ("support_ended.csv", SupportEnded),
    "events": ("events.csv", Event),
    "facts": ("program_facts.csv", ProgramFact),
}
#: Tables a records folder may leave out (older folders have no program_facts.csv).
OPTIONAL_TABLES = frozenset({"program_facts.csv"})

TRUE_WORDS = {"true", "1", "yes", "y", "t", "on", "○", "〇", "◯", "✓", "はい"}
FALSE_WORDS = {"false", "0", "no", "n", "f", "off", "×", "✕", "-", "いいえ"}


@dataclass(frozen=True)
class Problem:
    """One problem in a records folder; ``row`` is the CSV line number (header = 1, 0 = file)."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


@dataclass
class RecordSet:
    """All record tables of one folder; ``rows`` maps each record (by id) to its CSV line."""

    directory: Path
    projects: list[Project] = field(default_factory=list)
    programs: list[Program] = field(default_factory=list)
    selections: list[ProgramSelection] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    support_ended: list[SupportEnded] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    facts: list[ProgramFact] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    lines: dict[int, int] = field(default_factory=dict)  # id(record) -> CSV line number

    def line_of(self, record: BaseModel) -> int:
        return self.lines.get(id(record), 0)


def _field_kind(annotation: Any) -> tuple[str, bool]:
    """('str'|'int'|'float'|'bool'|'list', optional?) for a model field annotation."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0]
        origin = typing.get_origin(annotation)
    if origin is list:
        return "list", optional
    return getattr(annotation, "__name__", "str"), optional


def coerce_cell(kind: str, optional: bool, raw: str | None) -> Any:
    """Turn one CSV cell into a value pydantic accepts (raises ValueError with a message)."""
    value = (raw or "").replace("\r\n", "\n").strip()
    if kind == "list":
        return [v.strip() for v in value.replace("；", ";").split(";") if v.strip()]
    if value == "":
        if optional:
            return None
        if kind == "str":
            return ""
        raise ValueError("required value is empty")
    if kind == "bool":
        low = value.casefold()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        raise ValueError(f"{value!r} is not a boolean (use true/false)")
    if kind in ("int", "float"):
        number = value.replace(",", "").replace("，", "")
        try:
            parsed = float(number)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if kind == "int":
            if not parsed.is_integer():
                raise ValueError(f"{value!r} is not a whole number")
            return int(parsed)
        return parsed
    return value


def read_table(path: Path, model: type[BaseModel]) -> tuple[list[tuple[int, BaseModel]], list[Problem]]:
    """Parse one CSV into ``(line, record)`` pairs plus the problems of rows that did not parse."""
    name = path.name
    if not path.exists():
        if name in OPTIONAL_TABLES:
            return [], []
        return [], [Problem(name, 0, "-", f"file is missing from {path.parent}")]
    rows: list[tuple[int, BaseModel]] = []
    problems: list[Problem] = []
    kinds = {n: _field_kind(f.annotation) for n, f in model.model_fields.items()}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        for col in kinds:
            if col not in header:
                problems.append(Problem(name, 1, col, "column is missing from the header row"))
        for col in header:
            if col and col not in kinds:
                problems.append(Problem(name, 1, col, f"unknown column (expected: {', '.join(kinds)})"))
        if problems:
            return [], problems
        line = reader.line_num + 1
        for raw in reader:
            start = line
            line = reader.line_num + 1
            if not any((v or "").strip() for k, v in raw.items() if k):
                continue  # blank line (Excel often leaves some at the end)
            data: dict[str, Any] = {}
            row_ok = True
            for col, (kind, optional) in kinds.items():
                try:
                    data[col] = coerce_cell(kind, optional, raw.get(col))
                except ValueError as exc:
                    problems.append(Problem(name, start, col, str(exc)))
                    row_ok = False
            if not row_ok:
                continue
            try:
                rows.append((start, model.model_validate(data)))
            except ValidationError as exc:
                for err in exc.errors():
                    col = str(err["loc"][0]) if err["loc"] else "-"
                    problems.append(Problem(name, start, col, err["msg"]))
    return rows, problems


def _stamp(directory: Path) -> tuple:
    out = []
    for file_name, _ in TABLES.values():
        p = directory / file_name
        try:
            st = p.stat()
            out.append((file_name, st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            out.append((file_name, None, None))
    return tuple(out)


_cache: dict[Path, tuple[tuple, RecordSet]] = {}
_lock = threading.Lock()


def load_records(directory: Path) -> RecordSet:
    """Load every table of ``directory``; cached until a file's mtime or size changes."""
    directory = Path(directory).resolve()
    stamp = _stamp(directory)
    with _lock:
        hit = _cache.get(directory)
        if hit and hit[0] == stamp:
            return hit[1]
    rs = read_records(directory)
    if rs.problems:
        log.warning("records in %s: %d problem(s); run `assistant records validate`", directory,
                    len(rs.problems))
    with _lock:
        _cache[directory] = (stamp, rs)
    return rs


def read_records(directory: Path) -> RecordSet:
    """Read every table of ``directory`` now (no cache)."""
    rs = RecordSet(directory=Path(directory))
    for attr, (file_name, model) in TABLES.items():
        rows, problems = read_table(directory / file_name, model)
        getattr(rs, attr).extend(r for _, r in rows)
        rs.lines.update({id(r): line for line, r in rows})
        rs.problems.extend(problems)
    return rs
