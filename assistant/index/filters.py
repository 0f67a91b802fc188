"""Metadata filters as precomputed inverted lists: a query builds a boolean mask with numpy.

Fields: ``fiscal_year`` (int or any form ``parse_fiscal_year`` reads: R4, 令和4年度, 2022),
``prefecture`` (大阪府 or 大阪), ``municipality``, ``technology``, ``ministry``, ``program``, ``kind``,
``source`` (exact path, or a folder prefix ending in ``/``). A value may be a list (any of them).
Several fields must all match. A chunk without the field does not match it: record rows carry
the fields; document chunks carry the years and prefectures their text mentions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from assistant.normalize import match_key, normalize_text, parse_fiscal_year
from assistant.types import Chunk

FIELDS = ("fiscal_year", "prefecture", "municipality", "technology", "ministry", "program", "kind", "source")
# chunk meta keys that feed each filter field
_META_KEYS: dict[str, tuple[str, ...]] = {
    "fiscal_year": ("fiscal_year", "fiscal_years", "selection_fy"),
    "prefecture": ("prefecture", "prefectures"),
    "municipality": ("municipality", "municipalities"),
    "technology": ("technology", "technologies"),
    "ministry": ("ministry",),
    "program": ("program", "program_name", "program_id"),
    "kind": ("kind",),
}
_SPLIT_RE = re.compile(r"[、,;|・]")


def _values(v: Any) -> list[Any]:
    if v is None or v == "":
        return []
    if isinstance(v, list | tuple | set):
        out: list[Any] = []
        for x in v:
            out.extend(_values(x))
        return out
    if isinstance(v, str):
        return [p.strip() for p in _SPLIT_RE.split(v) if p.strip()]
    return [v]


def _year(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return parse_fiscal_year(str(v))


def _keys(field: str, v: Any) -> list[Any]:
    if field == "fiscal_year":
        y = _year(v)
        return [] if y is None else [y]
    if field == "source":
        return [str(v)]
    k = match_key(normalize_text(str(v)))
    if not k:
        return []
    if field == "prefecture" and k != "北海道" and k[-1] in "都府県" and len(k) > 2:
        return [k, k[:-1]]
    return [k]


def _hashable(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return (type(v).__name__, *(_hashable(x) for x in v))
    if isinstance(v, set):
        return ("set", *sorted(map(repr, v)))
    return (type(v).__name__, v)


class MetaIndex:
    """field -> value key -> sorted array of chunk positions."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.n = len(chunks)
        lists: dict[str, dict[Any, list[int]]] = {f: defaultdict(list) for f in FIELDS}
        memo: dict[tuple[str, Any], list[Any]] = {}  # the same values recur (years, prefectures): normalize once

        def field_keys(f: str, raw: Any) -> list[Any]:
            try:
                k = (f, _hashable(raw))
                got = memo.get(k)
            except TypeError:  # unhashable
                return list(dict.fromkeys(key for v in _values(raw) for key in _keys(f, v)))
            if got is None:
                got = memo[k] = list(dict.fromkeys(key for v in _values(raw) for key in _keys(f, v)))
            return got

        for i, c in enumerate(chunks):
            lists["source"][c.source].append(i)
            meta = c.meta
            for f, meta_keys in _META_KEYS.items():
                present = [meta[mk] for mk in meta_keys if meta.get(mk) is not None]
                if not present:
                    continue
                keys = field_keys(f, present[0]) if len(present) == 1 else list(
                    dict.fromkeys(key for raw in present for key in field_keys(f, raw)))
                for key in keys:
                    lists[f][key].append(i)
        self.lists = {f: {k: np.asarray(v, dtype=np.int64) for k, v in d.items()} for f, d in lists.items()}

    def _field_mask(self, field: str, wanted: Iterable[Any]) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        table = self.lists[field]
        for w in wanted:
            if field == "source":
                s = str(w)
                hits = [a for k, a in table.items() if k == s or (s.endswith("/") and k.startswith(s))]
            else:
                hits = [table[k] for k in _keys(field, w) if k in table]
            for a in hits:
                m[a] = True
        return m

    def mask(self, filters: Mapping[str, Any] | None) -> np.ndarray | None:
        """Boolean mask of the chunks passing ``filters``; None when there is nothing to filter."""
        if not filters:
            return None
        out: np.ndarray | None = None
        for field, value in filters.items():
            if value is None or value == [] or value == "":
                continue
            if field not in self.lists:
                raise ValueError(f"unknown filter field {field!r}; known: {', '.join(FIELDS)}")
            wanted = value if isinstance(value, list | tuple | set) else [value]
            m = self._field_mask(field, wanted)
            out = m if out is None else (out & m)
        return out
