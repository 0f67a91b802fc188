"""End-to-end tests of ``assistant eval`` with a scripted fake Asker and a tiny QA file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.answer import ABSTAIN_PHRASE
from assistant.config import Settings, get_settings
from assistant.errors import (
    AssistantError,
    GateFailedError,
    PipelineUnavailableError,
    QAFileInvalidError,
    UsageError,
)
from assistant.evaluate import eval_command
from assistant.types import Answer, Chunk, Citation, Hit

DOC = "# 過去の選定数\n\nR4:10事業、R3:7事業。\n\n支援期間は選定から5年です。\n"
SRC = "corpus/documents/doc.md"
QA = [
    {"id": "q1", "category": "count", "question": "R4の選定数は？", "expected": ["10"],
     "gold_sources": [{"source": SRC, "contains": "R4:10事業"}]},
    {"id": "q2", "category": "count", "question": "R3の選定数は？", "expected": ["7事業"]},
    {"id": "q3", "category": "process", "question": "支援期間は？", "any_of": [["5年", "五年"]]},
    {"id": "q4", "category": "unanswerable", "question": "予算の内訳は？", "answerable": False},
]


class ScriptedAsker:
    """Answers from a table keyed by question; a missing key raises (an evaluation error)."""

    def __init__(self, script: dict[str, Answer]) -> None:
        self.script = script

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        return self.script[question]

    def warm_up(self) -> None:
        pass


def good_script() -> dict[str, Answer]:
    return {
        "R4の選定数は？": Answer("", "令和4年度は10事業です。", [Citation(SRC, "過去の選定数", "R4:10事業")],
                            route="records", evidence=[Hit(Chunk("c1", "d1", SRC, "R4:10事業、R3:7事業。", ""), 1.0)]),
        "R3の選定数は？": Answer("", "7事業です。", [Citation(SRC, "過去の選定数", "R3:7事業")], route="records"),
        "支援期間は？": Answer("", "選定から5年です。", [Citation(SRC, "", "支援期間は選定から5年です。")]),
        "予算の内訳は？": Answer("", ABSTAIN_PHRASE, abstained=True, route="abstain"),
    }


def bad_script() -> dict[str, Answer]:
    s = good_script()
    s["R3の選定数は？"] = Answer("", "8事業です。", [Citation(SRC, "過去の選定数", "R3:8事業")], route="records")
    s["予算の内訳は？"] = Answer("", "約3億円です。", [Citation(SRC, "", "R4:10事業")])
    return s


@pytest.fixture()
def env(tmp_path: Path):
    (tmp_path / "corpus/documents").mkdir(parents=True)
    (tmp_path / SRC).write_text(DOC, encoding="utf-8")
    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QA), encoding="utf-8")
    return Settings(root=tmp_path), qa


def factory_for(**scripts: dict[str, Answer]):
    def factory(settings: Settings, pipeline: str) -> ScriptedAsker:
        return ScriptedAsker(scripts[pipeline])
    return factory


def run(settings, qa, **kw) -> int:
    """The exit code: 0, or that of the ``AssistantError`` the command raised."""
    kw.setdefault("factory", factory_for(default=good_script(), naive=bad_script()))
    try:
        return eval_command(settings, qa, progress=False, **kw)
    except AssistantError as e:
        return e.exit_code


def test_report_files_and_metrics(env, capsys):
    settings, qa = env
    assert run(settings, qa) == 0
    out_dir = settings.root / "eval/reports/latest"
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    s = report["pipelines"]["default"]["summary"]
    assert s["accuracy"] == 1.0 and s["citation_validity"] == 1.0
    assert s["retrieval_r1"] == 1.0 and s["n_retrieval"] == 1
    assert s["abstention_precision"] == 1.0 and s["abstention_recall"] == 1.0
    assert report["config_hash"] == settings.config_hash()
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "| count | 2 | 1.000 (2/2) |" in md
    assert "report.json" in capsys.readouterr().out


def test_both_pipelines_side_by_side_and_failures_listed(env):
    settings, qa = env
    out = settings.root / "rep"
    assert run(settings, qa, pipeline="both", report_dir=out) == 0  # only `default` is gated
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| Category | n | default | naive |" in md
    assert "| count | 2 | 1.000 (2/2) | 0.500 (1/2) |" in md
    failures = md.split("## Failures: naive", 1)[1]
    assert "R3の選定数は？" in failures and "all of ['7事業']" in failures and "8事業です。" in failures
    assert "R3:8事業" in failures and "not an exact substring" in failures
    assert "should have abstained" in failures
    naive = json.loads((out / "report.json").read_text(encoding="utf-8"))["pipelines"]["naive"]["summary"]
    assert naive["citation_validity"] == 0.75 and naive["abstention_recall"] == 0.0


def test_baseline_regression_exit_code(env):
    settings, qa = env
    base = settings.root / "eval/baseline.json"
    (settings.root / "eval").mkdir()
    (settings.root / "eval/thresholds.json").write_text(
        json.dumps({"tolerance": {"accuracy": 0.1, "citation_validity": 0.0}}), encoding="utf-8")
    assert run(settings, qa, write_baseline=True) == 0
    assert json.loads(base.read_text(encoding="utf-8"))["pipelines"]["default"]["summary"]["accuracy"] == 1.0
    assert run(settings, qa) == 0  # same answers: no regression against the default baseline
    worse = factory_for(default=bad_script())
    assert run(settings, qa, factory=worse) == 1
    gate = json.loads((settings.root / "eval/reports/latest/report.json").read_text(encoding="utf-8"))["gate"]
    failed = {c["metric"] for c in gate["checks"] if not c["ok"]}
    assert failed == {"accuracy", "citation_validity"}
    md = (settings.root / "eval/reports/latest/report.md").read_text(encoding="utf-8")
    assert "Regressed since the baseline (default): q2, q4" in md
    # Another QA set (a subset here) is compared on the items both share unchanged.
    assert run(settings, qa, factory=worse, limit=3) == 1
    gate = json.loads((settings.root / "eval/reports/latest/report.json").read_text(encoding="utf-8"))["gate"]
    assert gate["regressed"] == {"default": ["q2"]} and "unchanged items only" in gate["note"]
    assert [c["metric"] for c in gate["checks"]] == ["accuracy_on_common_items"]
    # An edited item is not compared: q2 now expects another answer, q4 is gone.
    edited = [dict(q, expected=["8事業"]) if q["id"] == "q2" else q for q in QA[:3]]
    qa.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in edited), encoding="utf-8")
    assert run(settings, qa, factory=worse) == 0


def test_fail_under_floors(env):
    settings, qa = env
    worse = factory_for(default=bad_script())
    assert run(settings, qa, factory=worse, fail_under=["accuracy=0.5"]) == 0
    assert run(settings, qa, factory=worse, fail_under=["accuracy=0.9"]) == 1
    assert run(settings, qa, factory=worse, fail_under=["by_category.count.accuracy=0.6"]) == 1
    assert run(settings, qa, factory=worse, fail_under=["no_such_metric=0.1"]) == 1


@pytest.mark.parametrize("kw", [{"fail_under": ["accuracy"]}, {"fail_under": ["accuracy=high"]},
                                {"pipeline": "fancy"}, {"limit": 0},
                                {"baseline": Path("/nonexistent/baseline.json")}])
def test_usage_errors_exit_2(env, kw):
    settings, qa = env
    assert run(settings, qa, **kw) == 2


def test_failures_are_typed_errors(env, tmp_path):
    settings, qa = env
    good = factory_for(default=good_script())
    with pytest.raises(GateFailedError, match="1 gate check"):
        eval_command(settings, qa, progress=False, factory=good, fail_under=["accuracy=1.01"])
    assert (settings.root / "eval/reports/latest/report.json").is_file()  # written before the gate fails
    with pytest.raises(UsageError, match="--pipeline"):
        eval_command(settings, qa, progress=False, factory=good, pipeline="fancy")
    with pytest.raises(QAFileInvalidError, match="not found"):
        eval_command(settings, tmp_path / "nope.jsonl", progress=False, factory=good)


def test_missing_or_malformed_qa_exit_2(env, tmp_path):
    settings, _ = env
    assert run(settings, tmp_path / "nope.jsonl") == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    assert run(settings, bad) == 2


def test_asker_exception_is_an_error_not_a_crash(env):
    settings, qa = env
    script = good_script()
    del script["支援期間は？"]
    assert run(settings, qa, factory=factory_for(default=script), fail_under=["errors=0"]) == 0
    report = json.loads((settings.root / "eval/reports/latest/report.json").read_text(encoding="utf-8"))
    s = report["pipelines"]["default"]["summary"]
    assert s["errors"] == 1 and s["accuracy"] == 0.75
    assert s["latency_by_route"]["error"]["n"] == 1


def test_cli_usage_error(env, monkeypatch):
    from assistant.cli import app

    settings, qa = env
    monkeypatch.setenv("ASSISTANT_ROOT", str(settings.root))
    get_settings.cache_clear()
    try:
        res = CliRunner().invoke(app, ["eval", str(qa), "--fail-under", "accuracy"])
        assert res.exit_code == 2
        assert "使い方の誤り / error: --fail-under expects METRIC=VALUE" in res.output
        assert "Traceback" not in res.output
        res = CliRunner().invoke(app, ["eval", str(settings.root / "missing.jsonl")])
        assert res.exit_code == 2 and "QA file not found" in res.stderr
    finally:
        get_settings.cache_clear()


def test_report_records_index_manifest_hash(env):
    import hashlib

    settings, qa = env
    vdir = settings.index_path / "v20260101T000000-1-ab"
    vdir.mkdir(parents=True)
    (vdir / "manifest.json").write_text('{"chunks": 3}', encoding="utf-8")
    (settings.index_path / "CURRENT").write_text(vdir.name, encoding="utf-8")
    assert run(settings, qa) == 0
    report = json.loads((settings.root / "eval/reports/latest/report.json").read_text(encoding="utf-8"))
    assert report["index_manifest_sha256"] == hashlib.sha256(b'{"chunks": 3}').hexdigest()


def test_warm_up_runs_before_timing(env):
    settings, qa = env
    calls: list[str] = []

    class Warm(ScriptedAsker):
        def warm_up(self) -> None:
            calls.append("warm")

        def ask(self, question, history=None):
            calls.append("ask")
            return super().ask(question, history)

    assert run(settings, qa, factory=lambda s, p: Warm(good_script())) == 0
    assert calls[0] == "warm" and calls.count("warm") == 1 and calls.count("ask") == 4


def test_pipeline_that_cannot_start_exits_2(env, capsys):
    settings, qa = env

    def broken(s, p):
        raise RuntimeError("no index at index/; run `assistant index` first")

    with pytest.raises(PipelineUnavailableError, match="assistant index") as err:
        eval_command(settings, qa, progress=False, factory=broken)
    assert err.value.exit_code == 2 and "回答パイプライン" in err.value.user_message()
