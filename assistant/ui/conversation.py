"""Per-session conversation state and its export (Markdown, JSON).

The Markdown export names each citation's document by title and place (the file name only, no
folder); the JSON export keeps each citation as given (``source`` included) for tools."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from assistant.types import Citation
from assistant.ui.render import place_label


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass
class Turn:
    """One question and its answer, as shown in the chat."""

    question: str
    history: list[str]
    answer: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    route: str = ""
    error: bool = False
    asked_at: str = field(default_factory=_now)
    message_index: int = -1  # index of the answer in the Chatbot's message list
    feedback_id: int | None = None
    vote: str | None = None
    meta: dict = field(default_factory=dict)  # the answer's meta (message parts, sender) for the reply draft


@dataclass
class Conversation:
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    turns: list[Turn] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # rendered Chatbot messages (role, content)
    last_rated: int | None = None  # index into turns of the latest vote (the comment goes there)

    def user_history(self) -> list[str]:
        """Earlier user turns, oldest first (errors excluded: they were never answered)."""
        return [t.question for t in self.turns if not t.error]

    def turn_at_message(self, index: int) -> int | None:
        for i, t in enumerate(self.turns):
            if t.message_index == index:
                return i
        return None


def to_json(conv: Conversation, config_hash: str) -> str:
    data = {
        "session_id": conv.session_id,
        "exported_at": _now(),
        "config_hash": config_hash,
        "turns": [
            {k: v for k, v in asdict(t).items() if k not in ("message_index", "feedback_id")}
            for t in conv.turns
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def to_markdown(conv: Conversation, config_hash: str) -> str:
    lines = ["# 会話の記録", "", f"- 出力日時: {_now()}", f"- 設定ハッシュ: {config_hash}", ""]
    for n, t in enumerate(conv.turns, 1):
        lines += [f"## 質問 {n}", "", f"> {t.question}".replace("\n", "\n> "), "", "### 回答", "",
                  t.answer, ""]
        if t.citations:
            lines += ["### 根拠", ""]
            for i, c in enumerate(t.citations, 1):
                where = " — ".join(x for x in (c.title or "資料", place_label(c.locator)) if x)
                lines.append(f"{i}. {where}: 「{c.quote}」（ファイル名: {Path(c.source).name}）")
            lines.append("")
    return "\n".join(lines)


def export_stem(conv: Conversation) -> str:
    """``会話の記録_2026-12-01_1430``: the date and time the conversation began (its first question)."""
    started = conv.turns[0].asked_at if conv.turns else _now()
    try:
        when = datetime.fromisoformat(started)
    except ValueError:
        when = datetime.now().astimezone()
    return f"会話の記録_{when:%Y-%m-%d_%H%M}"


def write_exports(conv: Conversation, config_hash: str, folder: Path) -> tuple[Path, Path]:
    """Write ``会話の記録_<date>_<time>.md`` and ``.json`` into ``folder/<session>/`` (a folder per
    conversation, so two conversations begun in the same minute keep their own files)."""
    sub = folder / conv.session_id[:12]
    sub.mkdir(parents=True, exist_ok=True)
    stem = export_stem(conv)
    md, js = sub / f"{stem}.md", sub / f"{stem}.json"
    md.write_text(to_markdown(conv, config_hash), encoding="utf-8")
    js.write_text(to_json(conv, config_hash), encoding="utf-8")
    return md, js
