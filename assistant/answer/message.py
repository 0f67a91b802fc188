"""Answers to whole helpdesk messages: one answer per question, combined into one :class:`Answer`.

:class:`MessageAsker` wraps the default answerer. A plain one-question message goes to it
unchanged. Otherwise each question of the message (:mod:`assistant.understand.message`) is asked
with the earlier questions as history (so 「そのうち」 in ② refers to ①), and the answers are
numbered as the user numbered them, each with its own citations (``meta["parts"]``). A part the
documents do not cover says so while the others are answered; the message is abstained only
when no part is answered. The entity taken from the self-introduction is named in the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from assistant.answer import ABSTAIN_PHRASE, Asker
from assistant.answer.claims import with_claims
from assistant.claims.model import Computation
from assistant.config import Settings
from assistant.inputs import InputError, Question, clean_history, clean_question, refusal
from assistant.records.engine import RecordsEngine
from assistant.types import Answer, Citation
from assistant.understand.message import Message, Sender, analyze

#: The line that says quoted earlier mail was left aside (the reply draft words it its own way).
QUOTED_NOTE = "（引用された過去のメールの内容には回答していません。）"

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


@runtime_checkable
class RecordsBacked(Protocol):
    """An answerer with a records engine (``Assistant``)."""

    @property
    def engine(self) -> RecordsEngine: ...


def _label(i: int, given: str) -> str:
    if given and given != "・":
        return given
    return _CIRCLED[i] if i < len(_CIRCLED) else f"({i + 1})"


class MessageAsker:
    """An :class:`~assistant.answer.Asker` for helpdesk messages around ``base``.

    It is the outermost answerer: the message and its history are cleaned here, once
    (:func:`~assistant.inputs.clean_question`, ``max_chars``: default the setting's default), and
    ``base`` gets each question as an already cleaned :class:`~assistant.inputs.Question`.
    ``find_places`` (the records lexicon) and ``known`` (is a place in the records) default to the
    records engine given by ``records`` (``build_assistant`` passes the deterministic answerer's),
    else to the base's own when it is :class:`RecordsBacked`."""

    def __init__(self, base: Asker, find_places: Callable[[str], list[Any]] | None = None,
                 known: Callable[[Sender], bool] | None = None, max_chars: int | None = None,
                 records: Callable[[], RecordsEngine] | None = None) -> None:
        self.base = base
        self._find = find_places
        self._known = known
        self.max_chars = max_chars if max_chars is not None else Settings.model_fields["max_question_chars"].default
        if records is None and isinstance(base, RecordsBacked):
            records = lambda: base.engine  # noqa: E731 - built lazily, on the first message
        self._records = records

    # -- the records the sender is checked against -------------------------------------------------
    def _engine(self) -> RecordsEngine | None:
        return self._records() if self._records is not None else None

    def find_places(self, text: str) -> list[Any]:
        """Places of ``text``; a municipality named without its prefecture gets the table's one."""
        if self._find is not None:
            return self._find(text)
        engine = self._engine()
        if engine is None:
            return []
        terms = list(engine.lexicon.find(text))
        if any(t.kind == "municipality" for t in terms) and not any(t.kind == "prefecture" for t in terms):
            muni = next(t for t in terms if t.kind == "municipality")
            prefs = {p.prefecture for p in engine.records.projects if muni.value in p.municipalities}
            if len(prefs) == 1:
                terms.insert(0, replace(muni, kind="prefecture", value=prefs.pop(), end=muni.start))
        return terms

    def known(self, sender: Sender) -> bool:
        if self._known is not None:
            return self._known(sender)
        engine = self._engine()
        if engine is None:
            return True
        if sender.unknown_place:
            return False
        projects = engine.records.projects
        if sender.municipality:
            return any(sender.municipality in p.municipalities for p in projects)
        return any(p.prefecture == sender.prefecture for p in projects)

    def warm_up(self) -> None:
        self.base.warm_up()

    def program_names(self) -> list[str]:
        engine = self._engine()
        return [p.program_name for p in engine.records.programs] if engine is not None else []

    def analyze(self, question: str, history: list[str] | None = None) -> Message:
        return analyze(question, self.find_places, history or [], program_names=self.program_names())

    # -- answering ---------------------------------------------------------------------------------
    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        t0 = time.perf_counter()
        try:
            question = clean_question(question, self.max_chars)
        except InputError as err:
            return refusal(question, err)
        history = list(clean_history(history, self.max_chars))
        try:
            msg = self.analyze(question, history)
        except Exception:  # noqa: BLE001 - analysis must never cost the plain answer
            msg = None
        if msg is None or msg.plain or not msg.questions:
            return self.base.ask(question, history)
        # Earlier turns that were messages are replaced by their questions (follow-ups read them).
        turns: list[str] = []
        for h in history:
            try:
                hm = self.analyze(h, turns)
            except Exception:  # noqa: BLE001
                hm = None
            turns.extend([Question(q.text) for q in hm.questions] if hm is not None and not hm.plain and hm.questions
                         else [h])
        answers: list[Answer] = []
        for q in msg.questions:  # the parts are cut from the cleaned text: not cleaned again
            earlier = [] if q.standalone else turns + [Question(a.question) for a in answers]
            answers.append(self.base.ask(Question(q.text), earlier))
            answers[-1].question = q.text
        ans = combine(question, msg, answers, sender_known=self.known(msg.sender) if msg.sender else True)
        ans.timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return ans


def _key(c: Citation) -> tuple[str, str, str]:
    return (c.source, c.locator, c.quote)


def combine(question: str, msg: Message, answers: list[Answer], sender_known: bool = True) -> Answer:
    """One answer for the message: numbered parts, merged citations, per-part indexes in meta."""
    citations: list[Citation] = []
    index: dict[tuple[str, str, str], int] = {}
    parts: list[dict[str, Any]] = []
    lines: list[str] = []
    sender = msg.sender
    uses_sender = any(q.uses_sender for q in msg.questions)
    if sender is not None and uses_sender:
        if sender_known:
            lines.append(f"{sender.name}の事業について:")
        else:
            lines.append(f"{sender.name}は、未来技術社会実装事業の支援対象事業一覧にありません"
                         "（一覧に含まれていません）。")
    multi = len(answers) > 1
    computations: list[Computation] = []
    for i, (q, a) in enumerate(zip(msg.questions, answers, strict=True)):
        idx: list[int] = []
        for c in a.citations:
            k = _key(c)
            if k not in index:
                index[k] = len(citations)
                citations.append(c)
            idx.append(index[k])
        computations += [replace(c, rows=tuple(idx[r] for r in c.rows)) for c in a.computations]
        label = _label(i, q.label) if multi else ""
        text = a.text.strip()
        if multi:
            if a.abstained:
                text = f"{label}（{q.original.rstrip('。')}）は{text}" if text.startswith(ABSTAIN_PHRASE) else (
                    f"{label} {text}")
            else:
                text = f"{label} {text}"
        lines.append(text)
        parts.append({"label": label, "text": q.text, "answer": a.text, "abstained": a.abstained,
                      "route": a.route, "citations": idx})
    if msg.quoted:
        lines.append(QUOTED_NOTE)
    abstained = all(a.abstained for a in answers)
    routes = {a.route for a in answers}
    route = routes.pop() if len(routes) == 1 else "message"
    meta: dict[str, Any] = {"parts": parts, "message": True}
    if sender is not None:
        meta["sender"] = {"name": sender.name, "surface": sender.surface, "entity": sender.entity, "prefecture": sender.prefecture,
                          "municipality": sender.municipality or sender.unknown_place, "known": sender_known}
    if msg.quoted:
        meta["quoted_left_aside"] = True
    for a in answers:
        for k, v in a.meta.items():
            meta.setdefault(k, v)
    evidence = [h for a in answers for h in a.evidence]
    return with_claims(Answer(question, "\n".join(lines), citations, abstained, route, {}, meta, evidence=evidence,
                              computations=computations))


def build_message_asker(settings: Settings, base: Asker) -> MessageAsker:
    """``base`` wrapped for helpdesk messages (unchanged when it already is)."""
    return base if isinstance(base, MessageAsker) else MessageAsker(base, max_chars=settings.max_question_chars)
