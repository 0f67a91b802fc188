"""Build or update the index in three steps: ``plan`` (scan, diff, chunk, tokenize; read-only) →
``embed`` (only chunks without a vector) → ``write`` (version directory, then swap). ``build_index``
composes them under the build lock.

Incremental: chunks of unchanged files are reused with their tokens and vectors; a changed file
is re-chunked and only chunks whose id (sha256 of source, locator, text) is new are embedded. A
different embedding model (id or checksum), passage prefix or chunker version rebuilds all.
The new version is written in its own directory and served only after ``CURRENT`` is switched.

At scale (10,000 documents) the costs that grow with the corpus are kept to the changed files:
unchanged files are not re-hashed (``scan``: size, mtime and inode as recorded by the previous
version), the Chroma collection is copied from the previous version and only the chunks that
changed are deleted or added (``chroma_write``), the content-word statistics the answerer
needs are updated from the previous version's and stored with the new one (``term_stats``), the
chunk files of the previous version are hard-linked and only a small delta written (``store``),
and BM25 is computed from stored token ids with numpy (``BM25Index.from_ids``).
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm import tqdm

from assistant.config import Settings
from assistant.errors import (
    AssistantError,
    IndexCorruptedError,
    IndexMissingError,
    ModelMissingError,
    ServiceUnavailableError,
)
from assistant.index import chroma as chroma_mod
from assistant.index import store, term_stats
from assistant.index.bm25 import BM25Index
from assistant.index.chroma_write import ChromaWrite, PreviousChroma, write_collection
from assistant.index.scan import scan
from assistant.ingest.chunking import CHUNKER_VERSION, ChunkConfig, chunk_document
from assistant.ingest.loaders import LoadWarning, load_documents, warn_stderr
from assistant.source_files import source_folders
from assistant.tokenize import tokenize_many, tokenizer_id
from assistant.types import Chunk


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class BuildReport:
    mode: str  # noop | incremental | full
    reason: str
    version: str | None = None
    documents: int = 0
    chunks: int = 0
    record_chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded: int = 0  # chunks embedded by this build
    reused: int = 0  # chunks whose vectors came from the previous version
    hashed: int = 0  # corpus files read and hashed (the others' hashes came from the previous manifest)
    chroma: str = ""  # "copied" (previous collection + changes) or "new" (every chunk added)
    chroma_added: int = 0  # chunks added to the Chroma collection by this build
    chroma_deleted: int = 0  # chunks deleted from the (copied) collection
    term_stats_tokenized: int = 0  # chunks tokenized to update the content-word statistics
    warnings: list[LoadWarning] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        secs = sum(self.timings.values())
        if self.mode == "noop":
            return f"index up to date ({self.chunks} chunks, version {self.version}); {secs:.2f}s"
        return (f"index {self.mode} build ({self.reason}): {self.documents} documents, {self.chunks} chunks "
                f"({self.record_chunks} from records); files added {len(self.added)}, changed "
                f"{len(self.changed)}, removed {len(self.removed)}; re-embedded {self.embedded} chunks, "
                f"reused {self.reused}; version {self.version}; {secs:.2f}s")


def default_embedder(settings: Settings) -> Any:
    """The configured embedder (loads the model; build_index calls it only when there is work)."""
    from assistant.embeddings import get_embedder

    return get_embedder(settings)


def configured_identity(settings: Settings) -> dict[str, Any] | None:
    """The identity the default embedder will have, from config and the model's manifest, without
    loading the model (so a no-op ``assistant index`` takes well under a second); None if unknown."""
    try:
        from assistant.embeddings import model_checksum, resolve_prefixes, resolve_source

        source = resolve_source(settings)
        return {"model_id": source.model_id, "checksum": model_checksum(source),
                "passage_prefix": resolve_prefixes(settings)[1]}
    except Exception:  # noqa: BLE001 - loading the model reports the real problem
        return None


def embedding_identity(embedder: Any, settings: Settings) -> dict[str, Any]:
    return {"model_id": str(getattr(embedder, "model_id", type(embedder).__name__)),
            "checksum": str(getattr(embedder, "checksum", "")),
            "passage_prefix": getattr(embedder, "passage_prefix", settings.passage_prefix)}


def compat_key(embedding: dict[str, Any], cfg: ChunkConfig) -> dict[str, Any]:
    """What must be equal for a previous version's chunks and vectors to be reused."""
    return {"format": store.CHUNK_FORMAT, "chunker_version": CHUNKER_VERSION,
            "chunk_config": {"max_chars": cfg.max_chars, "min_chars": cfg.min_chars},
            "embedding": embedding}


