"""Crash safety: a build killed with SIGKILL leaves the previous index serving; the next completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.index import build_index, clear_cache, load_index, store
from assistant.retrieve import HybridRetriever
from tests.fakes import FakeEmbeddings
from tests.index_fixtures import settings_for, write_corpus
from tests.process_helpers import sigkill_at_marker

REPO = Path(__file__).resolve().parent.parent

# The child builds with a hook that announces the crash point and then hangs there.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import assistant.index.build as build
    from assistant.index import store
    from tests.fakes import FakeEmbeddings
    from tests.index_fixtures import settings_for

    root, marker, point = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

    def hang(*a, **k):
        marker.write_text("here")
        time.sleep(120)

    emb = FakeEmbeddings()
    if point == "embed":
        emb.embed_documents = hang
    elif point == "chroma":
        real = build.chroma_mod.add_chunks
        def add_then_hang(col, chunks, vectors, batch, progress=None):
            real(col, chunks[: len(chunks) // 2], vectors[: len(chunks) // 2], batch)
            hang()
        build.chroma_mod.add_chunks = add_then_hang
    else:  # everything written, pointer not yet switched
        build.store.set_current = hang
    build.build_index(settings_for(root), emb, progress=False)
""")


@pytest.mark.parametrize("point", ["embed", "chroma", "swap"])
def test_killed_build_leaves_old_index_serving(tmp_path: Path, point: str):
    clear_cache()
    write_corpus(tmp_path)
    s = settings_for(tmp_path)
    emb = FakeEmbeddings()
    old = build_index(s, emb, progress=False)
    doc = tmp_path / "corpus/documents/alpha.md"
    doc.write_text(doc.read_text(encoding="utf-8").replace("GPS除雪管理システム", "AI除雪予測システム"),
                   encoding="utf-8")

    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), str(marker), point], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sigkill_at_marker(child, marker)
    assert child.returncode == -signal.SIGKILL

    # The old version still serves, with the old text.
    assert store.current_version(s.index_path) == old.version
    clear_cache()
    retriever = HybridRetriever(settings=s, embedder=emb)
    hits = retriever.search("除雪管理システム", k=1)
    assert hits and "GPS除雪管理システム" in hits[0].chunk.text

    # The next build completes (the lock died with the child), serves the new text, cleans up.
    r = build_index(s, emb, progress=False)
    assert r.mode == "incremental" and r.changed == ["corpus/documents/alpha.md"]
    assert store.versions(s.index_path) == sorted([old.version, r.version])
    hits = retriever.search("除雪予測システム", k=1)
    assert "AI除雪予測システム" in hits[0].chunk.text
    assert load_index(s, emb).version == r.version
    clear_cache()
