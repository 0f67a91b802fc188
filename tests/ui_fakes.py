"""A scripted Asker for UI tests: answers without the model, records what it was asked."""

from __future__ import annotations

from assistant.types import Answer, Citation

DEFAULT_CITATION = Citation(
    source="corpus/documents/mirai-gijutsu-torikumi-2023-03-15.md",
    locator="概要",
    quote="H30年度からR4年度までに合計53事業を選定",
    title="未来技術社会実装事業における最近の取組について",
)


class ScriptedAsker:
    """Replies ``reply`` (``{q}`` = the question) with ``citations``; raises when ``fail_on`` is in it."""

    def __init__(self, reply: str = "テスト回答です。質問は「{q}」でした。根拠をご確認ください。",
                 citations: list[Citation] | None = None, fail_on: str | None = None) -> None:
        self.reply = reply
        self.citations = [DEFAULT_CITATION] if citations is None else citations
        self.fail_on = fail_on
        self.calls: list[tuple[str, list[str] | None]] = []

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        self.calls.append((question, history))
        if self.fail_on and self.fail_on in question:
            raise RuntimeError("scripted failure with /secret/path in the traceback")
        return Answer(question=question, text=self.reply.format(q=question),
                      citations=list(self.citations), route="documents")

    def warm_up(self) -> None:
        """Nothing to load."""
