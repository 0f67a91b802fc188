"""Scan the corpus folders: source name, path and content hash of every file.

At 10,000 documents hashing every file and resolving every path took ~3 s of each build. Three
shortcuts, all exact:

* the folder is listed once with ``os.scandir`` (``list_files``: the files ``corpus_files``
  lists, in its order, each with its ``stat`` from the listing: ``rglob`` + ``is_file`` + a
  ``Path`` per file took ~0.5 s at 10,000 files);
* a file's source is ``relative_source(path, root)``; the resolved parent folder is computed once
  per folder and a file that is not a symbolic link resolves to ``resolved parent / name`` (inside
  the repository: the folder's relative path + ``/`` + name, as a string);
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

from assistant.ingest.loaders import relative_source
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


def list_files(directory: Path) -> list[tuple[Path, os.stat_result, bool]]:
    """``corpus_files(directory)`` (every non-hidden file but README.md, sorted as paths; symbolic
    links to files included, linked folders not entered) as (path, stat, is a symbolic link)."""
    if not directory.is_dir():
        return []
    found: list[tuple[tuple[str, ...], str, os.stat_result, bool]] = []

    def walk(folder: str, rel: tuple[str, ...]) -> None:
        with os.scandir(folder) as it:
            entries = list(it)
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir():
                    if not e.is_symlink():
                        walk(e.path, (*rel, e.name))
                    continue
                if e.is_file() and e.name.lower() != "readme.md":
                    found.append(((*rel, e.name), e.path, e.stat(), e.is_symlink()))
            except OSError:  # vanished or unreadable meanwhile: not listed, like ``is_file``
                continue

    walk(str(directory), ())
    found.sort(key=lambda f: f[0])
    return [(Path(path), st, link) for _, path, st, link in found]


class _Sources:
    """``relative_source`` with the resolved parent folder cached (a file outside the repository
    gets its folder's source id, ``documents:…``, from ``relative_source``)."""

    def __init__(self, root: Path, folders: Sequence[SourceFolder] | None = None) -> None:
        self.root = root.resolve()
        self.folders = folders
        self.parents: dict[Path, tuple[Path, str | None]] = {}

    def __call__(self, p: Path, is_link: bool | None = None) -> str:
        if (p.is_symlink() if is_link is None else is_link) or p.name in ("", ".", ".."):
            return relative_source(p, self.root, self.folders)
        known = self.parents.get(p.parent)
        if known is None:
            parent = p.parent.resolve()
            try:
                rel = parent.relative_to(self.root).as_posix()
                prefix: str | None = "" if rel == "." else rel + "/"
            except ValueError:
                prefix = None
            known = self.parents[p.parent] = (parent, prefix)
        parent, prefix = known
        if prefix is not None:
            return prefix + p.name
        return relative_source(parent / p.name, self.root, self.folders)


def scan(documents: Path, records: Path, root: Path, previous_files: dict[str, dict[str, Any]] | None = None,
         previous_scan_ns: int = 0, folders: Sequence[SourceFolder] | None = None) -> Scan:
    """Every document file and every records table (.csv/.tsv), with hashes (see the module doc).
    ``previous_files``/``previous_scan_ns``: the previous manifest's ``files`` and ``scanned_ns``."""
    prev = previous_files or {}
    out = Scan(started_ns=time.time_ns())
    trusted_before = previous_scan_ns - RACY_NS
    source = _Sources(root, folders)

    def digest(src: str, p: Path, st: os.stat_result) -> str:
        stat = file_stat(st)
        out.stats[src] = stat
        known = prev.get(src)
        if (known is not None and known.get("stat") == stat and known.get("sha256")
                and st.st_mtime_ns < trusted_before):
            return str(known["sha256"])
        out.hashed += 1
        return sha256_file(p)

    for p, st, link in list_files(documents):
        src = source(p, link)
        out.doc_paths[src] = p
        out.doc_hashes[src] = digest(src, p, st)
    for p, st, link in list_files(records):
        if p.suffix.lower() in (".csv", ".tsv"):
            src = source(p, link)
            out.rec_hashes[src] = digest(src, p, st)
    return out
