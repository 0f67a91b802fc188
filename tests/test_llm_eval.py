"""``assistant eval --llm``: the LLM answerer is evaluated and its guard interventions reported."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.answer import ABSTAIN_PHRASE
from assistant.answer.llm import LLMAssistant
from assistant.config import Settings
from assistant.errors import UsageError
from assistant.evaluate import eval_command
from assistant.sources import SourceStore
from assistant.types import Answer, Chunk, Citation, Hit

SRC = "corpus/documents/doc.md"
DOC = "# 制度\n\n支援期間は選定から5年です。\n\nR4:10事業、R3:7事業。\n"
QA = [
    {"id": "q1", "category": "process", "question": "支援期間は？", "expected": ["5年"]},
    {"id": "q2", "category": "count", "question": "R3の選定数は？", "expected": ["7事業"]},
    {"id": "q3", "category": "unanswerable", "question": "予算の内訳は？", "answerable": False},
]


def retrieved(text: str) -> list[Hit]:
    return [Hit(Chunk("c", SRC, SRC, text, "制度"), 1.0)]


class ScriptedBase:
    """The deterministic answerer's stand-in: fixed answers with their evidence."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sources = SourceStore(settings.root)
        self.script = {
            "支援期間は？": Answer("", "支援期間は選定から5年です。", [Citation(SRC, "制度", "支援期間は選定から5年です。")],
                               coverage=0.9, evidence=retrieved("支援期間は選定から5年です。")),
            "R3の選定数は？": Answer("", "R4:10事業、R3:7事業。", [Citation(SRC, "制度", "R4:10事業、R3:7事業。")],
                                coverage=0.8, evidence=retrieved("R4:10事業、R3:7事業。")),
            "予算の内訳は？": Answer("", f"{ABSTAIN_PHRASE}。", abstained=True, route="abstain",
                                reason="missing_terms", evidence=retrieved("R4:10事業、R3:7事業。")),
        }

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        a = self.script[question]
        return replace(a, question=question, citations=list(a.citations), meta=dict(a.meta))

    def warm_up(self) -> None:
        pass


def test_eval_llm_reports_guard_interventions(tmp_path: Path, capsys):
    (tmp_path / "corpus/documents").mkdir(parents=True)
    (tmp_path / SRC).write_text(DOC, encoding="utf-8")
    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QA), encoding="utf-8")
    settings = Settings(root=tmp_path, llm_base_url="http://127.0.0.1:9/v1", llm_model="scripted")
    built: list[str] = []

    def factory(s: Settings, pipeline: str) -> LLMAssistant:
        built.append(pipeline)
        replies = ["支援期間は選定から5年です[S1]。", "R3は8事業です[S1]。"]  # the second is wrong
        base = ScriptedBase(s)
        return LLMAssistant(base, FakeListChatModel(responses=replies), base.sources)

    code = eval_command(settings, qa, llm=True, factory=factory, progress=False)
    assert code == 0 and built == ["llm"]
    report = json.loads((tmp_path / "eval/reports/latest/report.json").read_text(encoding="utf-8"))
    summary = report["pipelines"]["llm"]["summary"]
    assert summary["accuracy"] == 1.0  # the wrong count was replaced by the extractive answer
    assert summary["guard"] == {"llm_calls": 2, "accepted": 1, "llm_abstained": 0, "interventions": 1,
                                "rate": 0.5, "by_reason": {"ungrounded_number": 1}, "partially_kept": 0,
                                "sentences_dropped": {}, "skipped": {"abstain": 1}}
    assert summary["latency_by_route"].keys() >= {"llm", "documents", "abstain"}
    out = capsys.readouterr().out
    assert "Guard (llm): 1 interventions in 2 LLM answers (rate 50.0%" in out and "ungrounded_number 1" in out


def test_eval_llm_without_configuration_is_a_usage_error(tmp_path: Path, capsys):
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps(QA[0], ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match="ASSISTANT_LLM_BASE_URL") as err:
        eval_command(Settings(root=tmp_path), qa, llm=True, progress=False)
    assert err.value.exit_code == 2
