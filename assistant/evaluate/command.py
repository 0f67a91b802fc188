"""``assistant eval``: run pipelines over a QA file, write the report, gate on regressions.

This module loads files, runs the pipelines, writes and prints; the gate's decision is
``gate.run_gate`` (pure). Failures are raised as ``AssistantError``s: ``GateFailedError`` (exit 1)
for a regression or a threshold not met; ``UsageError``, ``QAFileInvalidError`` and
``PipelineUnavailableError`` (exit 2) when the run cannot start.
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
from assistant.errors import (
    ConfigError,
    GateFailedError,
    PipelineUnavailableError,
    QAFileInvalidError,
    UsageError,
)
from assistant.evaluate.gate import Thresholds, parse_fail_under, run_gate
from assistant.evaluate.metrics import ItemResult, summarize
from assistant.evaluate.qa import QAFileError, item_hash, items_hash, load_qa
from assistant.evaluate.qa_tables import load_qa_any
from assistant.evaluate.report import baseline_from_report, build_report, render_markdown, write_report
from assistant.evaluate.report_files import write_report_files
from assistant.evaluate.runner import run_items
from assistant.protocols import GuardReporter
from assistant.source_files import SourceTexts, source_folders

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
    sources = SourceTexts(settings.root, folders=source_folders(settings.root, settings))
    runs: dict[str, tuple[dict[str, Any], list[ItemResult]]] = {}
    build_ms: dict[str, float] = {}
    for name in pipelines:
        t0 = time.perf_counter()
        try:
            asker = factory(settings, name)
            asker.warm_up()  # load models/index now, so the first item's latency is a query's
        except Exception as e:
            raise PipelineBuildError(f"cannot start the {name!r} pipeline: {type(e).__name__}: {e}") from e
        build_ms[name] = round((time.perf_counter() - t0) * 1000, 1)
        results = run_items(asker, items, sources, label=name, progress=progress)
        summary = summarize(results)
        if isinstance(asker, GuardReporter):  # the LLM answerer: how often its guard intervened
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
    """Evaluate, write ``report.json``/``report.md`` and return 0; a failed gate (after the report
    is written and printed) raises ``GateFailedError``."""
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
        # JSON Lines as before; CSV and Excel through the table reader (one row per question)
        items = load_qa(qa_path) if qa_path.suffix.lower() in (".jsonl", ".json") else load_qa_any(qa_path)
    except QAFileError as e:
        raise QAFileInvalidError(str(e)) from e
    except ValueError as e:  # bad options, or a thresholds file that does not parse
        raise UsageError(str(e)) from e
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
        raise PipelineUnavailableError(str(e)) from e
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

    base_path = baseline or root / DEFAULT_BASELINE
    hashes = {i.id: item_hash(i) for i in items}
    per_item = {n: {r.id: (hashes[r.id], r.correct) for r in rs} for n, (_, rs) in runs.items()}
    base_data = None
    if not write_baseline and base_path.is_file():
        try:
            base_data = json.loads(base_path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ConfigError(f"baseline {base_path} is not valid JSON ({e}); rewrite it with --write-baseline") from e
    result = run_gate({n: runs[n][0] for n in names}, th, items=per_item, qa_hash=meta["qa_hash"],
                      baseline=base_data, floors=floors_cli, rewriting_baseline=write_baseline)
    gate = result.to_dict(str(base_path) if base_data is not None else None)
    report = build_report(meta, runs, gate)

    out_dir = report_dir or root / DEFAULT_REPORT_DIR
    jp, mp = write_report(report, out_dir)
    html_paths = []  # the evaluators' report (the same pages as the 評価 tab's download)
    for k, n in enumerate(runs):
        _, hp = write_report_files(report, out_dir, n, "report" if k == 0 else f"report-{n}")
        html_paths.append(hp)
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
    print(f"\nreport: {jp} and {mp}; for evaluators: {', '.join(map(str, html_paths))} (and .xlsx)")
    if result.note:
        _err(f"baseline: {result.note}")
    for c in result.failures:
        _err(f"FAIL {c.describe()}")
    if not result.passed:
        raise GateFailedError(f"{len(result.failures)} gate check(s) failed (report: {jp})")
    return 0
