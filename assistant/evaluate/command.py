"""``assistant eval``: run pipelines over a QA file, write the report, gate on regressions.

Exit codes: 0 ok, 1 regression or below a threshold, 2 usage error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.answer import Asker
from assistant.config import Settings
from assistant.evaluate.gate import (
    Check,
    Thresholds,
    check_baseline,
    check_items,
    check_limits,
    parse_fail_under,
)
from assistant.evaluate.metrics import ItemResult, summarize
from assistant.evaluate.qa import QAFileError, item_hash, items_hash, load_qa
from assistant.evaluate.report import baseline_from_report, build_report, render_markdown, write_report
from assistant.evaluate.runner import run_items
from assistant.evaluate.sources import RecordRows, SourceTexts

PIPELINES = ("default", "naive")
AskerFactory = Callable[[Settings, str], Asker]

DEFAULT_QA = Path("eval/qa.jsonl")
DEFAULT_REPORT_DIR = Path("eval/reports/latest")
DEFAULT_BASELINE = Path("eval/baseline.json")
DEFAULT_THRESHOLDS = Path("eval/thresholds.json")


class PipelineBuildError(RuntimeError):
    """A pipeline could not be built (no index, no model): the run cannot start."""


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _build_assistant(settings: Settings, pipeline: str) -> Asker:
    from assistant.answer.pipeline import build_assistant

    return build_assistant(settings, pipeline=pipeline)


def index_manifest_hash(settings: Settings) -> str | None:
    """sha256 of the served index version's manifest (``index/CURRENT``), None without an index."""
    root = settings.index_path
    candidates = [root / "manifest.json"]
    pointer = root / "CURRENT"
    if pointer.is_file():
        candidates.insert(0, root / pointer.read_text(encoding="utf-8").strip() / "manifest.json")
    for p in candidates:
        if p.is_file():
            return hashlib.sha256(p.read_bytes()).hexdigest()
    return None


def _pipelines(choice: str) -> list[str]:
    if choice == "both":
        return list(PIPELINES)
    if choice in PIPELINES:
        return [choice]
    raise ValueError(f"--pipeline must be one of default, naive, both (got {choice!r})")


def format_guard(name: str, g: dict[str, Any]) -> str:
    """One line: how often the grounding guard replaced the LLM's answer, by reason."""
    rate = "–" if g.get("rate") is None else f"{g['rate']:.1%}"
    reasons = ", ".join(f"{k} {v}" for k, v in (g.get("by_reason") or {}).items()) or "none"
    return (f"\nGuard ({name}): {g.get('interventions', 0)} interventions in {g.get('llm_calls', 0)} LLM answers "
            f"(rate {rate}; accepted {g.get('accepted', 0)}, model abstained {g.get('llm_abstained', 0)}); "
            f"by reason: {reasons}")


def run_pipelines(settings: Settings, items: list, pipelines: list[str], factory: AskerFactory,
                  progress: bool = True) -> tuple[dict[str, tuple[dict[str, Any], list[ItemResult]]],
                                                  dict[str, float]]:
    """Build each pipeline once and run every item through it."""
    sources = SourceTexts(settings.root)
    records = RecordRows(settings.records_path)
    runs: dict[str, tuple[dict[str, Any], list[ItemResult]]] = {}
    build_ms: dict[str, float] = {}
    for name in pipelines:
        t0 = time.perf_counter()
        try:
            asker = factory(settings, name)
            warm_up = getattr(asker, "warm_up", None)
            if callable(warm_up):  # load models/index now, so the first item's latency is a query's
                warm_up()
        except Exception as e:
            raise PipelineBuildError(f"cannot start the {name!r} pipeline: {type(e).__name__}: {e}") from e
        build_ms[name] = round((time.perf_counter() - t0) * 1000, 1)
        results = run_items(asker, items, sources, label=name, progress=progress, records=records)
        summary = summarize(results)
        if hasattr(asker, "guard_report"):  # the LLM answerer: how often its guard intervened
            summary["guard"] = asker.guard_report()
        runs[name] = (summary, results)
    return runs, build_ms


