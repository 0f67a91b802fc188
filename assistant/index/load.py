"""Load the served index version once per process: chunks, BM25, metadata filters, Chroma.

Chroma is opened on the first dense query (``IndexHandle.collection``), not by ``load_index``:
importing chromadb and opening the collection is ~1.5–2 s of a warm start that BM25, the
metadata filters and the records answers do not need. ``load_index`` checks that the version's
Chroma data is there (locally: its directory and database file); the collection's count is
checked when it is opened, and a damaged collection then raises the same ``IndexCorrupted``
with the rebuild hint. ``IndexHandle.open_dense()`` opens it at once (a server's warm-up).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import IndexStaleError
from assistant.index import chroma as chroma_mod
from assistant.index import store, term_stats
from assistant.index.bm25 import BM25Index
from assistant.index.filters import MetaIndex
from assistant.protocols import Embedder
from assistant.types import Chunk

CHROMA_DB = "chroma.sqlite3"


class IndexIncompatible(IndexStaleError, RuntimeError):
    """The index was built with another embedding model than the one configured."""


@dataclass
class IndexHandle:
    """Everything a query needs, for one index version."""

    settings: Settings
    version: str
    directory: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    bm25: BM25Index
    meta: MetaIndex
    opener: Callable[[], tuple[Any, Any]]  # -> (client, collection), checked
    embedder: Embedder
    position: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        self.ids = [c.id for c in self.chunks]
        self._term_stats: term_stats.TermStats | None = None
        self._stats_lock = threading.Lock()
        self._dense: tuple[Any, Any] | None = None
        self._dense_lock = threading.Lock()
        self.dense_opens = 0  # times Chroma was opened for this handle (0 or 1; tests)

    def open_dense(self) -> tuple[Any, Any]:
        """(client, collection) of this version's Chroma data, opened once (thread-safe)."""
        with self._dense_lock:
            if self._dense is None:
                self._dense = self.opener()
                self.dense_opens += 1
            return self._dense

    @property
    def collection(self) -> Any:
        return self.open_dense()[1]

    @property
    def client(self) -> Any:
        return self.open_dense()[0]

    @property
    def dense_opened(self) -> bool:
        return self._dense is not None

    def __len__(self) -> int:
        return len(self.chunks)

    def chunk(self, chunk_id: str) -> Chunk | None:
        i = self.position.get(chunk_id)
        return None if i is None else self.chunks[i]

    def mask(self, filters: dict[str, Any] | None) -> np.ndarray | None:
        return self.meta.mask(filters)

    def term_stats(self) -> term_stats.TermStats:
        """Document frequency of content words over this version's chunks (``content_terms``, once
        per chunk): read from the version (written by the build), computed only for a version
        built before it was stored. The extractor's ``df`` is ``handle.term_stats().get``."""
        with self._stats_lock:
            if self._term_stats is None:
                self._term_stats = (term_stats.read(self.directory, len(self.chunks))
                                    or term_stats.compute(self.chunks))
            return self._term_stats


_LOCK = threading.Lock()
_CACHE: dict[tuple[Any, ...], IndexHandle] = {}


def _check_embedder(manifest: dict[str, Any], embedder: Embedder, vdir: Path) -> None:
    want = manifest.get("compat", {}).get("embedding", {})
    have_id, have_sum = embedder.model_id, embedder.checksum
    if want.get("model_id") != have_id or want.get("checksum") != have_sum:
        raise IndexIncompatible(
            f"the index at {vdir} was built with {want.get('model_id')} ({want.get('checksum')}), "
            f"but the configured embedder is {have_id} ({have_sum}); run `assistant index`")


