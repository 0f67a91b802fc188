"""``assistant bench``: generate each corpus, measure it (in a fresh process), report.

Each size runs in its own worker process (``python -m assistant.bench.worker``) so that model
load is cold and peak RSS belongs to that size; ``isolate=False`` measures in this process (tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.bench.corpus import CorpusOptions, generate_corpus
from assistant.bench.measure import machine_info
from assistant.bench.report import BenchReport, SizeResult, print_tables, size_result_from_dict, write_report
from assistant.bench.runner import SizeSpec, log, run_size
from assistant.config import Settings
from assistant.errors import UsageError


def parse_list(text: str) -> list[str]:
    return [p.strip() for p in str(text).split(",") if p.strip()]


def prepare(label: str, base: Settings, root: Path, seed: int, opts: CorpusOptions) -> SizeSpec:
    """Write the corpus of one size under ``root``: ``seed`` (a copy of the real corpus) or N documents."""
    if label == "seed":
        n = 0
    elif label.isdigit() and int(label) > 0:
        n = int(label)
    else:
        raise ValueError(f"unknown size {label!r}: use 'seed' or a number of documents")
    c = generate_corpus(base, root, n, seed=seed, opts=opts)
    return SizeSpec(label, str(root), c.documents, c.synthetic, c.project_rows, c.chars)


def _run_worker(spec: SizeSpec, tmp: Path) -> SizeResult:
    spec_file, out_file = tmp / f"spec-{spec.label}.json", tmp / f"result-{spec.label}.json"
    spec_file.write_text(json.dumps(asdict(spec), ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "assistant.bench.worker", str(spec_file), str(out_file)],
                          check=False)
    if proc.returncode != 0 or not out_file.exists():
        raise RuntimeError(f"benchmark worker for size {spec.label} failed (exit {proc.returncode})")
    return size_result_from_dict(json.loads(out_file.read_text(encoding="utf-8")))


def run_bench(settings: Settings, sizes: list[str], concurrency: list[int], *, chroma_server: bool = False,
              seed: int = 0, limit: int | None = None, qa_file: Path | None = None,
              opts: CorpusOptions | None = None, isolate: bool = True, embedder: Any = None,
              work_dir: Path | None = None, command: str = "assistant bench") -> BenchReport:
    """Measure every size; corpora and indexes live in a temporary folder (or ``work_dir``)."""
    opts = opts or CorpusOptions()
    qa = qa_file or settings.root / "eval" / "qa.jsonl"
    results: list[SizeResult] = []
    with ExitStack() as stack:
        tmp = work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="assistant-bench-")))
        server = None
        if chroma_server:
            from assistant.bench.server import chroma_server as start_server

            server = stack.enter_context(start_server(tmp / "chroma-server"))
        for i, label in enumerate(sizes):
            t = time.perf_counter()
            spec = prepare(label, settings, tmp / f"size-{label}", seed, opts)
            log(f"size {label}: {spec.documents} documents ({spec.synthetic} synthetic, {spec.project_rows} "
                f"project rows) written in {time.perf_counter() - t:.1f}s")
            spec.qa_file, spec.concurrency, spec.limit = str(qa), concurrency, limit
            spec.embedding_grid, spec.progress = i == 0, isolate
            if server is not None:
                spec.chroma_url, spec.chroma_pid = server.url, server.pid
            results.append(_run_worker(spec, tmp) if isolate else run_size(spec, settings, embedder))
    config = {"embedding_model": settings.embedding_model, "torch_threads": settings.torch_threads,
              "query_threads": settings.query_threads, "embedding_batch_size": settings.embedding_batch_size,
              "top_k": settings.top_k, "candidate_k": settings.candidate_k, "seed": seed,
              "max_sections": opts.max_sections, "max_section_chars": opts.max_section_chars,
              "project_every": opts.project_every, "questions": str(qa.name) + (f"[:{limit}]" if limit else "")}
    return BenchReport(time.strftime("%Y-%m-%d %H:%M:%S %z"), command, machine_info(), config, results)


def bench_command(settings: Settings, sizes: str = "seed,1000,10000", concurrency: str = "1,4,8",
                  chroma_server: bool = False, out: Path | None = None, seed: int = 0, limit: int | None = None,
                  max_sections: int = 1, section_chars: int = 500, project_every: int = 10) -> int:
    """CLI entry: run, print the tables, write ``bench.json`` and ``bench.md``."""
    try:
        size_list = parse_list(sizes)
        conc = [int(x) for x in parse_list(concurrency)]
        for s in size_list:
            if s != "seed" and not (s.isdigit() and int(s) > 0):
                raise ValueError(f"unknown size {s!r}: use 'seed' or a number of documents")
    except ValueError as e:
        raise UsageError(str(e)) from e
    command = " ".join(["assistant bench", f"--sizes {sizes}", f"--concurrency {concurrency}"]
                       + (["--chroma-server"] if chroma_server else []) + ([f"--limit {limit}"] if limit else [])
                       + [f"--max-sections {max_sections} --section-chars {section_chars}"
                          f" --project-every {project_every}"])
    opts = CorpusOptions(max_sections, section_chars, project_every)
    report = run_bench(settings, size_list, conc, chroma_server=chroma_server, seed=seed, limit=limit,
                       opts=opts, command=command)
    print_tables(report)
    j, md = write_report(report, out or settings.var_path / "bench")
    log(f"wrote {j} and {md}")
    return 0
