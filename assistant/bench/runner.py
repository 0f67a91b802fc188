"""Measure one corpus: model load, index builds, warm ask latency, throughput, naive, server, RSS.

:func:`run_size` works on a corpus already written under ``spec.root`` (see
:mod:`assistant.bench.corpus`) with its own index there; the repository's corpus and index are
never touched. Pass ``embedder`` (e.g. ``tests.fakes.FakeEmbeddings``) to skip the real model.
"""

from __future__ import annotations

import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.bench.corpus import SYNTH_PREFIX
from assistant.bench.measure import LatencyStats, Timer, load_average, peak_rss_mb, rss_mb
from assistant.bench.report import ROUTES, BuildPhase, EmbedRate, Pipeline, SizeResult, Throughput
from assistant.config import Settings

WARM_UP_QUESTIONS = ("ウォームアップ用の質問です。", "事業の概要は？")
EMBED_GRID = ((1, 8), (1, 16), (2, 8), (2, 16), (2, 32))  # (torch threads, batch size)


@dataclass
class SizeSpec:
    """What to measure for one corpus (JSON-serializable: handed to a worker process)."""

    label: str
    root: str  # corpus root written by generate_corpus
    documents: int
    synthetic: int = 0
    project_rows: int = 0
    chars: int = 0
    qa_file: str = ""
    concurrency: list[int] = field(default_factory=lambda: [1, 4, 8])
    chroma_url: str | None = None
    chroma_pid: int | None = None
    embedding_grid: bool = True
    limit: int | None = None
    progress: bool = False


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def workload(qa_file: str, limit: int | None = None) -> list[tuple[str, list[str]]]:
    """(question, history) of every item of the QA file (the first ``limit``)."""
    from assistant.evaluate.qa import load_qa

    items = load_qa(Path(qa_file))[:limit] if limit else load_qa(Path(qa_file))
    return [(i.question, list(i.history)) for i in items]


def _clear_query_cache(embedder: Any) -> None:
    clear = getattr(embedder, "clear_query_cache", None)
    if clear is not None:
        clear()


def _ask_one(asker: Any, item: tuple[str, list[str]]) -> tuple[str, float]:
    t = time.perf_counter()
    try:
        route = str(asker.ask(item[0], item[1]).route)
    except Exception as e:  # noqa: BLE001 - a benchmark records failures instead of stopping
        log(f"ask failed ({type(e).__name__}: {e}): {item[0][:40]}")
        route = "exception"
    return route, (time.perf_counter() - t) * 1000


def ask_pass(asker: Any, items: list[tuple[str, list[str]]], askers: int = 1,
             embedder: Any = None) -> tuple[list[tuple[str, float]], float]:
    """Ask every item (``askers`` threads sharing ``asker``); ((route, ms) per item, wall seconds)."""
    _clear_query_cache(embedder)  # measure uncached query embeddings
    t = time.perf_counter()
    if askers <= 1:
        out = [_ask_one(asker, it) for it in items]
    else:
        with ThreadPoolExecutor(max_workers=askers) as pool:
            out = list(pool.map(lambda it: _ask_one(asker, it), items))
    return out, time.perf_counter() - t


def by_route(results: list[tuple[str, float]], routes: bool = True) -> dict[str, LatencyStats]:
    groups: dict[str, list[float]] = {}
    for route, ms in results:
        if routes:
            groups.setdefault(ROUTES.get(route, route), []).append(ms)
    order = [*ROUTES.values(), "exception"]
    out = {r: LatencyStats.of(groups[r]) for r in order if r in groups}
    out["all"] = LatencyStats.of([ms for _, ms in results])
    return out


def _build(settings: Settings, embedder: Any, progress: bool = False) -> BuildPhase:
    from assistant.index import build_index

    with Timer() as t:
        r = build_index(settings, embedder, progress=progress)
    return BuildPhase(round(t.s, 2), r.mode, r.embedded, r.chunks)


def _touch_one_document(settings: Settings) -> str:
    docs = sorted(settings.documents_path.glob(f"{SYNTH_PREFIX}*.md")) or sorted(settings.documents_path.glob("*.md"))
    p = docs[-1]
    p.write_text(p.read_text(encoding="utf-8") + "\n## 追記\n\nベンチマーク用の追記です。\n", encoding="utf-8")
    return p.name


def _pipeline(name: str, asker: Any, warm_up_s: float, items: list[tuple[str, list[str]]], embedder: Any,
              concurrency: list[int], routes: bool = True) -> Pipeline:
    for q in WARM_UP_QUESTIONS:
        asker.ask(q, [])
    results, _ = ask_pass(asker, items, 1, embedder)
    p = Pipeline(name, round(warm_up_s, 2), by_route(results, routes))
    for n in concurrency:
        res, wall = ask_pass(asker, items, n, embedder)
        p.throughput.append(Throughput(n, len(res), round(wall, 2), round(len(res) / wall, 2) if wall else 0.0,
                                       LatencyStats.of([ms for _, ms in res])))
        log(f"  {name}: {n} askers {p.throughput[-1].qps} q/s")
    return p


