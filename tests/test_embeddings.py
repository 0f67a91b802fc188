"""Embeddings wrapper: prefixes, batching, thread cap, Chroma function, and the real offline model."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from assistant import embeddings
from assistant.config import OFFLINE_E5, Settings
from assistant.embeddings import (
    ChromaEmbeddingFunction,
    E5Embeddings,
    ModelNotPreparedError,
    default_prefixes,
    get_embedder,
    resolve_prefixes,
)
from tests.fakes import FakeEmbeddings


class RecordingModel:
    """Stands in for SentenceTransformer.encode; remembers what it was asked."""

    def __init__(self, dim: int = 4) -> None:
        self.dim = dim
        self.calls: list[tuple[list[str], int, bool]] = []

    def get_embedding_dimension(self) -> int:
        return self.dim

    def encode(self, texts, batch_size=32, normalize_embeddings=False, **kwargs):
        self.calls.append((list(texts), batch_size, normalize_embeddings))
        out = np.array([[len(t), 1.0, 0.0, 2.0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True) if normalize_embeddings else out


@pytest.mark.parametrize(("name", "expected"), [
    (OFFLINE_E5, ("query: ", "passage: ")),
    ("intfloat/multilingual-e5-small", ("query: ", "passage: ")),
    ("intfloat/e5-base-v2", ("query: ", "passage: ")),
    ("/srv/models/multilingual-e5-large", ("query: ", "passage: ")),
    ("cl-nagoya/ruri-v3-30m", ("検索クエリ: ", "検索文書: ")),
    ("sentence-transformers/all-MiniLM-L6-v2", ("", "")),
    ("some/model-e50", ("", "")),
])
def test_default_prefixes(name, expected):
    assert default_prefixes(name) == expected


def test_config_prefixes_override_the_name():
    assert resolve_prefixes(Settings(embedding_model="cl-nagoya/ruri-v3-30m")) == ("検索クエリ: ", "検索文書: ")
    s = Settings(embedding_model=OFFLINE_E5, query_prefix="", passage_prefix="doc: ")
    assert resolve_prefixes(s) == ("", "doc: ")


def test_prefixes_batching_and_normalization():
    model = RecordingModel()
    emb = E5Embeddings(model, model_id="m", checksum="c", query_prefix="query: ",
                       passage_prefix="passage: ", batch_size=3)
    docs = emb.embed_documents(["ドローン", "自動運転"])
    q = emb.embed_query("メルマガ")
    assert model.calls[0] == (["passage: ドローン", "passage: 自動運転"], 3, True)
    assert model.calls[1] == (["query: メルマガ"], 3, True)
    assert emb.dim == 4 and len(q) == 4 and len(docs) == 2
    assert all(isinstance(x, float) for x in q)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0)
    assert emb.embed_documents([]) == []
    assert len(model.calls) == 2  # nothing encoded for an empty batch


def test_thread_cap():
    import torch

    before = torch.get_num_threads()
    try:
        E5Embeddings(RecordingModel(), model_id="m", checksum="c", threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_offline_model_missing_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotPreparedError, match="assistant models prepare"):
        get_embedder(Settings(models_dir=tmp_path, embedding_model=OFFLINE_E5))


def test_local_folder_checksum_uses_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"checksum": "abc123"}))
    source = embeddings.resolve_source(Settings(embedding_model=str(tmp_path)))
    assert source.local and embeddings.model_checksum(source) == "abc123"


def test_chroma_function_round_trip_without_default_function(monkeypatch):
    import chromadb
    from chromadb.api.types import DefaultEmbeddingFunction

    def no_default(self, input):  # the default function downloads a model: must never run
        raise AssertionError("Chroma fell back to its default embedding function")

    monkeypatch.setattr(DefaultEmbeddingFunction, "__call__", no_default)
    fake = FakeEmbeddings(dim=32)
    ef = ChromaEmbeddingFunction(fake)
    assert ChromaEmbeddingFunction.name() == "assistant-sentence-transformers"
    assert not ef.is_legacy()
    assert ChromaEmbeddingFunction.build_from_config(ef.get_config()).embedder is fake
    client = chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))
    col = client.create_collection("emb-test", embedding_function=ef)
    col.add(ids=["a", "b"], documents=["無人航空機による物流", "メールマガジンの配信"])
    assert fake.calls == [2]
    hit = col.query(query_texts=["メールマガジンの配信について"], n_results=1)
    assert hit["ids"] == [["b"]]
    reopened = client.get_collection("emb-test")  # ef rebuilt from the stored config
    assert reopened.query(query_texts=["無人航空機による物流"], n_results=1)["ids"] == [["a"]]
    client.delete_collection("emb-test")


# --- the real offline model ------------------------------------------------------------------------
PARAPHRASES = [("ドローン", "無人航空機"), ("メルマガ", "メールマガジンの配信"), ("自動走行", "自動運転")]
UNRELATED = ["令和5年度の予算額", "会議の議事録を公開します", "観光客向けの多言語案内"]


@pytest.fixture(scope="module")
def real_embedder(prepared_model, monkeypatch_module):
    monkeypatch_module.setenv("HF_HUB_OFFLINE", "1")

    def refuse(self, address):  # loading the offline model must not touch the network
        if self.family != socket.AF_UNIX:
            raise OSError(f"network access attempted: {address}")
        return real_connect(self, address)

    real_connect = socket.socket.connect
    monkeypatch_module.setattr(socket.socket, "connect", refuse)
    emb = get_embedder(Settings(embedding_model=OFFLINE_E5))
    yield emb


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.integration
def test_real_model_loads_offline_once(real_embedder, prepared_model):
    assert real_embedder.dim == 384
    assert real_embedder.model_id == OFFLINE_E5
    manifest = json.loads((prepared_model / "manifest.json").read_text())
    assert real_embedder.checksum == manifest["checksum"]
    assert get_embedder(Settings(embedding_model=OFFLINE_E5)) is real_embedder
    v = real_embedder.embed_query("ドローン")
    assert len(v) == 384 and abs(np.linalg.norm(v) - 1) < 1e-5
    long_doc = "ドローン物流の実証実験を行った。" * 300  # > 512 tokens: truncated, not an error
    assert len(real_embedder.embed_documents([long_doc])[0]) == 384


@pytest.mark.integration
def test_japanese_paraphrases_beat_unrelated(real_embedder):
    queries = [q for q, _ in PARAPHRASES]
    passages = [p for _, p in PARAPHRASES] + UNRELATED
    sims = np.array(real_embedder.embed_queries(queries)) @ np.array(real_embedder.embed_documents(passages)).T
    for i, (q, p) in enumerate(PARAPHRASES):
        others = np.delete(sims[i], i)
        assert sims[i, i] > others.max(), f"{q} / {p}: {sims[i, i]:.4f} vs {others.max():.4f}"
    # symmetric passage-passage similarity: paraphrase pairs beat the unrelated sentences
    a = np.array(real_embedder.embed_documents(queries))
    b = np.array(real_embedder.embed_documents([p for _, p in PARAPHRASES]))
    u = np.array(real_embedder.embed_documents(UNRELATED))
    assert (np.sum(a * b, axis=1)[:, None] > a @ u.T).all()
