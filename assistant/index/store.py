"""On-disk layout of the index: versioned directories, a pointer file, a build lock.

```
index/
  CURRENT               name of the version being served (replaced atomically)
  .lock                 held (flock) by the one build running
  v20250101T120000-…/   one complete version:
    manifest.json       corpus file hashes, chunker version, embedding model, settings
    chunks.jsonl        the base part's chunks (format 2: without tokens; format 1: every chunk + tokens)
    tokens.npz          the base part's BM25 tokens (vocabulary, token ids, offsets per chunk)
    vectors.npy         the base part's embeddings (the embedding cache)
    chunks.delta.jsonl  the delta part: chunks added since the base was written
    tokens.delta.npz    … their tokens
    vectors.delta.npy   … their vectors
    order.npy           the version's chunks, in index order, as rows of base + delta
    bm25/               bm25s index over the Sudachi tokens
    term_df.json        content-word document frequencies (``term_stats``)
    chroma/             Chroma PersistentClient data (absent in server mode)
```
A build writes a new version directory and only then switches ``CURRENT`` (``os.replace``), so a
crash mid-build leaves the previous version serving; leftovers are removed by the next build.

Format 2 (``manifest["format"]``) splits the chunks into a large **base** part and a small
**delta**: a build that changes a few documents hard-links the previous version's base files
(never written again once the version is complete, so sharing them is safe; they are not fsynced
again) and writes only the delta (the previous delta's live chunks + the new ones) and the order.
Chunks removed since the base stay in its files and are left out by ``order.npy``; when the
delta or the dead rows grow past ``COMPACT_FRACTION`` of the base, the build writes a new base.
A format-1 version (one ``chunks.jsonl`` with tokens + ``vectors.npy``) is still read.
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
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import IndexCorruptedError, IndexMissingError
from assistant.types import Chunk

FORMAT_VERSION = 2  # the layout of a version directory (see the module docstring)
READABLE_FORMATS = (1, 2)
CHUNK_FORMAT = 1  # what a chunk, its tokens and vector mean (in the build's compat key: reuse across layouts)
POINTER = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
VECTORS = "vectors.npy"
TOKENS = "tokens.npz"
DELTA_CHUNKS = "chunks.delta.jsonl"
DELTA_TOKENS = "tokens.delta.npz"
DELTA_VECTORS = "vectors.delta.npy"
ORDER = "order.npy"
BASE_FILES = (CHUNKS, TOKENS, VECTORS)
COMPACT_FRACTION = 0.2
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


def fsync_tree(path: Path, skip: Collection[Path] = ()) -> None:
    """Flush every file under ``path`` to disk (before the pointer switch); ``skip``: files
    hard-linked from a complete version (flushed when that version was written)."""
    for p in sorted(path.rglob("*")):
        if p.is_file() and p not in skip:
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
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def read_manifest(vdir: Path) -> dict[str, Any]:
    try:
        data = json.loads((vdir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise rebuild_hint(vdir, f"bad {MANIFEST}: {e}") from e
    if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
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
    """A version's chunks in index order and their BM25 tokens (either format)."""
    manifest = read_manifest(vdir)
    if manifest.get("format") == 1:
        return _read_chunks_v1(vdir)
    st = read_stored(vdir, manifest, vectors=False)
    return st.chunks, st.tokens().lists()


def _read_chunks_v1(vdir: Path) -> tuple[list[Chunk], list[list[str]]]:
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
    """A version's vectors in index order (either format)."""
    manifest = read_manifest(vdir)
    if manifest.get("format") == 1:
        return _read_vectors_v1(vdir, n)
    v = read_stored(vdir, manifest, tokens=False).vectors()
    if len(v) != n:
        raise rebuild_hint(vdir, f"{len(v)} vectors, expected {n}")
    return v


def _read_vectors_v1(vdir: Path, n: int) -> np.ndarray:
    return _read_matrix(vdir, VECTORS, n)