def chroma_target(settings: Settings) -> dict[str, Any]:
    return {"mode": "http" if settings.chroma_url else "persistent", "url": settings.chroma_url,
            "collection_prefix": chroma_mod.collection_prefix(settings)}


@dataclass
class _Previous:
    version: str
    manifest: dict[str, Any]
    stored: store.Stored
    directory: Path

    @property
    def chunks(self) -> list[Chunk]:
        return self.stored.chunks

    @property
    def token_ids(self) -> store.TokenIds:
        if "_tokens" not in self.__dict__:
            self.__dict__["_tokens"] = self.stored.tokens()
        return self.__dict__["_tokens"]  # type: ignore[no-any-return]

    @property
    def tokens(self) -> list[list[str]]:
        return self.token_ids.lists()

    @property
    def vectors(self) -> np.ndarray:
        if "_vectors" not in self.__dict__:
            self.__dict__["_vectors"] = self.stored.vectors()
        return self.__dict__["_vectors"]  # type: ignore[no-any-return]


def _load_previous(root: Path) -> _Previous | None:
    version = store.current_version(root)
    if version is None:
        return None
    vdir = root / version
    manifest = store.read_manifest(vdir)
    return _Previous(version, manifest, store.read_stored(vdir, manifest), vdir)


def _record_chunks(settings: Settings) -> tuple[list[Chunk], str]:
    """Chunks of the records tables (one per row), or [] with a reason when unavailable."""
    try:
        from assistant.records.load import load_records
        from assistant.records.render import record_chunks
    except ImportError as e:
        return [], f"records module unavailable ({e})"
    if not settings.records_path.is_dir():
        return [], f"no records folder {settings.records_path}"
    try:
        records = load_records(settings.records_path)
        chunks = list(record_chunks(records))
    except Exception as e:  # the documents are still indexed
        return [], f"records not loaded ({type(e).__name__}: {e})"
    problems = getattr(records, "problems", [])
    note = f"{len(problems)} record problems (see `assistant records validate`)" if problems else "ok"
    return [_tag(c, "records") for c in chunks], note


def _tag(c: Chunk, origin: str) -> Chunk:
    return Chunk(c.id, c.doc_id, c.source, c.text, c.locator, {**c.meta, "origin": origin})


def _dedupe(chunks: list[Chunk]) -> list[Chunk]:
    seen: set[str] = set()
    out: list[Chunk] = []
    for c in chunks:
        if c.id not in seen:
            seen.add(c.id)
            out.append(c)
    return out


def _embed(embedder: Any, texts: list[str], batch: int, progress: bool) -> np.ndarray:
    """Embed in batches of similar length (less padding), returned in the input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[list[float]] = [[] for _ in texts]
    with tqdm(total=len(texts), desc="embedding", unit="chunk", file=sys.stderr,
              disable=not progress or not texts, leave=False) as bar:
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            for i, v in zip(idx, embedder.embed_documents([texts[i] for i in idx]), strict=True):
                out[i] = v
            bar.update(len(idx))
    return np.asarray(out, dtype=np.float32)


@dataclass
class BuildPlan:
    """What a build will do, decided by ``plan`` (reads the corpus and the served version, never
    writes, never embeds). ``chunks``/``tokens`` are the new version's, in order."""

    mode: Literal["noop", "incremental", "full"]
    reason: str
    compat: dict[str, Any]
    previous: _Previous | None = None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # the manifest's "files"
    chunks: list[Chunk] = field(default_factory=list)
    token_ids: store.TokenIds | None = None  # BM25 tokens of ``chunks`` (None for a no-op: the previous version's)
    documents: int = 0
    record_chunks: int = 0
    records_module: bool = False
    records_note: str = "ok"
    warnings: list[LoadWarning] = field(default_factory=list)  # files skipped (unreadable)
    notes: list[str] = field(default_factory=list)  # what the build should log
    term_stats: term_stats.TermStats | None = None  # content-word df of ``chunks`` (None for a no-op)
    hashed: int = 0  # corpus files hashed by the scan
    scanned_ns: int = 0  # when the scan started (the manifest keeps it: see ``scan``)
    chroma_write: ChromaWrite | None = None  # set by ``write``

    @property
    def tokens(self) -> list[list[str]]:
        """The BM25 tokens of ``chunks``, as lists of words."""
        if self.token_ids is None:
            return self.previous.tokens if self.previous is not None else []
        return self.token_ids.lists()

    @property
    def to_embed(self) -> list[int]:
        """Positions in ``chunks`` whose vectors the previous version does not have."""
        have = {c.id for c in self.previous.chunks} if self.previous is not None else set()
        return [i for i, c in enumerate(self.chunks) if c.id not in have]


