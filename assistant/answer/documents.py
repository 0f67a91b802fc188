"""Document answers: hybrid retrieval → the passage that answers, quoted exactly; or abstain.

1. Words of the question that the corpus never uses are mapped to the corpus's own words
   (:mod:`assistant.answer.term_map`: 窓口 → 問合せ先, 感想 → 声, シンポ → シンポジウム); the mapped
   words count for retrieval, scoring and the focus check.
2. A passage answers only when it contains the asked-about focus, has the kind of value asked for
   (a date for いつまでに, a number for 何人…) and every qualifier the question names (a year, a
   quoted term) — :mod:`assistant.answer.relevance`.
3. Otherwise the answer says plainly, in polite Japanese, that the documents do not say it, and
   quotes what they say nearby (cited).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answer import ABSTAIN_PHRASE
from assistant.answer.extractive import Extractor, Unit, clean, exact_quote
from assistant.answer.relevance import asked_types
from assistant.answer.term_map import TermMap, cache_path, rewrite
from assistant.editions import Editions, as_of_in, without_as_of
from assistant.protocols import Embedder
from assistant.types import Answer, Chunk, Citation, Hit

log = logging.getLogger(__name__)


class DocumentAnswerer:
    """Answers from retrieved passages. ``search(text) -> hits`` retrieves document chunks only.

    ``term_map`` maps words the corpus lacks; without one it is built on first use from
    ``term_source`` (none: words the corpus lacks are not mapped).
    """

    def __init__(self, search: Callable[[str], list[Hit]], extractor: Extractor,
                 source_text: Callable[[str], str], source_title: Callable[[str], str],
                 abstain_threshold: float, term_map: TermMap | None = None,
                 term_source: TermSource | None = None, editions: Editions | None = None) -> None:
        self.search = search
        self.editions = editions
        self.term_source = term_source
        self.extractor = extractor
        self.source_text = source_text
        self.source_title = source_title
        self.abstain_threshold = abstain_threshold
        self._term_map = term_map
        self._term_map_built = term_map is not None
        self._lock = threading.Lock()

    # -- the term map ------------------------------------------------------------------------------
    @property
    def term_map(self) -> TermMap | None:
        if not self._term_map_built:
            with self._lock:
                if not self._term_map_built:
                    try:
                        self._term_map = (build_term_map(self.term_source, self.extractor)
                                          if self.term_source is not None else None)
                    except Exception as err:  # noqa: BLE001 - answering without it beats failing
                        log.warning("term map unavailable (%s); unknown words are not mapped", err)
                        self._term_map = None
                    self._term_map_built = True
        return self._term_map

    # -- answering ---------------------------------------------------------------------------------
    def answer(self, question: str, retrieval_text: str, context: str = "", column_hint: str = "") -> Answer:
        ex = self.extractor
        as_of = as_of_in(question) if self.editions is not None and self.editions.several() else None
        if as_of is not None:  # 「2023年12月時点で」 picks the edition; the passage need not state it
            question, retrieval_text = without_as_of(question), without_as_of(retrieval_text)
        rw = rewrite(question, lambda t: ex.df(t) > 0, ex.tokens, self.term_map)
        q = rw.text
        extra = " ".join(dict.fromkeys(m.target for m in rw.mapped if m.target not in retrieval_text))
        hits = self.search(f"{retrieval_text} {extra}" if extra else retrieval_text)
        other_editions: list[Hit] = []
        if self.editions is not None and self.editions.several():
            hits, other_editions = self.editions.split(hits, as_of)
        mapped = [f"{m.source}→{m.target}" for m in rw.mapped]
        missing = ex.missing_terms(q)
        require = ex.requirements(q)
        if context and not require.types:  # 「では防災の例は？」 after 「…はどこ？」: still a place
            require.types = [a for a in asked_types(context) if a.strict]
        focus = ex.focus(q)
        asked = set(focus) | (set() if require.container else set(ex.kind(q)))
        # A word the corpus never uses is fatal when it is what the question asks about
        # (「締切日は？」); elsewhere (「解散になる？」) the rest must then be covered more fully.
        fatal = bool(missing) and (not focus or bool(set(missing) & asked))
        strict = self.abstain_threshold + 0.25 if missing else None
        if fatal:
            ans = self.abstain(question, retrieval_text, reason="missing_terms", hits=hits, missing=missing,
                               unknown=rw.unknown or missing)
        else:
            aliases: dict[str, frozenset[str]] = {}
            for m in rw.mapped:
                alt = frozenset(t for a in m.alternatives for t in ex.tokens(a))
                for t in ex.tokens(m.target):
                    aliases[t] = aliases.get(t, frozenset()) | (alt - {t})
            found = ex.find(q, hits, self.source_text, self.source_title, context=context,
                            min_coverage=strict, column_hint=column_hint, require=require, aliases=aliases)
            if found.text is not None:
                text, cites = found.text, list(found.citations)
                if other_editions:
                    old = ex.find(q, other_editions, self.source_text, self.source_title, context=context,
                                  min_coverage=strict, column_hint=column_hint, require=require, aliases=aliases)
                    text, cites = edition_note(text, cites, old.text, old.citations, self.editions, self.source_title)
                return Answer(question, text, cites, abstained=False, route="documents",
                              evidence=[*hits, *other_editions], coverage=round(found.coverage, 3),
                              meta={"mapped": mapped})
            reason = found.reason
            if reason == "low_coverage" and missing:
                reason = "missing_terms"
            detail = require.describe(reason)
            ans = self.abstain(question, retrieval_text, reason=reason, hits=hits, missing=missing,
                               unknown=rw.unknown if reason == "missing_terms" else None,
                               detail=detail, near=found.near)
        ans.evidence = list(hits)
        ans.meta["mapped"] = mapped
        return ans

    def abstain(self, question: str, retrieval_text: str, reason: str, hits: list[Hit] | None = None,
                missing: list[str] | None = None, filters: list[str] | None = None, *,
                unknown: list[str] | None = None, detail: str = "", near: list[Unit] | None = None) -> Answer:
        """「資料に記載がありません」, what is not there, and the nearest facts that are there (cited)."""
        hits = hits if hits is not None else self.search(retrieval_text)
        cites = self._near_citations(near or [], hits)
        text = f"{ABSTAIN_PHRASE}。"
        if detail:
            text += detail
        elif unknown:
            text += "資料には、" + "、".join(f"「{w}」" for w in unknown) + "についての記載が見当たりません。"
        elif reason != "records":
            text += "資料には、ご質問に直接当たる記載は見当たりませんでした。"
        if cites:
            text += "\n関連する記載: " + " / ".join(f"{clean(c.quote)}（{c.locator}）" for c in cites)
        return Answer(question, text, cites, abstained=True, route="abstain", reason=reason,
                      meta={"filters": filters or [], "missing": missing or []})

    def _near_citations(self, near: list[Unit], hits: list[Hit]) -> list[Citation]:
        out: list[Citation] = []
        for u in near[:2]:
            quote = exact_quote(u.quote, self.source_text(u.hit.chunk.source))
            if quote and len(clean(quote)) >= 6:
                out.append(Citation(u.hit.chunk.source, u.locator(), quote,
                                    self.source_title(u.hit.chunk.source)))
        if out:
            return out
        for h in hits[:2]:
            units = [u for u in (h.chunk.meta.get("body") or h.chunk.text).splitlines() if len(u.strip()) >= 8]
            for u in units[:1]:
                quote = exact_quote(u, self.source_text(h.chunk.source))
                if quote:
                    out.append(Citation(h.chunk.source, h.chunk.locator, quote, self.source_title(h.chunk.source)))
        return out


def edition_note(text: str, cites: list[Citation], old_text: str | None, old_cites: Sequence[Citation],
                 editions: Editions | None, title: Callable[[str], str]) -> tuple[str, list[Citation]]:
    """The answer from the edition in use, with what the other edition says when it differs:
    「（2024年3月版による。2023年3月版では「…」）」, citing both editions and their dates."""
    if editions is None or not cites or not old_text or not old_cites or clean(old_text) == clean(text):
        return text, cites
    new = editions.by_source.get(cites[0].source)
    old = editions.by_source.get(old_cites[0].source)
    if new is None or old is None or new.source == old.source:
        return text, cites
    said = "、".join(f"「{clean(c.quote)}」" for c in old_cites[:2])
    note = f"（{new.label}による。{old.label}では{said}）"
    dated = [Citation(e.source, "資料の日付", e.date_quote, title(e.source)) for e in (new, old) if e.date_quote]
    return f"{text}\n{note}", [*cites, *old_cites, *dated]


@dataclass(frozen=True)
class TermSource:
    """What the term map is built from: the document chunks, the query embedder of the index
    (None: words are mapped by spelling only) and where its vectors are cached."""

    chunks: Sequence[Chunk]
    embedder: Embedder | None = None
    cache_dir: Path | None = None


def build_term_map(source: TermSource, extractor: Extractor) -> TermMap:
    """The corpus's term map, its embedding vectors computed in the background."""
    embed = None
    cache = None
    embedder = source.embedder
    if embedder is not None:
        def embed(texts: list[str]) -> np.ndarray:
            # A question's few words one by one: single queries run on one thread (~30 ms each);
            # a small batch would use the batch threads (~1 s when the other core is busy).
            if len(texts) <= 8:
                return np.asarray([embedder.embed_query(t) for t in texts], dtype=np.float32)
            return np.asarray(embedder.embed_queries(texts), dtype=np.float32)

        if source.cache_dir is not None:
            cache = cache_path(source.cache_dir, embedder.model_id, embedder.checksum)
    tm = TermMap.from_texts((c.text for c in source.chunks), extractor.tokens, embed=embed, cache_file=cache)
    tm.start_vectors()  # in the background; the first question needing them waits (bounded)
    return tm
