"""Incremental builds at scale, asserted on counters and calls (no timing): a one-document change
re-embeds and re-writes only that document's chunks (the Chroma collection is the previous one
plus the changes), unchanged files are not re-hashed, the old version answers until the swap, and
a warm start reads the content-word statistics instead of tokenizing every chunk."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import assistant.index.build as build
from assistant.index import build_index, clear_cache, load_index, store, term_stats
from assistant.index import chroma as chroma_mod
from assistant.retrieve import HybridRetriever
from tests.fakes import FakeEmbeddings, RecordingEmbeddings

BETA = "corpus/documents/beta.md"



def _age_corpus(root: Path, seconds: float = 3600) -> None:
    """Date every corpus file back (as files untouched since long before the build)."""
    past = time.time() - seconds
    for p in (root / "corpus").rglob("*"):
        if p.is_file():
            os.utime(p, (past, past))


def _chroma_ids(s, version: str, emb) -> set[str]:
    client = chroma_mod.make_client(s, s.index_path / version / store.CHROMA_DIR)
    try:
        col = chroma_mod.get_collection(client, s.collection, emb)
        return set(col.get(include=[])["ids"])
    finally:
        client.close()


def _change_beta(root: Path) -> None:
    doc = root / BETA
    doc.write_text(doc.read_text(encoding="utf-8").replace("山間部を巡回する", "山間部を毎週巡回する"), encoding="utf-8")


def test_one_changed_document_reembeds_and_rewrites_only_its_chunks(corpus, monkeypatch):
    root, s = corpus
    _age_corpus(root)
    emb = RecordingEmbeddings()
    first = build_index(s, emb, progress=False)
    assert first.chroma == "new" and first.chroma_added == first.chunks and first.hashed == 3
    old_chunks, _ = store.read_chunks(s.index_path / first.version)
    _change_beta(root)

    added: list[str] = []
    real_add = chroma_mod.add_chunks

    def spy(col, chunks, vectors, batch, progress=None):
        added.extend(c.id for c in chunks)
        real_add(col, chunks, vectors, batch, progress)

    monkeypatch.setattr(build.chroma_mod, "add_chunks", spy)
    emb.texts.clear()
    r = build_index(s, emb, progress=False)
    new_chunks, _ = store.read_chunks(s.index_path / r.version)
    old_ids, new_ids = {c.id for c in old_chunks}, {c.id for c in new_chunks}
    fresh, gone = new_ids - old_ids, old_ids - new_ids
    assert fresh and gone and {c.source for c in new_chunks if c.id in fresh} == {BETA}
    assert r.changed == [BETA] and r.hashed == 1  # the two unchanged files: hash from the manifest
    assert sorted(emb.texts) == sorted(c.text for c in new_chunks if c.id in fresh)
    assert r.chroma == "copied" and sorted(added) == sorted(fresh)
    assert (r.chroma_added, r.chroma_deleted) == (len(fresh), len(gone))
    assert _chroma_ids(s, r.version, emb) == new_ids
    assert _chroma_ids(s, first.version, emb) == old_ids  # the previous version's copy is untouched


def test_old_version_answers_until_the_swap(corpus, monkeypatch):
    root, s = corpus
    emb = FakeEmbeddings()
    old = build_index(s, emb, progress=False)
    retriever = HybridRetriever(settings=s, embedder=emb)
    assert "山間部を巡回する" in retriever.search("移動診療車 巡回", k=1)[0].chunk.text
    _change_beta(root)
    seen: list[str] = []
    real_set = store.set_current

    def check_then_swap(index_root: Path, version: str) -> None:
        # Everything of the new version is written (its Chroma copy changed); nothing is served yet.
        assert store.current_version(index_root) == old.version
        assert _chroma_ids(s, version, emb) != _chroma_ids(s, old.version, emb)
        seen.append(retriever.search("移動診療車 巡回", k=1)[0].chunk.text)
        real_set(index_root, version)

    monkeypatch.setattr(build.store, "set_current", check_then_swap)
    r = build_index(s, emb, progress=False)
    assert r.chroma == "copied" and seen and "山間部を巡回する" in seen[0]
    assert "山間部を毎週巡回する" in retriever.search("移動診療車 巡回", k=1)[0].chunk.text


def test_a_file_changed_in_the_scans_clock_tick_is_hashed_again(corpus):
    root, s = corpus
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)  # files written just now: "racily clean"
    doc = root / BETA
    st = doc.stat()
    text = doc.read_text(encoding="utf-8")
    doc.write_text(text.replace("伊那市では", "伊那町では"), encoding="utf-8")  # same size
    os.utime(doc, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert doc.stat().st_size == st.st_size
    r = build_index(s, emb, progress=False)
    assert r.mode == "incremental" and r.changed == [BETA]


def test_stored_term_statistics_equal_a_full_count_and_tokenize_only_the_changes(corpus):
    root, s = corpus
    emb = FakeEmbeddings()
    first = build_index(s, emb, progress=False)
    assert first.term_stats_tokenized == first.chunks
    old_chunks, _ = store.read_chunks(s.index_path / first.version)
    _change_beta(root)
    r = build_index(s, emb, progress=False)
    vdir = s.index_path / r.version
    chunks, _ = store.read_chunks(vdir)
    changed = len({c.id for c in chunks} ^ {c.id for c in old_chunks})
    assert 0 < r.term_stats_tokenized == changed < len(chunks)
    stored = term_stats.read(vdir, len(chunks))
    assert stored is not None and stored.df == term_stats.compute(chunks).df


def test_warm_start_reads_term_statistics_without_tokenizing(corpus, monkeypatch):
    _, s = corpus
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    clear_cache()

    def no_sudachi(text: str) -> list[str]:
        raise AssertionError("a warm start must not tokenize the chunks")

    monkeypatch.setattr(term_stats, "content_terms", no_sudachi)
    h = load_index(s, emb)
    stats = h.term_stats()
    assert stats.tokenized == 0 and stats.n_chunks == len(h) and stats.get("除雪") > 0


def test_version_without_stored_statistics_computes_them(corpus):
    _, s = corpus
    emb = FakeEmbeddings()
    r = build_index(s, emb, progress=False)
    (s.index_path / r.version / term_stats.TERM_DF).unlink()
    clear_cache()
    h = load_index(s, emb)
    assert h.term_stats().tokenized == len(h) and h.term_stats().df == term_stats.compute(h.chunks).df


def test_unusable_chroma_copy_falls_back_to_a_full_write(corpus, monkeypatch, capsys):
    import assistant.index.chroma_write as chroma_write

    root, s = corpus
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    _change_beta(root)

    def bad_copy(src, dst, *a, **k):
        Path(dst).mkdir(parents=True)  # an empty "copy": no collection in it

    monkeypatch.setattr(chroma_write.shutil, "copytree", bad_copy)
    r = build_index(s, emb, progress=False)
    assert r.chroma == "new" and r.chroma_added == r.chunks
    assert "could not reuse the previous Chroma collection" in capsys.readouterr().err
    clear_cache()
    assert len(load_index(s, emb)) == r.chunks


@pytest.mark.parametrize("rebuild", [True, False])
def test_rebuild_or_other_model_writes_a_new_collection(corpus, rebuild):
    _, s = corpus
    build_index(s, FakeEmbeddings(), progress=False)
    emb = FakeEmbeddings()
    if not rebuild:
        emb.model_id = "another-model"
    r = build_index(s, emb, rebuild=rebuild, progress=False)
    assert r.mode == "full" and r.chroma == "new" and r.hashed == 3
