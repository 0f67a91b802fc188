"""UI handlers without a browser: escaping, input limits, answers at once (the streaming seam), multi-turn,
feedback, export."""

from __future__ import annotations

import json

import pytest

from assistant.config import Settings
from assistant.feedback import FeedbackStore
from assistant.inputs import MSG_BLANK, InputError, clean_question, strip_controls
from assistant.types import Citation
from assistant.ui.chat import MSG_ERROR, MSG_THINKING, ChatHandlers
from assistant.ui.conversation import to_markdown
from assistant.ui.render import answer_message, citations_html, escape_text
from tests.ui_fakes import ScriptedAsker

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


# -- rendering ------------------------------------------------------------------------------------
def test_escape_text_neutralizes_html_and_markdown():
    out = escape_text(HOSTILE + " ![t](http://evil/x.png) [l](javascript:alert(1)) $$x$$")
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert "![" not in out and "](" not in out and "$$" not in out  # no image, link or math
    assert escape_text("令和4年度は10事業") == "令和4年度は10事業"  # Japanese untouched


def test_citations_panel_is_escaped_single_line_details():
    c = Citation(source="corpus/documents/a.md", locator="概要 > <b>表</b>", quote=HOSTILE + "\n\n次の行",
                 title="資料 & <i>題</i>")
    html = citations_html([c])
    assert html.startswith('<details class="evidence"><summary>根拠（1件）</summary>')
    assert "\n" not in html  # one line: Markdown leaves the HTML block alone
    assert "<script" not in html and "<img" not in html and "<b>表" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "資料 &amp; &lt;i&gt;題" in html and "次の行" in html
    assert citations_html([]) == ""
    msg = answer_message("答え<br>です", [c])
    assert msg.startswith("答え&lt;br&gt;です") and "根拠（1件）" in msg


# -- input limits ---------------------------------------------------------------------------------
@pytest.mark.parametrize("blank", ["", "   ", "\n\t ", "\x00\x01\x1b", None, "\u202e\u200b" * 0])
def test_blank_questions_are_refused(blank):
    with pytest.raises(InputError, match=MSG_BLANK):
        clean_question(blank, 100)


def test_long_questions_are_refused_and_controls_stripped():
    assert clean_question("a" * 100, 100) == "a" * 100
    with pytest.raises(InputError, match="100文字以内"):
        clean_question("あ" * 101, 100)
    assert clean_question("令和\x004年度\x1b[31m の\u202e選定数\x7f？", 100) == "令和4年度[31m の選定数？"
    assert strip_controls("a\tb\r\nc") == "a b \nc"
    assert clean_question("👍🏽 家族👨‍👩‍👧", 100) == "👍🏽 家族👨‍👩‍👧"  # emoji (ZWJ) kept


