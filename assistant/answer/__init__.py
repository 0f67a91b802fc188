"""Answering: router, records engine answers, extractive answers, abstention, naive baseline.

Every answerer implements :class:`Asker` (:mod:`assistant.protocols`); build one with
``assistant.answer.pipeline.build_assistant(settings, pipeline="default" | "llm" | "naive")``.
"""

from __future__ import annotations

from assistant.protocols import Asker

__all__ = ["ABSTAIN_PHRASE", "Asker"]

#: The fixed phrase of an abstention (qa-format: the assistant says the documents lack it).
ABSTAIN_PHRASE = "資料に記載がありません"
