"""Server mode: a real ``chroma run`` on loopback, indexed and queried through ``HttpClient``."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.bench.server import chroma_cli
from assistant.bench.server import chroma_server as start_chroma_server
from assistant.index import build_index, clear_cache, load_index
from assistant.index import chroma as chroma_mod
from assistant.retrieve import HybridRetriever
from tests.fakes import FakeEmbeddings
from tests.index_fixtures import settings_for, write_corpus


@pytest.fixture()
def chroma_server(tmp_path: Path):
    """A real ``chroma run`` on a free loopback port (the same helper the benchmark uses)."""
    if chroma_cli() is None:
        pytest.skip("chroma CLI not installed")
    with start_chroma_server(tmp_path / "server-data") as server:
        yield server.url


def test_index_and_query_through_a_chroma_server(tmp_path: Path, chroma_server: str):
    clear_cache()
    write_corpus(tmp_path)
    s = settings_for(tmp_path, chroma_url=chroma_server)
    emb = FakeEmbeddings()
    r1 = build_index(s, emb, progress=False)
    assert not (s.index_path / r1.version / "chroma").exists()  # vectors live in the server

    client = chroma_mod.make_client(s, None)
    names = [c.name for c in client.list_collections()]
    assert names == [chroma_mod.collection_name(s, r1.version)]

    retriever = HybridRetriever(settings=s, embedder=emb)
    hits = retriever.search("移動診療車でオンライン診察", k=3)
    assert hits[0].chunk.source == "corpus/documents/beta.md"
    assert hits[0].ranks["dense"] is not None and hits[0].scores["dense"] is not None
    filtered = retriever.search("実証", filters={"prefecture": "京都"})
    assert {h.chunk.source for h in filtered} == {"corpus/documents/gamma.txt"}  # ids filter on the server

    # An update makes a new server collection and drops the one before the previous.
    p = tmp_path / "corpus/documents/alpha.md"
    for i in range(2):
        p.write_text(p.read_text(encoding="utf-8") + f"\n追記{i}です。\n", encoding="utf-8")
        r = build_index(s, emb, progress=False)
    names = sorted(c.name for c in client.list_collections())
    assert len(names) == 2 and chroma_mod.collection_name(s, r.version) in names
    assert load_index(s, emb).collection.count() == r.chunks
    assert any("追記1" in h.chunk.text for h in retriever.search("追記1です", k=3))
    clear_cache()