def open_version(settings: Settings, version: str, embedder: Embedder) -> IndexHandle:
    """Open one version directory (raises IndexCorrupted with a rebuild hint on damage)."""
    vdir = settings.index_path / version
    manifest = store.read_manifest(vdir)
    _check_embedder(manifest, embedder, vdir)
    chunks = store.read_stored(vdir, manifest, tokens=False, vectors=False).chunks  # checks the counts
    try:
        bm25 = BM25Index.load(vdir / store.BM25_DIR, len(chunks))
    except Exception as e:
        raise store.rebuild_hint(vdir, f"bad BM25 index: {type(e).__name__}: {e}") from e
    if manifest.get("chroma", {}).get("mode") != ("http" if settings.chroma_url else "persistent"):
        raise IndexIncompatible(f"the index at {vdir} was built for another Chroma mode "
                                f"({manifest.get('chroma')}); run `assistant index`")
    if not settings.chroma_url:
        _check_chroma_file(vdir)
    n = len(chunks)

    def opener() -> tuple[Any, Any]:
        try:
            client = chroma_mod.make_client(settings, vdir / store.CHROMA_DIR)
            collection = chroma_mod.get_collection(client, manifest["collection"], embedder)
            count = collection.count()
        except Exception as e:
            if settings.chroma_url and _is_connection_error(e):
                raise RuntimeError(f"cannot reach the Chroma server at {settings.chroma_url}: {e}") from e
            raise store.rebuild_hint(vdir, f"Chroma collection unreadable: {type(e).__name__}: {e}") from e
        if count != n:
            raise store.rebuild_hint(vdir, f"Chroma holds {count} chunks, expected {n}")
        return client, collection

    h = IndexHandle(settings, version, vdir, manifest, chunks, bm25, MetaIndex(chunks), opener, embedder)
    if settings.chroma_url:  # a server: check it now (it may be down), the import is needed anyway
        h.open_dense()
    return h


def _check_chroma_file(vdir: Path) -> None:
    """The local Chroma database is there and is an SQLite file (without importing chromadb)."""
    try:
        with open(vdir / store.CHROMA_DIR / CHROMA_DB, "rb") as f:
            header = f.read(16)
    except OSError as e:
        raise store.rebuild_hint(vdir, f"Chroma data missing ({store.CHROMA_DIR}/{CHROMA_DB}: {e})") from e
    if header != b"SQLite format 3\x00":
        raise store.rebuild_hint(vdir, f"Chroma data unreadable ({store.CHROMA_DIR}/{CHROMA_DB} is not a database)")


def _is_connection_error(e: Exception) -> bool:
    name = type(e).__name__.lower()
    return "connect" in name or "connection" in str(e).lower()


def load_index(settings: Settings | None = None, embedder: Any = None) -> IndexHandle:
    """The handle of the version ``CURRENT`` names, loaded once per process and version.

    Raises IndexMissing (run ``assistant index``), IndexCorrupted (run ``assistant index --rebuild``)
    or IndexIncompatible. A rebuilt index is picked up on the next call.
    """
    if settings is None:
        from assistant.config import get_settings

        settings = get_settings()
    root = settings.index_path
    version = store.current_version(root)
    if version is None:
        raise store.IndexMissing(f"no index at {root}; run `assistant index` first")
    key = (str(root.resolve()), settings.chroma_url, settings.collection,
           "default" if embedder is None else id(embedder))
    with _LOCK:
        h = _CACHE.get(key)
        if h is not None and h.version == version:
            return h
        if embedder is None:
            from assistant.embeddings import get_embedder

            embedder = h.embedder if h is not None else get_embedder(settings)
        h = open_version(settings, version, embedder)
        _CACHE[key] = h
        return h


def open_chroma_client(settings: Settings) -> Any:
    """A Chroma client on the served version (its collection: ``served_collection_name``)."""
    version = store.current_version(settings.index_path)
    if version is None:
        raise store.IndexMissing(f"no index at {settings.index_path}; run `assistant index` first")
    return chroma_mod.make_client(settings, settings.index_path / version / store.CHROMA_DIR)


def served_collection_name(settings: Settings) -> str:
    version = store.current_version(settings.index_path)
    if version is None:
        raise store.IndexMissing(f"no index at {settings.index_path}; run `assistant index` first")
    return chroma_mod.collection_name(settings, version)


def clear_cache() -> None:
    """Forget loaded handles (tests; after deleting an index directory)."""
    with _LOCK:
        _CACHE.clear()
