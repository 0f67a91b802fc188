"""Index build: incremental updates re-embed only what changed, no-op runs, rebuilds, corruption."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.errors import (
    IndexCorruptedError,
    IndexMissingError,
    ModelMissingError,
    ServiceUnavailableError,
)
from assistant.index import (
    IndexCorrupted,
    IndexMissing,
    build_index,
    clear_cache,
    index_command,
    load_index,
    store,
)
from assistant.retrieve import HybridRetriever
from tests.fakes import FakeEmbeddings
from tests.index_fixtures import settings_for


def _chunks_of(settings, source: str) -> list[str]:
    h = load_index(settings, FakeEmbeddings())
    return [c.id for c in h.chunks if c.source == source]


def test_first_build_then_noop(corpus, capsys):
    root, s = corpus
    emb = FakeEmbeddings()
    r1 = build_index(s, emb, progress=False)
    assert r1.mode == "full" and r1.documents == 3
    assert r1.embedded == r1.chunks == sum(emb.calls) > 0
    assert r1.added == ["corpus/documents/alpha.md", "corpus/documents/beta.md", "corpus/documents/gamma.txt"]
    manifest = json.loads((s.index_path / r1.version / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["compat"]["embedding"]["model_id"] == "fake-sha256-bigrams"
    assert manifest["compat"]["chunker_version"] and manifest["tokenizer"].startswith("sudachi-A-")
    assert set(manifest["files"]) == set(r1.added)
    assert len(manifest["files"]["corpus/documents/alpha.md"]["sha256"]) == 64

    emb.calls.clear()
    r2 = build_index(s, emb, progress=False)
    assert r2.mode == "noop" and r2.version == r1.version and emb.calls == []
    assert "up to date" in r2.summary()


def test_one_changed_document_reembeds_only_its_changed_chunks(corpus):
    root, s = corpus
    emb = FakeEmbeddings()
    r1 = build_index(s, emb, progress=False)
    before = {src: set(_chunks_of(s, src)) for src in r1.added}
    p = root / "corpus/documents/beta.md"
    p.write_text(p.read_text(encoding="utf-8").replace("山間部を巡回する", "山間部を毎週巡回する"), encoding="utf-8")

    emb.calls.clear()
    r2 = build_index(s, emb, progress=False)
    assert r2.mode == "incremental" and r2.changed == ["corpus/documents/beta.md"]
    assert r2.added == [] and r2.removed == []
    after = {src: set(_chunks_of(s, src)) for src in r1.added}
    new_ids = after["corpus/documents/beta.md"] - before["corpus/documents/beta.md"]
    assert len(new_ids) == 1  # only the edited section's chunk is new
    assert sum(emb.calls) == r2.embedded == 1
    assert r2.reused == r2.chunks - 1
    assert "re-embedded 1 chunks" in r2.summary() and "changed 1" in r2.summary()
    for src in ("corpus/documents/alpha.md", "corpus/documents/gamma.txt"):
        assert after[src] == before[src]
    hits = HybridRetriever(settings=s, embedder=emb).search("毎週巡回", k=1)
    assert "毎週巡回" in hits[0].chunk.text


def test_added_and_removed_documents(corpus):
    root, s = corpus
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    (root / "corpus/documents/gamma.txt").unlink()
    (root / "corpus/documents/delta.md").write_text("# 新規\n\n## 節\n\nスマート農業の実証を行った。\n", encoding="utf-8")
    emb.calls.clear()
    r = build_index(s, emb, progress=False)
    assert r.added == ["corpus/documents/delta.md"] and r.removed == ["corpus/documents/gamma.txt"]
    assert sum(emb.calls) == r.embedded == 1
    h = load_index(s, emb)
    assert {c.source for c in h.chunks} == {"corpus/documents/alpha.md", "corpus/documents/beta.md",
                                            "corpus/documents/delta.md"}
    assert h.collection.count() == len(h.chunks)


def test_new_model_rebuilds_everything(corpus):
    _, s = corpus
    build_index(s, FakeEmbeddings(), progress=False)

    class Other(FakeEmbeddings):
        model_id = "another-model"

    emb = Other()
    r = build_index(s, emb, progress=False)
    assert r.mode == "full" and "model" in r.reason and sum(emb.calls) == r.chunks
    with pytest.raises(Exception, match="another-model"):
        load_index(s, FakeEmbeddings())  # the index no longer matches the old model


def test_old_versions_are_removed_and_previous_kept(corpus):
    root, s = corpus
    emb = FakeEmbeddings()
    versions = []
    for i in range(3):
        (root / "corpus/documents/extra.md").write_text(f"# 追加\n\n追加の文書{i}です。\n", encoding="utf-8")
        versions.append(build_index(s, emb, progress=False).version)
    assert store.versions(s.index_path) == sorted(versions[1:])
    assert store.current_version(s.index_path) == versions[-1]


def test_index_command_output_and_if_missing(corpus, capsys):
    _, s = corpus
    emb = FakeEmbeddings()
    assert index_command(s, embedder=emb) == 0
    out = capsys.readouterr()
    assert "full build" in out.out and "3 documents" in out.out
    assert index_command(s, if_missing=True, embedder=emb) == 0
    assert "skipping" in capsys.readouterr().err
    assert index_command(s, embedder=emb) == 0
    assert "up to date" in capsys.readouterr().out


def test_empty_corpus_is_an_error(tmp_path, capsys):
    s = settings_for(tmp_path)
    with pytest.raises(IndexMissingError, match="nothing to index") as err:
        index_command(s, embedder=FakeEmbeddings())
    assert err.value.exit_code == 1
    with pytest.raises(IndexMissing, match="assistant index"):
        load_index(s, FakeEmbeddings())


def test_unreadable_document_is_reported_and_the_rest_indexed(corpus, capsys):
    root, s = corpus
    (root / "corpus/documents/broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    r = build_index(s, FakeEmbeddings(), progress=False)
    assert r.documents == 3 and [w.source for w in r.warnings] == ["corpus/documents/broken.pdf"]
    assert "broken.pdf" in capsys.readouterr().err
    build_index(s, FakeEmbeddings(), progress=False)  # no-op still names the skipped file
    assert "broken.pdf" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["chunks", "pointer", "bm25", "chroma"])
def test_corrupted_index_gives_rebuild_hint_and_rebuild_recovers(corpus, capsys, damage):
    _, s = corpus
    emb = FakeEmbeddings()
    r = build_index(s, emb, progress=False)
    clear_cache()
    vdir = s.index_path / r.version
    if damage == "chunks":
        (vdir / "chunks.jsonl").write_text("{not json", encoding="utf-8")
    elif damage == "pointer":
        (s.index_path / "CURRENT").write_text("garbage\n", encoding="utf-8")
    elif damage == "bm25":
        for f in (vdir / "bm25").iterdir():
            f.write_bytes(b"\x00garbage")
    else:
        for f in (vdir / "chroma").rglob("*.sqlite3"):
            f.write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorrupted, match=r"assistant index --rebuild"):
        load_index(s, emb)
    assert index_command(s, rebuild=True, embedder=emb) == 0
    clear_cache()
    hits = HybridRetriever(settings=s, embedder=emb).search("GPS除雪管理システム")
    assert hits and hits[0].chunk.source == "corpus/documents/alpha.md"


def test_unreachable_chroma_server_is_a_clear_error(corpus, capsys):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    _, s = corpus
    s = s.model_copy(update={"chroma_url": f"http://127.0.0.1:{port}"})
    with pytest.raises(ServiceUnavailableError, match=f"cannot reach the Chroma server at http://127.0.0.1:{port}"):
        index_command(s, embedder=FakeEmbeddings())
    assert store.current_version(s.index_path) is None  # nothing was switched
    assert store.versions(s.index_path) == []  # and the half-written version was removed


def test_embedding_batches_by_length_keep_the_input_order():
    from assistant.index.build import _embed

    texts = ["短い", "とても長い文章です。" * 20, "中くらいの長さの文", "x" * 300, "あ"]
    emb = FakeEmbeddings()
    got = _embed(emb, texts, batch=2, progress=False)
    assert emb.calls == [2, 2, 1]
    np.testing.assert_allclose(got, np.asarray(FakeEmbeddings().embed_documents(texts), dtype=np.float32))


def test_noop_build_does_not_load_the_model(corpus, monkeypatch, capsys):
    import assistant.embeddings as embeddings
    from assistant.index.build import configured_identity

    root, s = corpus
    model_dir = root / "my-model"
    model_dir.mkdir()
    (model_dir / "weights.bin").write_bytes(b"w")
    s = s.model_copy(update={"embedding_model": str(model_dir)})
    ident = configured_identity(s)
    loads = []

    def fake_get_embedder(settings):
        loads.append(1)
        e = FakeEmbeddings()
        e.model_id, e.checksum, e.passage_prefix = ident["model_id"], ident["checksum"], ident["passage_prefix"]
        return e

    monkeypatch.setattr(embeddings, "get_embedder", fake_get_embedder)
    assert index_command(s) == 0 and len(loads) == 1
    assert index_command(s) == 0 and len(loads) == 1  # no-op: identity from the folder, no load
    assert "up to date" in capsys.readouterr().out


def test_unprepared_model_is_a_clear_error(corpus, capsys):
    root, s = corpus
    s = s.model_copy(update={"models_dir": root / "no-models"})  # the default offline model, absent
    with pytest.raises(ModelMissingError, match="assistant models prepare") as err:
        index_command(s)
    assert err.value.exit_code == 1


def test_if_missing_on_a_corrupted_pointer_is_exit_2(corpus):
    _, s = corpus
    build_index(s, FakeEmbeddings(), progress=False)
    (s.index_path / "CURRENT").write_text("garbage\n", encoding="utf-8")
    with pytest.raises(IndexCorruptedError, match="rebuild") as err:
        index_command(s, if_missing=True, embedder=FakeEmbeddings())
    assert err.value.exit_code == 2


def test_cli_prints_the_error_once_and_exits_with_its_code(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.config import get_settings

    monkeypatch.setenv("ASSISTANT_ROOT", str(tmp_path))
    monkeypatch.setattr("assistant.index.build.default_embedder", lambda settings: FakeEmbeddings())
    monkeypatch.setattr("assistant.index.build.configured_identity", lambda settings: None)
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["index"])
        get_settings.cache_clear()
        bad = CliRunner().invoke(app, ["index"], env={"ASSISTANT_TOP_K": "many"})
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 1 and r.stdout == "" and "Traceback" not in r.output
    last = r.stderr.strip().splitlines()[-1]
    assert r.stderr.count("nothing to index") == 1 and last.startswith("索引がありません / error: nothing to index")
    assert bad.exit_code == 2 and "設定の誤り / error: invalid ASSISTANT_* settings: top_k" in bad.stderr