def _read_matrix(vdir: Path, name: str, n: int) -> np.ndarray:
    """An ``n``-row 2-D array of the version (IndexCorrupted with a rebuild hint if damaged)."""
    try:
        v = np.load(vdir / name, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise rebuild_hint(vdir, f"bad {name}: {e}") from e
    if v.ndim != 2 or v.shape[0] != n:
        raise rebuild_hint(vdir, f"{name} has shape {v.shape}, expected {n} rows")
    return v


# -- format 2: base + delta parts ------------------------------------------------------------------
@dataclass
class TokenIds:
    """BM25 tokens of a run of chunks as arrays: chunk ``i`` has ``vocab[j] for j in ids[ptr[i]:ptr[i+1]]``."""

    vocab: list[str]
    ids: np.ndarray  # int32
    ptr: np.ndarray  # int64, len(chunks) + 1

    @classmethod
    def from_lists(cls, tokens: Iterable[Sequence[str]]) -> TokenIds:
        vocab: dict[str, int] = {}
        flat: list[int] = []
        lens: list[int] = []
        for tk in tokens:
            flat += [vocab.setdefault(t, len(vocab)) for t in tk]
            lens.append(len(tk))
        ptr = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(lens, out=ptr[1:])
        return cls(list(vocab), np.asarray(flat, dtype=np.int32), ptr)

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def lists(self) -> list[list[str]]:
        v, ids, p = self.vocab, self.ids.tolist(), self.ptr.tolist()
        return [[v[j] for j in ids[p[i]:p[i + 1]]] for i in range(len(self))]

    def take(self, rows: Sequence[int] | np.ndarray) -> TokenIds:
        """The tokens of ``rows``, in that order (same vocabulary)."""
        r = np.asarray(rows, dtype=np.int64)
        starts = self.ptr[r]
        lens = self.ptr[r + 1] - starts
        ptr = np.zeros(len(r) + 1, dtype=np.int64)
        np.cumsum(lens, out=ptr[1:])
        idx = np.repeat(starts - ptr[:-1], lens) + np.arange(ptr[-1], dtype=np.int64)
        return TokenIds(self.vocab, self.ids[idx], ptr)

    @staticmethod
    def concat(parts: Sequence[TokenIds]) -> TokenIds:
        vocab: dict[str, int] = {}
        ids: list[np.ndarray] = []
        lens: list[np.ndarray] = []
        for p in parts:
            remap = np.asarray([vocab.setdefault(t, len(vocab)) for t in p.vocab], dtype=np.int32)
            ids.append(remap[p.ids] if len(p.ids) else np.zeros(0, dtype=np.int32))
            lens.append(np.diff(p.ptr))
        ptr = np.zeros(sum(len(x) for x in lens) + 1, dtype=np.int64)
        if lens:
            np.cumsum(np.concatenate(lens), out=ptr[1:])
        flat = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32)
        return TokenIds(list(vocab), flat.astype(np.int32, copy=False), ptr)

    def compact(self) -> TokenIds:
        """The same tokens with the vocabulary reduced to the words used."""
        used, inv = np.unique(self.ids, return_inverse=True)
        return TokenIds([self.vocab[j] for j in used.tolist()], inv.astype(np.int32).reshape(-1), self.ptr)


def _chunk_json(c: Chunk) -> str:
    return json.dumps({"id": c.id, "doc_id": c.doc_id, "source": c.source, "text": c.text,
                       "locator": c.locator, "meta": c.meta}, ensure_ascii=False, default=str)


@dataclass
class Part:
    """One stored run of chunks (the base or the delta of a version) with tokens and vectors."""

    chunks: list[Chunk]
    tokens: TokenIds
    vectors: np.ndarray


def write_part(vdir: Path, names: tuple[str, str, str], part: Part) -> None:
    chunks_name, tokens_name, vectors_name = names
    with open(vdir / chunks_name, "w", encoding="utf-8") as f:
        f.writelines(_chunk_json(c) + "\n" for c in part.chunks)
    t = part.tokens.compact()
    with open(vdir / tokens_name, "wb") as f:
        np.savez(f, vocab=np.asarray(t.vocab, dtype=str), ids=t.ids, ptr=t.ptr)
    np.save(vdir / vectors_name, np.asarray(part.vectors, dtype=np.float32), allow_pickle=False)


def _json_loads() -> Any:
    try:  # a dependency of chromadb; 2x faster than json on 20 MB of chunks
        import orjson

        return orjson.loads
    except ImportError:  # pragma: no cover
        return json.loads


def _read_chunk_lines(path: Path) -> list[Chunk]:
    loads = _json_loads()
    out: list[Chunk] = []
    for line in path.read_bytes().splitlines():
        d = loads(line)
        out.append(Chunk(d["id"], d["doc_id"], d["source"], d["text"], d["locator"], d["meta"]))
    return out


