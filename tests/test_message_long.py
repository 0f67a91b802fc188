"""Long and quoted mail: a pasted e-mail with its thread fits the limit, quoted mail is not answered,
an over-limit message is refused whole with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.message import QUOTED_NOTE, MessageAsker
from assistant.answer.reply import render_reply
from assistant.config import REPO_ROOT, Settings
from assistant.inputs import clean_question
from assistant.types import Answer, Citation

LONG_MAIL = REPO_ROOT / "eval" / "messages" / "long-quoted-mail.txt"

#: Questions of the quoted thread: none may be asked.
QUOTED_QUESTIONS = ("申請書類", "提出期限", "事前相談", "R2年度", "シンポジウム", "申請手続き")


class Base:
    """Answers with a citation; refuses over-limit questions like the default pipeline."""

    def __init__(self, limit: int = Settings().max_question_chars) -> None:
        self.settings = Settings(max_question_chars=limit)
        self.calls: list[str] = []

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        try:
            clean_question(question, self.settings.max_question_chars)
        except Exception as err:  # noqa: BLE001 - the InputError's message is the answer
            return Answer(question, str(err), route="error", meta={"error": "too_long"})
        self.calls.append(question)
        return Answer(question, f"回答{len(self.calls)}",
                      [Citation("corpus/documents/x.md", "一覧", question[:6], "テスト資料")], route="records")


@pytest.fixture(scope="module")
def engine():
    from assistant.records.engine import RecordsEngine
    from assistant.records.load import load_records

    return RecordsEngine(load_records(Settings().records_path))


def _asker(engine, limit: int | None = None) -> MessageAsker:
    base = Base() if limit is None else Base(limit)
    base.engine = engine
    return MessageAsker(base, max_chars=limit)  # build_assistant passes settings.max_question_chars


def test_the_measured_thread_needs_more_than_2000_chars_and_fits_the_default():
    text = LONG_MAIL.read_text(encoding="utf-8")
    assert 2000 < len(text) <= Settings().max_question_chars
    assert clean_question(text, Settings().max_question_chars)


def test_quoted_thread_is_not_answered(engine):
    asker = _asker(engine)
    ans = asker.ask(LONG_MAIL.read_text(encoding="utf-8"))
    calls = asker.base.calls
    # the two numbered questions of the new mail, about the sender's city, and nothing else
    assert len(calls) == 2 and all(c.startswith("宮崎県延岡市の事業") for c in calls)
    assert not any(w in c for c in calls for w in QUOTED_QUESTIONS)
    assert [p["label"] for p in ans.meta["parts"]] == ["1.", "2."]
    assert ans.meta["quoted_left_aside"] and ans.text.splitlines()[-1] == QUOTED_NOTE
    assert ans.meta["sender"]["municipality"] == "延岡市" and ans.meta["sender"]["known"]
    reply = render_reply(ans)
    assert reply.startswith("延岡市 デジタル推進課 ご担当者様\n") and "中村" not in reply
    # the draft says once, in its own words, that the quoted mail was left aside
    assert "引用されていた過去のメールの内容には、本メールではお答えしておりません" in reply
    assert QUOTED_NOTE not in reply


@pytest.mark.parametrize("header", ["-----Original Message-----", "On Tue, 13 Jun 2023 at 15:42, 中村 wrote:",
                                    "2023年6月13日(火) 15:42 中村 花子 さんは書きました:"])
def test_what_follows_a_reply_header_is_left_aside(engine, header):
    asker = _asker(engine)
    mail = ("お世話になっております。三重県いなべ市 政策課です。\n弊市の事業の採択年度を教えてください。\n\n"
            f"{header}\nいなべ市 様\n申請締切はいつですか。\nあわせて、R3年度の選定数も教えてください。")
    ans = asker.ask(mail)
    assert asker.base.calls == ["三重県いなべ市の事業の採択年度は？"]
    assert ans.meta["quoted_left_aside"]


def test_over_the_limit_is_refused_whole(engine):
    asker = _asker(engine, limit=500)
    text = LONG_MAIL.read_text(encoding="utf-8")
    ans = asker.ask(text)
    assert asker.base.calls == []  # no part answered
    assert ans.route == "error" and "parts" not in ans.meta
    assert ans.text == f"質問が長すぎます（{len(text.strip()):,}文字）。500文字以内で入力してください。"


def test_ui_refuses_an_over_limit_paste_with_the_clean_message(tmp_path: Path, engine):
    from assistant.ui.chat import ChatHandlers

    asker = _asker(engine, limit=500)
    h = ChatHandlers(asker, config_hash="cfg", max_chars=500, feedback=None, export_dir=tmp_path)
    text = LONG_MAIL.read_text(encoding="utf-8")
    outs = list(h.respond(text, None))
    assert len(outs) == 1 and outs[0][3].startswith("⚠️ 質問が長すぎます") and asker.base.calls == []
