"""``assistant ask``: one question for a person, or JSON Lines in/out (shared/qa-format.md)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from assistant.answer import Asker
from assistant.config import Settings
from assistant.types import Answer


def answer_to_json(item_id: Any, answer: Answer, latency_ms: float) -> dict[str, Any]:
    return {
        "id": item_id,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [{"source": c.source, "locator": c.locator, "quote": c.quote} for c in answer.citations],
        "route": answer.route,
        "latency_ms": round(latency_ms, 1),
    }


def run_jsonl(asker: Asker, stdin: TextIO, stdout: TextIO, max_chars: int = 2000) -> int:
    """Answer each JSON line; a malformed line yields an error object and the batch goes on."""
    for n, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        item_id: Any = None
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("a JSON object is required")
            item_id = item.get("id")
            question = item.get("question")
            history = item.get("history") or []
            if not isinstance(question, str):
                raise ValueError("'question' must be a string")
            if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
                raise ValueError("'history' must be a list of strings")
        except (ValueError, json.JSONDecodeError) as exc:
            out = {"id": item_id, "error": f"line {n}: {exc}"[:300]}
        else:
            t0 = time.perf_counter()
            try:
                ans = asker.ask(question, history)
                out = answer_to_json(item_id, ans, (time.perf_counter() - t0) * 1000)
            except Exception as exc:  # noqa: BLE001 - one bad question must not end the batch
                print(f"error on line {n}: {type(exc).__name__}: {exc}", file=sys.stderr)
                out = {"id": item_id, "error": f"line {n}: internal error ({type(exc).__name__})"}
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def format_answer(answer: Answer) -> str:
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("根拠:")
        for i, c in enumerate(answer.citations, 1):
            lines.append(f"  [{i}] {c.title or c.source} — {c.locator}")
            lines.append(f"      「{c.quote}」 ({c.source})")
    return "\n".join(lines)


def ask_command(settings: Settings, question: str | None = None, jsonl: bool = False) -> int:
    from assistant.answer.pipeline import build_assistant

    asker = build_assistant(settings)
    if jsonl:
        return run_jsonl(asker, sys.stdin, sys.stdout, settings.max_question_chars)
    if question is not None:
        print(format_answer(asker.ask(question)))
        return 0
    # Interactive: earlier turns of this session are the history.
    history: list[str] = []
    print("質問を入力してください（終了: Ctrl-D）。", file=sys.stderr)
    while True:
        try:
            q = input("> ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if not q.strip():
            continue
        print(format_answer(asker.ask(q, history)))
        history.append(q)
