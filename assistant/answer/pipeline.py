"""The default answerer: normalize → route → records engine | hybrid retrieval + extraction.

Models, index and records are loaded once per :class:`Assistant` (and cached per process by
their own modules); each ``ask`` only parses, filters and scores.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from assistant.answer import Asker
from assistant.answer.about import answer_about
from assistant.answer.claims import with_claims
from assistant.answer.documents import DocumentAnswerer, TermSource
from assistant.answer.extractive import Extractor
from assistant.answer.records_answer import records_answer
from assistant.chat import resolve
from assistant.config import Settings
from assistant.editions import Editions, as_of_in, without_as_of
from assistant.inputs import InputError, clean_history, clean_question, refusal
from assistant.protocols import Embedder, Retriever
from assistant.records.by_edition import cited_sources, newest_records
from assistant.records.engine import RecordsEngine
from assistant.records.load import RecordSet, load_records
from assistant.source_files import source_folders
from assistant.sources import SourceStore
from assistant.types import Answer, Hit
from assistant.understand.rewrite import Rewriter

log = logging.getLogger(__name__)
#: Up to this many documents, a question about "the document" is answered for all of them.
ABOUT_MAX_DOCUMENTS = 5

T = TypeVar("T")


def built_once(method: Callable[[Any], T]) -> property:
    """Like ``functools.cached_property``, but built at most once per instance even when several
    threads ask first at the same time (``cached_property`` has no lock since Python 3.12)."""
    name = method.__name__

    @wraps(method)
    def get(self: Any) -> T:
        try:
            return self.__dict__[name]
        except KeyError:
            pass
        with self._build_lock:
            if name not in self.__dict__:
                self.__dict__[name] = method(self)
            return self.__dict__[name]

    return property(get)


class Assistant:
    """Deterministic, cited answerer. Pass ``records``/``retriever`` to replace the defaults."""

    def __init__(self, settings: Settings, records: RecordSet | None = None, retriever: Retriever | None = None,
                 embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._records = records
        self._retriever = retriever
        self._embedder = embedder
        self.sources = SourceStore(settings.root, folders=source_folders(settings.root, settings))
        self._build_lock = threading.RLock()  # the lazily built parts below (extractor needs retriever)

    # -- lazily loaded parts (once per instance) --------------------------------------------------
    @built_once
    def all_records(self) -> RecordSet:
        return self._records or load_records(self.settings.records_path)

    @built_once
    def record_editions(self) -> Editions:
        return Editions.of_sources(cited_sources(self.all_records), self.sources.text, self.sources.title)

    @built_once
    def engine(self) -> RecordsEngine:
        """The records engine over the newest edition of each table's rows."""
        return RecordsEngine(newest_records(self.all_records, self.record_editions), source_text=self.sources.text)

    def engine_at(self, as_of: date) -> RecordsEngine:
        """The records engine over the rows of the editions valid at ``as_of`` (built once per date)."""
        with self._build_lock:
            cache = self.__dict__.setdefault("_engines_at", {})
            if as_of not in cache:
                cache[as_of] = RecordsEngine(newest_records(self.all_records, self.record_editions, as_of),
                                             source_text=self.sources.text)
            return cache[as_of]

    @built_once
    def retriever(self) -> Retriever:
        if self._retriever is not None:
            return self._retriever
        from assistant.retrieve import HybridRetriever

        return HybridRetriever.from_settings(self.settings, embedder=self._embedder)

    @built_once
    def document_sources(self) -> list[str]:
        """Sources of the indexed documents (not the record tables), in index order."""
        return list(dict.fromkeys(c.source for c in self.retriever.chunks() if c.meta.get("kind") == "document"))

    def _about_sources(self, question: str) -> list[str]:
        """Every document when there are few, else those the question retrieves: a corpus of
        thousands cannot be listed in one answer (10,000 documents: 1.7 s to read them all)."""
        if len(self.document_sources) <= ABOUT_MAX_DOCUMENTS:
            return self.document_sources
        return list(dict.fromkeys(h.chunk.source for h in self._search(question)))

    @built_once
    def extractor(self) -> Extractor:
        from assistant.retrieve import HybridRetriever
        from assistant.tokenize import content_terms, morphemes

        retriever = self.retriever
        if isinstance(retriever, HybridRetriever):  # the counts the index build stored (no Sudachi pass)
            stats = retriever.handle.term_stats()
            return Extractor(content_terms, stats.get, stats.n_chunks, self.settings.abstain_threshold,
                             morphemes=morphemes)
        df: Counter[str] = Counter()
        chunks = list(retriever.chunks())
        for c in chunks:
            df.update(set(content_terms(c.text)))
        return Extractor(content_terms, lambda t: df.get(t, 0), len(chunks), self.settings.abstain_threshold,
                         morphemes=morphemes)

    @built_once
    def rewriter(self) -> Rewriter:
        from assistant.tokenize import content_terms, morphemes

        explained = self.engine.coverage.explained

        def known(word: str) -> bool:
            terms = content_terms(word)
            return word.casefold() in explained or bool(terms) and all(self.extractor.df(t) > 0 for t in terms)

        progs = self.engine.records.programs
        names = [(p.ministry, "ministry") for p in progs]
        bureaus = [p.bureau for p in progs] + ["道路局"]
        return Rewriter(known, lambda name: [m[0] for m in morphemes(name)], names, bureaus)

    def warm_up(self) -> None:
        """Load everything now (the UI and batch runs call this once at start)."""
        _ = self.engine, self.retriever, self.extractor, self.document_sources, self.rewriter

    # -- answering -------------------------------------------------------------------------------
    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer ``question``; cleaned here unless the caller passed a :class:`~assistant.inputs.Question`."""
        t0 = time.perf_counter()
        try:
            q: str = clean_question(question, self.settings.max_question_chars)
        except InputError as err:
            return refusal(question, err)
        asked_before = clean_history(history, self.settings.max_question_chars)
        history = [self.rewriter.rewrite(h) for h in asked_before]
        q = self.rewriter.rewrite(q)
        about = answer_about(q, lambda: self._about_sources(q), self.sources.text, self.sources.title)
        if about is not None:
            about.question = question
            about.timings["total_ms"] = (time.perf_counter() - t0) * 1000
            return with_claims(about)
        # A point in time (「2023年12月時点で」) picks the records' edition when there are several.
        as_of = as_of_in(q) if self.record_editions.several() else None
        engine = self.engine if as_of is None else self.engine_at(as_of)
        rq_text = q if as_of is None else without_as_of(q)
        rq, retrieval_text = resolve(engine, rq_text, history)
        if as_of is not None:
            retrieval_text = q if retrieval_text == rq_text else retrieval_text
        context = " ".join(history) if retrieval_text != q else ""
        unexplained = engine.unexplained(rq_text, rq)
        result = None if unexplained else engine.run(rq)
        if rq.ambiguous and not (rq.municipalities or rq.prefectures):
            surface, names = rq.ambiguous[0]
            return Answer(question, f"「{surface}」は{'と'.join(names)}のどちらのことでしょうか。自治体名を漢字で"
                          "入力していただくか、都道府県名を添えてください。", route="records",
                          timings={"total_ms": (time.perf_counter() - t0) * 1000})
        if result is not None:
            ans = records_answer(q, result, self.sources.title)
            if rq.notes and not ans.abstained:
                ans.text = "".join(dict.fromkeys(rq.notes)) + "\n" + ans.text
            if ans.abstained and not result.text:
                ans = self._abstain(q, retrieval_text, reason="records", filters=result.filters)
        else:
            # A named program tells which column of a comparison table is meant (its ministry).
            hint = " ".join(f"{p.ministry} {p.bureau}" for p in engine.records.programs
                            if p.program_id in rq.programs)
            # Names typed by reading (ひょうご県, Ureshino) are searched in the documents' spelling.
            for typed, canonical in sorted(rq.spellings, key=lambda sc: -len(sc[0])):
                q, retrieval_text = q.replace(typed, canonical), retrieval_text.replace(typed, canonical)
            if rq.mlit_flag is not None:
                # A mark (※) has no words of its own for retrieval: search with what the records say it means.
                retrieval_text += " " + " ".join(engine._project_filters(replace(rq, years=[], technologies=[])))
            ans = self._documents(q, retrieval_text, context, hint)
            ans.meta["unexplained"] = unexplained
        ans.question = question
        ans.timings["total_ms"] = (time.perf_counter() - t0) * 1000
        ans.meta.setdefault("config_hash", self.settings.config_hash())
        ans.history = list(asked_before)
        return with_claims(ans)

    def _search(self, text: str) -> list[Hit]:
        """Document passages only: record rows were already asked through the records engine."""
        return self.retriever.search(text, k=self.settings.top_k, filters={"kind": "document"})

    @built_once
    def documents(self) -> DocumentAnswerer:
        from assistant.retrieve import HybridRetriever

        retriever = self.retriever
        # The index's own query embedder (the one its vectors were made with), else the given one.
        embedder = retriever.handle.embedder if isinstance(retriever, HybridRetriever) else self._embedder
        chunks = [c for c in retriever.chunks() if c.meta.get("kind", "document") == "document"]
        editions = Editions.of_sources(self.document_sources, self.sources.text, self.sources.title)
        return DocumentAnswerer(self._search, self.extractor, self.sources.text, self.sources.title,
                                self.settings.abstain_threshold,
                                term_source=TermSource(chunks, embedder, self.settings.var_path), editions=editions)

    def _documents(self, question: str, retrieval_text: str, context: str = "", column_hint: str = "") -> Answer:
        return self.documents.answer(question, retrieval_text, context, column_hint)

    def _abstain(self, question: str, retrieval_text: str, reason: str, hits: list[Hit] | None = None,
                 missing: list[str] | None = None, filters: list[str] | None = None) -> Answer:
        return self.documents.abstain(question, retrieval_text, reason, hits, missing, filters)


def build_assistant(settings: Settings, pipeline: str = "default", message: bool = True) -> Asker:
    """The answerer named by ``pipeline``: ``default`` (this module, deterministic, whatever else is
    configured), ``llm`` (generative answers over the default's evidence, behind the grounding guard:
    needs ``ASSISTANT_LLM_BASE_URL`` and ``ASSISTANT_LLM_MODEL``) or ``naive`` (baseline).
    The app and ``assistant ask`` pass ``settings.pipeline`` (``ASSISTANT_PIPELINE``).

    With ``message`` (the default) it is wrapped by :class:`~assistant.answer.message.MessageAsker`,
    which cleans the question once and splits helpdesk e-mails and memos into their questions; a plain
    question passes through. Without it, a bare ``llm`` answerer expects a cleaned
    :class:`~assistant.inputs.Question`."""
    if pipeline == "naive":
        from assistant.answer.naive import NaiveAssistant

        return NaiveAssistant(settings)
    if pipeline not in ("default", "llm"):
        raise ValueError(f"unknown pipeline: {pipeline}")
    if pipeline == "llm" and not (settings.llm_base_url and settings.llm_model):
        raise ValueError("pipeline 'llm' needs ASSISTANT_LLM_BASE_URL and ASSISTANT_LLM_MODEL")
    deterministic = Assistant(settings)
    base: Asker = deterministic
    if pipeline == "llm":
        from assistant.answer.llm import LLMAssistant, make_chat_model

        base = LLMAssistant(deterministic, make_chat_model(settings), deterministic.sources)
    if not message:
        return base
    from assistant.answer.message import MessageAsker

    return MessageAsker(base, max_chars=settings.max_question_chars, records=lambda: deterministic.engine)
