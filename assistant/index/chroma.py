"""Chroma access: a local ``PersistentClient`` or, with ``settings.chroma_url``, an ``HttpClient``.

Locally each index version has its own Chroma directory holding one collection named
``settings.collection``; on a server each version has its own collection
(``<collection>-<index path hash>-<version>``) and the pointer file says which one is served. The
embedding function is always passed explicitly (Chroma's default one downloads a model), and
vectors are computed by us and handed to Chroma, so Chroma never embeds on its own.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.config import Settings
from assistant.types import Chunk


def chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def make_client(settings: Settings, persist_dir: Path | None) -> Any:
    """HttpClient when ``settings.chroma_url`` is set, else a PersistentClient on ``persist_dir``."""
    import chromadb

    if settings.chroma_url:
        u = urlparse(settings.chroma_url if "//" in settings.chroma_url else f"http://{settings.chroma_url}")
        ssl = u.scheme == "https"
        return chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or (443 if ssl else 8000),
                                   ssl=ssl, settings=chroma_settings())
    if persist_dir is None:
        raise ValueError("a persist directory is needed without chroma_url")
    return chromadb.PersistentClient(path=str(persist_dir), settings=chroma_settings())


def collection_prefix(settings: Settings) -> str:
    h = hashlib.sha256(str(settings.index_path.resolve()).encode()).hexdigest()[:8]
    return f"{settings.collection}-{h}-"


def collection_name(settings: Settings, version: str) -> str:
    return collection_prefix(settings) + version if settings.chroma_url else settings.collection


def embedding_function(embedder: Any) -> Any:
    """``assistant.embeddings.ChromaEmbeddingFunction`` when available, else a local adapter."""
    try:
        from assistant.embeddings import ChromaEmbeddingFunction
    except ImportError:
        return _EmbedderFunction(embedder)
    return ChromaEmbeddingFunction(embedder)


def _make_adapter() -> type:
    from chromadb.api.types import Documents, EmbeddingFunction

    class EmbedderFunction(EmbeddingFunction[Documents]):
        """Wraps a LangChain ``Embeddings``: passages via embed_documents, queries via embed_query."""

        def __init__(self, embedder: Any) -> None:
            self.embedder = embedder

        def __call__(self, input: Documents) -> Any:  # noqa: A002 (Chroma's signature)
            return [np.asarray(v, dtype=np.float32) for v in self.embedder.embed_documents(list(input))]

        def embed_query(self, input: Documents) -> Any:  # noqa: A002
            return [np.asarray(self.embedder.embed_query(t), dtype=np.float32) for t in input]

        @staticmethod
        def name() -> str:
            return "assistant-embedder"

        def get_config(self) -> dict[str, Any]:
            return {"model_id": self.embedder.model_id, "checksum": self.embedder.checksum}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> Any:
            return EmbedderFunction(_Unavailable(config))

        def default_space(self) -> Any:
            return "cosine"

    return EmbedderFunction


class _Unavailable:
    """Placeholder embedder for collections opened without our embedding function."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError(f"open this collection with the assistant's embedder ({self.config})")

    embed_query = embed_documents  # type: ignore[assignment]


_ADAPTER: type | None = None


def _EmbedderFunction(embedder: Any) -> Any:  # noqa: N802 (factory shaped like a class)
    global _ADAPTER
    if _ADAPTER is None:
        _ADAPTER = _make_adapter()
    return _ADAPTER(embedder)


def flat_meta(c: Chunk) -> dict[str, str | int | float | bool]:
    """Chroma accepts scalar metadata only: lists are joined with ``|``; the body text is left out."""
    out: dict[str, str | int | float | bool] = {"source": c.source, "locator": c.locator, "doc_id": c.doc_id}
    for k, v in c.meta.items():
        if k in ("body", "table_header") or v is None:
            continue
        if isinstance(v, bool | int | float | str):
            out[k] = v
        elif isinstance(v, list | tuple):
            out[k] = "|".join(str(x) for x in v)
        else:
            out[k] = str(v)
    return out


def create_collection(client: Any, name: str, embedder: Any, meta: dict[str, Any]) -> Any:
    return client.create_collection(name=name, embedding_function=embedding_function(embedder),
                                    configuration={"hnsw": {"space": "cosine"}}, metadata=meta)


def get_collection(client: Any, name: str, embedder: Any) -> Any:
    return client.get_collection(name=name, embedding_function=embedding_function(embedder))


def add_chunks(collection: Any, chunks: list[Chunk], vectors: np.ndarray, batch: int,
               progress: Any = None) -> None:
    """Add chunks with precomputed vectors, in batches no larger than the server allows."""
    try:
        batch = min(batch, int(collection._client.get_max_batch_size()))
    except Exception:
        pass
    for s in range(0, len(chunks), batch):
        part = chunks[s:s + batch]
        collection.add(ids=[c.id for c in part], embeddings=vectors[s:s + batch],
                       documents=[c.text for c in part], metadatas=[flat_meta(c) for c in part])
        if progress is not None:
            progress.update(len(part))


def drop_collections(client: Any, prefix: str, keep: set[str]) -> list[str]:
    """Delete this index's collections (name starts with ``prefix``) that are not in ``keep``."""
    gone = []
    for col in client.list_collections():
        name = col if isinstance(col, str) else col.name
        if name.startswith(prefix) and name not in keep:
            client.delete_collection(name)
            gone.append(name)
    return gone
