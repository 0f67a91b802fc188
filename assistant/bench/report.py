"""Benchmark results (typed), their JSON form, a rich table for the terminal and Markdown."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.bench.measure import LatencyStats

#: Answer.route -> the label used in reports.
ROUTES = {"records": "records", "documents": "documents", "abstain": "abstention", "error": "error"}


@dataclass
class BuildPhase:
    seconds: float
    mode: str  # full | noop | incremental
    embedded: int
    chunks: int


@dataclass
class Throughput:
    askers: int  # threads calling one Assistant
    questions: int
    seconds: float
    qps: float
    latency: LatencyStats


@dataclass
class EmbedRate:
    threads: int
    batch: int
    chunks_per_s: float
    ms_per_query: float


@dataclass
class Pipeline:
    """One answerer over the workload: latency per route (and ``all``), throughput by askers."""

    name: str  # default | naive | default (chroma server)
    warm_up_s: float
    latency: dict[str, LatencyStats]
    throughput: list[Throughput] = field(default_factory=list)
    build: BuildPhase | None = None  # server mode: the build that filled the server


@dataclass
class SizeResult:
    label: str  # seed | 1000 | 10000
    documents: int
    synthetic: int
    project_rows: int
    chars: int
    chunks: int
    record_chunks: int
    model_load_s: dict[str, float]  # imports, model
    build: dict[str, BuildPhase]  # cold | noop | one_changed
    pipelines: list[Pipeline]
    embedding: list[EmbedRate]
    rss_mb: dict[str, float]  # after_load, after_build, after_asks, peak; chroma_server
    load_avg: dict[str, list[float]]  # start | end
    wall_s: float
    notes: list[str] = field(default_factory=list)

    def pipeline(self, name: str) -> Pipeline | None:
        return next((p for p in self.pipelines if p.name == name), None)


@dataclass
class BenchReport:
    created: str
    command: str
    machine: dict[str, Any]
    config: dict[str, Any]
    sizes: list[SizeResult]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def latency_rows(r: SizeResult) -> list[list[str]]:
    """Rows: size, pipeline, route, n, p50, p95, p99, max, ratio of p50 to the naive pipeline."""
    naive = r.pipeline("naive")
    naive_p50 = naive.latency["all"].p50 if naive and "all" in naive.latency else 0.0
    rows = []
    for p in r.pipelines:
        for route, s in p.latency.items():
            rel = ratio(s.p50, naive_p50) if p.name != "naive" else None
            rows.append([r.label, p.name, route, str(s.n), f"{s.p50:.1f}", f"{s.p95:.1f}", f"{s.p99:.1f}",
                         f"{s.max:.1f}", "" if rel is None else f"{rel:.2f}×"])
    return rows


def build_rows(r: SizeResult) -> list[list[str]]:
    def phase(name: str) -> str:
        b = r.build.get(name)
        return "" if b is None else f"{b.seconds:.1f} ({b.embedded})"

    load = r.model_load_s
    default = r.pipeline("default")
    return [[r.label, str(r.documents), f"{r.chunks} ({r.record_chunks})",
             f"{load.get('imports', 0):.1f} + {load.get('model', 0):.1f}", phase("cold"), phase("noop"),
             phase("one_changed"), f"{default.warm_up_s:.1f}" if default else "",
             f"{r.rss_mb.get('peak', 0):.0f}", " / ".join(f"{x:.1f}" for x in r.load_avg.get("start", [])[:2])]]


def throughput_rows(r: SizeResult) -> list[list[str]]:
    return [[r.label, p.name, str(t.askers), str(t.questions), f"{t.qps:.1f}", f"{t.latency.p50:.1f}",
             f"{t.latency.p95:.1f}"] for p in r.pipelines for t in p.throughput]


def embedding_rows(r: SizeResult) -> list[list[str]]:
    return [[r.label, str(e.threads), str(e.batch), f"{e.chunks_per_s:.1f}", f"{e.ms_per_query:.1f}"]
            for e in r.embedding]


TABLES: list[tuple[str, list[str], Any]] = [
    ("Build and load (s; embedded chunks in brackets)",
     ["size", "docs", "chunks (records)", "load: imports + model", "cold build", "no-op", "one changed",
      "warm-up", "peak RSS MB", "load avg"], build_rows),
    ("Warm ask latency (ms), one process",
     ["size", "pipeline", "route", "n", "p50", "p95", "p99", "max", "p50 vs naive"], latency_rows),
    ("Throughput: N threads asking one Assistant",
     ["size", "pipeline", "askers", "questions", "q/s", "p50 ms", "p95 ms"], throughput_rows),
    ("Embedding (passages of the index; one query)",
     ["size", "threads", "batch", "chunks/s", "ms/query"], embedding_rows),
]


def print_tables(report: BenchReport, console: Any = None) -> None:
    """The report as rich tables on ``console`` (default: stdout)."""
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console()
        if not console.is_terminal:  # piped: do not wrap the tables at 80 columns
            console = Console(width=160)
    for title, header, rows_of in TABLES:
        rows = [row for r in report.sizes for row in rows_of(r)]
        if not rows:
            continue
        table = Table(title=title, title_justify="left")
        for h in header:
            table.add_column(h, justify="left" if h in ("size", "pipeline", "route") else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    for r in report.sizes:
        for note in r.notes:
            console.print(f"[dim]{r.label}: {note}[/dim]")


def markdown(report: BenchReport) -> str:
    """The report as Markdown tables, with machine, date and command."""
    m = report.machine
    out = [f"Run {report.created}: `{report.command}`", "",
           f"Machine: {m.get('cpu')}, {m.get('cpus')} CPUs, {m.get('memory_gb')} GB; Python {m.get('python')}, "
           f"torch {m.get('torch')}, chromadb {m.get('chromadb')}.", "",
           "Config: " + ", ".join(f"{k}={v}" for k, v in report.config.items()), ""]
    for title, header, rows_of in TABLES:
        rows = [row for r in report.sizes for row in rows_of(r)]
        if not rows:
            continue
        out += [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        out.append("")
    for r in report.sizes:
        out += [f"- {r.label}: {note}" for note in r.notes]
    return "\n".join(out).rstrip() + "\n"


def write_report(report: BenchReport, out: Path) -> tuple[Path, Path]:
    """``bench.json`` and ``bench.md`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    j, md = out / "bench.json", out / "bench.md"
    j.write_text(report.to_json(), encoding="utf-8")
    md.write_text(markdown(report), encoding="utf-8")
    return j, md


def size_result_from_dict(d: dict[str, Any]) -> SizeResult:
    """Inverse of ``asdict`` for a :class:`SizeResult` (results come back from worker processes)."""
    def lat(x: dict[str, Any]) -> LatencyStats:
        return LatencyStats(**x)

    def phase(x: dict[str, Any] | None) -> BuildPhase | None:
        return None if x is None else BuildPhase(**x)

    pipelines = [Pipeline(p["name"], p["warm_up_s"], {k: lat(v) for k, v in p["latency"].items()},
                          [Throughput(**{**t, "latency": lat(t["latency"])}) for t in p["throughput"]],
                          phase(p.get("build"))) for p in d["pipelines"]]
    return SizeResult(**{**d, "build": {k: BuildPhase(**v) for k, v in d["build"].items()},
                         "pipelines": pipelines, "embedding": [EmbedRate(**e) for e in d["embedding"]]})
