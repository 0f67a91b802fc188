"""Crash-safe data beyond ``test_index_crash``/``test_index_build``: SIGKILL during ``--rebuild``,
more kinds of index damage (through the answering paths, with the clear message), and the four
malformed documents of the issue in one build."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.ask_cli import _ask_one
from assistant.index import IndexCorrupted, build_index, clear_cache, index_command, load_index, store
from assistant.ingest.loaders import corpus_files, load_documents
from assistant.retrieve import HybridRetriever
from tests.fakes import FakeEmbeddings
from tests.index_fixtures import GAMMA, tiny_pdf
from tests.process_helpers import sigkill_at_marker

REPO = Path(__file__).resolve().parent.parent


# -- SIGKILL during a full rebuild ------------------------------------------------------------------
REBUILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from assistant.index import build_index
    from tests.fakes import FakeEmbeddings
    from tests.index_fixtures import settings_for

    root, marker = Path(sys.argv[1]), Path(sys.argv[2])
    emb = FakeEmbeddings()
    real = emb.embed_documents
    def embed_then_hang(texts):
        out = real(texts)
        marker.write_text("here")
        time.sleep(120)
        return out
    emb.embed_documents = embed_then_hang
    build_index(settings_for(root), emb, rebuild=True, progress=False)
""")


def test_killed_rebuild_leaves_old_index_serving(corpus):
    root, s = corpus
    emb = FakeEmbeddings()
    old = build_index(s, emb, progress=False)
    marker = root / "marker"
    child = subprocess.Popen([sys.executable, "-c", REBUILD, str(root), str(marker)],
                             env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE)
    sigkill_at_marker(child, marker)
    assert store.current_version(s.index_path) == old.version
    clear_cache()
    hits = HybridRetriever(settings=s, embedder=emb).search("GPS除雪管理システム", k=1)
    assert hits and hits[0].chunk.source == "corpus/documents/alpha.md"
    r = build_index(s, emb, rebuild=True, progress=False)  # the next rebuild completes and cleans up
    assert r.mode == "full" and store.current_version(s.index_path) == r.version
    assert store.versions(s.index_path) == sorted([old.version, r.version])


# -- more damage, seen through the answering paths ------------------------------------------------------
def _damage(s, version: str, kind: str) -> None:
    vdir = s.index_path / version
    if kind == "manifest":
        (vdir / "manifest.json").write_text("{truncated", encoding="utf-8")
    elif kind == "manifest_missing":
        (vdir / "manifest.json").unlink()
    elif kind == "version_missing":
        import shutil

        shutil.rmtree(vdir)
    elif kind == "chunks_truncated":
        data = (vdir / "chunks.jsonl").read_bytes()
        (vdir / "chunks.jsonl").write_bytes(data[: len(data) // 2])
    elif kind == "chunks_line_lost":
        lines = (vdir / "chunks.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (vdir / "chunks.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")
    elif kind == "pointer_binary":
        (s.index_path / "CURRENT").write_bytes(b"\xff\xfe\x00\x01")
    elif kind == "chroma_missing":
        import shutil

        shutil.rmtree(vdir / "chroma")


@pytest.mark.parametrize("kind", ["manifest", "manifest_missing", "version_missing", "chunks_truncated",
                                  "chunks_line_lost", "pointer_binary", "chroma_missing"])
def test_damage_gives_the_rebuild_message_and_rebuild_recovers(corpus, kind):
    from assistant.answer.pipeline import Assistant
    from assistant.ui.chat import MSG_ERROR, ChatHandlers

    root, s = corpus
    emb = FakeEmbeddings()
    r = build_index(s, emb, progress=False)
    clear_cache()
    _damage(s, r.version, kind)
    with pytest.raises(IndexCorrupted, match=r"assistant index --rebuild"):
        load_index(s, emb)
    a = Assistant(s, embedder=emb)
    text = _ask_one(a, "除雪管理システムとは？")  # `assistant ask`: one clear line, no traceback
    assert text.startswith("エラー: ") and "assistant index --rebuild" in text and "Traceback" not in text
    h = ChatHandlers(Assistant(s, embedder=emb), config_hash="c", max_chars=100, feedback=None,
                     export_dir=root / "exp")
    *_, (_, messages, *_rest) = h.respond("除雪管理システムとは？", None)
    assert MSG_ERROR.split("。")[0] in messages[-1]["content"].replace("\\", "")  # the UI: a friendly message
    assert index_command(s, rebuild=True, embedder=emb) == 0
    clear_cache()
    assert "GPS除雪管理システム" in _ask_one(Assistant(s, embedder=emb), "GPS除雪管理システムとは？")


def test_damaged_vectors_are_rebuilt_by_a_plain_index_run(corpus, capsys):
    """vectors.npy is only read by incremental builds: serving goes on, `assistant index` rebuilds."""
    _, s = corpus
    emb = FakeEmbeddings()
    r = build_index(s, emb, progress=False)
    (s.index_path / r.version / "vectors.npy").write_bytes(b"\x93NUMPY garbage")
    clear_cache()
    assert load_index(s, emb).version == r.version
    doc = s.documents_path / "alpha.md"
    doc.write_text(doc.read_text(encoding="utf-8") + "\n追記の段落です。\n", encoding="utf-8")
    r2 = build_index(s, emb, progress=False)
    assert r2.mode == "full" and "rebuilding from scratch" in capsys.readouterr().err
    clear_cache()
    assert load_index(s, emb).version == r2.version


# -- malformed documents: each skipped or decoded with a named warning, the rest indexed ---------------
def test_malformed_documents_in_one_build(corpus, capsys):
    root, s = corpus
    docs = s.documents_path
    (docs / "truncated.pdf").write_bytes(tiny_pdf(["First page.", "Second page."])[:600])
    (docs / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    (docs / "zero.md").write_bytes(b"")
    (docs / "sjis.md").write_bytes(("# 除雪の記録\n\n" + GAMMA).encode("shift_jis"))

    loaded, warnings = load_documents(corpus_files(docs), root)
    err = capsys.readouterr().err
    reasons = {w.source.rsplit("/", 1)[1]: w.reason for w in warnings}
    assert set(reasons) == {"truncated.pdf", "binary.md", "zero.md"}
    assert "PDF" in reasons["truncated.pdf"] and "binary" in reasons["binary.md"]
    assert "no text" in reasons["zero.md"]
    for name in reasons:
        assert f"corpus/documents/{name}" in err
    sjis = next(d for d in loaded if d.source.endswith("sjis.md"))
    assert sjis.text.startswith("# 除雪の記録") and sjis.meta["encoding"] == "cp932"
    assert "corpus/documents/sjis.md: decoded as Shift_JIS" in err  # decoded, with a named warning
    assert "alpha.md: decoded" not in err

    r = build_index(s, FakeEmbeddings(), progress=False)  # the rest is indexed
    assert r.documents == 4 and sorted(w.source for w in r.warnings) == sorted(
        f"corpus/documents/{n}" for n in reasons)
    sources = {c.source for c in load_index(s, FakeEmbeddings()).chunks}
    assert {"corpus/documents/sjis.md", "corpus/documents/alpha.md", "corpus/documents/gamma.txt"} <= sources
