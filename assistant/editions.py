"""Editions: documents of one series (the same deck, 公募要領 or 交付要綱 issued again) and which
edition an answer should come from.

A document's series is its front matter ``series`` or, failing that, its title without dates
and edition words (「…について（2024年3月版）」 and 「…について」 are one series); its date is the
front matter ``date`` (ISO). Answers prefer the newest edition; a question with a point in time
(「R4.12時点で」「2022年12月現在」) takes the edition valid then — the newest dated on or before it.

Each edition's date is cited by the place its source states it (the date line under the title, or
the front matter's ``date:`` line), so an answer naming an edition (「2024年3月版による」) has a
quote for that date too.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from assistant.normalize import ERA_BASE, nfkc

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_DATE_RE = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})-([01]?[0-9])-([0-3]?[0-9])(?![0-9])")
# Words of a title that name the edition, not the series: dates, 版, 改訂, 第N版, (案).
_EDITION_WORDS = re.compile(
    r"(?:令和|平成|R|H)\s?[0-9元]{1,2}年(?:度)?(?:[0-9]{1,2}月)?(?:[0-9]{1,2}日)?|(?:19|20)[0-9]{2}年(?:度)?"
    r"(?:[0-9]{1,2}月)?(?:[0-9]{1,2}日)?|第?[0-9]+版|改訂版?|[（(][^（）()]*版[^（）()]*[)）]|最新版|（案）|\(案\)")
# 「R4.12時点」「令和4年12月時点」「2022年12月現在」「2022/12 時点」
_AS_OF = re.compile(
    r"(?:(令和|平成|R|H)\s?([0-9]{1,2}|元)|((?:19|20)[0-9]{2}))\s?[年./]\s?([0-9]{1,2})\s?月?\s*(?:末)?\s*(?:時点|現在|当時)")


_AS_OF_PHRASE = re.compile(_AS_OF.pattern + r"\s*(?:で|の|には|では)?[、,]?\s*")


@dataclass(frozen=True)
class Edition:
    source: str
    series: str
    date: date | None
    title: str
    date_quote: str = ""  # an exact substring of the source stating its date ("" if none)

    @property
    def label(self) -> str:
        """「2024年3月版」: how answers name the edition (「2024-03-15付の版」 when only the front
        matter states the date, so that the label's figures are in its quote)."""
        if self.date is None:
            return self.title
        if self.date_quote.startswith("date:"):
            return f"{self.date.isoformat()}付の版"
        return f"{self.date.year}年{self.date.month}月版"


def front_matter(text: str) -> dict[str, str]:
    """A Markdown front matter's top-level values as text (title, date, series …; {} when the
    text has none or it is not a YAML mapping)."""
    import yaml

    m = _FRONT.match(text)
    if not m:
        return {}
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if v is not None and not isinstance(v, dict | list)}


def series_of(title: str) -> str:
    """The series a title belongs to: the title without its edition words and blanks."""
    return re.sub(r"[\s・]+", "", _EDITION_WORDS.sub("", nfkc(title)))


