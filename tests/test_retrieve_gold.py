"""Retrieval quality on a small gold set written from the corpus document.

Each item: a question phrased differently from the text, and a substring the right chunk contains.
BM25 runs always (fake dense side); the real e5 model is measured when it is prepared.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import REPO_ROOT, Settings
from assistant.index import build_index, clear_cache, load_index
from assistant.normalize import match_key
from assistant.retrieve import hybrid_search
from tests.fakes import FakeEmbeddings

DOC = "corpus/documents/mirai-gijutsu-torikumi-2023-03-15.md"

#: (question, substring of the right chunk)
GOLD: list[tuple[str, str]] = [
    ("平成30年度から令和4年度までに選ばれた事業は全部でいくつ？", "合計53事業"),
    ("選定されてから何年で社会実装することを目標にしている？", "選定から5年で社会実装を目指し"),
    ("令和3年度の終わりまでに支援を終えた事業は何件？", "8事業はR3年度末までに支援終了"),
    ("総務省のスマートシティ推進事業の令和5年度予算はいくら？", "4.0億円"),
    ("経済産業省の地域新MaaS創出推進事業の問い合わせ先メールアドレスは？", "bzl-contact_mobility_pt@meti.go.jp"),
    ("アンケートの対象となったのは何自治体・何事業？", "35自治体（75事業）"),
    ("事業を進めるうえでボトルネックとして約半数が挙げた課題は？", "約半数の事業が挙げている"),
    ("オンラインのミニシンポジウムは毎年いつ頃やっている？", "例年2月頃に開催予定"),
    ("メルマガはどのくらいの頻度で送られてくる？", "配信時期：月2回"),
    ("2022年度のシンポジウムの開催地はどこ？", "大阪府四條畷市にて開催"),
    ("シンポジウム初日の会場はどこだった？", "けいはんなプラザ"),
    ("シンポジウム2日目には何人参加した？", "23名"),
    ("2023年2月にWEBで開かれたミニシンポジウムの参加者数は？", "74名"),
    ("この事業で支援を受けられる期間は最長で何年？", "支援期間を最長5年"),
    ("支援が終わった後もメールマガジンは届く？", "メールマガジンについては引き続き配信可能"),
    ("同じ事業内容のまま支援を延長してもらえる？", "同一事業内容のままで支援継続は不可"),
    ("新しい総合戦略は何年度から何年度までの計画？", "2023年度から2027年度までの5か年"),
    ("5Gの人口カバー率はいつまでに何%を目指す？", "5Gの人口カバー率"),
    ("デジタル推進人材は何人育てる目標？", "230万人"),
    ("光ファイバの世帯カバー率の目標値は？", "99.9%"),
    ("スマートシティを何地域選ぶ目標になっている？", "100地域"),
    ("無人自動運転の移動サービスを何か所で実現する目標？", "50か所程度"),
    ("サテライトオフィスを置いた地方公共団体の数の目標は？", "1,000団体"),
    ("交付金を使いたい団体向けの事前相談はどういう形で行われた？", "オンラインによる事前相談"),
]


def first_gold_rank(hits, contains: str, source: str = DOC) -> int:
    """1-based rank of the first hit from ``source`` containing ``contains`` (normalized); 0 if none."""
    key = match_key(contains)
    for rank, h in enumerate(hits, start=1):
        if h.chunk.source == source and key in match_key(h.chunk.text):
            return rank
    return 0


def metrics(ranks: list[int]) -> dict[str, float]:
    n = len(ranks)
    return {"R@1": sum(r == 1 for r in ranks) / n, "R@5": sum(1 <= r <= 5 for r in ranks) / n,
            "MRR": sum(1 / r for r in ranks if r) / n}


def evaluate(handle, retrievers: tuple[str, ...], gold=GOLD, k: int = 5, depth: int = 20) -> dict[str, float]:
    ranks = [first_gold_rank(hybrid_search(handle, q, k=k, depth=depth, rrf_k=60, retrievers=retrievers), c)
             for q, c in gold]
    return metrics(ranks)


def test_gold_substrings_are_in_the_document():
    text = match_key((REPO_ROOT / DOC).read_text(encoding="utf-8"))
    for _, contains in GOLD:
        assert match_key(contains) in text, contains


def _corpus_settings(tmp: Path) -> Settings:
    return Settings(index_dir=tmp / "index")  # the repository corpus, a private index folder


@pytest.fixture(scope="module")
def fake_index(tmp_path_factory):
    clear_cache()
    s = _corpus_settings(tmp_path_factory.mktemp("gold"))
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    yield load_index(s, emb)
    clear_cache()


def test_bm25_finds_the_gold_chunks(fake_index):
    m = evaluate(fake_index, ("bm25",))
    assert m["R@5"] >= 0.8 and m["MRR"] >= 0.6, m


@pytest.mark.integration
def test_real_model_dense_and_hybrid(prepared_model, tmp_path):
    from assistant.embeddings import get_embedder

    clear_cache()
    # documents only (no records folder): the answerer's documents route, and ~40 chunks to embed
    s = _corpus_settings(tmp_path).model_copy(update={"records_dir": tmp_path / "no-records"})
    emb = get_embedder(s)
    build_index(s, emb, progress=False)
    h = load_index(s, emb)
    bm25, dense, hybrid = (evaluate(h, r) for r in (("bm25",), ("dense",), ("dense", "bm25")))
    print(f"\nBM25 {bm25}\ndense {dense}\nhybrid {hybrid}")
    assert dense["R@5"] >= 0.6, dense
    assert hybrid["R@5"] >= max(bm25["R@5"], dense["R@5"]) - 0.05, (bm25, dense, hybrid)
    assert hybrid["MRR"] >= 0.6, hybrid
    clear_cache()
