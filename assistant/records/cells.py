"""Cite the exact cell of a source table that holds a record's field.

A record's own quote shows what identifies it: a whole table line (projects), or only the name
cell of a column of a transposed table (programs: one column per program, one line per field).
A value an answer shows from another field (a budget, a contact address, the ministry) must be
in a quote too, so :class:`SourceCells` finds the cell that holds it and returns it as a
:class:`CellRow`, a citation whose quote is the exact cell text of the source:

- the record's quote is a whole line: the cell of that line holding the value; the locator ends
  with the column's header (``… > 採択年度``);
- the record's quote is one cell: the cell of the same column holding the value, in any line of
  the table; the locator ends with that line's first cell (``… > R5年度予算``).

The label of such a line (its first cell, e.g. 「R5年度予算」) is a cell too: :meth:`label_of`
cites it when an answer repeats the label, since the label can state a value (the fiscal year).
A field the tables do not hold (the city where an event was held) is cited by the sentence that
states it (:meth:`SourceCells.sentence_of`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from assistant.claims.values import find_values
from assistant.normalize import nfkc
from assistant.records.schema import RecordBase

_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


class CellRow(RecordBase):
    """A citation of one cell of a source table (``quote`` is the cell's exact text)."""

    field: str = ""  # the record field the cell holds ("" for a line's label)


@dataclass(frozen=True)
class Cell:
    text: str  # exact text of the cell in the source (NFKC), without the surrounding blanks
    line: int  # index of the table line (separator lines are not counted)
    column: int


@dataclass(frozen=True)
class Table:
    lines: tuple[tuple[Cell, ...], ...]
    texts: tuple[str, ...]  # each line as written (stripped)

    def column_header(self, column: int) -> str:
        head = self.lines[0]
        return head[column].text if column < len(head) else ""

    def line_label(self, line: int) -> str:
        return self.lines[line][0].text if self.lines[line] else ""


def parse_tables(text: str) -> list[Table]:
    """The pipe tables of a markdown text: runs of lines that start with ``|``."""
    tables: list[Table] = []
    run: list[str] = []
    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if line.startswith("|"):
            if not _SEPARATOR.match(line):
                run.append(line)
            continue
        if run:
            tables.append(_table(run))
            run = []
    return tables


def _table(lines: list[str]) -> Table:
    rows = []
    for i, line in enumerate(lines):
        parts = line.strip("|").split("|")
        rows.append(tuple(Cell(p.strip(), i, j) for j, p in enumerate(parts)))
    return Table(tuple(rows), tuple(lines))


def field_text(record: RecordBase, name: str) -> str:
    """A field's value as the record writes it (text fields only; "" for the others)."""
    value = getattr(record, name, None)
    return nfkc(value).strip() if isinstance(value, str) else ""


def text_fields(record: RecordBase) -> list[str]:
    """The record's own text fields (not its citation fields)."""
    return [n for n, f in type(record).model_fields.items()
            if n not in ("source", "locator", "quote") and f.annotation in (str, "str")]


class SourceCells:
    """Cells of the sources' tables, by record and field (``source_text`` gives a source's NFKC text)."""

    def __init__(self, source_text: Callable[[str], str]) -> None:
        self._text = source_text
        self._tables = lru_cache(maxsize=64)(self._parse)

    def _parse(self, source: str) -> tuple[Table, ...]:
        return tuple(parse_tables(self._text(source) or ""))

    def _home(self, record: RecordBase) -> tuple[Table, Cell | None, int] | None:
        """The table holding the record's quote: (table, the quoted cell or None for a whole line, line)."""
        quote = nfkc(record.quote).strip()
        for table in self._tables(record.source):
            for i, line_text in enumerate(table.texts):
                if line_text == quote:
                    return table, None, i
            for line in table.lines:
                for cell in line:
                    if cell.text == quote:
                        return table, cell, cell.line
        return None

    def cell_of(self, record: RecordBase, name: str) -> CellRow | None:
        """The cell holding field ``name`` of ``record`` (None when the record's quote already
        holds it, or when no cell of its table line / column does)."""
        value = field_text(record, name)
        if not value or value in nfkc(record.quote):
            return None
        found = self._find(record, value)
        if found is None:
            return None
        table, cell, quoted = found
        header = table.line_label(cell.line) if quoted is not None else table.column_header(cell.column)
        locator = f"{record.locator} > {header}" if header else record.locator
        return CellRow(source=record.source, locator=locator, quote=cell.text, field=name)

    def label_of(self, record: RecordBase, name: str) -> CellRow | None:
        """The label cell (first cell) of the line holding field ``name`` in a transposed table."""
        found = self._find(record, field_text(record, name))
        if found is None or found[2] is None or found[1].column == 0:
            return None
        table, cell, _ = found
        label = table.lines[cell.line][0].text
        if not label:
            return None
        return CellRow(source=record.source, locator=f"{record.locator} > {label}", quote=label, field="")

    def sentence_of(self, record: RecordBase, name: str) -> CellRow | None:
        """The sentence (outside tables) holding field ``name`` of ``record``, the occurrence
        nearest the record's quote; its locator is the heading above it."""
        value = field_text(record, name)
        text = self._text(record.source) or ""
        if not value:
            return None
        near = max(text.find(nfkc(record.quote)), 0)
        best: tuple[int, int, int] | None = None
        for m in re.finditer(re.escape(value), text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            if text[line_start:].lstrip().startswith("|"):
                continue
            start = max(line_start, text.rfind("。", line_start, m.start()) + 1)
            stop = text.find("。", m.end())
            line_end = text.find("\n", m.end())
            line_end = len(text) if line_end < 0 else line_end
            end = line_end if stop < 0 or stop > line_end else stop + 1
            while start < m.start() and text[start] in " \t-・*#>":
                start += 1
            if best is None or abs(m.start() - near) < abs(best[0] - near):
                best = (m.start(), start, end)
        if best is None:
            return None
        _, start, end = best
        heading = re.findall(r"^#+\s*(.+)$", text[:start], re.MULTILINE)
        locator = heading[-1].strip() if heading else record.locator
        return CellRow(source=record.source, locator=locator, quote=text[start:end].strip(), field=name)

    def _find(self, record: RecordBase, value: str) -> tuple[Table, Cell, Cell | None] | None:
        if not value:
            return None
        home = self._home(record)
        if home is None:
            return None
        table, quoted, line = home
        candidates: Iterable[Cell]
        if quoted is None:  # a whole line: the cells of that line
            candidates = table.lines[line]
        else:  # one cell: the cells of its column, in every line
            candidates = (ln[quoted.column] for ln in table.lines if quoted.column < len(ln))
        for cell in candidates:
            if cell is not quoted and value in cell.text:
                return table, cell, quoted
        return None


def _unquoted_values(text: str, quote: str) -> bool:
    """``text`` states a checkable value (figure, year, name, address …) that ``quote`` lacks."""
    q = nfkc(quote)
    return any(v.surface not in q for v in find_values(text))


def shown_cells(cells: SourceCells, rows: Iterable[RecordBase], text: str,
                related: Callable[[RecordBase], Iterable[RecordBase]] = lambda r: ()) -> list[RecordBase]:
    """``rows``, then the cells holding the fields that ``text`` shows and no quote has (outside
    tables, the sentence, when the field states a checkable value), and the label of each such
    line when ``text`` repeats it and it states a value; each cell once. ``related(row)`` gives
    records whose fields a row's answer shows too (the program of a selection count)."""
    shown = nfkc(text)
    rows = list(rows)
    out: list[RecordBase] = list(rows)
    seen = {(r.source, r.quote) for r in rows}
    quoted = [nfkc(r.quote) for r in rows]

    def add(cell: RecordBase | None) -> None:
        if cell is not None and (cell.source, cell.quote) not in seen:
            seen.add((cell.source, cell.quote))
            quoted.append(nfkc(cell.quote))
            out.append(cell)

    records = {id(r): r for row in rows if not isinstance(row, CellRow) for r in (row, *related(row))}
    for record in records.values():
        for name in text_fields(record):
            value = field_text(record, name)
            if not value or value not in shown or any(value in q for q in quoted):
                continue
            cell = cells.cell_of(record, name)
            if cell is None:  # not in a table: the sentence, when it states a value nothing cited has
                if _unquoted_values(value, "\n".join(quoted)):
                    add(cells.sentence_of(record, name))
                continue
            add(cell)
            label = cells.label_of(record, name)
            if label is not None and label.quote in shown and _unquoted_values(label.quote, "\n".join(quoted)):
                add(label)
    return out
