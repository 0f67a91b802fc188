"""The UI shows an answer's claims: a computed figure's working (「計算の内訳」, also a tooltip on
the underlined figure) and each quoted value highlighted (<mark>) inside its quote."""

from __future__ import annotations

import re
from decimal import Decimal

from assistant.answer.claims import with_claims
from assistant.claims.model import Claim, Computation
from assistant.types import Answer, Citation
from assistant.ui.chat import ChatHandlers
from assistant.ui.render import answer_message, citations_html, find_spans, readable_quote, working_html

SOURCE = "corpus/documents/mirai-gijutsu-gaiyou.md"
LOCATOR = "事業イメージ > 支援対象事業一覧 (R4.12 時点)"
ROWS = ["| 8 | 茨城県潮来市(※) | 自動運転等 | R2 |", "| 9 | 栃木県 | AI、IoT、5G、自動運転、ドローン | R2 |",
        "| 12 | 埼玉県秩父市 | IoT、自動運転、ドローン等 | R2 |"]
WORKING = "支援対象事業一覧で、採択年度: R2（令和2年度・2020年度）、活用技術: 自動運転に該当する事業を数えた結果"


def records_count_answer() -> Answer:
    """A records count answer as the engine writes it, with the claims the real attribution gives."""
    cites = [Citation(SOURCE, LOCATOR, q, "未来技術社会実装事業の概要") for q in ROWS]
    text = ("支援対象事業一覧で、採択年度: R2（令和2年度・2020年度）、活用技術: 自動運転に該当する事業は3件です。\n"
            "該当: 茨城県潮来市(※)（R2）、栃木県（R2）、埼玉県秩父市（R2）")
    answer = Answer("R2年度の自動運転の事業は？", text, cites, route="records",
                    computations=[Computation("count", Decimal(3), ("Project:8", "Project:9", "Project:12"), (0, 1, 2),
                                              WORKING)])
    return with_claims(answer)