def embedding_rates(embedder: Any, passages: list[str], queries: list[str]) -> list[EmbedRate]:
    """Passage chunks/s and ms per (uncached) query for each (threads, batch) of ``EMBED_GRID``."""
    saved = {k: getattr(embedder, k, None) for k in ("threads", "query_threads", "batch_size")}
    out = []
    try:
        for threads, batch in EMBED_GRID:
            embedder.threads = embedder.query_threads = threads
            embedder.batch_size = batch
            with Timer() as t:
                embedder.embed_documents(passages)
            embed_q = getattr(embedder, "embed_queries", None)
            with Timer() as tq:
                for q in queries:
                    embed_q([q]) if embed_q else embedder.embed_query(q)
            out.append(EmbedRate(threads, batch, round(len(passages) / t.s, 1) if t.s else 0.0,
                                 round(tq.s / max(1, len(queries)) * 1000, 1)))
            log(f"  embedding threads={threads} batch={batch}: {out[-1].chunks_per_s} chunks/s, "
                f"{out[-1].ms_per_query} ms/query")
    finally:
        for k, v in saved.items():
            if v is not None:
                setattr(embedder, k, v)
    return out


def run_size(spec: SizeSpec, base: Settings, embedder: Any = None) -> SizeResult:
    """All measurements for the corpus of ``spec`` (see the module docstring)."""
    from assistant.answer.naive import NaiveAssistant
    from assistant.answer.pipeline import Assistant
    from assistant.bench.corpus import corpus_settings
    from assistant.index import clear_cache, load_index

    t_start = time.perf_counter()
    settings = corpus_settings(base, Path(spec.root))
    items = workload(spec.qa_file, spec.limit)
    load_start = load_average()
    rss: dict[str, float] = {}
    notes: list[str] = []
    load_s = {"imports": 0.0, "model": 0.0}
    real_model = embedder is None
    if real_model:
        with Timer() as ti:
            import sentence_transformers  # noqa: F401
            import torch  # noqa: F401
        from assistant.embeddings import get_embedder

        with Timer() as tm:
            embedder = get_embedder(settings)
            embedder.embed_query("モデル読み込み")
        load_s = {"imports": round(ti.s, 2), "model": round(tm.s, 2)}
    rss["after_load"] = rss_mb()
    log(f"{spec.label}: model load {load_s}; building the index of {spec.documents} documents")

    build = {"cold": _build(settings, embedder, spec.progress)}
    log(f"{spec.label}: cold build {build['cold']}")
    build["noop"] = _build(settings, None if real_model else embedder)  # None: the model is not needed
    touched = _touch_one_document(settings)
    build["one_changed"] = _build(settings, embedder)
    log(f"{spec.label}: no-op {build['noop'].seconds}s, one changed ({touched}) {build['one_changed'].seconds}s")
    rss["after_build"] = rss_mb()
    clear_cache()
    handle = load_index(settings, embedder)
    chunks, record_chunks = len(handle), sum(1 for c in handle.chunks if c.meta.get("origin") == "records")

    with Timer() as tw:
        assistant = Assistant(settings, embedder=embedder)
        assistant.warm_up()
    pipelines = [_pipeline("default", assistant, tw.s, items, embedder, spec.concurrency)]
    with Timer() as tw:
        naive = NaiveAssistant(settings, embedder=embedder)
    pipelines.append(_pipeline("naive", naive, tw.s, items, embedder, [], routes=False))
    rss["after_asks"] = rss_mb()

    embedding: list[EmbedRate] = []
    if spec.embedding_grid:
        docs = [c.text for c in handle.chunks if c.meta.get("kind") == "document"][:64]
        embedding = embedding_rates(embedder, docs, [q for q, _ in items[:8]])

    if spec.chroma_url:
        pipelines.append(_server_pipeline(spec, settings, embedder, items))
        if spec.chroma_pid:
            rss["chroma_server"] = rss_mb(spec.chroma_pid)
    rss["peak"] = peak_rss_mb()
    if not real_model:
        notes.append(f"embedder: {type(embedder).__name__} (not the real model)")
    return SizeResult(spec.label, spec.documents, spec.synthetic, spec.project_rows, spec.chars, chunks,
                      record_chunks, load_s, build, pipelines, embedding, rss,
                      {"start": load_start, "end": load_average()}, round(time.perf_counter() - t_start, 1), notes)


def _server_pipeline(spec: SizeSpec, settings: Settings, embedder: Any,
                     items: list[tuple[str, list[str]]]) -> Pipeline:
    """The default pipeline over a Chroma server: the local index is copied and pushed (no re-embedding)."""
    from assistant.answer.pipeline import Assistant

    shutil.copytree(settings.index_path, Path(spec.root) / "index-server")
    server = settings.model_copy(update={"index_dir": Path("index-server"), "chroma_url": spec.chroma_url})
    phase = _build(server, embedder)
    log(f"{spec.label}: server build {phase}")
    with Timer() as tw:
        assistant = Assistant(server, embedder=embedder)
        assistant.warm_up()
    p = _pipeline("default (chroma server)", assistant, tw.s, items, embedder, spec.concurrency[-1:])
    p.build = phase
    return p
