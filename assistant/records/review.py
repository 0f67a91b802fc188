"""Review a records draft against the current records, and accept it.

``assistant records review DRAFT_DIR`` compares each drafted table of a folder written by
``records extract`` with the current records (``corpus/records`` or ``ASSISTANT_RECORDS_DIR``):
rows added, changed (which columns, old → new), removed, and how many are unchanged but cited
anew (another source, locator or quote). Only the current rows of the same document series are
compared: the draft's own source, an earlier edition (same ``series`` in the metadata, else the
title without dates and edition words, :func:`assistant.editions.series_of`), or a source that is no longer there; rows of other documents are kept. Rows are
matched by what identifies them (a project by its 自治体 entry, a program by its id, …), so a
renumbered table shows changed numbers, not removals.

``assistant records accept DRAFT_DIR`` validates the draft, merges each drafted table (rows of
other documents + the draft's rows) in a staging copy, validates that, then backs up the replaced
files under ``var/records-backup/<time>/`` and writes them into the records folder.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.editions import series_of
from assistant.errors import RecordsInvalidError, UsageError
from assistant.ingest.loaders import LoadError, load_document
from assistant.normalize import match_key, nfkc
from assistant.records.extract import MANIFEST, csv_cell, edition, write_table
from assistant.records.load import TABLES, RecordSet, read_records
from assistant.records.validate import validate_records

CITATION = ("source", "locator", "quote")
Key = Callable[[Any], object]


def _entry(r: Any) -> str:
    return match_key(nfkc(r.entry).replace("(※)", ""))


#: Candidate keys per table: the first one unique in both the draft and the current rows is used.
KEYS: dict[str, tuple[Key, ...]] = {
    "projects": (_entry, lambda r: (_entry(r), r.selection_fy), lambda r: r.no),
    "support_ended": (_entry, lambda r: r.no),
    "programs": (lambda r: r.program_id,),
    "selections": (lambda r: (r.program_id, r.fiscal_year),),
    "kpis": (lambda r: (match_key(r.name), r.deadline_fy), lambda r: r.kpi_id),
    "events": (lambda r: r.event_id,),
    "facts": (lambda r: (r.program_id, r.fact_id),),
}
LABELS: dict[str, Callable[[Any], str]] = {
    "projects": lambda r: f"No {r.no} {r.entry} ({r.selection_year})",
    "support_ended": lambda r: f"No {r.no} {r.entry}",
    "programs": lambda r: r.program_name,
    "selections": lambda r: f"{r.program_id} {r.fiscal_year_label}: {r.count}",  # program_id → name in diff_table
    "kpis": lambda r: f"{r.name} {r.target_as_written}" + (f"（{r.deadline_as_written}）" if r.deadline_as_written else ""),
    "events": lambda r: f"{r.event_id} {r.date}",
    "facts": lambda r: f"{r.fact_id} {csv_cell(r.value)}{r.unit}",
}


def _same(a: object, b: object) -> bool:
    def norm(v: object) -> object:
        if isinstance(v, str):
            return match_key(v)
        if isinstance(v, list):
            return tuple(match_key(str(x)) for x in v)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
    return norm(a) == norm(b)


@dataclass
class RowChange:
    label: str
    columns: list[tuple[str, str, str]]  # (column, current value, draft value)


@dataclass
class TableDiff:
    file: str
    drafted: bool
    why: str = ""
    draft_rows: int = 0
    compared: int = 0  # current rows of the same series
    kept: int = 0  # current rows of other documents
    editions: Counter = field(default_factory=Counter)  # edition of the compared current rows -> rows
    added: list[str] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    recited: Counter = field(default_factory=Counter)  # citation column -> unchanged rows where it differs


@dataclass
class Review:
    manifest: dict[str, Any]
    tables: list[TableDiff]

    @property
    def edition(self) -> str:
        m = self.manifest
        return f"{m.get('title', '')} ({m.get('date') or 'no date'}) — {m.get('source', '')}"


class _Editions:
    """Edition label and series of each current row's source (loaded once)."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.source = manifest.get("source", "")
        self.series = manifest.get("series") or series_of(manifest.get("title", ""))
        self._cache: dict[str, tuple[str, str | None]] = {}

    def _info(self, source: str) -> tuple[str, str | None]:
        if source not in self._cache:
            path = Path(source) if Path(source).is_absolute() else self.root / source
            try:
                e = edition(load_document(path, self.root))
                self._cache[source] = (f"{e['title']} ({e['date'] or 'no date'})", e["series"] or series_of(e["title"]))
            except (LoadError, OSError):
                self._cache[source] = (f"{source} (no longer there)", None)
        return self._cache[source]

    def label(self, source: str) -> str:
        return self._info(source)[0]

    def same_series(self, source: str) -> bool:
        series = self._info(source)[1]
        return source == self.source or series is None or series == self.series


