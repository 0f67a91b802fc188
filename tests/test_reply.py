"""The reply e-mail draft: addressee, numbered answers, sources, nothing beyond the answer."""

from __future__ import annotations

import re

from assistant.answer.message import MessageAsker
from assistant.answer.reply import addressee, document_date_lookup, render_reply
from assistant.config import get_settings
from assistant.types import Answer, Citation
from tests.test_message_answer import FakeBase


def _asker():
    from assistant.records.engine import RecordsEngine
    from assistant.records.load import load_records

    base = FakeBase()
    base.engine = RecordsEngine(load_records(get_settings().records_path))
    return MessageAsker(base)


def test_addressed_to_the_senders_office_never_a_person():
    ans = _asker().ask("お世話になっております。長野県塩尻市 地域振興課の山田です。弊市の採択年度を教えてください。")
    to = addressee(ans)
    assert to.startswith("塩尻市") and to.endswith("ご担当者様") and "山田" not in to


def test_prefecture_sender_and_no_sender():
    ans = _asker().ask("島根県 政策企画課でございます。本県事業の採択年度はいつでしょうか。")
    assert addressee(ans) == "島根県 政策企画課 ご担当者様"
    assert addressee(Answer("q", "a")) == "ご担当者様"


def test_reply_has_numbered_answers_and_sources_with_date():
    ans = _asker().ask("宇陀市の事業について2点教えてください。\n1. 採択年度は？\n2. 申請締切は？")
    draft = render_reply(ans, lambda s: "2023-03-15")
    assert "1. 回答1" in draft and "2.（申請締切は？）は資料に記載がありません" in draft
    assert "【出典】" in draft and "「テスト資料」（2023-03-15） 見出し1" in draft
    assert draft.rstrip().endswith("よろしくお願いいたします。")
    assert "<" not in draft and "**" not in draft  # plain text


def test_reply_states_no_fact_beyond_the_answer():
    ans = Answer("q", "中津川市の採択年度はR3です。", [Citation("corpus/documents/a.md", "概要", "R3", "資料A")])
    draft = render_reply(ans)
    numbers = set(re.findall(r"[0-9]+", draft))
    assert numbers <= {"3"}  # only the answer's own figures
    assert "中津川市の採択年度はR3です。" in draft


def test_quoted_mail_left_aside_is_told():
    ans = _asker().ask("宇陀市 企画課です。宇陀市の活用技術を教えてください。\n-----Original Message-----\n予算は？")
    assert "引用されていた過去のメール" in render_reply(ans)


def test_abstained_reply_is_polite_and_plain():
    draft = render_reply(Answer("q", "資料に記載がありません。", abstained=True, route="abstain"))
    assert "手元の資料には記載がございませんでした" in draft


def test_document_dates_from_front_matter():
    s = get_settings()
    date_of = document_date_lookup(s.root)
    assert date_of("corpus/documents/mirai-gijutsu-torikumi-2023-03-15.md") == "2023-03-15"
    assert date_of("corpus/documents/missing.md") == ""


def test_ui_reply_button_handler(tmp_path):
    from assistant.ui.chat import MSG_NO_REPLY, ChatHandlers

    h = ChatHandlers(_asker(), config_hash="c", max_chars=2000, feedback=None, export_dir=tmp_path)
    assert h.reply_draft(None) == MSG_NO_REPLY
    outs = list(h.respond("鹿児島県伊仙町 企画課です。当町の採択年度を教えてください。", None))
    conv = outs[-1][2]
    draft = h.reply_draft(conv)
    assert draft.startswith("伊仙町 企画課 ご担当者様") and "鹿児島県伊仙町の事業について:" in draft


def test_cli_reply(monkeypatch, capsys):
    import assistant.answer.pipeline as pipeline
    from assistant.ask_cli import ask_command

    monkeypatch.setattr(pipeline, "build_assistant", lambda settings, pipeline="default": _asker().base)
    rc = ask_command(get_settings(), "高知県四万十市 企画課です。弊市の採択年度を教えてください。", reply=True)
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("四万十市 企画課 ご担当者様") and "高知県四万十市の事業について:" in out
