"""Unit tests of the evaluation metrics: correctness, citations, claims, retrieval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluate.metrics import (
    check_citation,
    check_correct,
    gold_rank,
    numbers_in,
    percentile,
    retrieved_pairs,
    summarize,
)
from assistant.evaluate.qa import GoldSource, QAFileError, QAItem, load_qa
from assistant.evaluate.runner import evaluate_answer
from assistant.source_files import SourceTexts
from assistant.types import Answer, Chunk, Citation, Hit

DOC = "# 概要\n\nH30年度からR4年度までに合計53事業を選定。\n\n| 年度 | 予算 |\n|---|---|\n| R5 | 1,000団体 |\n"


def item(**kw) -> QAItem:
    return QAItem.model_validate({"id": "q", "question": "質問", **kw})


@pytest.fixture()
def sources(tmp_path: Path) -> SourceTexts:
    d = tmp_path / "corpus" / "documents"
    d.mkdir(parents=True)
    (d / "doc.md").write_text(DOC, encoding="utf-8")
    (d / "deck.pdf").write_bytes(b"%PDF-fake")
    return SourceTexts(tmp_path, loader=lambda p: "ＰＤＦの本文：未来技術")


# ------------------------------------------------------------------ correctness

def test_expected_all_must_appear_after_normalization():
    it = item(expected=["53事業", "1000団体"])
    assert check_correct(it, "合計５３ 事業、1,000団体です", False) == (True, [])
    ok, why = check_correct(it, "合計53事業です", False)
    assert not ok and "1000団体" in why[0]


def test_any_of_needs_one_per_group_and_casefold():
    it = item(any_of=[["ドローン", "drone"], ["AI", "人工知能"]])
    assert check_correct(it, "DRONE と ａｉ", False)[0]
    assert not check_correct(it, "ドローンのみ", False)[0]


def test_forbidden_string_fails():
    it = item(expected=["10"], forbidden=["14"])
    assert check_correct(it, "10事業", False)[0]
    ok, why = check_correct(it, "10事業（H30は14）", False)
    assert not ok and "forbidden" in why[0]


def test_abstention_rules():
    unans = item(answerable=False, expected=[])
    assert check_correct(unans, "資料に記載がありません", True)[0]
    assert not check_correct(unans, "たぶん5件", False)[0]
    ans = item(expected=["10"])
    ok, why = check_correct(ans, "10", True)
    assert not ok and "abstained" in why[0]


def test_any_of_flat_list_is_one_group():
    assert item(any_of=["a", "b"]).any_of == [["a", "b"]]


# ------------------------------------------------------------------ citations

def test_citation_valid_exact_substring_after_nfkc(sources):
    assert check_citation("corpus/documents/doc.md", "合計５３事業を選定", sources) == (True, "")


def test_fake_quote_fails(sources):
    ok, why = check_citation("corpus/documents/doc.md", "合計54事業を選定", sources)
    assert not ok and "substring" in why


def test_missing_or_escaping_source_fails(sources, tmp_path):
    (tmp_path.parent / "outside.md").write_text("合計53事業", encoding="utf-8")
    assert not check_citation("corpus/documents/nope.md", "合計", sources)[0]
    assert not check_citation("../outside.md", "合計53事業", sources)[0]
    assert not check_citation(str(tmp_path / "corpus/documents/doc.md"), "合計", sources)[0]


def test_empty_quote_fails(sources):
    assert not check_citation("corpus/documents/doc.md", "  ", sources)[0]


def test_pdf_uses_loader_text(sources):
    assert check_citation("corpus/documents/deck.pdf", "PDFの本文", sources)[0]
    assert not check_citation("corpus/documents/deck.pdf", "%PDF-fake", sources)[0]


# ------------------------------------------------------------------ numbers, claims

def test_numbers_in_handles_fullwidth_and_separators():
    assert numbers_in("１,０００団体、0.30億円、R4") == ["1000", "0.3", "4"]


def test_claims_are_verified_by_the_evaluators_own_reading_of_the_sources(sources):
    from assistant.answer.claims import with_claims

    good = with_claims(Answer("q", "合計53事業です。", [Citation("corpus/documents/doc.md", "概要", "合計53事業を選定")]))
    r = evaluate_answer(item(expected=["53"]), good, 1.0, sources)
    assert (r.n_claims, r.claims_verified, r.unclaimed) == (1, 1, [])
    # The quote is not in the file: the claim fails, whatever the answerer believed.
    forged = with_claims(Answer("q", "合計54事業です。", [Citation("corpus/documents/doc.md", "概要", "合計54事業を選定")]))
    r = evaluate_answer(item(expected=["54"]), forged, 1.0, sources)
    assert r.claims_verified == 0 and any("quote_not_in_source" in p for p in r.claim_problems)
    # A value no claim holds is listed (an answerer that gives no claims at all).
    r = evaluate_answer(item(expected=["53"]), Answer("q", "合計53事業です。", []), 1.0, sources)
    assert r.unclaimed == ["53"] and summarize([r])["values_without_claim"] == 1


# ------------------------------------------------------------------ retrieval

def test_gold_rank_on_hand_made_ranks():
    gold = [GoldSource(source="corpus/documents/doc.md", contains="R4:10事業")]
    ranked = [("corpus/documents/other.md", "R4:10事業"),   # right text, wrong source
              ("corpus/documents/doc.md", "別の段落"),       # right source, wrong text
              ("./corpus/documents/doc.md", "過去の選定数 R4: 10 事業")]
    assert gold_rank(gold, ranked) == 3
    assert gold_rank(gold, ranked[:2]) == 0


def test_retrieved_pairs_accepts_dicts_chunks_and_hits():
    ch = Chunk(id="c", doc_id="d", source="a.md", text="t1", locator="l")
    got = retrieved_pairs([{"source": "b.md", "text": "t2"}, ch, Hit(chunk=ch, score=1.0)])
    assert got == [("b.md", "t2"), ("a.md", "t1"), ("a.md", "t1")]


def test_summary_retrieval_metrics_and_percentiles(sources):
    gold = [{"source": "corpus/documents/doc.md", "contains": "target"}]
    results = []
    for i, rank in enumerate([1, 2, 0, 5]):
        ret = [Hit(Chunk(str(r), "d", "corpus/documents/doc.md", "target" if r == rank else "x", "l"), 1.0)
               for r in range(1, 6)]
        ans = Answer(question="q", text="x", evidence=ret)
        results.append(evaluate_answer(item(id=str(i), gold_sources=gold), ans, 10.0 * (i + 1), sources))
    # An item without retrieval info is skipped.
    results.append(evaluate_answer(item(id="n", gold_sources=gold), Answer(question="q", text="x"), 50, sources))
    s = summarize(results)
    assert [r.retrieval_rank for r in results] == [1, 2, 0, 5, None]
    assert s["n_retrieval"] == 4
    assert s["retrieval_r1"] == 0.25 and s["retrieval_r5"] == 0.75
    assert s["retrieval_mrr"] == pytest.approx((1 + 0.5 + 0 + 0.2) / 4, abs=1e-4)
    assert s["latency_p50_ms"] == 30.0
    assert percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)


def test_summary_abstention_and_citation_metrics(sources):
    good = Citation("corpus/documents/doc.md", "概要", "合計53事業を選定")
    bad = Citation("corpus/documents/doc.md", "概要", "合計99事業を選定")
    cases = [
        (item(id="a", category="count", expected=["53"]), Answer("q", "53事業", [good])),
        (item(id="b", category="count", expected=["53"]), Answer("q", "99事業", [bad])),
        (item(id="c", category="none", answerable=False), Answer("q", "資料に記載がありません", abstained=True)),
        (item(id="d", category="none", answerable=False), Answer("q", "7件です", [good])),
        (item(id="e", category="count", expected=["53"]), Answer("q", "資料に記載がありません", abstained=True)),
    ]
    rs = [evaluate_answer(it, a, 1.0, sources) for it, a in cases]
    s = summarize(rs)
    assert s["accuracy"] == 0.4
    assert s["abstention_precision"] == 0.5 and s["abstention_recall"] == 0.5
    assert s["citation_validity"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["values_without_claim"] == 3  # these scripted answers carry no claims: 53, 99 and 7
    assert s["by_category"]["count"] == {"n": 3, "correct": 1, "accuracy": 0.3333,
                                         "citation_validity": 0.5, "retrieval_r5": None}
    assert "invalid citation" in " ".join(rs[1].problems)


# ------------------------------------------------------------------ QA file

def test_load_qa_reports_bad_lines(tmp_path):
    p = tmp_path / "qa.jsonl"
    p.write_text(json.dumps({"id": "a", "question": "q"}) + "\n\n" + '{"id": "b"}\n{not json\n', encoding="utf-8")
    with pytest.raises(QAFileError) as e:
        load_qa(p)
    assert ":3:" in str(e.value) and ":4:" in str(e.value)


def test_load_qa_defaults_and_duplicates(tmp_path):
    p = tmp_path / "qa.jsonl"
    p.write_text(json.dumps({"id": 1, "question": "q", "extra": "kept"}) + "\n", encoding="utf-8")
    (it,) = load_qa(p)
    assert it.id == "1" and it.answerable and it.category == "uncategorized"
    p.write_text((json.dumps({"id": "a", "question": "q"}) + "\n") * 2, encoding="utf-8")
    with pytest.raises(QAFileError, match="duplicate"):
        load_qa(p)


def test_html_quote_checked_against_ingest_text(tmp_path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>t</title></head><body><p>未来技術の<b>社会実装</b>を支援</p></body></html>",
        encoding="utf-8")
    src = SourceTexts(tmp_path)  # default loader: assistant.ingest
    assert check_citation("page.html", "社会実装", src)[0]
    assert not check_citation("page.html", "<b>社会実装</b>", src)[0]


def test_accept_phrase_counts_a_rejected_false_premise_as_correct():
    from assistant.evaluate.metrics import check_correct
    from assistant.evaluate.qa import QAItem

    item = QAItem(id="x", question="旭市の事業は？", answerable=False, accept=["一覧にありません"])
    assert check_correct(item, "旭市の事業は一覧にありません。", abstained=False)[0]
    assert not check_correct(item, "旭市の事業は2件です。", abstained=False)[0]
    assert check_correct(item, "資料に記載がありません。", abstained=True)[0]


# ------------------------------------------------------------------ parts of helpdesk messages

def _msg_answer(*abstained: bool) -> Answer:
    parts = [{"label": f"({i + 1})", "text": f"質問{i + 1}", "answer": "x", "abstained": a, "route": "records",
              "citations": []} for i, a in enumerate(abstained)]
    return Answer("q", "x", abstained=all(abstained), meta={"parts": parts, "message": True})


def test_part_level_figures_overall_and_per_category(sources):
    from assistant.evaluate.report import render_markdown

    cases = [
        (item(id="m1", category="multi_part"), _msg_answer(False, False, True)),
        (item(id="m2", category="multi_part"), _msg_answer(False, False)),
        (item(id="e1", category="email"), _msg_answer(True)),
        (item(id="p1", category="email"), Answer("q", "x")),  # a plain question: no parts
    ]
    rs = [evaluate_answer(it, a, 1.0, sources) for it, a in cases]
    assert [p["abstained"] for p in rs[0].parts] == [False, False, True] and rs[3].parts == []
    p = summarize(rs)["parts"]
    assert (p["n_items"], p["n_multi_part"], p["asked"], p["answered"]) == (3, 2, 6, 4)
    assert p["answered_rate"] == pytest.approx(4 / 6, abs=1e-4)
    assert p["all_parts_answered"] == pytest.approx(1 / 3, abs=1e-4)
    assert p["by_category"]["multi_part"]["answered"] == 4 and p["by_category"]["multi_part"]["asked"] == 5
    assert p["by_category"]["email"] == {"n_items": 1, "n_multi_part": 0, "asked": 1, "answered": 0,
                                         "answered_rate": 0.0, "all_parts_answered": 0.0}
    md = render_markdown({"pipelines": {"default": {"summary": summarize(rs), "items": []}}})
    assert "## Parts of helpdesk messages" in md
    assert "| multi_part | 0.800 (4/5 parts, 2 msgs) |" in md
    assert "**0.667 (4/6 parts, 3 msgs)**" in md


def test_no_parts_section_without_messages(sources):
    from assistant.evaluate.report import render_markdown

    rs = [evaluate_answer(item(id="a"), Answer("q", "x"), 1.0, sources)]
    s = summarize(rs)
    assert s["parts"]["asked"] == 0 and s["parts"]["answered_rate"] is None
    assert "Parts of helpdesk messages" not in render_markdown({"pipelines": {"default": {"summary": s, "items": []}}})
