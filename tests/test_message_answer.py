"""MessageAsker: one answer per question, numbered, merged citations, abstention, sender note."""

from __future__ import annotations

import io
import json

import pytest

from assistant.answer.message import MessageAsker, build_message_asker
from assistant.types import Answer, Citation


class FakeBase:
    """Answers every question with a citation of its own; abstains on questions about 締切/住所."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        self.calls.append((question, list(history or [])))
        if any(w in question for w in ("締切", "住所", "所要時間")):
            return Answer(question, "資料に記載がありません。", abstained=True, route="abstain")
        cite = Citation("corpus/documents/x.md", f"見出し{len(self.calls)}", question[:8], "テスト資料")
        return Answer(question, f"回答{len(self.calls)}", [cite], route="documents")

    def warm_up(self) -> None:
        """Nothing to load."""


@pytest.fixture(scope="module")
def lexicon():
    from assistant.config import get_settings
    from assistant.records.engine import RecordsEngine
    from assistant.records.load import load_records

    return RecordsEngine(load_records(get_settings().records_path))


@pytest.fixture
def asker(lexicon):
    base = FakeBase()
    base.engine = lexicon  # MessageAsker reads the places and the projects from the base's engine
    return MessageAsker(base)


def test_plain_question_is_delegated_unchanged(asker):
    ans = asker.ask("R2年度の選定数は？", ["前の質問"])
    assert asker.base.calls == [("R2年度の選定数は？", ["前の質問"])]
    assert "parts" not in ans.meta


def test_numbered_parts_each_answered_with_their_citations(asker):
    msg = "四万十市の事業について2点教えてください。1. 採択年度はいつですか。2. 主な活用技術は何ですか。"
    ans = asker.ask(msg)
    assert ans.text.splitlines() == ["1. 回答1", "2. 回答2"]
    parts = ans.meta["parts"]
    assert [p["citations"] for p in parts] == [[0], [1]]
    assert len(ans.citations) == 2 and not ans.abstained
    # each part names its place (the topic): asked on its own
    assert asker.base.calls[1] == ("四万十市の事業について、主な活用技術は何ですか。", [])


def test_a_part_that_refers_back_gets_the_earlier_parts(asker):
    asker.ask("メールマガジンについて質問です。①配信は月に何回ですか。②そのうち取組成果の配信間隔は？")
    assert asker.base.calls[1][1] == [asker.base.calls[0][0]]


def test_part_not_covered_says_so_and_others_are_answered(asker):
    msg = "塩尻市の採択年度を教えてください。あわせて、申請締切も知りたいです。"
    ans = asker.ask(msg)
    assert not ans.abstained
    lines = ans.text.splitlines()
    assert lines[0] == "① 回答1"
    assert lines[1].startswith("②（申請締切も知りたいです）は資料に記載がありません")
    assert [p["abstained"] for p in ans.meta["parts"]] == [False, True]


def test_abstained_only_when_no_part_is_answered(asker):
    ans = asker.ask("お世話になっております。会場の住所はどこですか。また、申請締切はいつですか。")
    assert ans.abstained


def test_greeting_never_reaches_the_base(asker):
    asker.ask("お世話になっております。宇陀市 企画課でございます。弊市の採択年度を教えてください。"
              "よろしくお願いいたします。")
    assert len(asker.base.calls) == 1
    q = asker.base.calls[0][0]
    assert "世話" not in q and "よろしく" not in q and "奈良県宇陀市" in q


def test_answer_names_the_sender_entity(asker):
    ans = asker.ask("鹿児島県伊仙町 企画課です。当町の採択年度はいつですか。")
    assert ans.text.startswith("鹿児島県伊仙町の事業について:")
    assert ans.meta["sender"]["known"] is True


def test_sender_not_in_the_records_is_said(asker):
    ans = asker.ask("先方：福岡県久留米市 総合政策課。同市事業の採択年度照会。要回答。")
    assert "福岡県久留米市は、未来技術社会実装事業の支援対象事業一覧にありません" in ans.text
    assert ans.meta["sender"]["known"] is False


def test_quoted_mail_is_reported_as_left_aside(asker):
    ans = asker.ask("宇陀市 企画課です。宇陀市の活用技術を教えてください。\n> 以前の質問: 予算はいくら？")
    assert "引用された過去のメール" in ans.text and ans.meta["quoted_left_aside"]
    assert all("予算" not in q for q, _ in asker.base.calls)


def test_history_messages_become_their_questions(asker):
    asker.ask("先方：同上。同県内の他の選定事業の有無。要回答。", ["先方：奈良県宇陀市 企画課。同市事業の採択年度の照会。"])
    (q, hist), = asker.base.calls
    assert q.startswith("奈良県内の他の選定事業")
    assert hist == []  # names its own place: asked alone


def test_jsonl_keeps_its_contract_and_adds_parts(asker):
    from assistant.ask_cli import run_jsonl

    line = json.dumps({"id": "m1", "question": "塩尻市の採択年度を教えてください。それと、申請締切も教えてください。"},
                      ensure_ascii=False)
    out = io.StringIO()
    run_jsonl(asker, io.StringIO(line + "\n"), out)
    row = json.loads(out.getvalue())
    assert set(row) >= {"id", "answer", "abstained", "citations", "route", "latency_ms", "parts"}
    assert row["abstained"] is False
    assert [p["abstained"] for p in row["parts"]] == [False, True]
    assert row["parts"][0]["citations"] == [0]
    plain = io.StringIO()
    run_jsonl(asker, io.StringIO('{"id": 2, "question": "R2年度の選定数は？"}\n'), plain)
    assert "parts" not in json.loads(plain.getvalue())


def test_build_message_asker_does_not_wrap_twice(asker):
    assert build_message_asker(None, asker) is asker  # type: ignore[arg-type]


# -- the real records engine (no embedding model): records answers per part -----------------------
def test_records_answers_per_part_with_fake_retriever(fake_assistant):
    a = MessageAsker(fake_assistant)
    ans = a.ask("お世話になっております。高知県四万十市 企画課でございます。弊市の事業の採択年度と主な活用技術を"
                "ご教示いただけますでしょうか。よろしくお願いいたします。")
    assert ans.text.startswith("高知県四万十市の事業について:")
    assert "R2" in ans.text and not ans.abstained and ans.citations


def test_two_parts_with_reference_fake_retriever(fake_assistant):
    a = MessageAsker(fake_assistant)
    ans = a.ask("R3年度に選定された事業について、①何件ですか、②そのうち自動運転を活用するのは何件ですか、教えてください。")
    parts = ans.meta["parts"]
    assert len(parts) == 2 and not any(p["abstained"] for p in parts)
    assert parts[0]["answer"] != parts[1]["answer"]


def test_a_message_answer_has_claims_over_its_merged_citations(fake_assistant):
    from assistant.claims import verify
    from assistant.sources import SourceStore

    a = MessageAsker(fake_assistant)
    ans = a.ask("R2年度に選定された事業について、①何件ですか、②そのうち自動運転を活用するのは何件ですか、教えてください。")
    computed = [c for c in ans.claims if c.kind == "computed"]
    assert len(computed) >= 2 and all(c.operation == "count" and c.working for c in computed)
    # the counted rows are cited in the merged list, each claim pointing at rows of its own part
    assert all(c.citations and max(c.citations) < len(ans.citations) for c in computed)
    assert verify(ans, SourceStore(fake_assistant.settings.root).text) == []


# -- the real Assistant (model and index) -----------------------------------------------------------
@pytest.fixture(scope="module")
def real():
    from tests.test_load import real_assistant_or_none

    a = real_assistant_or_none()
    if a is None:
        pytest.skip("model or index not available")
    return MessageAsker(a)


@pytest.mark.integration
def test_real_email_with_self_reference(real):
    ans = real.ask("お世話になっております。奈良県宇陀市 企画課でございます。当市の事業は、国土交通省道路局の"
                   "自動運転サービス導入支援事業の対象となっておりますでしょうか。ご確認いただけますと幸いです。")
    assert not ans.abstained and "宇陀" in ans.text and "(※)" in ans.text


@pytest.mark.integration
def test_real_memo_and_mixed_part(real):
    ans = real.ask("先方：長野県塩尻市 企画課。同市事業の採択年度照会。あわせて、申請書の提出締切も確認したいとのこと。要回答。")
    parts = ans.meta["parts"]
    assert not parts[0]["abstained"] and "R4" in parts[0]["answer"]
    assert parts[1]["abstained"] and not ans.abstained


@pytest.mark.integration
def test_real_greeting_only_unanswerable_message_abstains(real):
    ans = real.ask("お世話になっております。千葉県千葉市 企画課です。シンポジウム会場の駐車場の台数を教えてください。"
                   "よろしくお願いいたします。")
    assert ans.abstained
