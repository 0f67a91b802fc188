"""Regions (地方区分 and named groupings) from ``assistant/data/regions.tsv``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Region:
    name: str
    kind: str  # standard (the eight 地方区分) | grouping (北陸, 首都圏, 近畿2府4県, …)
    prefectures: tuple[str, ...]
    aliases: tuple[str, ...]

    @property
    def label(self) -> str:
        suffix = "" if self.name.endswith(("県", "圏")) or self.kind != "standard" or self.name == "北海道" else "地方"
        return f"{self.name}{suffix}（{'・'.join(p.rstrip('都府県') if p != '北海道' else p for p in self.prefectures)}）"


@lru_cache(maxsize=1)
def regions() -> tuple[Region, ...]:
    text = resources.files("assistant").joinpath("data/regions.tsv").read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t") + [""] * 4
        name, kind, prefs, aliases = (c.strip() for c in cols[:4])
        out.append(Region(name, kind, tuple(prefs.split()), tuple(a.strip() for a in aliases.split(",") if a.strip())))
    return tuple(out)


def standard_region_of(prefecture: str) -> Region | None:
    return next((r for r in regions() if r.kind == "standard" and prefecture in r.prefectures), None)
