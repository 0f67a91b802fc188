"""Incremental index at scale: one changed document and a warm start, at N documents.

    .venv/bin/python -m assistant.bench.incremental [--docs 10000] [--runs 5] [--work DIR]
                                                    [--embedder hash|real] [--json FILE]

Writes the synthetic corpus of :mod:`assistant.bench.corpus` (``--work`` keeps it and its index
between calls), builds the index once (cold), then ``--runs`` times appends a paragraph to a
different synthetic document and times ``build_index`` (the embedder already loaded and the
index served by the same process, as in the UI or ``assistant bench``: the first run reads the
previous version from disk, the later ones find it in memory, ``store.read_stored``), and ``--runs`` times starts a fresh process that loads the served
index and warms the answerer up (``warm`` below). Prints every run and the medians as JSON.

``--embedder hash`` (default) is a deterministic 384-dimension hash embedder (the real model's
dimension; no model load, no torch): the real model would take ~7 minutes on 2 cores just to
embed the cold build, and it does not take part in a one-document change beyond the few chunks
of that document (0.05–0.08 s each on 2 cores, eval/BENCHMARKS.md). ``--embedder real`` uses the
configured model.

``python -m assistant.bench.incremental warm ROOT [--embedder ...] [--dense]``: one warm start, printed as
JSON: ``load_index`` (chunks, BM25, metadata filters, Chroma), ``warm_up`` (``Assistant.warm_up``:
records engine, retriever, the extractor's content-word statistics, rewriter) and
``warm_up_stored_stats`` (the same with the extractor's document frequencies read from the index,
``IndexHandle.term_stats``), with ``--dense`` ``first_dense_query`` (one ``dense_ranking`` after the
warm-up: it opens Chroma, which ``load_index`` no longer does), with the peak RSS of that process.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.bench.corpus import SYNTH_PREFIX, corpus_settings, generate_corpus
from assistant.bench.measure import peak_rss_mb
from assistant.config import Settings


class HashEmbeddings:
    """Deterministic unit vectors from a hash of the text (a benchmark stand-in for the model)."""

    model_id = "bench-hash-384"
    checksum = "bench-hash"
    passage_prefix = ""

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    def _vec(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
        v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return (v / float(np.linalg.norm(v))).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]


def make_embedder(kind: str, settings: Settings) -> Any:
    if kind == "real":
        from assistant.embeddings import get_embedder

        emb = get_embedder(settings)
        emb.embed_query("モデル読み込み")
        return emb
    return HashEmbeddings()


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3) if xs else 0.0


def _report_fields(r: Any) -> dict[str, Any]:
    keys = ("mode", "embedded", "chunks", "hashed", "chroma", "chroma_added", "chroma_deleted",
            "term_stats_tokenized")
    return {k: getattr(r, k) for k in keys if hasattr(r, k)} | {
        "timings": {k: round(v, 3) for k, v in r.timings.items()}}


def change_one(settings: Settings, embedder: Any, run: int) -> dict[str, Any]:
    """Append a paragraph to one synthetic document (a different one each run) and rebuild."""
    from assistant.index import build_index

    docs = sorted(settings.documents_path.glob(f"{SYNTH_PREFIX}*.md"))
    p = docs[-1 - run % len(docs)]
    p.write_text(p.read_text(encoding="utf-8") + f"\n## 追記{run}\n\nベンチマーク用の追記です（{run}）。\n",
                 encoding="utf-8")
    t = time.perf_counter()
    r = build_index(settings, embedder, progress=False)
    return {"document": p.name, "seconds": round(time.perf_counter() - t, 3), **_report_fields(r)}


def warm(root: Path, kind: str, dense: bool = False) -> dict[str, Any]:
    """One warm start in this process (see the module docstring); ``dense``: then one dense query."""
    from assistant.answer.extractive import Extractor
    from assistant.answer.pipeline import Assistant
    from assistant.index import clear_cache, load_index
    from assistant.tokenize import content_terms, morphemes

    settings = corpus_settings(Settings(), root)
    embedder = make_embedder(kind, settings)
    out: dict[str, Any] = {}
    t = time.perf_counter()
    handle = load_index(settings, embedder)
    out["load_index"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    Assistant(settings, embedder=embedder).warm_up()
    out["warm_up"] = round(time.perf_counter() - t, 3)
    if dense and hasattr(handle, "dense_opened"):  # Chroma is opened by the first dense query, not by load_index
        from assistant.retrieve import dense_ranking

        out["chroma_opened_by_load"] = handle.dense_opened
        t = time.perf_counter()
        dense_ranking(handle, "スマートシティの取組", 5)
        out["first_dense_query"] = round(time.perf_counter() - t, 3)
    if hasattr(handle, "term_stats"):  # an index without stored statistics (older code) skips this
        clear_cache()
        t = time.perf_counter()
        handle = load_index(settings, embedder)
        a = Assistant(settings, embedder=embedder)
        stats = handle.term_stats()  # what the pipeline's extractor would read instead of tokenizing
        a.__dict__["extractor"] = Extractor(content_terms, stats.get, len(handle), settings.abstain_threshold,
                                            morphemes=morphemes)
        a.warm_up()
        out["load_index_and_warm_up_stored_stats"] = round(time.perf_counter() - t, 3)
        out["term_stats_tokenized"] = stats.tokenized
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _warm_subprocess(root: Path, kind: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "assistant.bench.incremental", "warm", str(root),
                           "--embedder", kind, "--dense"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"warm start failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def run(docs: int, runs: int, work: Path, kind: str) -> dict[str, Any]:
    from assistant.index import build_index

    base = Settings()
    settings = corpus_settings(base, work)
    if not settings.documents_path.is_dir():
        t = time.perf_counter()
        generate_corpus(base, work, docs)
        print(f"[bench] corpus of {docs} documents written in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    embedder = make_embedder(kind, settings)
    t = time.perf_counter()
    first = build_index(settings, embedder, progress=False)
    first_s = round(time.perf_counter() - t, 3)
    print(f"[bench] first build ({first.mode}) {first_s}s", file=sys.stderr)
    from assistant.index import load_index

    handle = load_index(settings, embedder)  # the builds below run in a serving process, as the UI's
    if hasattr(handle, "open_dense"):
        handle.open_dense()  # … that has answered a question (Chroma imported and open)
    changes = []
    for i in range(runs):
        changes.append(change_one(settings, embedder, i))
        print(f"[bench] one changed: {changes[-1]}", file=sys.stderr)
    warms = []
    for _ in range(runs):
        warms.append(_warm_subprocess(work, kind))
        print(f"[bench] warm start: {warms[-1]}", file=sys.stderr)
    return {
        "documents": docs, "embedder": kind, "chunks": first.chunks, "first_build": {"seconds": first_s,
                                                                                  **_report_fields(first)},
        "one_changed": changes, "warm": warms, "build_peak_rss_mb": peak_rss_mb(),
        "median": {
            "one_changed_s": _median([c["seconds"] for c in changes]),
            **{f"warm_{k}_s": _median([w[k] for w in warms if k in w])
               for k in ("load_index", "warm_up", "load_index_and_warm_up_stored_stats", "first_dense_query")},
            "warm_load_index_plus_warm_up_s": _median([w["load_index"] + w["warm_up"] for w in warms]),
            "warm_peak_rss_mb": _median([w["peak_rss_mb"] for w in warms]),
        },
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["warm"]:
        ap = argparse.ArgumentParser(prog="assistant.bench.incremental warm")
        ap.add_argument("root", type=Path)
        ap.add_argument("--embedder", choices=("hash", "real"), default="hash")
        ap.add_argument("--dense", action="store_true", help="then time one dense query (opens Chroma)")
        a = ap.parse_args(argv[1:])
        print(json.dumps(warm(a.root, a.embedder, a.dense)))
        return 0
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", type=Path, default=None, help="corpus and index folder (kept); default: a temporary one")
    ap.add_argument("--embedder", choices=("hash", "real"), default="hash")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    if a.work is None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
            out = run(a.docs, a.runs, Path(tmp), a.embedder)
    else:
        out = run(a.docs, a.runs, a.work, a.embedder)
    text = json.dumps(out, ensure_ascii=False, indent=1)
    print(text)
    if a.json:
        a.json.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
