"""The index: Chroma (dense) + bm25s over Sudachi tokens (sparse), versioned and swapped atomically.

``build_index`` / ``index_command`` build or update it; ``load_index`` opens the served version.
"""

from assistant.index.build import BuildReport, build_index, index_command
from assistant.index.load import (
    IndexHandle,
    IndexIncompatible,
    clear_cache,
    load_index,
    open_chroma_client,
    served_collection_name,
)
from assistant.index.store import IndexCorrupted, IndexMissing

__all__ = [
    "BuildReport", "build_index", "index_command", "IndexHandle", "IndexIncompatible",
    "clear_cache", "load_index", "open_chroma_client", "served_collection_name", "IndexCorrupted", "IndexMissing",
]
