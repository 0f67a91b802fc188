"""The incremental-index benchmark on a tiny corpus: what it reports (no timings asserted)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from assistant.bench import generate_corpus
from assistant.bench.incremental import HashEmbeddings, change_one, warm
from assistant.config import Settings
from assistant.index import build_index, clear_cache


def test_change_one_rebuilds_one_document_with_a_copied_collection(tmp_path: Path):
    clear_cache()
    corpus = generate_corpus(Settings(), tmp_path, 12)
    past = time.time() - 3600  # files older than the scan's "racily clean" window
    for p in (tmp_path / "corpus").rglob("*.*"):
        os.utime(p, (past, past))
    emb = HashEmbeddings()
    build_index(corpus.settings, emb, progress=False)
    runs = [change_one(corpus.settings, emb, i) for i in range(2)]
    assert [r["document"] for r in runs][0] != runs[1]["document"]
    # hashed: the changed document; in the second run also the first run's (changed just before
    # that build's scan, so inside its "racily clean" window)
    assert [r["hashed"] for r in runs] == [1, 2]
    for r in runs:
        assert r["mode"] == "incremental" and r["chroma"] == "copied"
        assert 1 <= r["embedded"] == r["chroma_added"] < r["chunks"]
        assert set(r["timings"]) == {"plan", "embed", "write"}
    clear_cache()


def test_warm_start_reports_its_phases_and_tokenizes_nothing(tmp_path: Path):
    clear_cache()
    corpus = generate_corpus(Settings(), tmp_path, 8)
    build_index(corpus.settings, HashEmbeddings(), progress=False)
    out = warm(tmp_path, "hash")
    assert set(out) == {"load_index", "warm_up", "load_index_and_warm_up_stored_stats", "term_stats_tokenized",
                        "peak_rss_mb"}
    assert out["term_stats_tokenized"] == 0 and out["peak_rss_mb"] > 0
    clear_cache()


def test_hash_embedder_is_deterministic_unit_length():
    e = HashEmbeddings(16)
    a, b = e.embed_documents(["同じ文", "別の文"])
    assert a == e.embed_query("同じ文") and a != b
    assert abs(sum(x * x for x in a) - 1.0) < 1e-5
