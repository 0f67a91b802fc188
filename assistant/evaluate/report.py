"""``report.json`` and a readable ``report.md`` of one evaluation run."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.evaluate.metrics import ItemResult

#: Summary rows of the markdown table: (key, label, kind).
SUMMARY_ROWS = [
    ("accuracy", "Answer accuracy", "ratio"),
    ("answerable_accuracy", "Accuracy on answerable items", "ratio"),
    ("abstention_precision", "Abstention precision", "ratio"),
    ("abstention_recall", "Abstention recall", "ratio"),
    ("citation_validity", "Citation validity (per citation)", "ratio"),
    ("cited_answers", "Answers with ≥1 citation", "ratio"),
    ("answers_with_valid_citations", "Answers whose citations are all valid", "ratio"),
    ("claims_verified", "Claims verified (quoted, computed, converted)", "ratio"),
    ("values_without_claim", "Values without a supporting claim", "int"),
    ("retrieval_r1", "Retrieval R@1", "ratio"),
    ("retrieval_r5", "Retrieval R@5", "ratio"),
    ("retrieval_mrr", "Retrieval MRR", "ratio"),
    ("latency_p50_ms", "Latency p50 (ms)", "ms"),
    ("latency_p95_ms", "Latency p95 (ms)", "ms"),
    ("errors", "Errors", "int"),
]

#: Counts shown next to a metric (denominators).
_DENOM = {"abstention_recall": "n_unanswerable", "abstention_precision": "n_abstained",
          "citation_validity": "n_citations", "claims_verified": "n_claims",
          "retrieval_r1": "n_retrieval", "retrieval_r5": "n_retrieval", "retrieval_mrr": "n_retrieval"}


def item_to_dict(r: ItemResult) -> dict[str, Any]:
    d = asdict(r)
    d["problems"] = r.problems
    return d


def build_report(meta: dict[str, Any], runs: dict[str, tuple[dict[str, Any], list[ItemResult]]],
                 gate: dict[str, Any]) -> dict[str, Any]:
    return {
        **meta,
        "pipelines": {name: {"summary": s, "items": [item_to_dict(r) for r in rs]}
                      for name, (s, rs) in runs.items()},
        "gate": gate,
    }


def baseline_from_report(report: dict[str, Any],
                         per_item: dict[str, dict[str, tuple[str, bool]]] | None = None) -> dict[str, Any]:
    """The part of a report stored as a baseline: metadata, summaries, and per pipeline each
    item's ``[hash, correct]`` (so a later QA file is compared on its unchanged items)."""
    out = {k: v for k, v in report.items() if k not in ("pipelines", "gate")}
    out["pipelines"] = {n: {"summary": p["summary"],
                            "items": {i: [h, ok] for i, (h, ok) in (per_item or {}).get(n, {}).items()}}
                        for n, p in report["pipelines"].items()}
    return out


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fmt(v: Any, kind: str = "ratio") -> str:
    if v is None:
        return "–"
    if kind == "ratio":
        return f"{v:.3f}"
    if kind == "ms":
        return f"{v:.0f}"
    return str(v)