def _diff(prev_files: dict[str, dict[str, Any]], cur_files: dict[str, dict[str, Any]]
          ) -> tuple[list[str], list[str], list[str]]:
    """(added, changed, removed) sources, by content hash."""
    added = sorted(s for s in cur_files if s not in prev_files)
    changed = sorted(s for s in cur_files if s in prev_files and prev_files[s]["sha256"] != cur_files[s]["sha256"])
    removed = sorted(s for s in prev_files if s not in cur_files)
    return added, changed, removed


def plan(settings: Settings, identity: dict[str, Any], *, rebuild: bool = False,
         cfg: ChunkConfig | None = None) -> BuildPlan:
    """Compare the corpus with the served version: which files changed, the new version's chunks
    (those of unchanged files reused) and their BM25 tokens. ``identity`` is the embedder's
    (``embedding_identity``); a different one, chunker or format means a full build."""
    cfg = cfg or ChunkConfig()
    root = settings.index_path
    key = compat_key(identity, cfg)
    notes: list[str] = []
    prev: _Previous | None = None
    reason = "rebuild requested" if rebuild else "first build"
    if not rebuild:
        try:
            prev = _load_previous(root)
        except store.IndexCorrupted as e:
            notes.append(f"warning: {e}; rebuilding from scratch")
            reason = "previous index unreadable"
    if prev is not None and prev.manifest.get("compat") != key:
        reason = "embedding model, chunker or settings changed"
        notes.append(f"{reason}: rebuilding everything")
        prev = None
    prev_files: dict[str, dict[str, Any]] = prev.manifest.get("files", {}) if prev else {}
    found = scan(settings.documents_path, settings.records_path, settings.root, prev_files,
                 int(prev.manifest.get("scanned_ns", 0)) if prev else 0, folders=source_folders(settings.root, settings))
    doc_paths, doc_hashes, rec_hashes = found.doc_paths, found.doc_hashes, found.rec_hashes
    cur_files = {**{s: {"sha256": h, "kind": "documents", "stat": found.stats[s]} for s, h in doc_hashes.items()},
                 **{s: {"sha256": h, "kind": "records", "stat": found.stats[s]} for s, h in rec_hashes.items()}}
    added, changed, removed = _diff(prev_files, cur_files)
    records_module = _records_module_available()
    if (prev is not None and not added and not changed and not removed
            and prev.manifest.get("chroma") == chroma_target(settings)
            and prev.manifest.get("tokenizer") == tokenizer_id()
            and prev.manifest.get("records_module") == records_module):
        skipped = [LoadWarning(s, i["skipped"]) for s, i in sorted(prev_files.items()) if i.get("skipped")]
        return BuildPlan("noop", "no corpus change", key, prev, files=prev_files, chunks=prev.chunks,
                         documents=sum(1 for i in prev_files.values() if i["kind"] == "documents"
                                       and not i.get("skipped")),
                         record_chunks=sum(1 for c in prev.chunks if c.meta.get("origin") == "records"),
                         records_module=records_module, records_note=prev.manifest.get("records_note", "ok"),
                         warnings=skipped, notes=notes, hashed=found.hashed, scanned_ns=found.started_ns)
    if prev is not None:
        reason = "corpus changed"

    # Chunks: reuse those of unchanged files, chunk the rest.
    reuse_tokens = prev is not None and prev.manifest.get("tokenizer") == tokenizer_id()
    prev_by_source: dict[str, list[int]] = {}
    if prev is not None:
        for i, c in enumerate(prev.chunks):
            if c.meta.get("origin") == "documents":
                prev_by_source.setdefault(c.source, []).append(i)
    chunks: list[Chunk] = []
    warnings: list[LoadWarning] = []
    files_out: dict[str, dict[str, Any]] = {}
    for source in sorted(doc_paths):
        info = dict(cur_files[source])
        unchanged = prev is not None and source not in added and source not in changed
        if unchanged and prev_files[source].get("skipped"):
            info["skipped"] = prev_files[source]["skipped"]
            warnings.append(LoadWarning(source, info["skipped"]))
        elif unchanged and source in prev_by_source:
            idx = prev_by_source[source]
            chunks += [prev.chunks[i] for i in idx]  # type: ignore[union-attr]
            info["chunks"] = len(idx)
        else:
            docs, ws = load_documents([doc_paths[source]], settings.root, warn=lambda w: None,
                                      folders=source_folders(settings.root, settings))
            warnings += ws
            if ws:
                info["skipped"] = ws[0].reason
            for d in docs:
                new = [_tag(c, "documents") for c in chunk_document(d, cfg)]
                chunks += new
                info["chunks"] = len(new)
        files_out[source] = info
    files_out.update({s: cur_files[s] for s in rec_hashes})

    records_changed = prev is None or any(
        s in rec_hashes or prev_files.get(s, {}).get("kind") == "records" for s in added + changed + removed
    ) or prev.manifest.get("records_module") != records_module
    if records_changed:
        rec_chunks, note = _record_chunks(settings)
        if note != "ok":
            notes.append(f"warning: {note}" + ("; indexing documents only" if not rec_chunks else ""))
    else:
        rec_chunks = [c for c in prev.chunks if c.meta.get("origin") == "records"]  # type: ignore[union-attr]
        note = prev.manifest.get("records_note", "ok")  # type: ignore[union-attr]
    chunks += rec_chunks
    chunks = _dedupe(chunks)
    if not chunks:
        raise store.IndexMissing(f"nothing to index: no readable document under {settings.documents_path}")

    # BM25 tokens, cached per chunk id when the tokenizer is unchanged (kept as id arrays: the
    # previous version's rows are taken, only new chunks are tokenized).
    cached: dict[str, int] = {}
    if reuse_tokens and prev is not None:
        cached = {c.id: i for i, c in enumerate(prev.chunks)}
    todo = [i for i, c in enumerate(chunks) if c.id not in cached]
    fresh = store.TokenIds.from_lists(tokenize_many(chunks[i].text for i in todo))
    base = prev.token_ids if cached and prev is not None else store.TokenIds.from_lists([])
    at = {i: len(base) + k for k, i in enumerate(todo)}
    final = store.TokenIds.concat([base, fresh]).take([at[i] if i in at else cached[c.id]
                                                       for i, c in enumerate(chunks)])
    stats = term_stats.update(term_stats.read(prev.directory, len(prev.chunks)) if prev else None,
                              prev.chunks if prev else [], chunks)
    return BuildPlan("incremental" if prev is not None else "full", reason, key, prev, added, changed, removed,
                     files_out, chunks, final,
                     documents=sum(1 for s in doc_paths if not files_out[s].get("skipped")),
                     record_chunks=len(rec_chunks), records_module=records_module, records_note=note,
                     warnings=warnings, notes=notes, term_stats=stats, hashed=found.hashed,
                     scanned_ns=found.started_ns)


