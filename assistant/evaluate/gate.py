"""Regression gate: compare a run with a baseline and with absolute floors/ceilings.

``eval/thresholds.json`` (every key optional)::

    {"gate": ["default"],                     # pipelines the gate applies to
     "tolerance": {"accuracy": 0.02},         # allowed worsening vs the baseline, in the
                                              # metric's unit (a drop for ratios, +ms for latency)
     "floors": {"citation_validity": 1.0},    # absolute minimum (higher-is-better metrics)
     "ceilings": {"latency_p95_ms": 5000},    # absolute maximum (lower-is-better metrics)
     "category_tolerance": 0.2,               # allowed accuracy drop of any category (null: off)
     "category_min_n": 5}                     # categories smaller than this are not gated

The baseline also stores each item's hash and correctness, so a changed QA file is still
compared on the items both runs share unchanged (``accuracy_on_common_items``, with the
``accuracy`` tolerance); the items that went from right to wrong are listed.

Metric names are keys of a run summary; dotted paths reach nested values
(``by_category.count.accuracy``, ``latency_by_route.records.p95_ms``).

``run_gate`` is the whole decision as a pure function (no files, no printing):
run summaries + baseline + thresholds -> ``GateResult``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="ignore")

    gate: list[str] = Field(default_factory=lambda: ["default"])
    tolerance: dict[str, float] = Field(default_factory=dict)
    floors: dict[str, float] = Field(default_factory=dict)
    ceilings: dict[str, float] = Field(default_factory=dict)
    category_tolerance: float | None = None
    category_min_n: int = 5

    @classmethod
    def load(cls, path: Path | None) -> Thresholds:
        if path is None or not path.is_file():
            return cls()
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))


@dataclass
class Check:
    pipeline: str
    metric: str
    kind: str  # baseline | floor | ceiling | category
    value: float | None
    limit: float
    ok: bool
    baseline: float | None = None
    note: str = ""

    def describe(self) -> str:
        v = "n/a" if self.value is None else f"{self.value:g}"
        if self.kind in ("baseline", "category"):
            b = "n/a" if self.baseline is None else f"{self.baseline:g}"
            return f"{self.pipeline}: {self.metric} {v} vs baseline {b} (limit {self.limit:g}) {self.note}".strip()
        op = ">=" if self.kind == "floor" else "<="
        return f"{self.pipeline}: {self.metric} {v} must be {op} {self.limit:g} {self.note}".strip()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_MISSING = object()


def lookup(summary: dict[str, Any], metric: str) -> Any:
    """Value at a dotted path of a summary, or ``_MISSING``."""
    cur: Any = summary
    for part in metric.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def lower_is_better(metric: str) -> bool:
    return metric.endswith("_ms") or metric.split(".")[-1] == "errors"


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def check_limits(pipeline: str, summary: dict[str, Any], floors: dict[str, float],
                 ceilings: dict[str, float]) -> list[Check]:
    """Absolute floors and ceilings. An unmeasured metric (None) passes with a note."""
    checks = []
    for kind, limits in (("floor", floors), ("ceiling", ceilings)):
        for metric, limit in limits.items():
            raw = lookup(summary, metric)
            if raw is _MISSING:
                checks.append(Check(pipeline, metric, kind, None, limit, False, note="(unknown metric)"))
                continue
            v = _num(raw)
            if v is None:
                checks.append(Check(pipeline, metric, kind, None, limit, True, note="(not measured)"))
                continue
            ok = v >= limit if kind == "floor" else v <= limit
            checks.append(Check(pipeline, metric, kind, v, limit, ok))
    return checks


def check_baseline(pipeline: str, summary: dict[str, Any], base: dict[str, Any],
                   th: Thresholds) -> list[Check]:
    """Metrics that worsened beyond their tolerance since the baseline."""
    checks = []
    for metric, tol in th.tolerance.items():
        v, b = _num(lookup(summary, metric)), _num(lookup(base, metric))
        if v is None or b is None:
            continue
        if lower_is_better(metric):
            limit = b + tol
            ok = v <= limit + 1e-9
        else:
            limit = b - tol
            ok = v >= limit - 1e-9
        checks.append(Check(pipeline, metric, "baseline", v, round(limit, 4), ok, baseline=b))
    if th.category_tolerance is not None:
        for cat, bc in (base.get("by_category") or {}).items():
            cc = (summary.get("by_category") or {}).get(cat)
            if not cc or min(cc.get("n", 0), bc.get("n", 0)) < th.category_min_n:
                continue
            v, b = _num(cc.get("accuracy")), _num(bc.get("accuracy"))
            if v is None or b is None:
                continue
            limit = round(b - th.category_tolerance, 4)
            checks.append(Check(pipeline, f"by_category.{cat}.accuracy", "category", v, limit,
                                v >= limit - 1e-9, baseline=b))
    return checks


def parse_fail_under(specs: list[str]) -> dict[str, float]:
    """``["accuracy=0.8", ...]`` -> ``{"accuracy": 0.8}``; raises ValueError on bad syntax."""
    out = {}
    for s in specs:
        name, sep, val = s.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--fail-under expects METRIC=VALUE, got {s!r}")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            raise ValueError(f"--fail-under {s!r}: {val!r} is not a number") from None
    return out


def check_items(pipeline: str, current: dict[str, tuple[str, bool]], base: dict[str, Any],
                tolerance: float) -> tuple[Check | None, list[str], list[str]]:
    """Accuracy on the items unchanged since the baseline; also (regressed ids, fixed ids)."""
    common = [i for i, (h, _) in current.items() if i in base and base[i][0] == h]
    if not common:
        return None, [], []
    regressed = [i for i in common if base[i][1] and not current[i][1]]
    fixed = [i for i in common if not base[i][1] and current[i][1]]
    b = round(sum(bool(base[i][1]) for i in common) / len(common), 4)
    v = round(sum(current[i][1] for i in common) / len(common), 4)
    limit = round(b - tolerance, 4)
    check = Check(pipeline, "accuracy_on_common_items", "baseline", v, limit, v >= limit - 1e-9, baseline=b,
                  note=f"({len(common)} unchanged items; {len(regressed)} regressed, {len(fixed)} fixed)")
    return check, regressed, fixed


#: One pipeline's answers, by item id: (item hash, answered correctly).
ItemOutcomes = dict[str, tuple[str, bool]]


@dataclass
class GateResult:
    """The gate's verdict: every check made, and which unchanged items regressed or were fixed."""

    passed: bool
    checks: list[Check]
    note: str = ""
    regressed: dict[str, list[str]] = field(default_factory=dict)
    fixed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self, baseline: str | None = None) -> dict[str, Any]:
        """The report's ``gate`` section; ``baseline`` is the path of the baseline compared with."""
        return {"baseline": baseline, "note": self.note, "passed": self.passed,
                "checks": [{**c.to_dict(), "describe": c.describe()} for c in self.checks],
                "regressed": self.regressed, "fixed": self.fixed}