def render_markdown(report: dict[str, Any]) -> str:
    names = list(report["pipelines"])
    sums = {n: report["pipelines"][n]["summary"] for n in names}
    out = ["# Evaluation report", ""]
    out += [
        f"- QA file: `{report.get('qa_file')}` ({report.get('n_items')} items, hash `{report.get('qa_hash')}`)",
        f"- Pipelines: {', '.join(names)}",
        f"- Config hash: `{report.get('config_hash')}` · index manifest sha256: "
        f"`{(report.get('index_manifest_sha256') or 'none')[:16]}`",
        f"- Created: {report.get('created')}",
    ]
    gate = report.get("gate") or {}
    if gate:
        status = "PASS" if gate.get("passed") else "FAIL"
        out.append(f"- Gate: **{status}** (baseline: {gate.get('baseline') or 'none'}"
                   f"{'; ' + gate['note'] if gate.get('note') else ''})")
    out += ["", "## Summary", "", "| Metric | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names)]
    for key, label, kind in SUMMARY_ROWS:
        cells = []
        for n in names:
            s = sums[n]
            c = _fmt(s.get(key), kind)
            if key in _DENOM and s.get(key) is not None:
                c += f" (n={s.get(_DENOM[key])})"
            cells.append(c)
        out.append(f"| {label} | " + " | ".join(cells) + " |")

    cats = sorted({c for n in names for c in sums[n].get("by_category", {})})
    out += ["", "## Accuracy by category", "",
            "| Category | n | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    for cat in cats:
        row = [sums[n]["by_category"].get(cat) for n in names]
        n_items = next((r["n"] for r in row if r), 0)
        cells = [f"{_fmt(r['accuracy'])} ({r['correct']}/{r['n']})" if r else "–" for r in row]
        out.append(f"| {_cell(cat)} | {n_items} | " + " | ".join(cells) + " |")
    totals = [f"**{_fmt(sums[n]['accuracy'])}** ({sums[n]['correct']}/{sums[n]['n']})" for n in names]
    out.append(f"| **all** | {sums[names[0]]['n'] if names else 0} | " + " | ".join(totals) + " |")

    out += _render_parts(names, sums)

    out += ["", "## Latency by route", "", "| Pipeline | Route | n | p50 ms | p95 ms |",
            "|---|---|---:|---:|---:|"]
    for n in names:
        for route, v in sums[n].get("latency_by_route", {}).items():
            out.append(f"| {n} | {_cell(route)} | {v['n']} | {_fmt(v['p50_ms'], 'ms')} | {_fmt(v['p95_ms'], 'ms')} |")

    failed = [c for c in gate.get("checks", []) if not c["ok"]]
    if gate.get("checks"):
        out += ["", "## Gate checks", ""]
        for c in gate["checks"]:
            mark = "✅" if c["ok"] else "❌"
            out.append(f"- {mark} {c['describe']}")
        if not failed:
            out.append("")
            out.append("All checks passed.")
    for n, ids in (gate.get("regressed") or {}).items():
        if ids:
            out += ["", f"Regressed since the baseline ({n}): " + ", ".join(ids)]
    for n, ids in (gate.get("fixed") or {}).items():
        if ids:
            out += ["", f"Fixed since the baseline ({n}): " + ", ".join(ids)]

    for n in names:
        items = [i for i in report["pipelines"][n]["items"] if i["problems"]]
        out += ["", f"## Failures: {n} ({sum(not i['correct'] for i in items)} wrong answers, "
                f"{len(items)} items with a problem)", ""]
        for i in items:
            out += _render_item(i)
    out.append("")
    return "\n".join(out)


def _parts_cell(p: dict[str, Any] | None) -> str:
    if not p or not p.get("asked"):
        return "–"
    return f"{_fmt(p['answered_rate'])} ({p['answered']}/{p['asked']} parts, {p['n_items']} msgs)"


def _render_parts(names: list[str], sums: dict[str, dict[str, Any]]) -> list[str]:
    """Parts answered / parts asked for items answered as messages (meta["parts"])."""
    parts = {n: sums[n].get("parts") or {} for n in names}
    if not any(p.get("asked") for p in parts.values()):
        return []
    out = ["", "## Parts of helpdesk messages", "",
           "A part counts as answered when it is not abstained; items whose answer lists its parts only.", "",
           "| Category | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    cats = sorted({c for p in parts.values() for c in (p.get("by_category") or {})})
    for cat in cats:
        out.append(f"| {_cell(cat)} | " + " | ".join(
            _parts_cell((parts[n].get("by_category") or {}).get(cat)) for n in names) + " |")
    out.append("| **all** | " + " | ".join(f"**{_parts_cell(parts[n])}**" for n in names) + " |")
    out.append("| messages with every part answered | " + " | ".join(
        f"{_fmt(parts[n].get('all_parts_answered'))}" for n in names) + " |")
    return out


def _render_item(i: dict[str, Any]) -> list[str]:
    mark = "✗ wrong" if not i["correct"] else "⚠ correct, with problems"
    lines = [f"### {_cell(i['id'])} · {_cell(i['category'])} · {mark}", ""]
    if i["history"]:
        lines.append(f"- History: {' → '.join(_cell(h) for h in i['history'])}")
    lines.append(f"- Question: {_cell(i['question'])}")
    if not i["answerable"]:
        lines.append("- Expected: abstention (not answerable)")
    else:
        exp = [f"all of {i['expected']}"] if i["expected"] else []
        exp += [f"one of {g}" for g in i["any_of"]]
        exp += [f"none of {i['forbidden']}"] if i["forbidden"] else []
        lines.append(f"- Expected: {_cell('; '.join(exp) or '(any non-abstained answer)')}")
    status = "abstained" if i["abstained"] else "answered"
    lines.append(f"- Answer ({status}, route `{i['route']}`, {i['latency_ms']:.0f} ms): {_cell(i['answer'])}")
    if i.get("parts"):
        lines.append("- Parts: " + "; ".join(
            f"{_cell(p.get('label') or '—')} {'abstained' if p.get('abstained') else 'answered'}"
            f" ({_cell(p.get('text', ''))})" for p in i["parts"]))
    for c in i["citations"]:
        ok = "✓" if c["valid"] else f"✗ {c['reason']}"
        lines.append(f"  - cite `{_cell(c['source'])}` › {_cell(c['locator'])}: “{_cell(c['quote'])}” {ok}")
    lines.append(f"- Problems: {_cell('; '.join(i['problems']))}")
    lines.append("")
    return lines


def write_report(report: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    jp, mp = directory / "report.json", directory / "report.md"
    jp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    mp.write_text(render_markdown(report), encoding="utf-8")
    return jp, mp