def embed(build: BuildPlan, embedder: Any, *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
    """Vectors of ``build.chunks`` in order: the previous version's where the chunk id is known,
    the embedder's for ``build.to_embed`` only."""
    prev = build.previous
    missing = build.to_embed
    new_vecs = _embed(embedder, [build.chunks[i].text for i in missing], batch_size, progress)
    if missing:
        dim = new_vecs.shape[1]
    elif prev is not None:
        dim = prev.vectors.shape[1]
    else:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = np.zeros((len(build.chunks), dim), dtype=np.float32)
    for j, i in enumerate(missing):
        vectors[i] = new_vecs[j]
    if prev is not None:
        row = {c.id: i for i, c in enumerate(prev.chunks)}
        for i, c in enumerate(build.chunks):
            if c.id in row:
                vectors[i] = prev.vectors[row[c.id]]
    return vectors


def write(build: BuildPlan, vectors: np.ndarray, settings: Settings, embedder: Any, *,
          progress: bool = False) -> str:
    """Write the new version (chunks, vectors, BM25, term statistics, Chroma, manifest), switch
    ``CURRENT`` to it and drop versions older than the one it replaces; returns the new version's
    name. ``build.chroma_write`` then says how the Chroma collection was written."""
    root = settings.index_path
    manifest = {
        "format": store.FORMAT_VERSION, "compat": build.compat, "tokenizer": tokenizer_id(),
        "chroma": chroma_target(settings), "dim": int(vectors.shape[1]), "files": build.files,
        "scanned_ns": build.scanned_ns,
        "records_module": build.records_module, "records_note": build.records_note,
        "counts": {"chunks": len(build.chunks), "documents": build.documents, "record_chunks": build.record_chunks},
        "settings": {"embedding_model": settings.embedding_model, "collection": settings.collection,
                     "config_hash": settings.config_hash()},
    }
    prev_chroma = None
    if build.previous is not None and build.previous.manifest.get("chroma") == chroma_target(settings):
        prev_chroma = PreviousChroma(build.previous.directory, {c.id for c in build.previous.chunks})
    stats = build.term_stats or term_stats.compute(build.chunks)
    tokens = build.token_ids if build.token_ids is not None else store.TokenIds.from_lists(build.tokens)
    previous = (build.previous.directory, build.previous.stored) if build.previous is not None else None
    version, chroma_write = _write_version(settings, embedder, build.chunks, tokens, vectors, manifest,
                                           stats, prev_chroma, previous, progress)
    build.chroma_write = chroma_write
    old = build.previous.version if build.previous is not None else _safe_current(root)
    store.set_current(root, version)
    keep = {version} | ({old} if old else set())
    store.remove_versions(root, keep)
    if settings.chroma_url:
        _drop_old_collections(settings, keep)
    return version


def build_index(settings: Settings, embedder: Any = None, *, rebuild: bool = False,
                progress: bool = True, cfg: ChunkConfig | None = None) -> BuildReport:
    """Build or update the index under ``settings.index_path`` (``plan`` → ``embed`` → ``write``,
    under the build lock); returns what was done. The model is loaded only when there is work."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with store.build_lock(settings.index_path):
        ident = configured_identity(settings) if embedder is None else embedding_identity(embedder, settings)
        if ident is None:
            embedder = default_embedder(settings)
            ident = embedding_identity(embedder, settings)
        build = plan(settings, ident, rebuild=rebuild, cfg=cfg)
        timings["plan"] = time.perf_counter() - t0
        for note in build.notes:
            log(note)
        for w in build.warnings:
            warn_stderr(w)
        if build.mode == "noop":
            return BuildReport("noop", build.reason, build.previous.version,  # type: ignore[union-attr]
                               documents=build.documents, chunks=len(build.chunks),
                               record_chunks=build.record_chunks, timings={"total": time.perf_counter() - t0})
        if embedder is None:  # something to build: now the model is needed
            embedder = default_embedder(settings)
            if embedding_identity(embedder, settings) != ident:
                raise ModelMissingError("the loaded embedding model does not match its manifest; "
                                        "run `assistant models prepare --force`")
        t = time.perf_counter()
        if build.to_embed:
            log(f"embedding {len(build.to_embed)} chunks with {ident['model_id']}")
        vectors = embed(build, embedder, batch_size=settings.embedding_batch_size, progress=progress)
        timings["embed"] = time.perf_counter() - t
        t = time.perf_counter()
        version = write(build, vectors, settings, embedder, progress=progress)
        timings["write"] = time.perf_counter() - t

    embedded = len(build.to_embed)
    cw = build.chroma_write or ChromaWrite("", 0, 0)
    return BuildReport(build.mode, build.reason, version, documents=build.documents, chunks=len(build.chunks),
                       record_chunks=build.record_chunks, added=build.added, changed=build.changed,
                       removed=build.removed, embedded=embedded, reused=len(build.chunks) - embedded,
                       hashed=build.hashed, chroma=cw.mode, chroma_added=cw.added, chroma_deleted=cw.deleted,
                       term_stats_tokenized=build.term_stats.tokenized if build.term_stats else 0,
                       warnings=build.warnings, timings=timings)


def _write_version(settings: Settings, embedder: Any, chunks: list[Chunk], tokens: store.TokenIds,
                   vectors: np.ndarray, manifest: dict[str, Any], stats: term_stats.TermStats,
                   previous_chroma: PreviousChroma | None, previous: tuple[Path, store.Stored] | None,
                   progress: bool) -> tuple[str, ChromaWrite]:
    """Write a complete version directory (and its Chroma collection); returns its name and how
    the collection was written. The manifest is written last: a version without one is incomplete.

    On error the half-written version is removed; a killed process leaves it for the next build.
    """
    version = store.new_version()
    vdir = settings.index_path / version
    cname = chroma_mod.collection_name(settings, version)
    vdir.mkdir(parents=True)
    try:
        parts, linked = store.write_stored(vdir, chunks, tokens, vectors, previous)
        BM25Index.from_ids(tokens).save(vdir / store.BM25_DIR)
        term_stats.write(vdir, stats)
        meta = {"version": version, "model_id": manifest["compat"]["embedding"]["model_id"]}
        cw = write_collection(settings, embedder, vdir, cname, meta, chunks, vectors, previous_chroma, progress)
        manifest = {**manifest, "version": version, "collection": cname, "parts": parts,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        store.write_json(vdir / store.MANIFEST, manifest)
        store.fsync_tree(vdir, skip=linked)
        store.completed(vdir)
    except BaseException:
        store.forget(vdir)
        shutil.rmtree(vdir, ignore_errors=True)
        raise
    return version, cw


def _records_module_available() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("assistant.records.render") is not None
    except (ImportError, ValueError):
        return False


def _safe_current(root: Path) -> str | None:
    try:
        return store.current_version(root)
    except store.IndexCorrupted:
        return None


def _drop_old_collections(settings: Settings, keep: set[str]) -> None:
    try:
        client = chroma_mod.make_client(settings, None)
        chroma_mod.drop_collections(client, chroma_mod.collection_prefix(settings),
                                    {chroma_mod.collection_name(settings, v) for v in keep})
    except Exception as e:  # old collections only waste space
        log(f"warning: could not remove old Chroma collections: {e}")


def index_command(settings: Settings, rebuild: bool = False, if_missing: bool = False,
                  embedder: Any = None) -> int:
    """``assistant index``: progress and warnings on stderr, the summary line on stdout; 0, or an
    ``AssistantError`` (no model or nothing to index: 1; unreadable index: 2; no Chroma server: 1)."""
    if if_missing and not rebuild:
        try:
            v = store.current_version(settings.index_path)
        except store.IndexCorrupted as e:
            raise IndexCorruptedError(str(e)) from e
        if v is not None:
            log(f"index exists ({v}); skipping (--if-missing)")
            return 0
    from assistant.embeddings import ModelNotPreparedError

    try:
        report = build_index(settings, embedder, rebuild=rebuild)
    except ModelNotPreparedError as e:  # the message says what to run
        raise ModelMissingError(str(e)) from e
    except store.IndexMissing as e:
        raise IndexMissingError(str(e)) from e
    except store.IndexCorrupted as e:
        raise IndexCorruptedError(str(e)) from e
    except AssistantError:
        raise
    except Exception as e:
        if settings.chroma_url and "connect" in f"{type(e).__name__} {e}".lower():
            raise ServiceUnavailableError(f"cannot reach the Chroma server at {settings.chroma_url} ({e})") from e
        raise
    print(report.summary(), flush=True)
    return 0
