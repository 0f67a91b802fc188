"""Answering: router, records engine answers, extractive answers, abstention, naive baseline.

Every answerer implements :class:`Asker`; build one with
``assistant.answer.pipeline.build_assistant(settings, pipeline="default" | "naive")``.
"""

from __future__ import annotations

from typing import Protocol

from assistant.types import Answer

#: The fixed phrase of an abstention (qa-format: the assistant says the documents lack it).
ABSTAIN_PHRASE = "資料に記載がありません"


class Asker(Protocol):
    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer ``question`` given earlier user turns (oldest first)."""
        ...
