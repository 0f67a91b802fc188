"""One evaluation run of an uploaded QA set through an asker (the 評価 tab's work, no UI).

The same steps as ``assistant eval`` for one pipeline: every item asked and checked, the
summary, the comparison with the baseline, the report dict; the baseline is written only
when :func:`write_baseline` is called (the tab checks the admin role first).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.evaluate.gate import Thresholds, run_gate
from assistant.evaluate.metrics import ItemResult, summarize
from assistant.evaluate.qa import QAItem, item_hash, items_hash
from assistant.evaluate.report import baseline_from_report, build_report
from assistant.evaluate.runner import run_items
from assistant.protocols import Asker
from assistant.source_files import SourceTexts, source_folders

DEFAULT_BASELINE = Path("eval/baseline.json")
DEFAULT_THRESHOLDS = Path("eval/thresholds.json")


@dataclass(frozen=True)
class EvalRun:
    """A finished run: the report (as ``report.json`` holds it) and each item's (hash, correct)."""

    pipeline: str
    report: dict[str, Any]
    outcomes: dict[str, tuple[str, bool]]


def baseline_path(settings: Settings) -> Path:
    return settings.root / DEFAULT_BASELINE


def read_baseline(path: Path) -> dict[str, Any] | None:
    """The baseline, or None when there is none or it does not parse (then nothing is compared)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def run_set(asker: Asker, items: Sequence[QAItem], settings: Settings, *, qa_name: str,
            pipeline: str | None = None, baseline: Path | None = None,
            on_item: Callable[[int, int], None] | None = None) -> EvalRun:
    """Ask and check every item (``on_item(done, total)`` after each) and compare with the baseline."""
    name = pipeline or settings.pipeline
    sources = SourceTexts(settings.root, folders=source_folders(settings.root, settings))
    results: list[ItemResult] = []
    for k, item in enumerate(items, start=1):
        results += run_items(asker, [item], sources, label=name, progress=False)
        if on_item is not None:
            on_item(k, len(items))
    summary = summarize(results)
    hashes = {i.id: item_hash(i) for i in items}
    outcomes = {r.id: (hashes[r.id], r.correct) for r in results}
    qa_hash = items_hash(list(items))
    base_file = baseline or baseline_path(settings)
    base = read_baseline(base_file)
    gate = run_gate({name: summary}, Thresholds.load(settings.root / DEFAULT_THRESHOLDS),
                    items={name: outcomes}, qa_hash=qa_hash, baseline=base)
    meta = {"version": 1, "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "qa_file": qa_name, "qa_hash": qa_hash, "n_items": len(items),
            "config_hash": settings.config_hash(), "embedding_model": settings.embedding_model}
    report = build_report(meta, {name: (summary, results)},
                          gate.to_dict(str(base_file) if base is not None else None))
    return EvalRun(name, report, outcomes)


def write_baseline(run: EvalRun, path: Path) -> Path:
    """Store ``run`` as the baseline (the same file ``assistant eval --write-baseline`` writes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = baseline_from_report(run.report, {run.pipeline: run.outcomes})
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
