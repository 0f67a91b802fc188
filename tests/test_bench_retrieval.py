"""Dense search with a broad filter: post-filtering a deeper query gives what the id filter gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import retrieve
from assistant.bench import CorpusOptions, generate_corpus
from assistant.config import Settings
from assistant.index import build_index, clear_cache, load_index
from tests.fakes import FakeEmbeddings

QUESTIONS = ["自動運転の実証はどこで行われていますか", "メールマガジンの配信頻度は？", "KPIの目標年度", "ドローン"]


@pytest.mark.parametrize("filters", [{"kind": "document"}, {"kind": "project"}])
def test_postfilter_matches_the_id_filter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filters):
    clear_cache()
    corpus = generate_corpus(Settings(), tmp_path, 30, opts=CorpusOptions(project_every=2))
    emb = FakeEmbeddings()
    build_index(corpus.settings, emb, progress=False)
    h = load_index(corpus.settings, emb)
    mask = h.mask(filters)
    assert 0 < mask.sum() < len(h)
    fast = [retrieve.dense_ranking(h, q, 8, mask) for q in QUESTIONS]
    monkeypatch.setattr(retrieve, "POSTFILTER_MIN_SHARE", 2.0)  # always pass the allowed ids
    slow = [retrieve.dense_ranking(h, q, 8, mask) for q in QUESTIONS]
    for f, s in zip(fast, slow, strict=True):  # HNSW is approximate: the tail may differ slightly
        assert [i for i, _ in f[:5]] == [i for i, _ in s[:5]]
        assert len({i for i, _ in f} & {i for i, _ in s}) >= 6
        assert len(f) == 8 and all(mask[i] for i, _ in f)
        assert [x for _, x in f] == sorted((x for _, x in f), reverse=True)
    clear_cache()
