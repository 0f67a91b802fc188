"""The textbook RAG chain, kept as a yardstick: LangChain Chroma dense top-k on the same index and
embedder, answer = the best chunk's first sentence, one citation. No routing, no records engine,
no history, no abstention unless nothing is retrieved.
"""

from __future__ import annotations

import re
import time
from typing import Any

from langchain_core.embeddings import Embeddings

from assistant.answer import ABSTAIN_PHRASE
from assistant.answer.claims import with_claims
from assistant.config import Settings
from assistant.inputs import InputError, clean_question, refusal
from assistant.normalize import nfkc
from assistant.source_files import SourceTexts, source_folders
from assistant.types import Answer, Chunk, Citation, Hit

_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n")
_MARKUP = re.compile(r"^[\s#>*\-・|]+|\*\*|[\s|]+$")


def first_sentence(text: str) -> str:
    """The first non-empty sentence of ``text`` (split at 。！？!? and line breaks; markup trimmed)."""
    for part in _SENTENCE_END.split(text):
        s = _MARKUP.sub("", part).strip()
        if s:
            return s
    return text.strip()


def chunk_body(text: str, heading_path: str = "") -> str:
    """The chunk's own text, without the heading breadcrumb line (``A > B``) the chunker puts first.

    ``heading_path`` is the chunk's metadata: headings joined by ``|`` (Chroma keeps scalars only).
    """
    first, sep, rest = text.partition("\n")
    crumbs = [h.strip() for h in heading_path.split("|") if h.strip()]
    if crumbs and sep and [h.strip() for h in first.split(" > ")] == crumbs:
        return rest
    return text


def longest_common_substring(needle: str, haystack: str) -> str:
    """The longest substring of ``needle`` that occurs in ``haystack`` (binary search on length)."""
    if needle in haystack:
        return needle
    lo, hi, best = 1, len(needle) - 1, ""
    while lo <= hi:
        mid = (lo + hi) // 2
        found = next((needle[i:i + mid] for i in range(len(needle) - mid + 1) if needle[i:i + mid] in haystack),
                     None)
        if found is not None:
            best, lo = found, mid + 1
        else:
            hi = mid - 1
    return best


def _open_served(settings: Settings) -> tuple[Any, str]:
    """The Chroma client and collection name of the served index version."""
    from assistant.index import open_chroma_client, served_collection_name

    return open_chroma_client(settings), served_collection_name(settings)


class NaiveAssistant:
    """Dense top-k over the Chroma collection; the best chunk's first sentence is the answer."""

    route = "naive"

    def __init__(self, settings: Settings, embedder: Embeddings | None = None, client: Any = None,
                 collection_name: str | None = None) -> None:
        """``client``/``collection_name`` default to the served index (``assistant.index``)."""
        from langchain_chroma import Chroma

        if embedder is None:
            from assistant.embeddings import get_embedder

            embedder = get_embedder(settings)
        self.settings = settings
        if client is None:
            client, served = _open_served(settings)
            collection_name = collection_name or served
        self.store = Chroma(client=client, collection_name=collection_name or settings.collection,
                            embedding_function=embedder,
                            create_collection_if_not_exists=False)
        self.sources = SourceTexts(settings.root, folders=source_folders(settings.root, settings))

    def warm_up(self) -> None:
        """Nothing left to load: the constructor opened the collection and the embedder."""

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """The best chunk's first sentence; the question is cleaned (and refused) as at every entry."""
        t0 = time.perf_counter()
        try:
            question = clean_question(question, self.settings.max_question_chars)
        except InputError as err:
            return refusal(question, err)
        hits = self.store.similarity_search_with_score(question, k=self.settings.top_k)
        t1 = time.perf_counter()
        retrieved = [Hit(Chunk(str(d.metadata.get("id") or i), str(d.metadata.get("doc_id") or ""),
                               str(d.metadata.get("source", "")), d.page_content, str(d.metadata.get("locator", ""))),
                         float(s)) for i, (d, s) in enumerate(hits)]
        timings = {"retrieve_ms": (t1 - t0) * 1000}
        if not hits:
            return Answer(question=question, text=ABSTAIN_PHRASE, abstained=True, route=self.route,
                          timings={**timings, "total_ms": timings["retrieve_ms"]})
        best, _ = hits[0]
        sentence = first_sentence(chunk_body(best.page_content, str(best.metadata.get("heading_path") or "")))
        source = str(best.metadata.get("source", ""))
        text, _why = self.sources.text(source)
        quote = nfkc(sentence) if text is None else longest_common_substring(nfkc(sentence), text).strip()
        citation = Citation(source=source, locator=str(best.metadata.get("locator", "")), quote=quote,
                            title=str(best.metadata.get("title", "")))
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return with_claims(Answer(question=question, text=sentence, citations=[citation], abstained=False,
                                  route=self.route, timings=timings, evidence=retrieved))
