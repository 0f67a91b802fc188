"""Extractive answerer on hand-made chunks: unit choice, table cells, focus, exact quotes."""

from assistant.answer.extractive import Extractor, clean, exact_quote, split_units, table_units
from assistant.normalize import nfkc
from assistant.tokenize import content_terms, morphemes
from assistant.types import Chunk, Hit

SOURCE = "src.md"
TEXT = """## 2 メールマガジンの配信

配信時期：月2回

- ・ 法改正や審議会等の国の最新動向（月1回）
- ・ 国内外の最新事例（2か月に1回）

## 概要

- ・自治体が希望する場合は、支援終了後も**メールマガジンについては引き続き配信可能**。
- ・支援期間を最長5年としており、今年度末にて支援終了となる。
"""
TABLE_HEADER = "| 項目 | 甲省 (一局) | 乙省 (二局) | 丙省 (三局) |\n|---|---|---|---|"
TABLE_ROW = "| 主な支援対象 | 基盤の整備・改修の経費を補助 (補助率1/2) | 実証事業を委託事業として実施する | 相談窓口の設置と助言 |"


def chunk(body, locator, table=False):
    meta = {"body": body}
    if table:
        meta.update(table=True, table_header=TABLE_HEADER)
    return Chunk(id=locator, doc_id="d", source=SOURCE, text=f"{locator}\n{body}", locator=locator, meta=meta)


def hits(*chunks):
    return [Hit(c, 1.0 / (i + 1)) for i, c in enumerate(chunks)]


def extractor(corpus_texts):
    df = {}
    for t in corpus_texts:
        for tok in set(content_terms(t)):
            df[tok] = df.get(tok, 0) + 1
    return Extractor(content_terms, lambda t: df.get(t, 0), len(corpus_texts), 0.35, morphemes=morphemes)


MAIL = chunk(TEXT.split("## 概要")[0].split("\n", 1)[1], "2 メールマガジンの配信")
END = chunk(TEXT.split("## 概要")[1], "概要")
TABLE = chunk(TABLE_ROW, "事業イメージ > 表", table=True)
ALL = [MAIL.text, END.text, TABLE.text]


def answer(question, *chunks):
    return extractor(ALL).answer(question, hits(*chunks), lambda s: TEXT + "\n" + TABLE_HEADER + "\n" + TABLE_ROW,
                                 lambda s: "題")


def test_frequency_question_picks_the_frequency_line():
    text, cites, _ = answer("メールマガジンの配信頻度は？", END, MAIL)
    assert "月2回" in text
    assert all(c.quote in nfkc(TEXT) for c in cites)  # quotes are exact after NFKC


def test_process_question_picks_the_rule_and_cleans_markup():
    text, cites, _ = answer("支援終了後もメールマガジンは配信されますか？", MAIL, END)
    assert "引き続き配信可能" in text and "**" not in text
    assert cites[0].locator == "概要"


def test_table_cell_is_answered_with_row_and_column():
    text, cites, _ = answer("乙省の事業の主な支援対象は？", TABLE)
    assert "委託事業" in text and "乙省" in text
    assert cites[0].quote == "実証事業を委託事業として実施する"


def test_a_named_column_is_not_answered_from_another():
    # 乙省 has no 補助率; 甲省's cell has one but is about another ministry.
    assert answer("乙省の事業の補助率は？", TABLE) is None
    text, _, _ = answer("甲省の事業の補助率は？", TABLE)
    assert "1/2" in text


def test_focus_missing_from_every_unit_abstains():
    # 「締切日」 is the focus; nothing mentions it, so there is no answer (not the nearest sentence).
    assert answer("メールマガジンの申込の締切日は？", MAIL, END) is None


def test_low_coverage_abstains():
    assert answer("ふるさと納税の返礼品の上限は？", MAIL, END, TABLE) is None


def test_missing_terms_are_reported():
    ex = extractor(ALL)
    assert "電話" in ex.missing_terms("メールマガジンの問い合わせ電話番号は？")
    assert ex.missing_terms("メールマガジンの配信頻度は？") == []


def test_units_and_quotes():
    assert split_units("a\n|---|---|\n| x | y |") == ["a", "| x | y |"]
    assert clean("- ・**太字**の文") == "太字の文"
    units = table_units(TABLE_ROW, TABLE_HEADER)
    assert units[0] == ("主な支援対象（甲省 (一局)）: 基盤の整備・改修の経費を補助 (補助率1/2)",
                        "基盤の整備・改修の経費を補助 (補助率1/2)", "甲省 (一局)", "主な支援対象")
    assert exact_quote("- ・自治体が希望する場合は", TEXT) is not None
    assert exact_quote("資料にない文です", TEXT) is None


# -- focus, lists and sections (made-up report, not the seed deck) ---------------------------------
VOICES_BODY = ("Q：展示ブースについてはいかがでしたか。\n\n■ 良い ■ 普通\n\n- ・模型がわかりやすかった。\n"
               "- ・説明員が丁寧だった。\n\nQ：意見交換についてはいかがでしたか。\n\n- ・他市の工夫が聞けた。")
PLAN_BODY = "- **2 安心して暮らせるまち**  \n防犯カメラの設置、見守りアプリの普及 等"
VOICES = chunk(VOICES_BODY, "【来場者の声】")
PLAN = chunk(PLAN_BODY, "施策の柱 > 暮らし")
REPORT = VOICES_BODY + "\n" + PLAN_BODY


def report_answer(question, *chunks):
    return extractor([VOICES.text, PLAN.text, MAIL.text]).answer(question, hits(*chunks), lambda s: REPORT,
                                                                  lambda s: "題")


def test_a_question_line_is_answered_by_the_bullets_below_it():
    text, cites, _ = report_answer("展示ブースの声ってどんなの？", VOICES)
    assert "模型" in text and "説明員" in text and "他市" not in text and "Q" not in text
    assert all(c.quote in nfkc(REPORT) for c in cites)


def test_focus_with_colloquial_marker_and_dropped_particle():
    ex = extractor(ALL)
    assert ex.focus("メールマガジンの配信頻度ってどれくらい？") == ["配信"]  # 頻度 is a question word
    assert ex.focus("支援期間わかる？") == ["支援"]  # 期間 names the kind of answer: the phrase it is about
    assert ex.focus("自動運転の事例ってある？") == ["自動", "運転"]  # 事例 is the kind: what it modifies


def test_which_grouping_is_answered_with_the_section():
    text, _, _ = report_answer("見守りアプリはどの区分に入ってる？", PLAN, VOICES)
    assert "安心して暮らせるまち" in text


def test_a_kind_the_unit_lacks_is_not_answered():
    assert report_answer("見守りアプリってどの決済サービスを使う？", PLAN) is None
