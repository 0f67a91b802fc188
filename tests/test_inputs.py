"""The question is cleaned once, at the outermost Asker: the layers below get a ``Question``."""

from __future__ import annotations

from typing import Any

import pytest

import assistant.inputs as inputs
from assistant.answer.llm import chain_inputs
from assistant.answer.message import MessageAsker
from assistant.inputs import MAX_HISTORY_TURNS, InputError, Question, clean_history, clean_question
from assistant.protocols import Asker
from assistant.types import Answer

HOSTILE = "\u202e地域実装協議会は支援終了後も\x00継続できますか？\U000e0041"
CLEAN = "地域実装協議会は支援終了後も継続できますか？"


@pytest.fixture
def strip_calls(monkeypatch) -> list[str]:
    """Every text :func:`assistant.inputs.strip_controls` cleans."""
    seen: list[str] = []
    real = inputs.strip_controls

    def counting(text: str) -> str:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(inputs, "strip_controls", counting)
    return seen


def test_question_is_not_cleaned_twice(strip_calls):
    q = clean_question(" \u200b令和4年度の選定数は？\x00 ", 100)
    assert type(q) is Question and q == "令和4年度の選定数は？" and len(strip_calls) == 1
    assert clean_question(q, 100) is q and len(strip_calls) == 1  # passed on, not cleaned again
    with pytest.raises(InputError) as err:  # still checked against the limit of the layer
        clean_question(q, 5)
    assert err.value.code == "too_long"
    with pytest.raises(InputError):
        clean_question(Question(""), 100)
    hist = clean_history([q, "前の\u202e質問"], 4)
    assert hist == ["令和4年", "前の質問"] and all(type(h) is Question for h in hist)
    assert len(strip_calls) == 2  # only the raw turn


class Spy:
    """A layer between the outermost Asker and ``Assistant`` (where ``LLMAssistant`` sits)."""

    def __init__(self, base: Asker) -> None:
        self.base = base
        self.seen: list[tuple[str, list[str] | None]] = []

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        self.seen.append((question, history))
        return self.base.ask(question, history)

    def warm_up(self) -> None:
        self.base.warm_up()


def test_outermost_asker_cleans_once_for_the_whole_stack(fake_assistant, strip_calls):
    """MessageAsker → layer → Assistant: each raw text cleaned once; the layers get Questions."""
    spy = Spy(fake_assistant)
    asker: Asker = MessageAsker(spy, max_chars=fake_assistant.settings.max_question_chars)
    history = ["\x1b[31m前の質問\u200b"] * 30
    ans = asker.ask(HOSTILE, history)
    assert len(strip_calls) == 1 + len(history) and strip_calls[0] == HOSTILE  # nothing again below
    [(q, hist)] = spy.seen
    assert type(q) is Question and q == CLEAN and ans.question == CLEAN and ans.route == "documents"
    assert hist == ["[31m前の質問"] * MAX_HISTORY_TURNS and all(type(h) is Question for h in hist or [])


def test_message_parts_are_not_cleaned_again(strip_calls):
    spy = Spy(Base())
    MessageAsker(spy, find_places=lambda t: [], max_chars=1000).ask(
        "R3年度に選定された事業について、①何件ですか、②そのうち自動運転を活用するのは何件ですか。")
    assert len(strip_calls) == 1 and len(spy.seen) == 2  # two parts, asked as Questions
    assert all(type(q) is Question and all(type(h) is Question for h in hist or []) for q, hist in spy.seen)


def test_chain_inputs_takes_the_text_as_given():
    inputs_ = chain_inputs(Question(CLEAN), [Question(f"q{i}") for i in range(30)], [])
    assert inputs_["question"] == CLEAN
    assert inputs_["history"].count("\n- q") == MAX_HISTORY_TURNS and "- q9\n" not in inputs_["history"]


class Base:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str] | None]] = []

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        self.calls.append((question, history))
        return Answer(question, "回答", route="documents")

    def warm_up(self) -> None:
        """Nothing to load."""


@pytest.mark.parametrize(("text", "code"), [("", "empty"), ("\u200b\x00 ", "empty"), ("あ" * 11, "too_long")])
def test_message_asker_refuses_before_its_base(text, code):
    base = Base()
    ans = MessageAsker(base, find_places=lambda t: [], max_chars=10).ask(text)
    assert ans.route == "error" and ans.meta["error"] == code and not base.calls


def test_message_asker_passes_the_cleaned_question_down():
    base = Base()
    ans = MessageAsker(base, find_places=lambda t: [], max_chars=100).ask(" R2年度の\u202e選定数は？ ", ["\x00前"])
    [(q, hist)] = base.calls
    assert type(q) is Question and q == "R2年度の選定数は？" and ans.question == q
    assert hist == ["前"] and all(type(h) is Question for h in hist or [])


def test_every_asker_has_warm_up(fake_assistant):
    from assistant.ui.app import _UnavailableAsker

    stack: list[Any] = [fake_assistant, MessageAsker(fake_assistant), _UnavailableAsker(), Base()]
    for a in stack:
        assert isinstance(a, Asker)
        a.warm_up()
