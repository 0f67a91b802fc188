"""The index build's three steps on their own: plan (read-only) → embed (only new chunks) → write."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.index import build_index, load_index, store
from assistant.index.build import embed, embedding_identity, plan, write
from tests.fakes import FakeEmbeddings, RecordingEmbeddings

BETA = "corpus/documents/beta.md"



def _ident(settings, emb=None):
    return embedding_identity(emb or FakeEmbeddings(), settings)


def _tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_first_plan_reads_only_and_wants_every_chunk(corpus):
    root, s = corpus
    before = _tree(s.index_path)
    p = plan(s, _ident(s))
    assert _tree(s.index_path) == before  # nothing written
    assert p.mode == "full" and p.reason == "first build" and p.previous is None
    assert p.added == ["corpus/documents/alpha.md", BETA, "corpus/documents/gamma.txt"] and p.documents == 3
    assert p.to_embed == list(range(len(p.chunks))) and len(p.chunks) == len(p.tokens) > 0
    assert all(p.tokens) and p.files[BETA]["kind"] == "documents" and p.files[BETA]["chunks"] > 0


def test_changed_document_plans_and_embeds_only_its_new_chunks(corpus):
    root, s = corpus
    build_index(s, FakeEmbeddings(), progress=False)
    doc = root / BETA
    doc.write_text(doc.read_text(encoding="utf-8").replace("山間部を巡回する", "山間部を毎週巡回する"), encoding="utf-8")

    p = plan(s, _ident(s))
    assert p.mode == "incremental" and p.changed == [BETA] and p.added == p.removed == []
    new = [p.chunks[i] for i in p.to_embed]
    assert new and {c.source for c in new} == {BETA} and len(new) < len(p.chunks)

    emb = RecordingEmbeddings()
    vectors = embed(p, emb, batch_size=2)
    assert sorted(emb.texts) == sorted(c.text for c in new)  # nothing else embedded
    assert vectors.shape == (len(p.chunks), emb.dim)
    prev_row = {c.id: i for i, c in enumerate(p.previous.chunks)}
    reused = [i for i in range(len(p.chunks)) if i not in p.to_embed]
    assert reused and all(np.array_equal(vectors[i], p.previous.vectors[prev_row[p.chunks[i].id]]) for i in reused)
    fresh = np.asarray(FakeEmbeddings().embed_documents([c.text for c in new]), dtype=np.float32)
    np.testing.assert_allclose(vectors[p.to_embed], fresh)


def test_unchanged_corpus_is_a_noop_plan_and_another_model_a_full_one(corpus):
    _, s = corpus
    first = build_index(s, FakeEmbeddings(), progress=False)
    p = plan(s, _ident(s))
    assert p.mode == "noop" and p.previous.version == first.version and p.to_embed == []
    other = FakeEmbeddings()
    other.model_id = "another-model"
    p = plan(s, _ident(s, other))
    assert p.mode == "full" and p.previous is None and p.reason == "embedding model, chunker or settings changed"
    assert p.notes[0] == "embedding model, chunker or settings changed: rebuilding everything"
    assert p.to_embed == list(range(len(p.chunks)))
    assert plan(s, _ident(s), rebuild=True).reason == "rebuild requested"


def test_empty_corpus_cannot_be_planned(tmp_path):
    from tests.index_fixtures import settings_for

    s = settings_for(tmp_path)
    with pytest.raises(store.IndexMissing, match="nothing to index"):
        plan(s, _ident(s))


def test_write_serves_the_given_vectors_and_swaps(corpus):
    _, s = corpus
    emb = FakeEmbeddings()
    p = plan(s, _ident(s, emb))
    vectors = embed(p, emb)
    version = write(p, vectors, s, emb)
    assert store.current_version(s.index_path) == version
    manifest = json.loads((s.index_path / version / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dim"] == emb.dim and manifest["counts"]["chunks"] == len(p.chunks)
    assert manifest["compat"] == p.compat and manifest["files"] == p.files
    h = load_index(s, emb)
    assert [c.id for c in h.chunks] == [c.id for c in p.chunks]
    np.testing.assert_allclose(store.read_vectors(s.index_path / version, len(p.chunks)), vectors)


def test_failed_write_keeps_the_served_version(corpus, monkeypatch):
    import assistant.index.build as build

    _, s = corpus
    emb = FakeEmbeddings()
    served = build_index(s, emb, progress=False).version
    p = plan(s, _ident(s, emb), rebuild=True)

    def broken(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build.chroma_mod, "add_chunks", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write(p, embed(p, emb), s, emb)
    assert store.current_version(s.index_path) == served and store.versions(s.index_path) == [served]
