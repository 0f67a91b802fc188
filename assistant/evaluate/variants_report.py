"""Run metamorphic variants through an asker, measure the kept rate, report it.

A variant is *kept* when the item's original question was answered correctly and the variant is
answered correctly too (same checks as the item: ``check_correct``; an answer that only spells a
year differently, 2022年度 for R4年度, still counts). The kept rate of a kind is kept / variants
whose original was correct; variants of wrongly answered items are counted apart (``gained``
when the variant happens to be right).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from assistant.answer import Asker
from assistant.evaluate.metrics import check_correct
from assistant.evaluate.qa import QAItem
from assistant.evaluate.variants import KINDS, Variant, Vocabulary, load_vocabulary, variants_for_items
from assistant.normalize import normalize_era_years
from assistant.types import Answer

#: Metric names a ``--fail-under`` floor may use (``variants_kept``, ``variants.by_kind.era.kept_rate``).
METRIC = "variants_kept"


@dataclass
class VariantResult:
    variant: Variant
    original_correct: bool
    correct: bool
    answer: str
    abstained: bool
    route: str
    latency_ms: float
    reasons: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def broken(self) -> bool:
        return self.original_correct and not self.correct

    @property
    def gained(self) -> bool:
        return not self.original_correct and self.correct

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(d.pop("variant"))
        return d


def _era_key(texts: Sequence[str]) -> list[str]:
    return [normalize_era_years(t) for t in texts]


def variant_correct(item: QAItem, answer: Answer) -> tuple[bool, list[str]]:
    """``check_correct`` of the item for this answer; failing that, the same with every year of
    the expectations and of the answer written as a western year (the answerer may echo the
    variant's spelling of a year)."""
    ok, reasons = check_correct(item, answer.text, answer.abstained)
    if ok or not item.answerable:
        return ok, reasons
    alt = item.model_copy(update={"expected": _era_key(item.expected),
                                  "any_of": [_era_key(g) for g in item.any_of],
                                  "forbidden": _era_key(item.forbidden)})
    ok2, _ = check_correct(alt, normalize_era_years(answer.text), answer.abstained)
    return (True, []) if ok2 else (False, reasons)


def run_variants(asker: Asker, items: Sequence[QAItem], variants: Sequence[Variant],
                 original_correct: Mapping[str, bool], *, label: str = "variants",
                 progress: bool = True) -> list[VariantResult]:
    """Ask every variant (with its item's history); an exception counts as a wrong answer."""
    by_id = {i.id: i for i in items}
    out: list[VariantResult] = []
    for v in tqdm(variants, desc=label, unit="q", file=sys.stderr, disable=not progress, mininterval=0.5):
        item = by_id[v.item_id]
        t0 = time.perf_counter()
        error = None
        try:
            answer = asker.ask(v.question, list(item.history) or None)
        except Exception as e:  # one failing variant must not hide the others
            error = f"{type(e).__name__}: {e}"
            answer = Answer(question=v.question, text="", route="error")
        latency = (time.perf_counter() - t0) * 1000
        vitem = item.model_copy(update={"question": v.question})
        ok, reasons = variant_correct(vitem, answer)
        if error is not None:
            ok, reasons = False, [f"error: {error}", *reasons]
        out.append(VariantResult(v, bool(original_correct.get(v.item_id)), ok, answer.text, answer.abstained,
                                 answer.route, round(latency, 2), reasons, error))
    return out


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _counts(rs: Sequence[VariantResult]) -> dict[str, Any]:
    on_correct = [r for r in rs if r.original_correct]
    on_wrong = [r for r in rs if not r.original_correct]
    kept = sum(r.correct for r in on_correct)
    return {"generated": len(rs), "on_correct": len(on_correct), "kept": kept,
            "kept_rate": _rate(kept, len(on_correct)), "broken": len(on_correct) - kept,
            "on_wrong": len(on_wrong), "gained": sum(r.correct for r in on_wrong)}


def summarize_variants(results: Sequence[VariantResult], kinds: Sequence[str] = KINDS,
                       n_items: int | None = None) -> dict[str, Any]:
    """Totals and per-kind counts; ``kept_rate`` is None when no variant had a correct original."""
    total = _counts(results)
    by_kind = {k: _counts([r for r in results if r.variant.kind == k]) for k in kinds}
    for k in sorted({r.variant.kind for r in results} - set(kinds)):
        by_kind[k] = _counts([r for r in results if r.variant.kind == k])
    return {**total, "n_items": n_items, "n_items_with_variants": len({r.variant.item_id for r in results}),
            "by_kind": by_kind}


def broken_list(results: Sequence[VariantResult]) -> list[dict[str, Any]]:
    """The broken variants: id, kind, variant question, original, why, the answer."""
    return [{"id": r.variant.item_id, "kind": r.variant.kind, "question": r.variant.question,
             "original": r.variant.original, "note": r.variant.note,
             "reason": "; ".join(r.reasons) or "wrong answer", "answer": r.answer, "route": r.route}
            for r in results if r.broken]


def run_variant_pipelines(items: Sequence[QAItem], runs: Mapping[str, tuple[dict[str, Any], Sequence[Any]]],
                          askers: Mapping[str, Asker], *, vocab: Vocabulary | None = None,
                          records_path: Path | None = None, kinds: Sequence[str] = KINDS,
                          progress: bool = True) -> dict[str, Any]:
    """Variants of ``items`` through each pipeline's asker. Adds ``variants_kept`` (the kept rate)
    and ``variants`` (the per-kind counts) to each run's summary, so gate floors can use them;
    returns the content of ``variants.json``."""
    if vocab is None:
        vocab = load_vocabulary(records_path) if records_path is not None else Vocabulary()
    variants = variants_for_items(items, vocab, kinds)
    report: dict[str, Any] = {"version": 1, "kinds": list(kinds), "n_items": len(items),
                              "n_variants": len(variants), "pipelines": {}}
    for name, (summary, results) in runs.items():
        asker = askers.get(name)
        if asker is None:
            continue
        original = {r.id: bool(r.correct) for r in results}
        vr = run_variants(asker, items, variants, original, label=f"{name} variants", progress=progress)
        s = summarize_variants(vr, kinds, len(items))
        summary[METRIC] = s["kept_rate"]
        summary["variants"] = s
        report["pipelines"][name] = {"summary": s, "broken": broken_list(vr),
                                     "variants": [r.to_dict() for r in vr]}
    return report


# ---------------------------------------------------------------- output


def _fmt_rate(v: float | None) -> str:
    return "–" if v is None else f"{v:.1%}"


def _rows(s: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [*s["by_kind"].items(), ("all", s)]


def render_variants_markdown(report: dict[str, Any]) -> str:
    """The report.md section: a per-kind table and the broken variants of each pipeline."""
    out = ["", "## Metamorphic variants", "",
           "Rewrites that must not change a correct answer (readings of place names, character width, "
           "era/western years, politeness, abbreviations, phrase order). *Kept*: still correct, among "
           "the variants whose original question was answered correctly.", ""]
    for name, p in report.get("pipelines", {}).items():
        s = p["summary"]
        out += [f"### Variants: {name} (kept {_fmt_rate(s['kept_rate'])}, {s['generated']} variants of "
                f"{s['n_items_with_variants']} items)", "",
                "| Kind | Generated | On correct originals | Kept | Kept rate | Broken | Gained on wrong originals |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for kind, c in _rows(s):
            label = f"**{kind}**" if kind == "all" else kind
            out.append(f"| {label} | {c['generated']} | {c['on_correct']} | {c['kept']} | {_fmt_rate(c['kept_rate'])} "
                       f"| {c['broken']} | {c['gained']}/{c['on_wrong']} |")
        broken = p.get("broken") or []
        out += ["", f"#### Broken variants: {name} ({len(broken)})", ""]
        if not broken:
            out.append("None.")
        else:
            out += ["| Id | Kind | Variant question | Reason |", "|---|---|---|---|"]
            for b in broken:
                why = b["reason"] + (f" — answer: {b['answer'][:120]}" if b.get("answer") else "")
                out.append(f"| {_md(b['id'])} | {_md(b['kind'])} | {_md(b['question'])} | {_md(why)} |")
        out.append("")
    return "\n".join(out)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def print_variants_table(report: dict[str, Any], file: TextIO | None = None) -> None:
    """Per-kind table of each pipeline on stdout (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file or sys.stdout, width=110)
    for name, p in report.get("pipelines", {}).items():
        s = p["summary"]
        table = Table(title=f"Metamorphic variants ({name}): kept {_fmt_rate(s['kept_rate'])} "
                            f"of {s['on_correct']} variants of correct answers")
        for col, just in (("kind", "left"), ("generated", "right"), ("on correct", "right"), ("kept", "right"),
                          ("kept rate", "right"), ("broken", "right"), ("gained/on wrong", "right")):
            table.add_column(col, justify=just)  # type: ignore[arg-type]
        for kind, c in _rows(s):
            style = "bold" if kind == "all" else ("red" if c["broken"] else None)
            table.add_row(kind, str(c["generated"]), str(c["on_correct"]), str(c["kept"]), _fmt_rate(c["kept_rate"]),
                          str(c["broken"]), f"{c['gained']}/{c['on_wrong']}", style=style)
        console.print(table)
        broken = p.get("broken") or []
        for b in broken[:15]:
            console.print(f"  broken {b['id']} [{b['kind']}] {b['question']} — {b['reason']}", markup=False, soft_wrap=True,
                          highlight=False)
        if len(broken) > 15:
            console.print(f"  … {len(broken) - 15} more in variants.json / report.md", markup=False)


def write_variants(report: dict[str, Any], directory: Path) -> Path:
    """Write ``variants.json`` and append the variants section to ``report.md`` (when present)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "variants.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md = directory / "report.md"
    section = render_variants_markdown(report)
    if md.is_file():
        md.write_text(md.read_text(encoding="utf-8").rstrip("\n") + "\n" + section, encoding="utf-8")
    else:
        md.write_text("# Evaluation report\n" + section, encoding="utf-8")
    return path
