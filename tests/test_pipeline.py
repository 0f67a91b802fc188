"""The default answerer end to end with real records and a fake retriever (no model, no index)."""

import io
import json

import pytest

from assistant.answer import ABSTAIN_PHRASE
from assistant.answer.pipeline import Assistant
from assistant.ask_cli import run_jsonl
from assistant.config import get_settings
from assistant.normalize import nfkc
from assistant.sources import SourceStore
from tests.answer_fakes import OverlapRetriever


@pytest.fixture(scope="module")
def assistant():
    return Assistant(get_settings(), retriever=OverlapRetriever())


def assert_cited(settings, ans):
    store = SourceStore(settings.root)
    assert ans.citations, ans.text
    for c in ans.citations:
        assert nfkc(c.quote) in store.text(c.source), c


def test_count_goes_to_records_with_row_citations(assistant):
    ans = assistant.ask("R2年度に選定された事業のうち自動運転を使うものは？")
    assert ans.route == "records" and not ans.abstained
    assert "9件" in ans.text and len(ans.citations) == 9
    assert_cited(assistant.settings, ans)


def test_process_question_goes_to_documents(assistant):
    ans = assistant.ask("地域実装協議会は支援終了後も継続できますか？")
    assert ans.route == "documents" and "了承" in ans.text
    assert_cited(assistant.settings, ans)


def test_followup_through_history(assistant):
    ans = assistant.ask("経済産業省の方は？", ["総務省のR3の選定数は？"])
    assert "14事業" in ans.text and ans.route == "records"


@pytest.mark.parametrize("question", ["令和6年度の選定数は？", "札幌市の予算は？", "申請書の締切日は？"])
def test_abstains_with_fixed_phrase(assistant, question):
    ans = assistant.ask(question)
    assert ans.abstained and ans.text.startswith(ABSTAIN_PHRASE)


def test_empty_filter_is_an_answer(assistant):
    ans = assistant.ask("東京都の事業はいくつ？")
    assert not ans.abstained and "ありません" in ans.text
    assert_cited(assistant.settings, ans)


def test_input_limits(assistant):
    assert assistant.ask("   ").meta["error"] == "empty"
    long = assistant.ask("あ" * (assistant.settings.max_question_chars + 1))
    assert long.meta["error"] == "too_long" and not long.citations
    ok = assistant.ask("盛岡市の\x00採択年度\u202eは？")
    assert ok.route == "records" and "R4" in ok.text


def test_jsonl_contract_and_bad_lines(assistant):
    lines = [json.dumps({"id": "a", "question": "5Gを使っている自治体は？"}, ensure_ascii=False),
             "{not json",
             json.dumps({"id": "c", "question": 3}),
             json.dumps({"id": "d", "question": "そのうちR4年度は？", "history": ["5Gを使っている自治体は？"]},
                        ensure_ascii=False)]
    out = io.StringIO()
    assert run_jsonl(assistant, io.StringIO("\n".join(lines) + "\n"), out) == 0
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r.get("id") for r in rows] == ["a", None, "c", "d"]
    assert rows[0]["route"] == "records" and rows[0]["citations"] and rows[0]["latency_ms"] >= 0
    assert set(rows[0]) == {"id", "answer", "abstained", "citations", "route", "latency_ms", "claims"}
    assert "error" in rows[1] and "error" in rows[2]
    assert "3件" in rows[3]["answer"]
    # claims: every value of the answer, each pointing at citations of this row
    claims = rows[3]["claims"]
    count = next(c for c in claims if c["kind"] == "computed" and c["value"] == "3")
    assert count["operation"] == "count" and count["working"] and len(count["inputs"]) == 3
    for c in claims:
        assert rows[3]["answer"][c["span"][0]:c["span"][1]] == c["text"]
        assert all(0 <= i < len(rows[3]["citations"]) for i in c["citations"])


@pytest.mark.parametrize("question", ["この資料はいつ、どこが作成したものですか？", "資料の発行元は？"])
def test_questions_about_the_document_use_its_front_matter(assistant, question):
    ans = assistant.ask(question)
    assert not ans.abstained and "内閣府" in ans.text and "2023-03-15" in ans.text
    assert_cited(assistant.settings, ans)
