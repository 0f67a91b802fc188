"""Hybrid retrieval: RRF order, per-retriever ranks, filters, the LangChain interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from langchain_core.documents import Document as LCDocument

from assistant.index import build_index, clear_cache, load_index
from assistant.index.bm25 import BM25Index
from assistant.index.filters import MetaIndex
from assistant.retrieve import HybridRetriever, hybrid_search, rrf_fuse
from assistant.tokenize import tokenize
from assistant.types import Chunk
from tests.fakes import FakeEmbeddings
from tests.index_fixtures import settings_for, write_corpus


def test_rrf_hand_made_example():
    fused = rrf_fuse({"dense": ["a", "b", "c"], "bm25": ["c", "a", "d"]}, k=60)
    assert [d for d, _ in fused] == ["a", "c", "b", "d"]
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62) and scores["d"] == pytest.approx(1 / 63)


def test_rrf_k_trades_agreement_against_a_single_top_rank():
    rankings = {"dense": ["x", "a", "y"], "bm25": ["z", "b", "y"]}  # y 3rd in both, x and z 1st in one
    assert rrf_fuse(rankings, k=60)[0][0] == "y"  # 2/63 > 1/61
    top = [d for d, _ in rrf_fuse(rankings, k=0.5)]  # small k: 1/1.5 > 2/3.5
    assert top[:3] == ["x", "z", "y"]
    assert [d for d, _ in rrf_fuse({"a": ["q", "p"], "b": ["p", "q"]}, 60)] == ["p", "q"]  # tie -> id


def _chunk(i: int, text: str, **meta) -> Chunk:
    return Chunk(f"c{i}", "d", meta.pop("source", "corpus/documents/a.md"), text, "loc", meta)


def test_meta_index_filters():
    chunks = [
        _chunk(0, "a", kind="project", prefecture="大阪府", fiscal_year=2022, technologies="AI;IoT;5G"),
        _chunk(1, "b", kind="project", prefecture="北海道", fiscal_year=2018, technologies=["自動運転", "ドローン"]),
        _chunk(2, "c", kind="document", prefectures=["大阪府", "京都府"], fiscal_years=[2018, 2022],
               source="corpus/documents/b.md"),
        _chunk(3, "d", kind="document"),
    ]
    m = MetaIndex(chunks)

    def ids(f):
        mask = m.mask(f)
        return None if mask is None else [int(i) for i in np.flatnonzero(mask)]

    assert ids(None) is None and ids({}) is None and ids({"prefecture": None}) is None
    assert ids({"prefecture": "大阪"}) == [0, 2] == ids({"prefecture": "大阪府"})
    assert ids({"fiscal_year": "R4"}) == [0, 2] == ids({"fiscal_year": 2022}) == ids({"fiscal_year": "令和4年度"})
    assert ids({"fiscal_year": "H30", "kind": "project"}) == [1]
    assert ids({"technology": "ai"}) == [0]  # case and width insensitive
    assert ids({"technology": "無人航空機"}) == [1]  # synonym of ドローン
    assert ids({"technology": ["5G", "ドローン"]}) == [0, 1]
    assert ids({"source": "corpus/documents/b.md"}) == [2]
    assert ids({"source": "corpus/documents/"}) == [0, 1, 2, 3]
    assert ids({"prefecture": "沖縄県"}) == []
    with pytest.raises(ValueError, match="unknown filter"):
        m.mask({"colour": "red"})


def test_bm25_scores_whole_corpus_with_numpy_and_respects_mask():
    texts = ["自動運転バスの運行", "ドローンによる配送", "自動運転とドローンの実証", "メールマガジンの配信"]
    bm = BM25Index.build([tokenize(t) for t in texts])
    top = bm.top(tokenize("自動運転"), 10)
    assert {i for i, _ in top} == {0, 2} and all(s > 0 for _, s in top)
    mask = np.array([False, True, True, True])
    assert [i for i, _ in bm.top(tokenize("自動運転"), 10, mask)] == [2]
    assert bm.top(tokenize("量子コンピュータ"), 10) == []  # no shared token: no BM25 candidate
    assert [i for i, _ in bm.top(tokenize("メルマガ"), 10)] == [3]  # synonym normalized both sides


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    clear_cache()
    root: Path = tmp_path_factory.mktemp("retrieve")
    write_corpus(root)
    s = settings_for(root, top_k=3, candidate_k=10)
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    yield s, emb
    clear_cache()


def test_search_returns_typed_hits_with_per_retriever_ranks(index):
    s, emb = index
    r = HybridRetriever(settings=s, embedder=emb)
    hits = r.search("GPS除雪管理システムの導入")
    assert len(hits) == 3
    assert hits[0].chunk.source == "corpus/documents/alpha.md" and hits[0].chunk.locator == "概要"
    assert set(hits[0].ranks) == {"dense", "bm25"} and hits[0].ranks["bm25"] == 1
    assert hits[0].scores["bm25"] > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    expected = sum(1 / (s.rrf_k + rank) for rank in hits[0].ranks.values() if rank is not None)
    assert hits[0].score == pytest.approx(expected)
    assert len(r.search("除雪", k=1)) == 1
    assert r.search("   ") == []


def test_single_retriever_keeps_its_own_order(index):
    s, emb = index
    h = load_index(s, emb)
    bm25_only = hybrid_search(h, "移動診療車 医師 オンライン", k=5, depth=10, rrf_k=60, retrievers=("bm25",))
    ranks = [x.ranks["bm25"] for x in bm25_only]
    assert ranks == list(range(1, len(ranks) + 1))
    assert [x.scores["bm25"] for x in bm25_only] == sorted((x.scores["bm25"] for x in bm25_only), reverse=True)
    dense_only = hybrid_search(h, "移動診療車", k=5, depth=10, rrf_k=60, retrievers=("dense",))
    assert [x.ranks["dense"] for x in dense_only] == list(range(1, 6))


def test_filters_restrict_both_retrievers(index):
    s, emb = index
    r = HybridRetriever(settings=s, embedder=emb)
    hits = r.search("実証", k=10, filters={"prefecture": "長野県"})
    assert hits and {h.chunk.source for h in hits} == {"corpus/documents/beta.md"}
    hits = r.search("ドローン", k=10, filters={"fiscal_year": "R5"})  # 令和5年度 mentioned in alpha only
    assert {h.chunk.locator for h in hits} == {"成果 > 今後の予定"}
    assert r.search("ドローン", filters={"technology": "ブロックチェーン"}) == []
    assert {h.chunk.source for h in r.search("取組", k=10, filters={"source": "corpus/documents/gamma.txt"})} == {
        "corpus/documents/gamma.txt"}


def test_langchain_retriever_interface(index):
    s, emb = index
    r = HybridRetriever.from_settings(s, embedder=emb, k=2)
    docs = r.invoke("観光アプリで人流分散")
    assert len(docs) == 2 and all(isinstance(d, LCDocument) for d in docs)
    d = docs[0]
    assert d.metadata["source"] == "corpus/documents/gamma.txt"
    assert {"locator", "score", "ranks", "scores", "id"} <= set(d.metadata)
    pinned = HybridRetriever.from_handle(load_index(s, emb), s)
    assert len(pinned.chunks()) == len(load_index(s, emb).chunks)
    assert pinned.search("観光アプリ", k=1)[0].chunk.id == d.metadata["id"]
