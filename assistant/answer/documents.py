"""Document answers: hybrid retrieval → the passage that answers, quoted exactly; or abstain.

An abstention says plainly that the documents do not say it, and quotes the nearest facts
that are there (cited) so the user sees what the documents do cover.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.answer import ABSTAIN_PHRASE
from assistant.answer.extractive import Extractor, clean, exact_quote
from assistant.types import Answer, Citation, Hit


class DocumentAnswerer:
    """Answers from retrieved passages. ``search(text) -> hits`` retrieves document chunks only."""

    def __init__(self, search: Callable[[str], list[Hit]], extractor: Extractor,
                 source_text: Callable[[str], str], source_title: Callable[[str], str],
                 abstain_threshold: float) -> None:
        self.search = search
        self.extractor = extractor
        self.source_text = source_text
        self.source_title = source_title
        self.abstain_threshold = abstain_threshold

    def answer(self, question: str, retrieval_text: str, context: str = "", column_hint: str = "") -> Answer:
        hits = self.search(retrieval_text)
        retrieved = [{"source": h.chunk.source, "text": h.chunk.text, "locator": h.chunk.locator} for h in hits]
        missing = self.extractor.missing_terms(question)
        # A word the corpus never uses is fatal when it is what the question asks about
        # (「締切日は？」); elsewhere (「解散になる？」) the rest must then be covered more fully.
        fatal = bool(missing) and (not (focus := self.extractor.focus(question)) or bool(set(missing) & set(focus)))
        strict = self.abstain_threshold + 0.25 if missing else None
        found = None if fatal else self.extractor.answer(question, hits, self.source_text,
                                                           self.source_title, context=context,
                                                           min_coverage=strict, column_hint=column_hint)
        if found is None:
            ans = self.abstain(question, retrieval_text, reason="missing_terms" if missing else "low_coverage",
                               hits=hits, missing=missing)
            ans.meta["retrieved"] = retrieved
            return ans
        text, cites, coverage = found
        return Answer(question, text, cites, abstained=False, route="documents",
                      meta={"coverage": round(coverage, 3), "retrieved": retrieved})

    def abstain(self, question: str, retrieval_text: str, reason: str, hits: list[Hit] | None = None,
                missing: list[str] | None = None, filters: list[str] | None = None) -> Answer:
        """「資料に記載がありません」 plus the nearest facts that are there (cited)."""
        hits = hits if hits is not None else self.search(retrieval_text)
        near: list[Citation] = []
        for h in hits[:2]:
            units = [u for u in (h.chunk.meta.get("body") or h.chunk.text).splitlines() if len(u.strip()) >= 8]
            for u in units[:1]:
                quote = exact_quote(u, self.source_text(h.chunk.source))
                if quote:
                    near.append(Citation(h.chunk.source, h.chunk.locator, quote, self.source_title(h.chunk.source)))
        text = f"{ABSTAIN_PHRASE}。"
        if missing:
            text += "（資料にない語: " + "、".join(missing) + "）"
        if near:
            text += "\n関連する記載: " + " / ".join(f"{clean(c.quote)}（{c.locator}）" for c in near)
        return Answer(question, text, near, abstained=True, route="abstain",
                      meta={"reason": reason, "filters": filters or [], "missing": missing or []})
