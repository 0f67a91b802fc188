"""Scan the corpus folders: source name, path and content hash of every file.

At 10,000 documents hashing every file and resolving every path took ~3 s of each build. Two
shortcuts, both exact:

* a file's source is ``relative_source(path, root)``; the resolved parent folder is computed once
  per folder and a file that is not a symbolic link resolves to ``resolved parent / name``;
* the sha256 of a file whose (size, mtime_ns, inode) equal the ones recorded by the previous
  version is taken from that version's manifest (the same test ``git status`` and ``make`` use;
  ``--rebuild`` hashes everything again). A file modified less than ``RACY_NS`` before the
  previous scan started is hashed again: a write in the same clock tick as that scan could have
  left its size and mtime unchanged ("racily clean" in git's words).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.ingest.loaders import corpus_files, relative_source
from assistant.source_files import SourceFolder

RACY_NS = 2_000_000_000


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_stat(st: os.stat_result) -> list[int]:
    """What must be equal for a file's recorded hash to be trusted."""
    return [st.st_size, st.st_mtime_ns, st.st_ino]


@dataclass
class Scan:
    doc_paths: dict[str, Path] = field(default_factory=dict)  # source -> path (documents)
    doc_hashes: dict[str, str] = field(default_factory=dict)
    rec_hashes: dict[str, str] = field(default_factory=dict)
    stats: dict[str, list[int]] = field(default_factory=dict)  # source -> file_stat
    hashed: int = 0  # files read and hashed by this scan (the rest: hash from the previous manifest)
    started_ns: int = 0  # wall clock (time_ns) when this scan started


class _Sources:
    """``relative_source`` with the resolved parent folder cached (a file outside the repository
    gets its folder's source id, ``documents:…``, from ``relative_source``)."""

    def __init__(self, root: Path, folders: Sequence[SourceFolder] | None = None) -> None:
        self.root = root.resolve()
        self.folders = folders
        self.parents: dict[Path, Path] = {}

    def __call__(self, p: Path) -> str:
        if p.is_symlink() or p.name in ("", ".", ".."):
            return relative_source(p, self.root, self.folders)
        parent = self.parents.get(p.parent)
        if parent is None:
            parent = self.parents[p.parent] = p.parent.resolve()
        resolved = parent / p.name
        try:
            return resolved.relative_to(self.root).as_posix()
        except ValueError:
            return relative_source(resolved, self.root, self.folders)


def scan(documents: Path, records: Path, root: Path, previous_files: dict[str, dict[str, Any]] | None = None,
         previous_scan_ns: int = 0, folders: Sequence[SourceFolder] | None = None) -> Scan:
    """Every document file and every records table (.csv/.tsv), with hashes (see the module doc).
    ``previous_files``/``previous_scan_ns``: the previous manifest's ``files`` and ``scanned_ns``."""
    prev = previous_files or {}
    out = Scan(started_ns=time.time_ns())
    trusted_before = previous_scan_ns - RACY_NS
    source = _Sources(root, folders)

    def digest(src: str, p: Path) -> str:
        st = p.stat()
        stat = file_stat(st)
        out.stats[src] = stat
        known = prev.get(src)
        if (known is not None and known.get("stat") == stat and known.get("sha256")
                and st.st_mtime_ns < trusted_before):
            return str(known["sha256"])
        out.hashed += 1
        return sha256_file(p)

    for p in corpus_files(documents):
        src = source(p)
        out.doc_paths[src] = p
        out.doc_hashes[src] = digest(src, p)
    for p in corpus_files(records):
        if p.suffix.lower() in (".csv", ".tsv"):
            src = source(p)
            out.rec_hashes[src] = digest(src, p)
    return out