def read_part(vdir: Path, names: tuple[str, str, str], n: int, *, tokens: bool = True,
              vectors: bool = True) -> Part:
    """A part of ``n`` chunks (IndexCorrupted with a rebuild hint if damaged); tokens and vectors
    only when asked for (serving needs neither)."""
    chunks_name, tokens_name, vectors_name = names
    try:
        chunks = _read_chunk_lines(vdir / chunks_name)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise rebuild_hint(vdir, f"bad {chunks_name}: {e}") from e
    if len(chunks) != n:
        raise rebuild_hint(vdir, f"{chunks_name} has {len(chunks)} chunks, manifest says {n}")
    tk = TokenIds([], np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64))
    if tokens:
        try:
            with np.load(vdir / tokens_name, allow_pickle=False) as z:
                tk = TokenIds(z["vocab"].tolist(), z["ids"].astype(np.int32), z["ptr"].astype(np.int64))
        except (OSError, ValueError, KeyError) as e:
            raise rebuild_hint(vdir, f"bad {tokens_name}: {e}") from e
        if len(tk) != n or (len(tk.ids) and (int(tk.ids.max()) >= len(tk.vocab) or int(tk.ptr[-1]) != len(tk.ids))):
            raise rebuild_hint(vdir, f"{tokens_name} does not match {chunks_name}")
    vec = _read_matrix(vdir, vectors_name, n) if vectors else np.zeros((n, 0), dtype=np.float32)
    return Part(chunks, tk, vec)


BASE = (CHUNKS, TOKENS, VECTORS)
DELTA = (DELTA_CHUNKS, DELTA_TOKENS, DELTA_VECTORS)


@dataclass
class Stored:
    """A version's chunks as stored: ``base`` + ``delta`` rows, ``order[i]`` = row of chunk ``i``
    (format 1: everything in ``base``, ``order`` = 0..n-1)."""

    base: Part
    delta: Part
    order: np.ndarray  # int64
    chunks: list[Chunk]  # in index order

    def tokens(self) -> TokenIds:
        return TokenIds.concat([self.base.tokens, self.delta.tokens]).take(self.order)

    def vectors(self) -> np.ndarray:
        parts = [v for v in (self.base.vectors, self.delta.vectors) if v.shape[1]]
        if not parts:
            return np.zeros((len(self.order), 0), dtype=np.float32)
        return np.concatenate(parts)[self.order] if len(parts) > 1 else parts[0][self.order]


# The last version written or read with tokens and vectors, per directory: a process that builds
# again (the UI adding documents one by one) does not read 20 MB of chunks back. A version is
# never modified once complete; the files' (size, mtime, inode) are compared all the same.
_CACHE: dict[Path, tuple[tuple[Any, ...], Stored]] = {}
STORED_FILES = (MANIFEST, *BASE_FILES, DELTA_CHUNKS, DELTA_TOKENS, DELTA_VECTORS, ORDER)


