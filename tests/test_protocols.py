"""The real classes and the test fakes implement the seams of :mod:`assistant.protocols`."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.config import Settings
from assistant.embeddings import ChromaEmbeddingFunction, E5Embeddings
from assistant.protocols import Asker, Embedder, Retriever
from assistant.retrieve import HybridRetriever
from tests.answer_fakes import OverlapRetriever
from tests.fakes import FakeEmbeddings
from tests.ui_fakes import ScriptedAsker


class _Model:
    """sentence-transformers' ``encode`` shape, constant vectors."""

    def get_embedding_dimension(self) -> int:
        return 3

    def encode(self, texts, **kw):  # noqa: ANN001, ANN003
        return np.ones((len(texts), 3), np.float32) / np.sqrt(3)


def test_embedders_implement_the_protocol():
    e5 = E5Embeddings(_Model(), model_id="m", checksum="c")
    for emb in (e5, FakeEmbeddings(dim=8)):
        assert isinstance(emb, Embedder)
        assert len(emb.embed_queries(["a", "b"])) == 2 and len(emb.embed_queries(["a"])[0]) == emb.dim

    class NoBatch:
        model_id, checksum, dim = "x", "y", 2

        def embed_documents(self, texts):  # noqa: ANN001
            return [[1.0, 0.0] for _ in texts]

        def embed_query(self, text):  # noqa: ANN001
            return [1.0, 0.0]

    assert not isinstance(NoBatch(), Embedder)  # embed_queries is required, not looked for


def test_chroma_function_embeds_queries_in_one_batch():
    class Counting(FakeEmbeddings):
        model_id = "counting"

        def __init__(self) -> None:
            super().__init__(dim=8)
            self.batches: list[list[str]] = []

        def embed_queries(self, texts: list[str]) -> list[list[float]]:
            self.batches.append(list(texts))
            return super().embed_queries(texts)

    emb = Counting()
    ef = ChromaEmbeddingFunction(emb)
    vecs = ef.embed_query(["一つ目", "二つ目"])
    assert emb.batches == [["一つ目", "二つ目"]] and len(vecs) == 2
    assert ef.get_config()["model_id"] == "counting" and ef.get_config()["checksum"] == "fake"


def test_retrievers_and_askers_implement_the_protocols(fake_assistant):
    assert isinstance(OverlapRetriever(fake_assistant.retriever.chunks()[:3]), Retriever)
    assert isinstance(HybridRetriever(settings=Settings(), embedder=FakeEmbeddings()), Retriever)
    assert isinstance(fake_assistant, Asker) and isinstance(ScriptedAsker(), Asker)


def test_hybrid_retriever_refuses_an_object_that_is_no_embedder():
    with pytest.raises(ValueError):
        HybridRetriever(settings=Settings(), embedder=object())  # type: ignore[arg-type]
