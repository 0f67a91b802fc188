"""eval/bench_messages.py runs end to end on fakes (no model): figures per number of parts."""

from __future__ import annotations

import importlib.util
import json

from assistant.config import REPO_ROOT
from assistant.types import Answer


class _Asker:
    def __init__(self) -> None:
        self.calls = 0

    def ask(self, question, history=None):
        self.calls += 1
        n = question.count("？")
        return Answer(question, "x", meta={"parts": [{"abstained": False}] * n} if n > 1 else {})


class _Embedder:
    cleared = 0

    def clear_query_cache(self):
        _Embedder.cleared += 1


def test_bench_messages_on_fakes(tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("bench_messages", REPO_ROOT / "eval" / "bench_messages.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    asker = _Asker()
    monkeypatch.setattr("assistant.answer.pipeline.build_assistant", lambda settings, pipeline: asker)
    monkeypatch.setattr("assistant.embeddings.get_embedder", lambda settings: _Embedder())
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps({"id": str(i), "question": q}, ensure_ascii=False)
                            for i, q in enumerate(["A？", "A？B？", "A？B？C？"])) + "\n", encoding="utf-8")
    out = tmp_path / "b.json"
    assert mod.main(["--qa", str(qa), "--rounds", "2", "--long", str(tmp_path / "none"), "--json", str(out)]) == 0
    fig = json.loads(out.read_text(encoding="utf-8"))
    assert asker.calls == 3 + 6 and _Embedder.cleared == 9
    assert fig["up_to_three_parts"]["n"] == 6 and set(fig["by_parts"]) == {"1", "2", "3"}
    assert "up to three parts" in capsys.readouterr().out
