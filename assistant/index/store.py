"""On-disk layout of the index: versioned directories, a pointer file, a build lock.

```
index/
  CURRENT               name of the version being served (replaced atomically)
  .lock                 held (flock) by the one build running
  v20250101T120000-…/   one complete version:
    manifest.json       corpus file hashes, chunker version, embedding model, settings
    chunks.jsonl        every chunk (+ its BM25 tokens), in index order
    vectors.npy         the chunks' embeddings, same order (the embedding cache)
    bm25/               bm25s index over the Sudachi tokens
    chroma/             Chroma PersistentClient data (absent in server mode)
```
A build writes a new version directory and only then switches ``CURRENT`` (``os.replace``), so a
crash mid-build leaves the previous version serving; leftovers are removed by the next build.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import IndexCorruptedError, IndexMissingError
from assistant.types import Chunk

FORMAT_VERSION = 1
POINTER = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
VECTORS = "vectors.npy"
BM25_DIR = "bm25"
CHROMA_DIR = "chroma"
_VERSION_RE = re.compile(r"^v[0-9]{8}T[0-9]{6}-[0-9a-z-]+$")


class IndexMissing(IndexMissingError, RuntimeError):
    """No index has been built yet."""


class IndexCorrupted(IndexCorruptedError, RuntimeError):
    """Index files exist but cannot be read."""


def rebuild_hint(path: Path, reason: str) -> IndexCorrupted:
    return IndexCorrupted(f"the index at {path} is unreadable ({reason}); "
                          "run `assistant index --rebuild` to rebuild it")


def new_version() -> str:
    return f"v{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(2)}"


def current_version(root: Path) -> str | None:
    """The version named by ``CURRENT``; None when there is no index; IndexCorrupted if broken."""
    p = root / POINTER
    if not p.exists():
        return None
    try:
        name = p.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise rebuild_hint(root, f"cannot read {POINTER}: {e}") from e
    if not _VERSION_RE.match(name):
        raise rebuild_hint(root, f"{POINTER} does not name a version")
    if not (root / name / MANIFEST).is_file():
        raise rebuild_hint(root, f"version {name} is missing or incomplete")
    return name


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file under ``path`` to disk (before the pointer switch)."""
    for p in sorted(path.rglob("*")):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    for d in [path, *sorted(q for q in path.rglob("*") if q.is_dir())]:
        _fsync_dir(d)


def set_current(root: Path, version: str) -> None:
    """Point ``CURRENT`` at ``version`` atomically (write a temp file, fsync, rename)."""
    tmp = root / f".{POINTER}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(version + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / POINTER)
    _fsync_dir(root)


def versions(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _VERSION_RE.match(p.name))


def remove_versions(root: Path, keep: set[str]) -> list[str]:
    """Delete version directories (complete or half-built) not in ``keep``; returns their names."""
    gone = []
    for name in versions(root):
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
            gone.append(name)
    for p in root.glob(f".{POINTER}.*.tmp"):
        p.unlink(missing_ok=True)
    return gone


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """One build at a time per index directory (released automatically if the process dies)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another build of {root} to finish…", file=sys.stderr, flush=True)
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")


def read_manifest(vdir: Path) -> dict[str, Any]:
    try:
        data = json.loads((vdir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise rebuild_hint(vdir, f"bad {MANIFEST}: {e}") from e
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise rebuild_hint(vdir, f"{MANIFEST} has an unknown format")
    return data


def chunk_to_json(c: Chunk, tokens: list[str]) -> str:
    return json.dumps({"id": c.id, "doc_id": c.doc_id, "source": c.source, "text": c.text,
                       "locator": c.locator, "meta": c.meta, "tokens": tokens},
                      ensure_ascii=False, default=str)


def write_chunks(vdir: Path, chunks: list[Chunk], tokens: list[list[str]]) -> None:
    with open(vdir / CHUNKS, "w", encoding="utf-8") as f:
        for c, t in zip(chunks, tokens, strict=True):
            f.write(chunk_to_json(c, t) + "\n")


def read_chunks(vdir: Path) -> tuple[list[Chunk], list[list[str]]]:
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    try:
        with open(vdir / CHUNKS, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                chunks.append(Chunk(d["id"], d["doc_id"], d["source"], d["text"], d["locator"], d["meta"]))
                tokens.append(list(d["tokens"]))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise rebuild_hint(vdir, f"bad {CHUNKS}: {e}") from e
    return chunks, tokens


def write_vectors(vdir: Path, vectors: np.ndarray) -> None:
    np.save(vdir / VECTORS, np.asarray(vectors, dtype=np.float32), allow_pickle=False)


def read_vectors(vdir: Path, n: int) -> np.ndarray:
    try:
        v = np.load(vdir / VECTORS, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise rebuild_hint(vdir, f"bad {VECTORS}: {e}") from e
    if v.ndim != 2 or v.shape[0] != n:
        raise rebuild_hint(vdir, f"{VECTORS} has shape {v.shape}, expected {n} rows")
    return v
