"""Optional: the LLM answerer against a real OpenAI-compatible server (llama.cpp, Ollama, vLLM…).

Runs only when ``ASSISTANT_LLM_BASE_URL`` and ``ASSISTANT_LLM_MODEL`` are set, e.g.
``ASSISTANT_LLM_BASE_URL=http://127.0.0.1:8080/v1 ASSISTANT_LLM_MODEL=qwen2.5-1.5b-instruct``.
Whatever the model replies, what is shown must be grounded and cited.
"""

from __future__ import annotations

import os

import pytest

from assistant.answer import ABSTAIN_PHRASE
from assistant.answer.llm import LLMAssistant, make_chat_model
from assistant.answer.pipeline import Assistant
from assistant.claims import verify
from assistant.config import Settings
from assistant.normalize import nfkc
from assistant.sources import SourceStore
from tests.answer_fakes import OverlapRetriever

pytestmark = pytest.mark.skipif(
    not (os.environ.get("ASSISTANT_LLM_BASE_URL") and os.environ.get("ASSISTANT_LLM_MODEL")),
    reason="no OpenAI-compatible server configured (set ASSISTANT_LLM_BASE_URL and ASSISTANT_LLM_MODEL, "
           "and ASSISTANT_LLM_API_KEY if the server needs one)",
)


@pytest.fixture(scope="module")
def llm() -> LLMAssistant:
    settings = Settings()
    return LLMAssistant(Assistant(settings, retriever=OverlapRetriever()), make_chat_model(settings),
                        SourceStore(settings.root))


@pytest.mark.parametrize("question", ["地域実装協議会は支援終了後も継続できますか？",
                                      "メールマガジンの配信頻度は？"])
def test_real_model_answers_are_grounded(llm, question):
    ans = llm.ask(question)
    assert ans.text and ans.meta.get("llm", {}).get("status") in ("accepted", "fallback", "abstained", None)
    if not ans.abstained:
        assert ans.citations
        for c in ans.citations:
            assert nfkc(c.quote) in llm.sources.text(c.source)
        assert verify(ans, llm.sources.text) == []


def test_real_model_does_not_answer_the_unanswerable(llm):
    ans = llm.ask("申請書の締切日は？")
    assert ans.abstained and ans.text.startswith(ABSTAIN_PHRASE)
