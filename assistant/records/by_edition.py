"""Records of several editions: the engine answers from the newest edition of each document series.

Accepted records may come from two editions of one document (the 2023 deck and its 2024 update,
``assistant records accept``). Each row cites its source; in each table, rows whose source is an
older edition of a series the table also has newer rows of are set aside, so counts and lists are
those of the newest edition. Tables the newer edition did not update, and rows of documents
without another edition, stay as they are.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from assistant.editions import Editions
from assistant.records.load import TABLES, RecordSet


def cited_sources(records: RecordSet) -> list[str]:
    """The documents the records cite, in first-citation order."""
    return list(dict.fromkeys(r.source for attr in TABLES for r in getattr(records, attr)))


def newest_records(records: RecordSet, editions: Editions) -> RecordSet:
    """``records`` keeping, per table and series, only the rows of the newest edition that table
    cites (a table the newer edition did not update keeps its rows of the older one)."""
    if not editions.several():
        return records

    def newest_of(rows: list) -> dict[str, str]:
        out: dict[str, str] = {}  # series -> newest source cited by these rows
        for source in dict.fromkeys(r.source for r in rows):
            e = editions.by_source.get(source)
            if e is None:
                continue
            best = out.get(e.series)
            if best is None or (e.date or date.min, e.source) > (editions.by_source[best].date or date.min, best):
                out[e.series] = source
        return out

    def kept(rows: list) -> list:
        newest = newest_of(rows)
        return [r for r in rows if (e := editions.by_source.get(r.source)) is None or newest.get(e.series) == r.source]

    return replace(records, **{attr: kept(getattr(records, attr)) for attr in TABLES})
