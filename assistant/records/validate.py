"""Validate a records folder against its cited documents (``assistant records validate``).

Row checks (every row of every table): the values parse, years are fiscal years consistent with
their western year, technologies come from the vocabulary, the quote is an exact substring of
the cited source after NFKC, the row's key facts appear in its quote and every other text value
appears in the source (after ``match_key``), and keys are unique. Cross-table checks (run once
the rows are clean, so one typo gives one line): selections agree with the programs table,
projects per year fit within the program's selections, the support-ended table matches the
projects flagged as ending. At most one problem is reported per cell.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import BaseModel

from assistant.errors import RecordsInvalidError
from assistant.normalize import find_years, match_key, nfkc, parse_fiscal_year, western_to_era
from assistant.records.load import TABLES, Problem, RecordSet, read_records
from assistant.records.schema import (
    TECHNOLOGIES,
    Event,
    Kpi,
    Program,
    ProgramSelection,
    Project,
    SupportEnded,
)
from assistant.source_files import REPO_DOCUMENTS, SourceTexts

__all__ = ["Problem", "ValidationReport", "validate_records", "validate_command"]

#: The program whose supported projects are listed in projects.csv.
PROJECTS_PROGRAM_ID = "cao-mirai"

FILE = {attr: name for attr, (name, _) in TABLES.items()}
PREFECTURE_RE = re.compile(r"^(北海道|東京都|京都府|大阪府|\S{2,3}県)$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # file -> rows
    projects_per_year: dict[str, int] = field(default_factory=dict)  # H30 -> 9, ordered by year
    totals: dict[str, int] = field(default_factory=dict)  # selected / supported / ended
    warnings: list[str] = field(default_factory=list)  # cited documents not in the documents folder

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        years = ", ".join(f"{k} {v}" for k, v in self.projects_per_year.items())
        c = self.counts
        text = (f"{c.get('projects.csv', 0)} projects ({years}), {c.get('programs.csv', 0)} programs, "
                f"{c.get('program_selections.csv', 0)} program selections, {c.get('kpis.csv', 0)} KPIs, "
                f"{c.get('support_ended.csv', 0)} support_ended, {c.get('events.csv', 0)} events")
        if self.totals:
            text += (f"; {PROJECTS_PROGRAM_ID}: {self.totals['selected']} selected, "
                     f"{self.totals['supported']} in projects, {self.totals['ended']} ended earlier")
        return text


# ---------------------------------------------------------------- text helpers

def _plain(text: str) -> str:
    """Markdown emphasis removed, then ``match_key`` (NFKC, casefold, no spaces or commas)."""
    return match_key(nfkc(text).replace("**", ""))


def _numbers(text: str) -> set[float]:
    return {float(n) for n in NUMBER_RE.findall(_plain(text))}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _short(text: str, limit: int = 60) -> str:
    t = " ".join(nfkc(text).split())
    return t if len(t) <= limit else t[: limit - 1] + "…"


def _split_techs(written: str) -> list[str]:
    """'AI、IoT、5G等' -> ['AI', 'IoT', '5G'] (split on 、・,; trailing 等 dropped)."""
    out = []
    for part in re.split(r"[、・,;]", nfkc(written)):
        part = re.sub(r"等$", "", part.strip())
        if part:
            out.append(part)
    return out


def _count_after(label: str, text: str) -> int | None:
    """The number written right after ``label`` in ``text`` ('R4:10事業' -> 10)."""
    m = re.search(rf"(?<![0-9A-Za-z]){re.escape(_plain(label))}:?([0-9]+)", _plain(text))
    return int(m.group(1)) if m else None


@dataclass
class _Source:
    nfkc: str
    plain: str
    numbers: set[float]


class _Checker:
    """Collects at most one problem per cell."""

    def __init__(self, root: Path, texts: SourceTexts | None = None) -> None:
        self.root = root
        self.problems: dict[tuple[str, int, str], Problem] = {}
        self._sources: dict[str, _Source | None] = {}
        self.texts = texts or SourceTexts(Path(root))
        self.warnings: dict[str, str] = {}  # source -> warning (once per cited file)

    def add(self, file: str, row: int, column: str, message: str) -> None:
        self.problems.setdefault((file, row, column), Problem(file, row, column, message))

    def source(self, path: str) -> _Source | None:
        """The cited file's text as the verifier reads it (documents folder, records folder or
        repository; see :mod:`assistant.source_files`)."""
        if path not in self._sources:
            text = self.texts.text(path)[0]
            self._sources[path] = _Source(text, _plain(text), _numbers(text)) if text is not None else None
            self._note_location(path)
        return self._sources[path]

    def _note_location(self, path: str) -> None:
        """Warn when a ``corpus/documents/…`` citation is not in the configured documents folder."""
        docs = self.texts.folder("documents")
        if docs is None or not path.startswith(REPO_DOCUMENTS + "/") or self.texts.documents_elsewhere(path):
            return
        if docs == (Path(self.root) / REPO_DOCUMENTS).resolve():
            return
        where = "read from the repository copy" if self.texts.resolve(path) else "found nowhere"
        self.warnings[path] = f"{path} is not in the documents folder {docs} ({where})"


# ---------------------------------------------------------------- row checks

def _check_rows(ck: _Checker, file: str, rows: Iterable[tuple[int, BaseModel]],
                rules: Callable[[BaseModel], list[tuple[str, str | None]]],
                quoted: dict[str, str], anywhere: tuple[str, ...], key: Callable[[BaseModel], object]) -> None:
    """Generic per-row checks.

    ``quoted``: field -> 'text' | 'number' | 'list' that must appear in the row's quote;
    ``anywhere``: text fields that must appear somewhere in the source; ``rules``: model-specific
    (column, message) problems (message None = fine); ``key``: duplicate detection.
    """
    seen: dict[object, int] = {}
    for line, rec in rows:
        k = key(rec)
        if k in seen:
            ck.add(file, line, "-", f"duplicate key {k!r} (also on line {seen[k]})")
        seen.setdefault(k, line)
        for column, message in rules(rec):
            if message:
                ck.add(file, line, column, message)
        for column in ("source", "locator", "quote"):
            if not getattr(rec, column).strip():
                ck.add(file, line, column, "required value is empty")
        src = ck.source(rec.source) if rec.source.strip() else None
        if rec.source.strip() and src is None:
            ck.add(file, line, "source", f"{rec.source!r} is not a file in the documents/records folders or under {ck.root}")
            continue
        if src is None:
            continue
        quote_ok = bool(rec.quote.strip()) and nfkc(rec.quote) in src.nfkc
        if rec.quote.strip() and not quote_ok:
            ck.add(file, line, "quote", f"{_short(rec.quote)!r} is not an exact substring of {rec.source} (after NFKC)")
        # A broken quote is reported once; the quoted facts are then checked against the source.
        q_plain, q_numbers = (_plain(rec.quote), _numbers(rec.quote)) if quote_ok else (src.plain, src.numbers)
        for column, kind in quoted.items():
            value = getattr(rec, column)
            if value is None or value == "" or value == []:
                continue
            if kind == "number":
                if float(value) not in q_numbers:
                    where = "the row's quote" if quote_ok else rec.source
                    ck.add(file, line, column, f"{_fmt(value)} does not appear in {where} {_short(rec.quote)!r}")
                continue
            for item in value if isinstance(value, list) else [value]:
                if _plain(item) not in q_plain:
                    where = "the row's quote" if quote_ok else rec.source
                    ck.add(file, line, column, f"{item!r} does not appear in {where} {_short(rec.quote)!r}")
                    break
        for column in anywhere:
            value = getattr(rec, column)
            for item in value if isinstance(value, list) else [value]:
                if item and _plain(item) not in src.plain:
                    ck.add(file, line, column, f"{_short(item)!r} does not appear in {rec.source}")
                    break


def _fy_rule(label: str, fy: int, fy_column: str) -> str | None:
    parsed = parse_fiscal_year(label)
    if parsed is None:
        return f"{label!r} is not a fiscal year (write e.g. R4, H30, 令和4年度 or 2022年度)"
    if parsed != fy:
        return f"{label!r} is FY{parsed} but {fy_column} is {fy}"
    return None


def _tech_rules(technologies: list[str], written: str) -> list[tuple[str, str | None]]:
    unknown = [t for t in technologies if t not in TECHNOLOGIES]
    if unknown:
        return [("technologies", f"{unknown[0]!r} is not in the technology vocabulary ({', '.join(TECHNOLOGIES)})")]
    parsed = _split_techs(written)
    if [nfkc(t) for t in technologies] != parsed:
        return [("technologies", f"{';'.join(technologies)!r} does not match technologies_as_written {written!r} "
                                 f"(expected {';'.join(parsed)!r})")]
    return []


def _place_rules(prefecture: str, municipalities: list[str], entry: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    if not PREFECTURE_RE.match(prefecture):
        out.append(("prefecture", f"{prefecture!r} is not a prefecture name (e.g. 大阪府, 北海道)"))
    elif not nfkc(entry).startswith(nfkc(prefecture)):
        out.append(("prefecture", f"entry {entry!r} does not start with {prefecture!r}"))
    for m in municipalities:
        if nfkc(m) not in nfkc(entry):
            out.append(("municipalities", f"{m!r} does not appear in entry {entry!r}"))
            break
    return out


def _project_rules(p: Project) -> list[tuple[str, str | None]]:
    out = _place_rules(p.prefecture, p.municipalities, p.entry)
    out.append(("selection_year", _fy_rule(p.selection_year, p.selection_fy, "selection_fy")))
    out += _tech_rules(p.technologies, p.technologies_as_written)
    flagged = "※" in p.entry
    if p.mlit_autonomous_support != flagged:
        out.append(("mlit_autonomous_support", f"is {p.mlit_autonomous_support} but the entry "
                                               f"{'has' if flagged else 'has no'} the (※) mark"))
    rest = nfkc(p.entry).replace("(※)", "").strip()[len(nfkc(p.prefecture)):]
    applicant = rest == "" or rest.startswith(("、", ",", "・"))
    if p.prefecture_is_applicant != applicant:
        out.append(("prefecture_is_applicant", f"is {p.prefecture_is_applicant} but entry {p.entry!r} "
                                               f"{'names' if applicant else 'does not name'} the prefecture as applicant"))
    return out


def _ended_rules(s: SupportEnded) -> list[tuple[str, str | None]]:
    return _place_rules(s.prefecture, s.municipalities, s.entry) + _tech_rules(s.technologies, s.technologies_as_written)


def _program_rules(p: Program) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    if not SLUG_RE.match(p.program_id):
        out.append(("program_id", f"{p.program_id!r} is not a short ascii id (a-z, 0-9, -)"))
    if p.budget_r5_oku_yen is not None and p.budget_r5_oku_yen not in _numbers(p.budget_r5):
        out.append(("budget_r5_oku_yen", f"{_fmt(p.budget_r5_oku_yen)} does not appear in budget_r5 {p.budget_r5!r}"))
    if "@" not in p.contact_email:
        out.append(("contact_email", f"{p.contact_email!r} is not an e-mail address"))
    return out


def _selection_rules(s: ProgramSelection) -> list[tuple[str, str | None]]:
    out = [("fiscal_year_label", _fy_rule(s.fiscal_year_label, s.fiscal_year, "fiscal_year"))]
    written = _count_after(s.fiscal_year_label, s.quote)
    if written is None:
        out.append(("fiscal_year_label", f"{s.fiscal_year_label!r} does not appear in the row's quote {_short(s.quote)!r}"))
    elif written != s.count:
        out.append(("count", f"{s.count} but the quote says {s.fiscal_year_label}:{written}"))
    return out


def _kpi_rules(k: Kpi) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    if not SLUG_RE.match(k.kpi_id):
        out.append(("kpi_id", f"{k.kpi_id!r} is not a short ascii id (a-z, 0-9, -)"))
    if k.value is not None and k.value not in _numbers(k.target_as_written):
        out.append(("value", f"{_fmt(k.value)} does not appear in target_as_written {k.target_as_written!r}"))
    if k.unit and _plain(k.unit) not in _plain(k.target_as_written):
        out.append(("unit", f"{k.unit!r} does not appear in target_as_written {k.target_as_written!r}"))
    years = [y.year for y in find_years(k.deadline_as_written)]
    expected = max(years) if years else None
    if k.deadline_fy != expected:
        out.append(("deadline_fy", f"{k.deadline_fy} but deadline_as_written {k.deadline_as_written!r} gives {expected}"))
    if k.baseline_value is not None and k.baseline_value not in _numbers(k.baseline_as_written):
        out.append(("baseline_value",
                    f"{_fmt(k.baseline_value)} does not appear in baseline_as_written {k.baseline_as_written!r}"))
    if k.period_start_fy is not None:
        if k.period_start_fy not in _numbers(k.deadline_as_written):
            out.append(("period_start_fy", f"{k.period_start_fy} does not appear in {k.deadline_as_written!r}"))
        elif k.deadline_fy is not None and k.period_start_fy > k.deadline_fy:
            out.append(("period_start_fy", f"{k.period_start_fy} is after deadline_fy {k.deadline_fy}"))
    return out


def _event_rules(e: Event) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    try:
        iso = date.fromisoformat(e.date)
    except ValueError:
        return [("date", f"{e.date!r} is not an ISO date (yyyy-mm-dd)")]
    years = find_years(e.date_as_written)
    md = re.search(r"([0-9]{1,2})月([0-9]{1,2})日", nfkc(e.date_as_written))
    if not years or not md:
        out.append(("date_as_written", f"{e.date_as_written!r} is not a date like 令和4年10月27日"))
    elif (years[0].year, int(md.group(1)), int(md.group(2))) != (iso.year, iso.month, iso.day):
        out.append(("date", f"{e.date} does not match date_as_written {e.date_as_written!r}"))
    elif e.weekday:
        written = re.search(r"\(([月火水木金土日])(?:曜日?)?\)", nfkc(e.date_as_written))
        if not written or written.group(1) != nfkc(e.weekday):
            out.append(("weekday", f"{e.weekday!r} is not the weekday written in {e.date_as_written!r}"))
        elif "月火水木金土日"[iso.weekday()] != written.group(1):
            out.append(("weekday", f"{e.date_as_written!r} says {written.group(1)} but {e.date} is a "
                                   f"{'月火水木金土日'[iso.weekday()]}曜日"))
    return out


# ---------------------------------------------------------------- cross-table checks

def _cross_checks(ck: _Checker, rs: RecordSet, report: ValidationReport) -> None:
    programs = {p.program_id: p for p in rs.programs}
    by_program: dict[str, list[ProgramSelection]] = defaultdict(list)
    for s in rs.selections:
        if s.program_id not in programs:
            ck.add(FILE["selections"], rs.line_of(s), "program_id", f"{s.program_id!r} is not in programs.csv")
            continue
        by_program[s.program_id].append(s)
        written = _count_after(s.fiscal_year_label, programs[s.program_id].selections_as_written)
        if written != s.count:
            ck.add(FILE["selections"], rs.line_of(s), "count",
                   f"{s.count} but programs.csv selections_as_written of {s.program_id} says {written}")
    for pid, p in programs.items():
        pairs = re.findall(r"(?<![0-9a-z])[hrs][0-9]{1,2}:[0-9]+", _plain(p.selections_as_written))
        if len(pairs) != len(by_program.get(pid, [])):
            ck.add(FILE["programs"], rs.line_of(p), "selections_as_written",
                   f"lists {len(pairs)} year(s) but program_selections.csv has {len(by_program.get(pid, []))} row(s)")

    per_year = Counter(p.selection_fy for p in rs.projects)
    selections = {s.fiscal_year: s.count for s in by_program.get(PROJECTS_PROGRAM_ID, [])}
    if rs.projects and PROJECTS_PROGRAM_ID not in programs:
        ck.add(FILE["programs"], 0, "program_id", f"{PROJECTS_PROGRAM_ID!r} (the projects' program) is missing")
    elif rs.projects:
        for fy, n in sorted(per_year.items()):
            first = next(p for p in rs.projects if p.selection_fy == fy)
            if fy not in selections:
                ck.add(FILE["projects"], rs.line_of(first), "selection_year",
                       f"{western_to_era(fy)} has {n} project(s) but {PROJECTS_PROGRAM_ID} has no selections that year")
            elif n > selections[fy]:
                ck.add(FILE["projects"], rs.line_of(first), "selection_year",
                       f"{western_to_era(fy)} has {n} projects but {PROJECTS_PROGRAM_ID} selected only {selections[fy]}")
        selected = sum(selections.values())
        report.totals = {"selected": selected, "supported": len(rs.projects), "ended": selected - len(rs.projects)}

    projects = {p.no: p for p in rs.projects}
    for s in rs.support_ended:
        p = projects.get(s.project_no)
        if p is None:
            ck.add(FILE["support_ended"], rs.line_of(s), "project_no", f"No.{s.project_no} is not in projects.csv")
        elif nfkc(p.entry).replace("(※)", "") != nfkc(s.entry).replace("(※)", ""):
            ck.add(FILE["support_ended"], rs.line_of(s), "project_no",
                   f"project No.{s.project_no} is {p.entry!r}, not {s.entry!r}")
        elif not p.support_ends_r4:
            ck.add(FILE["projects"], rs.line_of(p), "support_ends_r4",
                   f"No.{p.no} is in support_ended.csv but support_ends_r4 is false")
        elif p.technologies != s.technologies:
            ck.add(FILE["support_ended"], rs.line_of(s), "technologies",
                   f"differ from project No.{p.no} ({';'.join(p.technologies)})")
    ended = {s.project_no for s in rs.support_ended}
    for p in rs.projects:
        if p.support_ends_r4 and p.no not in ended:
            ck.add(FILE["projects"], rs.line_of(p), "support_ends_r4",
                   f"No.{p.no} is flagged but missing from support_ended.csv")


# ---------------------------------------------------------------- entry points

def validate_records(directory: Path, root: Path, texts: SourceTexts | None = None) -> ValidationReport:
    """Check every table of ``directory``; sources are resolved like citations (``texts``, default
    a :class:`SourceTexts` of ``root`` and the configured documents/records folders)."""
    rs = read_records(Path(directory))
    lines = {attr: [(rs.line_of(r), r) for r in getattr(rs, attr)] for attr in TABLES}
    ck = _Checker(Path(root), texts)
    for p in rs.problems:
        ck.add(p.file, p.row, p.column, p.message)
    _check_rows(ck, FILE["projects"], lines["projects"], _project_rules,
                {"no": "number", "entry": "text", "prefecture": "text", "municipalities": "list",
                 "technologies_as_written": "text", "selection_year": "text"}, (), lambda r: r.no)
    _check_rows(ck, FILE["support_ended"], lines["support_ended"], _ended_rules,
                {"no": "number", "entry": "text", "prefecture": "text", "municipalities": "list",
                 "technologies_as_written": "text"}, (), lambda r: r.no)
    _check_rows(ck, FILE["programs"], lines["programs"], _program_rules, {"program_name": "text"},
                ("ministry", "bureau", "summary", "budget_r5", "selections_as_written", "main_support",
                 "contact", "contact_email"), lambda r: r.program_id)
    _check_rows(ck, FILE["selections"], lines["selections"], _selection_rules, {"count": "number"}, (),
                lambda r: (r.program_id, r.fiscal_year))
    _check_rows(ck, FILE["kpis"], lines["kpis"], _kpi_rules,
                {"target_as_written": "text", "deadline_as_written": "text", "baseline_as_written": "text",
                 "baseline_value": "number"},
                ("name", "section"), lambda r: r.kpi_id)
    _check_rows(ck, FILE["events"], lines["events"], _event_rules,
                {"place": "text", "program": "text", "participants": "number",
                 "participants_breakdown": "text", "date_as_written": "text", "weekday": "text"},
                ("kind", "day"), lambda r: r.event_id)
    _check_rows(ck, FILE["facts"], lines["facts"], lambda r: [], {"value": "number", "unit": "text"}, (),
                lambda r: (r.program_id, r.fact_id))
    report = ValidationReport(counts={FILE[a]: len(getattr(rs, a)) for a in TABLES})
    if not ck.problems:
        _cross_checks(ck, rs, report)
    report.problems = sorted(ck.problems.values(), key=lambda p: (p.file, p.row, p.column))
    report.warnings = [ck.warnings[k] for k in sorted(ck.warnings)]
    for fy in sorted({p.selection_fy for p in rs.projects}):
        report.projects_per_year[western_to_era(fy)] = sum(p.selection_fy == fy for p in rs.projects)
    return report


def validate_command(directory: Path, settings) -> int:
    """CLI: print ``OK: …`` and return 0, or print one ``file:line:column: message`` line per
    problem and raise ``RecordsInvalidError`` (exit 1)."""
    report = validate_records(Path(directory), settings.root)
    for w in report.warnings:
        print(f"warning: {w}")
    if report.ok:
        print(f"OK: {report.summary()}")
        return 0
    for p in report.problems:
        print(p)
    raise RecordsInvalidError(f"{len(report.problems)} problem(s) in {directory}")
