"""The version layout at scale (``store`` format 2), asserted on files, counters and calls: a
one-document change hard-links the previous base files and writes only the delta, the result
equals a build from scratch, a format-1 index is still read (and reused without re-embedding),
the folder listing equals ``corpus_files``, the numpy BM25 equals bm25s' own."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import pytest

import assistant.index.build as build
from assistant.index import build_index, clear_cache, load_index, store
from assistant.index.bm25 import BM25Index
from assistant.index.scan import list_files
from assistant.ingest.loaders import corpus_files
from tests.fakes import FakeEmbeddings

BETA = "corpus/documents/beta.md"


def _change_beta(root: Path, old: str = "山間部を巡回する", new: str = "山間部を毎週巡回する") -> None:
    doc = root / BETA
    doc.write_text(doc.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def _inode(p: Path) -> int:
    return p.stat().st_ino


def _bm25_scores(h, words: list[str]) -> dict[str, list[float]]:
    out = {}
    for w in words:
        s = h.bm25.scores([w])
        out[w] = [] if s is None else s.tolist()
    return out


@pytest.fixture
def linking(monkeypatch):
    """Reuse the base even when the change is a large part of the tiny test corpus."""
    monkeypatch.setattr(store, "COMPACT_FRACTION", 1.0)


def test_one_change_links_the_base_and_writes_only_the_delta(corpus, linking, monkeypatch):
    root, s = corpus
    emb = FakeEmbeddings()
    first = build_index(s, emb, progress=False)
    v1 = s.index_path / first.version
    m1 = json.loads((v1 / store.MANIFEST).read_text(encoding="utf-8"))
    assert m1["format"] == store.FORMAT_VERSION and m1["parts"] == {"base": first.chunks, "delta": 0}
    old_chunks = store.read_chunks(v1)[0]
    _change_beta(root)

    skipped: list[set[Path]] = []
    real_fsync = store.fsync_tree

    def spy(path: Path, skip=()):
        skipped.append(set(skip))
        real_fsync(path, skip)

    monkeypatch.setattr(build.store, "fsync_tree", spy)
    r = build_index(s, emb, progress=False)
    v2 = s.index_path / r.version
    for name in store.BASE_FILES:  # the same files, not copies
        assert _inode(v2 / name) == _inode(v1 / name) and (v2 / name).stat().st_nlink == 2
    assert skipped == [{v2 / name for name in store.BASE_FILES}]  # flushed with the first version
    chunks, tokens = store.read_chunks(v2)
    fresh = [c for c in chunks if c not in old_chunks]  # new text, or the same text at another offset
    m2 = json.loads((v2 / store.MANIFEST).read_text(encoding="utf-8"))
    assert fresh and m2["parts"] == {"base": first.chunks, "delta": len(fresh)}
    assert [json.loads(line)["id"] for line in (v2 / store.DELTA_CHUNKS).read_text(encoding="utf-8").splitlines()] \
        == [c.id for c in fresh]

    # Identical to a build from scratch: chunks, order, tokens, vectors, BM25 scores.
    clear_cache()
    h = load_index(s, emb)
    words = sorted({w for tk in tokens for w in tk})
    incremental = ([c.id for c in h.chunks], _bm25_scores(h, words))
    vectors = store.read_vectors(v2, len(chunks))
    full = build_index(s, emb, rebuild=True, progress=False)
    v3 = s.index_path / full.version
    assert json.loads((v3 / store.MANIFEST).read_text(encoding="utf-8"))["parts"]["delta"] == 0
    assert store.read_chunks(v3) == (chunks, tokens)
    np.testing.assert_array_equal(store.read_vectors(v3, len(chunks)), vectors)
    clear_cache()
    h = load_index(s, emb)
    assert ([c.id for c in h.chunks], _bm25_scores(h, words)) == incremental


def test_a_large_change_writes_a_new_base(corpus, monkeypatch):
    root, s = corpus
    emb = FakeEmbeddings()
    monkeypatch.setattr(store, "COMPACT_FRACTION", 0.0)
    first = build_index(s, emb, progress=False)
    _change_beta(root)
    r = build_index(s, emb, progress=False)
    v1, v2 = s.index_path / first.version, s.index_path / r.version
    assert _inode(v2 / store.CHUNKS) != _inode(v1 / store.CHUNKS)
    assert json.loads((v2 / store.MANIFEST).read_text(encoding="utf-8"))["parts"] == {"base": r.chunks, "delta": 0}


def test_the_old_version_keeps_its_files_when_the_new_one_is_removed(corpus, linking):
    root, s = corpus
    emb = FakeEmbeddings()
    first = build_index(s, emb, progress=False)
    before = store.read_chunks(s.index_path / first.version)
    _change_beta(root)
    r = build_index(s, emb, progress=False)
    store.remove_versions(s.index_path, keep={first.version})  # e.g. a rollback
    assert not (s.index_path / r.version).exists()
    assert store.read_chunks(s.index_path / first.version) == before


def test_a_second_build_in_the_process_reads_the_previous_version_from_memory(corpus, linking):
    root, s = corpus
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    hits = store.cached_reads()
    _change_beta(root)
    build_index(s, emb, progress=False)
    assert store.cached_reads() == hits + 1
    _change_beta(root, "山間部を毎週巡回する", "山間部を毎日巡回する")
    r = build_index(s, emb, progress=False)
    assert store.cached_reads() == hits + 2 and r.mode == "incremental"
    clear_cache()
    assert any("毎日巡回" in c.text for c in load_index(s, emb).chunks)


def test_a_changed_file_is_not_taken_from_memory(corpus, linking, capsys):
    root, s = corpus
    emb = FakeEmbeddings()
    r = build_index(s, emb, progress=False)
    hits = store.cached_reads()
    (s.index_path / r.version / store.VECTORS).write_bytes(b"\x93NUMPY garbage")
    _change_beta(root)
    r2 = build_index(s, emb, progress=False)
    assert store.cached_reads() == hits and r2.mode == "full" and "rebuilding from scratch" in capsys.readouterr().err


def _to_format_1(vdir: Path) -> None:
    """Rewrite a version in the layout of format 1 (one chunks.jsonl with tokens, vectors.npy)."""
    manifest = store.read_manifest(vdir)
    chunks, tokens = store.read_chunks(vdir)
    vectors = store.read_vectors(vdir, len(chunks))
    for name in store.STORED_FILES:
        (vdir / name).unlink()
    store.write_chunks(vdir, chunks, tokens)
    store.write_vectors(vdir, vectors)
    manifest = {k: v for k, v in manifest.items() if k != "parts"}
    store.write_json(vdir / store.MANIFEST, {**manifest, "format": 1})


def test_a_format_1_index_is_served_and_updated_without_re_embedding(corpus):
    root, s = corpus
    emb = FakeEmbeddings()
    first = build_index(s, emb, progress=False)
    v1 = s.index_path / first.version
    clear_cache()
    served = [c.id for c in load_index(s, emb).chunks]
    _to_format_1(v1)
    clear_cache()
    assert [c.id for c in load_index(s, emb).chunks] == served
    assert build_index(s, emb, progress=False).mode == "noop"
    old_ids = set(served)
    _change_beta(root)
    emb.calls.clear()
    r = build_index(s, emb, progress=False)
    chunks, _ = store.read_chunks(s.index_path / r.version)
    assert r.mode == "incremental" and r.embedded == sum(emb.calls) == len({c.id for c in chunks} - old_ids)
    assert store.read_manifest(s.index_path / r.version)["format"] == store.FORMAT_VERSION


def test_an_unknown_format_asks_for_a_rebuild(corpus):
    _, s = corpus
    emb = FakeEmbeddings()
    r = build_index(s, emb, progress=False)
    vdir = s.index_path / r.version
    manifest = store.read_manifest(vdir)
    store.write_json(vdir / store.MANIFEST, {**manifest, "format": 99})
    clear_cache()
    with pytest.raises(store.IndexCorrupted, match="assistant index --rebuild"):
        load_index(s, emb)
    assert build_index(s, emb, progress=False).mode == "full"


def test_a_damaged_delta_or_order_asks_for_a_rebuild(corpus, linking):
    root, s = corpus
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    _change_beta(root)
    r = build_index(s, emb, progress=False)
    vdir = s.index_path / r.version
    (vdir / store.ORDER).write_bytes(b"\x93NUMPY garbage")
    clear_cache()
    with pytest.raises(store.IndexCorrupted, match="assistant index --rebuild"):
        load_index(s, emb)


def test_list_files_equals_corpus_files(tmp_path):
    d = tmp_path / "docs"
    for rel in ["a.md", "a-b.md", "a/b.md", "a/c/d.txt", "B.md", "README.md", "sub/readme.MD", ".hidden.md",
                ".git/x.md", "sub/.cache/y.md", "sub/z.pdf", "a b/c.md"]:
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(rel, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "linked.md").write_text("x", encoding="utf-8")
    os.symlink(outside / "linked.md", d / "link.md")
    os.symlink(outside, d / "linked-dir")
    os.symlink(tmp_path / "missing.md", d / "dangling.md")
    got = list_files(d)
    assert [p for p, _, _ in got] == corpus_files(d)
    assert [(p.name, link) for p, _, link in got if link] == [("link.md", True)]
    assert all(st.st_size == p.stat().st_size for p, st, _ in got)
    assert list_files(tmp_path / "absent") == []


def test_numpy_bm25_equals_bm25s():
    rng = random.Random(7)
    words = [f"語{i}" for i in range(60)]
    tokens = [[rng.choice(words[: rng.randint(1, 60)]) for _ in range(rng.randint(0, 40))] for _ in range(200)]
    tokens[3] = []
    a, b = BM25Index.build(tokens), BM25Index.from_ids(store.TokenIds.from_lists(tokens))
    assert a.model.vocab_dict.keys() == b.model.vocab_dict.keys()
    for w in words + ["無い語"]:
        sa, sb = a.scores([w]), b.scores([w])
        assert (sa is None) == (sb is None)
        if sa is not None:
            np.testing.assert_array_equal(sa, sb)
    assert a.top(["語1", "語5", "語30"], 10) == b.top(["語1", "語5", "語30"], 10)
    assert BM25Index.from_ids(store.TokenIds.from_lists([])).model is None


def test_token_ids_take_and_concat():
    t1 = store.TokenIds.from_lists([["a", "b"], [], ["b", "c", "c"]])
    t2 = store.TokenIds.from_lists([["d"], ["a"]])
    both = store.TokenIds.concat([t1, t2])
    assert both.lists() == [["a", "b"], [], ["b", "c", "c"], ["d"], ["a"]]
    assert both.take([4, 2, 1]).lists() == [["a"], ["b", "c", "c"], []]
    assert both.take([4, 2]).compact().lists() == [["a"], ["b", "c", "c"]]
    assert both.take([4, 2]).compact().vocab == ["a", "b", "c"]


def test_load_index_opens_chroma_on_the_first_dense_query(corpus, monkeypatch):
    import assistant.index.chroma as chroma_mod
    from assistant.retrieve import HybridRetriever, dense_ranking

    _, s = corpus
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    clear_cache()
    opened: list[Path] = []
    real = chroma_mod.make_client
    monkeypatch.setattr(chroma_mod, "make_client", lambda st, d: opened.append(d) or real(st, d))
    h = load_index(s, emb)
    r = HybridRetriever(settings=s, embedder=emb)
    assert r.handle is h and h.bm25.top(["除雪"], 3) and not h.dense_opened and opened == []
    assert dense_ranking(h, "除雪", 3) and h.dense_opens == 1 and len(opened) == 1
    assert r.search("GPS除雪管理システム")[0].chunk.source == "corpus/documents/alpha.md"
    assert h.dense_opens == 1 and h.collection.count() == len(h)  # opened once


def test_a_damaged_collection_is_reported_on_the_first_dense_query(corpus, monkeypatch):
    import assistant.index.chroma as chroma_mod

    _, s = corpus
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    clear_cache()

    def broken(client, name, embedder):
        raise ValueError("segment files missing")

    monkeypatch.setattr(chroma_mod, "get_collection", broken)
    h = load_index(s, emb)
    with pytest.raises(store.IndexCorrupted, match="assistant index --rebuild"):
        _ = h.collection


def _meta_reference(chunks):
    """``MetaIndex`` as it was written before the per-value memo (the meaning of the lists)."""
    from collections import defaultdict

    from assistant.index.filters import _META_KEYS, FIELDS, _keys, _values

    lists = {f: defaultdict(list) for f in FIELDS}
    for i, c in enumerate(chunks):
        lists["source"][c.source].append(i)
        for f, meta_keys in _META_KEYS.items():
            seen = set()
            for mk in meta_keys:
                for v in _values(c.meta.get(mk)):
                    for key in _keys(f, v):
                        if key not in seen:
                            seen.add(key)
                            lists[f][key].append(i)
    return {f: {k: list(v) for k, v in d.items()} for f, d in lists.items()}


def test_meta_index_lists_equal_the_plain_count():
    from assistant.index.filters import MetaIndex
    from assistant.types import Chunk

    metas = [{"fiscal_year": "R4", "fiscal_years": [2022, "令和5年度"], "prefecture": "大阪府"},
             {"prefectures": ["大阪", "京都府", "北海道"], "technology": "AI、IoT|5G", "kind": "row"},
             {"fiscal_year": True, "selection_fy": 2021.0, "municipality": ["札幌市", None, ""]},
             {"program": "スマートシティ", "program_id": "P1", "ministry": "国交省"},
             {"prefecture": "大阪府", "prefectures": ["大阪府"], "technologies": ("AI", "ドローン")}, {}]
    chunks = [Chunk(f"c{i}", "d", f"corpus/documents/{i % 2}.md", "本文", str(i), m) for i, m in enumerate(metas * 3)]
    got = MetaIndex(chunks)
    assert {f: {k: v.tolist() for k, v in d.items()} for f, d in got.lists.items()} == _meta_reference(chunks)
