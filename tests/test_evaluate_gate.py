"""The eval gate as a pure function: summaries + baseline + thresholds -> GateResult."""

from __future__ import annotations

from assistant.evaluate.gate import Thresholds, run_gate

TH = Thresholds(gate=["default"], tolerance={"accuracy": 0.05, "latency_p95_ms": 100},
                floors={"citation_validity": 1.0}, ceilings={"errors": 0})


def summary(accuracy: float = 0.9, validity: float = 1.0, errors: int = 0, p95: float = 500.0) -> dict:
    return {"accuracy": accuracy, "citation_validity": validity, "errors": errors, "latency_p95_ms": p95}


def baseline(qa_hash: str = "h", **kw) -> dict:
    items = {"a": ["ha", True], "b": ["hb", True], "c": ["hc", False]}
    return {"qa_hash": qa_hash, "pipelines": {"default": {"summary": summary(**kw), "items": items}}}


ITEMS = {"default": {"a": ("ha", True), "b": ("hb", False), "c": ("hc", True)}}


def test_no_baseline_checks_only_floors_and_ceilings():
    r = run_gate({"default": summary()}, TH)
    assert r.passed and r.note == "no baseline file"
    assert [(c.metric, c.kind) for c in r.checks] == [("citation_validity", "floor"), ("errors", "ceiling")]
    r = run_gate({"default": summary(validity=0.99, errors=2)}, TH)
    assert not r.passed and {c.metric for c in r.failures} == {"citation_validity", "errors"}


def test_only_gated_pipelines_are_checked_and_cli_floors_override():
    naive = summary(validity=0.1)
    assert run_gate({"default": summary(), "naive": naive}, TH).passed  # naive is reported, not gated
    assert not run_gate({"naive": naive}, TH).passed  # none of the gated ran: every pipeline is gated
    r = run_gate({"default": summary()}, TH, floors={"citation_validity": 0.5, "accuracy": 0.95})
    assert {c.metric: c.limit for c in r.checks if c.kind == "floor"} == {"citation_validity": 0.5, "accuracy": 0.95}
    assert [c.metric for c in r.failures] == ["accuracy"]


def test_same_set_compares_summaries_within_tolerance():
    ok = run_gate({"default": summary(accuracy=0.86, p95=590)}, TH, items=ITEMS, qa_hash="h", baseline=baseline())
    assert ok.passed and ok.note == ""
    assert {c.metric for c in ok.checks if c.kind == "baseline"} == {"accuracy", "latency_p95_ms"}
    bad = run_gate({"default": summary(accuracy=0.84, p95=601)}, TH, items=ITEMS, qa_hash="h", baseline=baseline())
    assert not bad.passed and {c.metric for c in bad.failures} == {"accuracy", "latency_p95_ms"}
    assert bad.regressed == {"default": ["b"]} and bad.fixed == {"default": ["c"]}
    assert all(c.metric != "accuracy_on_common_items" for c in bad.checks)  # covered by the summary


def test_other_set_compares_unchanged_items_only():
    items = {"default": {"a": ("ha", True), "b": ("hb", False), "c": ("changed", True)}}
    r = run_gate({"default": summary(accuracy=0.1)}, TH, items=items, qa_hash="other", baseline=baseline())
    assert "unchanged items only" in r.note
    common = [c for c in r.checks if c.metric == "accuracy_on_common_items"]
    assert len(common) == 1 and common[0].value == 0.5 and common[0].baseline == 1.0 and not common[0].ok
    assert r.regressed == {"default": ["b"]} and r.fixed == {"default": []}
    assert all(c.metric != "accuracy" for c in r.checks)  # the summaries are not comparable


def test_rewriting_the_baseline_compares_nothing_and_the_result_serializes():
    r = run_gate({"default": summary(accuracy=0.1)}, TH, baseline=None, rewriting_baseline=True)
    assert r.passed and r.note == "baseline rewritten by this run"
    d = r.to_dict("eval/baseline.json")
    assert d["baseline"] == "eval/baseline.json" and d["passed"] is True
    assert d["checks"][0]["describe"] == "default: citation_validity 1 must be >= 1"