def _iso(value: str) -> date | None:
    m = _DATE_RE.search(value or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _date_quote(text: str, day: date) -> str:
    """Where the source states ``day``: a Japanese date line (令和5年3月15日 / 2023年3月15日), else
    the front matter's ``date:`` line."""
    name, n = ("令和", day.year - ERA_BASE["令和"]) if day.year >= 2019 else ("平成", day.year - ERA_BASE["平成"])
    spellings = [f"{name}{'元' if n == 1 else n}年{day.month}月{day.day}日", f"{day.year}年{day.month}月{day.day}日"]
    flat = nfkc(text)
    for s in spellings:
        if s in flat:
            return s
    m = re.search(rf"^date:\s*{day.isoformat()}\s*$", flat, re.M)
    return m.group(0).strip() if m else ""


_JA_DATE = re.compile(r"(令和|平成)\s?([0-9]{1,2}|元)\s?年\s?([0-9]{1,2})\s?月\s?([0-9]{1,2})\s?日"
                      r"|((?:19|20)[0-9]{2})\s?年\s?([0-9]{1,2})\s?月\s?([0-9]{1,2})\s?日")
#: A cover page states its date near the top (PDFs have no front matter).
COVER_CHARS = 600


def cover_date(text: str) -> tuple[date | None, str]:
    """The first full date in the first :data:`COVER_CHARS` characters (「令和6年3月15日」), with
    the exact text stating it."""
    m = _JA_DATE.search(nfkc(text)[:COVER_CHARS])
    if not m:
        return None, ""
    if m.group(1):
        n = 1 if m.group(2) == "元" else int(m.group(2))
        y, mo, d = ERA_BASE[m.group(1)] + n, int(m.group(3)), int(m.group(4))
    else:
        y, mo, d = int(m.group(5)), int(m.group(6)), int(m.group(7))
    try:
        return date(y, mo, d), m.group(0)
    except ValueError:
        return None, ""


def edition_of(source: str, text: str, title: str) -> Edition:
    meta = front_matter(text)
    day = _iso(meta.get("date", ""))
    if day is None:  # no front matter (a PDF): the date its cover states
        day, stated = cover_date(text)
        series = nfkc(meta["series"]) if meta.get("series") else series_of(meta.get("title") or title)
        return Edition(source, series, day, meta.get("title") or title, stated)
    series = nfkc(meta["series"]) if meta.get("series") else series_of(meta.get("title") or title)
    return Edition(source, series, day, meta.get("title") or title, _date_quote(text, day) if day else "")


def without_as_of(question: str) -> str:
    """The question without its point in time (「2023年12月時点で、」): that phrase picks the
    edition; it is not something the passage must state."""
    return _AS_OF_PHRASE.sub("", nfkc(question)).strip() or question


def as_of_in(question: str) -> date | None:
    """The point in time a question asks about (the last day of the month it names), else None."""
    m = _AS_OF.search(nfkc(question))
    if not m:
        return None
    if m.group(3):
        year = int(m.group(3))
    else:
        n = 1 if m.group(2) == "元" else int(m.group(2))
        year = ERA_BASE["令和" if m.group(1) in ("令和", "R") else "平成"] + n
    month = int(m.group(4))
    if not 1 <= month <= 12:
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


class Editions:
    """The editions of the corpus, by series (newest last)."""

    def __init__(self, editions: Iterable[Edition]) -> None:
        self.by_source = {e.source: e for e in editions}
        self.series: dict[str, list[Edition]] = {}
        for e in self.by_source.values():
            self.series.setdefault(e.series, []).append(e)
        for eds in self.series.values():
            eds.sort(key=lambda e: (e.date or date.min, e.source))

    @classmethod
    def of_sources(cls, sources: Iterable[str], text: Callable[[str], str], title: Callable[[str], str]) -> Editions:
        return cls(edition_of(s, text(s), title(s)) for s in sources)

    def several(self) -> bool:
        """Some series has more than one edition (else editions change nothing)."""
        return any(len(v) > 1 for v in self.series.values())

    def current(self, source: str, as_of: date | None = None) -> Edition | None:
        """The edition of ``source``'s series an answer should use: the newest, or the newest
        dated on or before ``as_of`` (the oldest when all are later)."""
        e = self.by_source.get(source)
        if e is None:
            return None
        eds = self.series[e.series]
        if as_of is None:
            return eds[-1]
        valid = [x for x in eds if x.date is not None and x.date <= as_of]
        return valid[-1] if valid else eds[0]

    def split(self, hits: Sequence, as_of: date | None = None) -> tuple[list, list]:
        """(hits of the editions to answer from, hits of the other editions), order kept.
        ``hits`` are anything with ``.chunk.source`` (retrieval hits)."""
        keep, other = [], []
        for h in hits:
            cur = self.current(h.chunk.source, as_of)
            (keep if cur is None or cur.source == h.chunk.source else other).append(h)
        return keep, other

    def older_than(self, source: str) -> list[Edition]:
        """The earlier editions of ``source``'s series, newest first."""
        e = self.by_source.get(source)
        if e is None or e.date is None:
            return []
        return [x for x in reversed(self.series[e.series]) if x.date is not None and x.date < e.date]