def _working_lines(html: str) -> list[str]:
    block = re.search(r'<details class="working"><summary>(.*?)</summary><ul>(.*?)</ul></details>', html)
    assert block, html
    return [re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li>(.*?)</li>", block.group(2))]


def test_a_computed_figure_shows_its_working():
    a = records_count_answer()
    assert any(c.kind == "computed" for c in a.claims)
    msg = answer_message(a.text, a.citations, a.claims)
    lines = _working_lines(msg)
    assert lines[0] == f"3件 = {WORKING}（数えた行: 根拠の1〜3番、3件）"
    assert "2020年度 = R2（年度の表記を西暦に換算）" in lines
    assert '<summary>計算の内訳（' in msg
    # the figure itself is underlined in the answer, the working as its tooltip (hover on a desktop)
    figure = re.search(r'<span class="figure" title="([^"]*)">([^<]*)</span>', msg)
    assert figure and figure.group(2) == "3件" and figure.group(1).startswith("3件 = 支援対象事業一覧で")
    # the order: answer, then 計算の内訳, then 根拠; HTML blocks on one line each
    assert msg.index("計算の内訳") < msg.index("根拠（3件）")
    assert all("\n" not in block for block in msg.split("\n\n")[1:])
    # no internal words shown
    assert not re.search(r"claim|computed|count|quoted|converted|Project:", msg.split("<details")[1]
                         + "".join(lines))


def test_a_quoted_value_is_marked_inside_its_quote_and_the_quote_reads_plainly():
    a = records_count_answer()
    panel = citations_html(a.citations, a.claims)
    quotes = re.findall(r'<blockquote class="cite-quote">(.*?)</blockquote>', panel)
    assert quotes[0] == ('8 ／ <mark class="cite-value">茨城県</mark><mark class="cite-value">潮来市</mark>(※)'
                         ' ／ 自動運転等 ／ <mark class="cite-value">R2</mark>')
    assert '<mark class="cite-value">栃木県</mark>' in quotes[1]
    assert "|" not in panel.replace('class="cite-', "")  # no table pipes left in the quotes
    assert readable_quote("H30:14事業、R1: 8 事業 **R4:10事業**") == "H30:14事業、R1: 8 事業 R4:10事業"
    assert readable_quote("| 列 | 値 |\n|---|---|\n| 予算 | 4.0億円 |") == "列 ／ 値\n予算 ／ 4.0億円"


def test_marks_only_whole_values_and_nothing_for_another_spelling():
    text = "H30:14事業、R1: 8 事業 R2:12事業 R4:10事業 4.0億円"
    spans = find_spans(text, ["2", "10", "4", "令和2年度"])
    assert [text[a:b] for a, b in spans] == ["10"]  # not the 2 of R2/12, not the 4 of R4/4.0
    wide = "令和２年度はＲ２です"
    assert [wide[a:b] for a, b in find_spans(wide, ["R2"])] == ["Ｒ２"]  # width differs: the same value
    assert find_spans("採択年度 令和2年度", ["R2"]) == []  # era spelling differs: nothing highlighted


def test_html_in_claims_quotes_and_workings_is_escaped():
    evil = '<img src=x onerror=alert(1)>'
    text = f"{evil}の事業は3件です。"
    cite = Citation(SOURCE, "<b>見出し</b>", f"| 1 | {evil}市 | <script>alert(2)</script> |", "<i>資料</i>")
    claims = [Claim("computed", "number", "3", len(evil) + 4, len(evil) + 5, "number:3", (0,), "count",
                    ("a", "b", "c"), f'{evil}"><script>x</script>を数えた結果'),
              Claim("quoted", "name", f"{evil}市", 0, len(evil) + 1, "name:x", (0,))]
    msg = answer_message(text, [cite], claims)
    assert "<img" not in msg and "<script" not in msg and "<b>" not in msg and "<i>" not in msg
    assert "&lt;img src=x onerror=alert(1)&gt;" in msg and "&lt;script&gt;" in msg
    assert 'title="' in msg and '"><script>' not in msg
    assert '<mark class="cite-value">&lt;img src=x onerror=alert(1)&gt;市</mark>' in msg


def test_working_made_from_the_operation_when_the_answerer_gave_none():
    def claim(op, inputs, text="5"):
        return Claim("computed", "number", text, 0, len(text), f"number:{text}", (), op, inputs)

    assert _working_lines(working_html("5件", [claim("count", ("a",) * 5)]))[0] == "5件 = 該当する5件を数えた結果"
    assert _working_lines(working_html("22事業", [claim("sum", ("12", "10"), "22")]))[0] == "22事業 = 12 + 10 の合計"
    assert _working_lines(working_html("2事業", [claim("difference", ("12", "10"), "2")]))[0] == "2事業 = 12 − 10 の差"
    assert "最大" in _working_lines(working_html("14", [claim("max", ("14", "8"), "14")]))[0]
    assert "支援期間" in _working_lines(working_html("2023年度", [claim("add_years", ("2019", "5"), "2023")]))[0]
    assert working_html("答えです", []) == ""


def test_claim_offsets_follow_the_nfkc_text_when_the_answer_is_full_width():
    text = "（参考）該当は１０件です。"  # NFKC: 「(参考)該当は10件です。」 — same length here, offsets agree
    c = Claim("computed", "number", "10", 7, 9, "number:10", (), "count", tuple("abcdefghij"))
    msg = answer_message(text, [], [c])
    assert '<span class="figure" title="１０件 = 該当する10件を数えた結果">１０件</span>' in msg
    moved = Claim("computed", "number", "10", 3, 5, "number:10", (), "count", tuple("abcdefghij"))
    assert '<span class="figure"' not in answer_message(text, [], [moved])  # wrong offsets: no mark
    assert "10 = 該当する10件を数えた結果" in answer_message(text, [], [moved])  # the working still listed


def test_the_chat_renders_the_claims_of_the_answer(tmp_path):
    class Fixed:
        def ask(self, question, history=None):
            return records_count_answer()

        def warm_up(self):
            pass

    h = ChatHandlers(Fixed(), config_hash="c", max_chars=200, feedback=None, export_dir=tmp_path)
    *_, last = h.respond("R2年度の自動運転の事業は？", None)
    content = last[1][-1]["content"]
    assert '<span class="figure"' in content and "計算の内訳" in content and '<mark class="cite-value">' in content