# -- chat handlers --------------------------------------------------------------------------------
@pytest.fixture()
def store(tmp_path):
    s = FeedbackStore(f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    yield s
    s.close()


def _handlers(asker, store, tmp_path, max_chars=200) -> ChatHandlers:
    return ChatHandlers(asker, config_hash="cfg123", max_chars=max_chars, feedback=store,
                        export_dir=tmp_path / "exp")


def _run(h: ChatHandlers, message, conv=None):
    outs = list(h.respond(message, conv))
    return outs, outs[-1]


def test_respond_shows_the_whole_answer_at_once_with_citations_and_escapes(tmp_path, store):
    asker = ScriptedAsker(reply="回答の一文目です。二文目です。三文目です。四文目です。質問: {q}")
    h = _handlers(asker, store, tmp_path)
    outs, (box, messages, conv, status, md, js) = _run(h, HOSTILE)
    assert len(outs) == 2  # the question with the placeholder, then the finished answer: no replay
    assert outs[0][1][-1]["content"] == MSG_THINKING and outs[0][3] == ""  # status cleared at once
    assert box == ""
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "<script" not in messages[0]["content"] and "<script" not in messages[1]["content"]
    assert "回答の一文目です。二文目です。三文目です。四文目です。" in messages[1]["content"]
    assert "根拠（1件）" in messages[1]["content"] and "合計53事業を選定" in messages[1]["content"]
    assert "▌" not in messages[1]["content"]
    assert conv.turns[0].message_index == 1 and conv.turns[0].citations
    assert md["interactive"] and js["interactive"]
    assert HOSTILE in open(md["value"], encoding="utf-8").read()  # the export keeps raw text (a file)
    assert json.load(open(js["value"], encoding="utf-8"))["turns"][0]["question"] == HOSTILE


def test_a_streaming_answer_source_is_shown_piece_by_piece(tmp_path, store):
    """The seam for a real token stream: what ``_answer`` yields is shown as it comes."""
    class Streaming(ChatHandlers):
        def _answer(self, question, history):
            yield "<b>途中"
            yield "<b>途中まで"
            return ScriptedAsker(reply="<b>途中までの全文です。").ask(question, history)

    h = Streaming(ScriptedAsker(), config_hash="cfg", max_chars=200, feedback=store, export_dir=tmp_path / "exp")
    outs, (_, messages, conv, *_rest) = _run(h, "質問です")
    partials = [o[1][-1]["content"] for o in outs[1:-1]]
    assert len(partials) == 2 and all(p.endswith("▌") and "<b>" not in p for p in partials)
    assert "&lt;b&gt;途中まで" in partials[1]
    assert "途中までの全文です。" in messages[-1]["content"] and "▌" not in messages[-1]["content"]
    assert conv.turns[0].answer == "<b>途中までの全文です。"


def test_multi_turn_passes_earlier_user_turns(tmp_path, store):
    asker = ScriptedAsker()
    h = _handlers(asker, store, tmp_path)
    _, (_, _, conv, *_rest) = _run(h, "令和4年度の選定数は？")
    _, (_, messages, conv, *_rest) = _run(h, "  では令和3年度は？ ", conv)
    _, (_, messages, conv, *_rest) = _run(h, "総務省は？", conv)
    assert asker.calls == [("令和4年度の選定数は？", None),
                           ("では令和3年度は？", ["令和4年度の選定数は？"]),
                           ("総務省は？", ["令和4年度の選定数は？", "では令和3年度は？"])]
    assert len(messages) == 6 and [t.message_index for t in conv.turns] == [1, 3, 5]
    box, chat, conv2, *_ = h.new_conversation()
    assert chat == [] and conv2 is None


def test_invalid_input_is_refused_without_calling_the_asker(tmp_path, store):
    asker = ScriptedAsker()
    h = _handlers(asker, store, tmp_path, max_chars=10)
    outs, (box, messages, conv, status, *_files) = _run(h, "   ")
    assert len(outs) == 1 and "質問を入力してください" in status and messages == []
    outs, (box, messages, conv, status, *_files) = _run(h, "長" * 11, conv)
    assert "10文字以内" in status and box == "長" * 11  # the text stays so the user can shorten it
    assert asker.calls == [] and conv.turns == []


def test_errors_become_a_friendly_message(tmp_path, store, caplog):
    h = _handlers(ScriptedAsker(fail_on="壊れる"), store, tmp_path)
    _, (_, messages, conv, status, *_files) = _run(h, "壊れる質問")
    content = messages[-1]["content"]
    assert content == escape_text(MSG_ERROR)
    assert "Traceback" not in content and "secret" not in content and "RuntimeError" not in content
    assert conv.turns[0].error and conv.turns[0].route == "error"
    assert "scripted failure" in caplog.text  # but the log has it
    _, (_, messages, conv, *_rest) = _run(h, "次の質問", conv)
    assert conv.user_history() == ["次の質問"]  # an unanswered turn is not history


def test_votes_comment_and_undo_hit_the_store(tmp_path, store):
    h = _handlers(ScriptedAsker(), store, tmp_path)
    _, (_, _, conv, *_rest) = _run(h, "令和4年度の選定数は？")
    _, (_, _, conv, *_rest) = _run(h, "二つ目", conv)
    assert h.comment("早すぎる", conv)[1].startswith("先に回答の")
    conv, msg = h.vote(conv, 1, False)
    assert "👎" in msg
    [row] = store.rows()
    assert (row.vote, row.question, row.config_hash) == ("down", "令和4年度の選定数は？", "cfg123")
    assert json.loads(row.citations)[0]["quote"] == "H30年度からR4年度までに合計53事業を選定"
    assert h.comment("数字を確認したい\x00", conv) == ("", "コメントを記録しました。ありがとうございます。")
    conv, _ = h.vote(conv, 1, True)  # changing the vote updates the same row
    [row] = store.rows()
    assert (row.vote, row.comment) == ("up", "数字を確認したい")
    conv, _ = h.vote(conv, 3, False)
    assert [json.loads(r.history) for r in store.rows()] == [[], ["令和4年度の選定数は？"]]
    conv, msg = h.vote(conv, 3, "")  # un-clicking takes the vote back
    assert msg == "評価を取り消しました。" and len(store.rows()) == 1
    assert h.vote(conv, 0, True)[1] == "評価の対象となる回答が見つかりませんでした。"  # a user message


def test_feedback_failure_is_friendly(tmp_path, store, monkeypatch):
    h = _handlers(ScriptedAsker(), store, tmp_path)
    _, (_, _, conv, *_rest) = _run(h, "質問")

    def broken(**kw):
        raise RuntimeError("db down")

    monkeypatch.setattr(store, "add", broken)
    assert h.vote(conv, 1, True)[1] == "フィードバックを保存できませんでした。時間をおいてもう一度お試しください。"


def test_markdown_export_lists_citations(tmp_path, store):
    h = _handlers(ScriptedAsker(), store, tmp_path)
    _, (_, _, conv, *_rest) = _run(h, "選定数は？")
    md = to_markdown(conv, "cfg123")
    assert "## 質問 1" in md and "> 選定数は？" in md and "### 根拠" in md
    assert "「H30年度からR4年度までに合計53事業を選定」" in md and "cfg123" in md


def test_settings_max_chars_reaches_the_handler(tmp_path):
    from assistant.ui.app import create_app

    settings = Settings(max_question_chars=7, feedback_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    demo = create_app(settings, ScriptedAsker(), records=None, export_dir=tmp_path)
    fns = [d for d in demo.fns.values() if getattr(d, "api_name", None) == "chat"]
    assert fns and fns[0].fn.__self__.max_chars == 7


# -- (※) notes, the comment box, export names (issue 16, part 1) ---------------------------------
def _notes():
    from assistant.config import Settings as _S
    from assistant.records.load import load_records
    from assistant.ui.notes import notes_from_records

    return notes_from_records(load_records(_S().records_path))


def test_a_mark_in_the_answer_or_a_quote_is_explained_by_the_documents_note(tmp_path, store):
    notes = _notes()
    flag = next(n for n in notes if n.mark == "(※)")
    assert flag.text.startswith("(※)は、国土交通省道路局")
    row = Citation(source="corpus/documents/mirai-gijutsu-torikumi-2023-03-15.md", locator="支援対象事業一覧",
                   quote="| 8 | 茨城県潮来市(※) | 自動運転等 | R2 |", title="資料")
    h = _handlers(ScriptedAsker(reply="潮来市はR2年度です。", citations=[row]), store, tmp_path)
    h.notes = notes
    _, (_, messages, *_rest) = _run(h, "潮来市は？")
    shown = messages[-1]["content"].replace("&quot;", '"')
    assert '<p class="mark-note">' in shown and flag.text in shown  # the mark is in the quote only
    assert shown.index("mark-note") < shown.index("根拠（1件）")  # under the answer, above its sources
    h2 = _handlers(ScriptedAsker(reply="全角の（※）も同じです。", citations=[]), store, tmp_path)
    h2.notes = notes
    assert flag.text in _run(h2, "質問")[1][1][-1]["content"].replace("&quot;", '"')
    plain = _run(_handlers(ScriptedAsker(), store, tmp_path), "選定数は？")[1][1][-1]["content"]
    assert "mark-note" not in plain  # no mark, no note


def test_the_45_projects_footnote_is_explained_but_not_an_inline_remark():
    from assistant.ui.notes import notes_for

    notes = _notes()
    [ended] = notes_for(["R4年度において45事業※に対して支援を実施中。"], notes)
    assert ended.mark == "※" and "8事業はR3年度末までに支援終了" in ended.text
    assert notes_for(["実証事業 ※データ取得等に必要な情報化基盤施設の整備"], notes) == []


def test_the_comment_box_waits_for_an_answer(tmp_path, store):
    h = _handlers(ScriptedAsker(fail_on="壊れる"), store, tmp_path)
    assert h.feedback_row(None).visible is False
    _, (_, _, conv, *_rest) = _run(h, "壊れる質問")
    assert h.feedback_row(conv).visible is False  # an error is nothing to comment on
    _, (_, _, conv, *_rest) = _run(h, "質問", conv)
    assert h.feedback_row(conv).visible is True


def test_conversation_exports_are_named_by_date_and_time(tmp_path, store):
    import re
    from pathlib import Path

    h = _handlers(ScriptedAsker(), store, tmp_path)
    _, (_, _, conv, _, md, js) = _run(h, "選定数は？")
    name = Path(md["value"]).name
    assert re.fullmatch(r"会話の記録_\d{4}-\d{2}-\d{2}_\d{4}\.md", name)
    assert Path(js["value"]).name == name[:-3] + ".json"
    _, (_, _, conv, _, md2, _) = _run(h, "二つ目", conv)
    assert md2["value"] == md["value"]  # the same conversation keeps its file
    _, (_, _, _, _, other, _) = _run(h, "別の会話")
    assert other["value"] != md["value"]  # another conversation: another folder