def run_gate(summaries: dict[str, dict[str, Any]], thresholds: Thresholds, *,
             items: dict[str, ItemOutcomes] | None = None, qa_hash: str | None = None,
             baseline: dict[str, Any] | None = None, floors: dict[str, float] | None = None,
             rewriting_baseline: bool = False) -> GateResult:
    """Gate the pipelines named in ``thresholds.gate`` (all of ``summaries`` when none of them ran).

    ``floors`` (from ``--fail-under``) override the thresholds' floors. With a ``baseline`` made
    on the same QA set (``qa_hash``) the summaries are compared metric by metric; on another set
    only the items both share unchanged are compared (``accuracy_on_common_items``).
    ``rewriting_baseline``: this run replaces the baseline, so nothing is compared with it.
    """
    items = items or {}
    gated = [n for n in summaries if n in thresholds.gate] or list(summaries)
    all_floors = {**thresholds.floors, **(floors or {})}
    checks: list[Check] = []
    for n in gated:
        checks += check_limits(n, summaries[n], all_floors, thresholds.ceilings)
    regressed: dict[str, list[str]] = {}
    fixed: dict[str, list[str]] = {}
    if rewriting_baseline:
        note = "baseline rewritten by this run"
    elif baseline is None:
        note = "no baseline file"
    else:
        same_set = baseline.get("qa_hash") == qa_hash
        note = "" if same_set else "baseline was made on a different QA set: compared on the unchanged items only"
        for n in gated:
            b = (baseline.get("pipelines") or {}).get(n)
            if not b:
                continue
            if same_set:
                checks += check_baseline(n, summaries[n], b["summary"], thresholds)
            check, regressed[n], fixed[n] = check_items(n, items.get(n, {}), b.get("items") or {},
                                                        thresholds.tolerance.get("accuracy", 0.0))
            if check is not None and not same_set:  # same set: the summary checks cover it
                checks.append(check)
    return GateResult(all(c.ok for c in checks), checks, note, regressed, fixed)