def eval_command(
    settings: Settings,
    qa_file: Path | None = None,
    *,
    report_dir: Path | None = None,
    baseline: Path | None = None,
    pipeline: str = "default",
    fail_under: list[str] | None = None,
    limit: int | None = None,
    write_baseline: bool = False,
    thresholds: Path | None = None,
    factory: AskerFactory | None = None,
    progress: bool = True,
    llm: bool = False,
    variants: bool = False,
) -> int:
    """Evaluate, write ``report.json``/``report.md`` and return the exit code."""
    root = settings.root
    qa_path = qa_file or root / DEFAULT_QA
    try:
        names = _pipelines(pipeline)
        if llm:  # the configured LLM answerer (behind its grounding guard) replaces "default"
            if not (settings.llm_base_url and settings.llm_model):
                raise ValueError("--llm needs ASSISTANT_LLM_BASE_URL and ASSISTANT_LLM_MODEL")
            names = ["llm" if n == "default" else n for n in names]
        floors_cli = parse_fail_under(fail_under or [])
        if not variants and any(k.split(".")[0] in ("variants_kept", "variants") for k in floors_cli):
            raise ValueError("--fail-under on variants needs --variants")
        if limit is not None and limit <= 0:
            raise ValueError("--limit must be positive")
        th = Thresholds.load(thresholds or root / DEFAULT_THRESHOLDS)
        if thresholds is not None and not thresholds.is_file():
            raise ValueError(f"thresholds file not found: {thresholds}")
        if baseline is not None and not write_baseline and not baseline.is_file():
            raise ValueError(f"baseline file not found: {baseline}")
        items = load_qa(qa_path)
    except (ValueError, QAFileError) as e:
        _err(f"error: {e}")
        return 2
    if limit is not None:
        items = items[:limit]

    build = factory or _build_assistant
    askers: dict[str, Asker] = {}  # kept for --variants: the variants go through the same asker

    def keep(s: Settings, name: str) -> Asker:
        askers[name] = build(s, name)
        return askers[name]

    try:
        runs, build_ms = run_pipelines(settings, items, names, keep if variants else build, progress)
    except PipelineBuildError as e:  # e.g. no index yet: nothing to evaluate
        _err(f"error: {e}")
        return 2
    variant_report = None
    if variants:  # adds variants_kept to each summary before the gate looks at it
        from assistant.evaluate.variants_report import run_variant_pipelines

        variant_report = run_variant_pipelines(items, runs, askers, records_path=settings.records_path,
                                               progress=progress)
    meta: dict[str, Any] = {
        "version": 1,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "qa_file": str(qa_path),
        "qa_hash": items_hash(items),
        "n_items": len(items),
        "config_hash": settings.config_hash(),
        "index_manifest_sha256": index_manifest_hash(settings),
        "embedding_model": settings.embedding_model,
        "build_ms": build_ms,
    }

    # Gate: pipelines named in thresholds (or every pipeline run when none of them ran).
    gated = [n for n in names if n in th.gate] or names
    checks: list[Check] = []
    for n in gated:
        checks += check_limits(n, runs[n][0], {**th.floors, **floors_cli}, th.ceilings)
    base_path = baseline or root / DEFAULT_BASELINE
    hashes = {i.id: item_hash(i) for i in items}
    per_item = {n: {r.id: (hashes[r.id], r.correct) for r in rs} for n, (_, rs) in runs.items()}
    note = ""
    used_baseline: str | None = None
    regressed: dict[str, list[str]] = {}
    fixed: dict[str, list[str]] = {}
    if write_baseline:
        note = "baseline rewritten by this run"
    elif base_path.is_file():
        base = json.loads(base_path.read_text(encoding="utf-8"))
        used_baseline = str(base_path)
        same_set = base.get("qa_hash") == meta["qa_hash"]
        if not same_set:
            note = "baseline was made on a different QA set: compared on the unchanged items only"
        for n in gated:
            b = (base.get("pipelines") or {}).get(n)
            if not b:
                continue
            if same_set:
                checks += check_baseline(n, runs[n][0], b["summary"], th)
            check, regressed[n], fixed[n] = check_items(n, per_item[n], b.get("items") or {},
                                                        th.tolerance.get("accuracy", 0.0))
            if check is not None and not same_set:  # same set: the summary checks cover it
                checks.append(check)
    else:
        note = "no baseline file"
    passed = all(c.ok for c in checks)
    gate = {"baseline": used_baseline, "note": note, "passed": passed,
            "checks": [{**c.to_dict(), "describe": c.describe()} for c in checks],
            "regressed": regressed, "fixed": fixed}
    report = build_report(meta, runs, gate)

    out_dir = report_dir or root / DEFAULT_REPORT_DIR
    jp, mp = write_report(report, out_dir)
    if variant_report is not None:
        from assistant.evaluate.variants_report import write_variants

        variant_report["qa_file"] = str(qa_path)
        variant_report["created"] = meta["created"]
        vp = write_variants(variant_report, out_dir)
    if write_baseline:
        base_path.parent.mkdir(parents=True, exist_ok=True)
        base_path.write_text(json.dumps(baseline_from_report(report, per_item), ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")
        _err(f"baseline written: {base_path}")

    md = render_markdown(report)
    print(md.split("\n## Failures", 1)[0].rstrip())  # the tables; failures stay in report.md
    for n, (s, _) in runs.items():
        if "guard" in s:
            print(format_guard(n, s["guard"]))
    if variant_report is not None:
        from assistant.evaluate.variants_report import print_variants_table

        print()
        print_variants_table(variant_report)
        print(f"\nvariants: {vp}")
    print(f"\nreport: {jp} and {mp}")
    if note:
        _err(f"baseline: {note}")
    for c in checks:
        if not c.ok:
            _err(f"FAIL {c.describe()}")
    return 0 if passed else 1