def _stamp(vdir: Path) -> tuple[Any, ...] | None:
    out = []
    for name in STORED_FILES:
        try:
            st = os.stat(vdir / name)
        except OSError:
            return None
        out.append((name, st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(out)


def _remember(vdir: Path, stored: Stored) -> None:
    stamp = _stamp(vdir)
    if stamp is not None:
        _CACHE.clear()  # one version kept (the previous one of the next build)
        _CACHE[vdir] = (stamp, stored)


def cached_reads() -> int:
    """How many ``read_stored`` calls were answered from memory (tests)."""
    return _HITS[0]


_HITS = [0]


def read_stored(vdir: Path, manifest: dict[str, Any], *, tokens: bool = True, vectors: bool = True) -> Stored:
    """The chunks of a version of either format (see the module docstring)."""
    hit = _CACHE.get(vdir)
    if hit is not None and manifest.get("format") == FORMAT_VERSION and hit[0] == _stamp(vdir):
        _HITS[0] += 1
        return hit[1]
    st = _read_stored(vdir, manifest, tokens=tokens, vectors=vectors)
    if tokens and vectors and manifest.get("format") == FORMAT_VERSION:
        _remember(vdir, st)
    return st


def _read_stored(vdir: Path, manifest: dict[str, Any], *, tokens: bool, vectors: bool) -> Stored:
    n = manifest.get("counts", {}).get("chunks")
    if manifest.get("format") == 1:
        chunks, tk = _read_chunks_v1(vdir)
        if n != len(chunks):
            raise rebuild_hint(vdir, f"{CHUNKS} has {len(chunks)} chunks, manifest says {n}")
        vec = _read_vectors_v1(vdir, len(chunks)) if vectors else np.zeros((len(chunks), 0), dtype=np.float32)
        empty = Part([], TokenIds([], np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64)),
                     np.zeros((0, vec.shape[1]), dtype=np.float32))
        return Stored(Part(chunks, TokenIds.from_lists(tk) if tokens else empty.tokens, vec), empty,
                      np.arange(len(chunks), dtype=np.int64), chunks)
    parts = manifest.get("parts", {})
    try:
        n_base, n_delta = int(parts["base"]), int(parts["delta"])
    except (KeyError, TypeError, ValueError) as e:
        raise rebuild_hint(vdir, f"{MANIFEST} does not describe the chunk files") from e
    base = read_part(vdir, BASE, n_base, tokens=tokens, vectors=vectors)
    delta = read_part(vdir, DELTA, n_delta, tokens=tokens, vectors=vectors)
    try:
        order = np.load(vdir / ORDER, allow_pickle=False).astype(np.int64)
    except (OSError, ValueError) as e:
        raise rebuild_hint(vdir, f"bad {ORDER}: {e}") from e
    if order.ndim != 1 or len(order) != n or (len(order) and (order.min() < 0 or order.max() >= n_base + n_delta)):
        raise rebuild_hint(vdir, f"{ORDER} does not match the chunk files ({n} chunks)")
    rows = base.chunks + delta.chunks
    return Stored(base, delta, order, [rows[i] for i in order.tolist()])


def write_stored(vdir: Path, chunks: list[Chunk], tokens: TokenIds, vectors: np.ndarray,
                 previous: tuple[Path, Stored] | None) -> tuple[dict[str, int], set[Path]]:
    """Write the chunk files of a new version: the previous version's base hard-linked when it
    still holds most of the chunks (see the module docstring), else a new base. Returns the
    manifest's ``parts`` and the files linked (already durable: not to be fsynced again)."""
    n = len(chunks)
    if previous is not None:
        pdir, prev = previous
        base_rows = {c.id: i for i, c in enumerate(prev.base.chunks)}
        rows: list[int] = []
        fresh: list[int] = []
        for i, c in enumerate(chunks):
            j = base_rows.get(c.id)
            if j is not None and prev.base.chunks[j] == c:
                rows.append(j)
            else:
                rows.append(-1)
                fresh.append(i)
        n_base = len(prev.base.chunks)
        dead = n_base - (n - len(fresh))
        small = len(fresh) <= COMPACT_FRACTION * n_base and dead <= COMPACT_FRACTION * n_base
        if small and n_base and all((pdir / f).is_file() for f in BASE):
            linked = set()
            for f in BASE:
                os.link(pdir / f, vdir / f)
                linked.add(vdir / f)
            order = np.asarray(rows, dtype=np.int64)
            order[fresh] = n_base + np.arange(len(fresh), dtype=np.int64)
            delta = Part([chunks[i] for i in fresh], tokens.take(fresh), vectors[fresh])
            write_part(vdir, DELTA, delta)
            np.save(vdir / ORDER, order, allow_pickle=False)
            pending[vdir] = Stored(prev.base, delta, order, chunks)
            return {"base": n_base, "delta": len(fresh)}, linked
    base = Part(chunks, tokens, vectors)
    delta = Part([], tokens.take([]), vectors[:0])
    write_part(vdir, BASE, base)
    write_part(vdir, DELTA, delta)
    order = np.arange(n, dtype=np.int64)
    np.save(vdir / ORDER, order, allow_pickle=False)
    pending[vdir] = Stored(base, delta, order, chunks)
    return {"base": n, "delta": 0}, set()


# Written by ``write_stored``, remembered by ``completed`` once the manifest is written.
pending: dict[Path, Stored] = {}


def completed(vdir: Path) -> None:
    """The version in ``vdir`` is complete (manifest written, flushed): remember what was written."""
    st = pending.pop(vdir, None)
    if st is not None:
        _remember(vdir, st)


def forget(vdir: Path) -> None:
    pending.pop(vdir, None)
