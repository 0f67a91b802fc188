"""Ingest: load corpus files (md, txt, pdf, html) and cut them into chunks."""

from assistant.ingest.chunking import CHUNKER_VERSION, ChunkConfig, chunk_document, chunk_documents
from assistant.ingest.loaders import (
    SUPPORTED,
    LoadError,
    LoadWarning,
    corpus_files,
    load_document,
    load_documents,
)

__all__ = [
    "CHUNKER_VERSION", "ChunkConfig", "chunk_document", "chunk_documents",
    "SUPPORTED", "LoadError", "LoadWarning", "corpus_files", "load_document", "load_documents",
]
