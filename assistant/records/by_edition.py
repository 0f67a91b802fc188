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

from assistant.editions import Edition, Editions
from assistant.records.load import TABLES, RecordSet


def cited_sources(records: RecordSet) -> list[str]:
    """The documents the records cite, in first-citation order."""
    return list(dict.fromkeys(r.source for attr in TABLES for r in getattr(records, attr)))


def newest_records(records: RecordSet, editions: Editions, as_of: date | None = None) -> RecordSet:
    """``records`` keeping, per table and series, only the rows of the newest edition that table
    cites — or, with ``as_of``, of the newest one dated on or before it (the oldest when all are
    later). A table the newer edition did not update keeps its rows of the older one."""
    if not editions.several():
        return records

    def rank(e: Edition) -> tuple[int, int, str]:
        d = (e.date or date.min).toordinal()
        if as_of is not None and e.date is not None and e.date > as_of:
            return (0, -d, e.source)  # not issued yet at as_of: below every valid one, the earliest first
        return (1, d, e.source)

    def chosen(rows: list) -> dict[str, str]:
        out: dict[str, str] = {}  # series -> the source to answer from
        for source in dict.fromkeys(r.source for r in rows):
            e = editions.by_source.get(source)
            if e is None:
                continue
            best = out.get(e.series)
            if best is None or rank(e) > rank(editions.by_source[best]):
                out[e.series] = source
        return out

    def kept(rows: list) -> list:
        pick = chosen(rows)
        return [r for r in rows if (e := editions.by_source.get(r.source)) is None or pick.get(e.series) == r.source]

    return replace(records, **{attr: kept(getattr(records, attr)) for attr in TABLES})