def read_manifest(draft_dir: Path) -> dict[str, Any]:
    path = Path(draft_dir) / MANIFEST
    if not path.is_file():
        raise UsageError(f"{draft_dir} is not a draft folder (no {MANIFEST}; write one with `assistant records extract`)")
    return json.loads(path.read_text(encoding="utf-8"))


def _key_for(attr: str, *sides: Sequence[BaseModel]) -> Key:
    for key in KEYS[attr]:
        if all(len({key(r) for r in side}) == len(side) for side in sides):
            return key
    return KEYS[attr][-1]


def diff_table(attr: str, draft: Sequence[BaseModel], current: Sequence[BaseModel], d: TableDiff,
               program_names: dict[str, str] | None = None) -> None:
    """Added, changed and removed rows of one table; rows are named as a reader knows them
    (a program by its name, not its id)."""
    key = _key_for(attr, draft, current)
    label = LABELS[attr]
    if attr == "selections" and program_names:
        def label(r):  # noqa: E306 - a selection named by its program
            return f"{program_names.get(r.program_id, r.program_id)} {r.fiscal_year_label}: {r.count}"
    old = {key(r): r for r in current}
    new = {key(r): r for r in draft}
    columns = [c for c in TABLES[attr][1].model_fields if c not in CITATION]
    for k, row in new.items():
        before = old.get(k)
        if before is None:
            d.added.append(label(row))
            continue
        diffs = [(c, csv_cell(getattr(before, c)), csv_cell(getattr(row, c)))
                 for c in columns if not _same(getattr(before, c), getattr(row, c))]
        if diffs:
            d.changed.append(RowChange(label(row), diffs))
            continue
        d.unchanged += 1
        for c in CITATION:
            if getattr(before, c) != getattr(row, c):
                d.recited[c] += 1
    d.removed = [label(r) for k, r in old.items() if k not in new]


def _split(rs: RecordSet, attr: str, eds: _Editions) -> tuple[list[BaseModel], list[BaseModel]]:
    rows = getattr(rs, attr)
    same = [r for r in rows if eds.same_series(r.source)]
    return same, [r for r in rows if not eds.same_series(r.source)]


def compare(draft_dir: Path, records_dir: Path, root: Path) -> Review:
    manifest = read_manifest(draft_dir)
    draft, current = read_records(Path(draft_dir)), read_records(Path(records_dir))
    eds = _Editions(root, manifest)
    out = []
    for attr, (file_name, _) in TABLES.items():
        info = manifest.get("tables", {}).get(file_name, {})
        d = TableDiff(file_name, bool(info.get("drafted")), info.get("why", ""))
        same, other = _split(current, attr, eds)
        d.kept = len(other)
        if d.drafted:
            rows = getattr(draft, attr)
            d.draft_rows, d.compared = len(rows), len(same)
            d.editions = Counter(eds.label(r.source) for r in same)
            diff_table(attr, rows, same, d,
                       {p.program_id: p.program_name for p in [*current.programs, *draft.programs]})
        else:
            d.kept += len(same)
        out.append(d)
    return Review(manifest, out)


