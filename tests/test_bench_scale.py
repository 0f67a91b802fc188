"""Behaviour that must hold on a large corpus (found by the benchmark): nothing per question reads
or lists every document."""

from __future__ import annotations

from pathlib import Path

from assistant.answer.pipeline import ABOUT_MAX_DOCUMENTS, Assistant
from assistant.bench import generate_corpus
from assistant.config import Settings
from assistant.index import build_index, clear_cache
from tests.fakes import FakeEmbeddings


def test_question_about_the_document_on_many_documents_cites_the_retrieved_ones(tmp_path: Path):
    clear_cache()
    corpus = generate_corpus(Settings(), tmp_path, 3 * ABOUT_MAX_DOCUMENTS)
    emb = FakeEmbeddings()
    build_index(corpus.settings, emb, progress=False)
    a = Assistant(corpus.settings, embedder=emb)
    assert len(a.document_sources) == corpus.documents == len(set(a.document_sources))
    ans = a.ask("この資料はいつ、どこが作成したものですか？")
    cited = {c.source for c in ans.citations}
    assert ans.meta.get("about") == "front_matter" and not ans.abstained
    assert 1 <= len(cited) <= corpus.settings.top_k < corpus.documents
    clear_cache()