def render(review: Review) -> str:
    lines = [f"draft: {review.edition}"]
    for d in review.tables:
        if not d.drafted:
            lines.append(f"{d.file}: not drafted ({d.why}); the current {d.kept} rows stay")
            continue
        editions = ", ".join(f"{e}: {n}" for e, n in d.editions.items()) or "none"
        lines.append(f"{d.file}: draft {d.draft_rows} rows, current {d.compared} rows of this series ({editions})"
                     + (f", {d.kept} rows of other documents kept" if d.kept else ""))
        recited = ", ".join(f"{c} {n}" for c, n in d.recited.items())
        lines.append(f"  added {len(d.added)}, changed {len(d.changed)}, removed {len(d.removed)}, "
                     f"unchanged {d.unchanged}" + (f" (cited anew: {recited})" if recited else ""))
        lines += [f"  + {a}" for a in d.added]
        for c in d.changed:
            cols = "; ".join(f"{name}: {old!r} → {new!r}" for name, old, new in c.columns)
            lines.append(f"  ~ {c.label}: {cols}")
        lines += [f"  - {r}" for r in d.removed]
    return "\n".join(lines)


def review_command(settings: Any, draft_dir: Path) -> int:
    problems = validate_records(Path(draft_dir), settings.root).problems
    print(render(compare(Path(draft_dir), settings.records_path, settings.root)))
    if problems:
        print(f"note: the draft has {len(problems)} problem(s): run `assistant records validate {draft_dir}`")
    return 0


# ---------------------------------------------------------------- accept

def accept(draft_dir: Path, records_dir: Path, root: Path, backup_root: Path,
           tables: Sequence[str] = ()) -> tuple[list[tuple[str, int]], Path | None]:
    """Write the accepted tables into ``records_dir``: [(file, rows)], and the backup folder."""
    manifest = read_manifest(draft_dir)
    drafted = [f for f, info in manifest.get("tables", {}).items() if info.get("drafted")]
    wanted = [t if t.endswith(".csv") else TABLES.get(t, (f"{t}.csv",))[0] for t in tables] or drafted
    unknown = [t for t in wanted if t not in drafted]
    if unknown:
        raise UsageError(f"not drafted in {draft_dir}: {', '.join(unknown)} (drafted: {', '.join(drafted)})")
    report = validate_records(Path(draft_dir), root)
    if not report.ok:
        for p in report.problems:
            print(p)
        raise RecordsInvalidError(f"the draft has {len(report.problems)} problem(s); nothing accepted")
    draft, current = read_records(Path(draft_dir)), read_records(Path(records_dir))
    eds = _Editions(root, manifest)
    written: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        for file_name, _ in TABLES.values():
            if (Path(records_dir) / file_name).exists():
                shutil.copy2(Path(records_dir) / file_name, staging / file_name)
        for attr, (file_name, model) in TABLES.items():
            if file_name in wanted:
                rows = [*_split(current, attr, eds)[1], *getattr(draft, attr)]
                write_table(staging / file_name, model, rows)
                written.append((file_name, len(rows)))
        merged = validate_records(staging, root)
        if not merged.ok:
            for p in merged.problems:
                print(p)
            raise RecordsInvalidError(f"the records would have {len(merged.problems)} problem(s) with the draft; "
                                      "nothing accepted")
        backup = Path(backup_root) / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        replaced = [f for f, _ in written if (Path(records_dir) / f).exists()]
        if replaced:
            backup.mkdir(parents=True)
            for f in replaced:
                shutil.copy2(Path(records_dir) / f, backup / f)
        Path(records_dir).mkdir(parents=True, exist_ok=True)
        for f, _ in written:
            shutil.copy2(staging / f, Path(records_dir) / f)
    return written, backup if replaced else None


def accept_command(settings: Any, draft_dir: Path, tables: Sequence[str] = ()) -> int:
    written, backup = accept(Path(draft_dir), settings.records_path, settings.root,
                             settings.var_path / "records-backup", tables)
    print(f"accepted into {settings.records_path}: " + ", ".join(f"{f} ({n} rows)" for f, n in written))
    if backup is not None:
        print(f"backup of the replaced files: {backup}")
    print("next: run `assistant index` so that answers use the accepted records")
    return 0
