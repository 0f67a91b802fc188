"""Message analysis: parts, greetings, self-introductions, memos, quoted mail, sender context."""

from __future__ import annotations

import pytest

from assistant.understand.message import (
    CONTEXT,
    GREETING,
    INTRO,
    QUESTION,
    TOPIC,
    analyze,
    clean_question,
    load_cues,
    refers_back,
    split_quoted,
)


@pytest.fixture(scope="module")
def find():
    from assistant.config import get_settings
    from assistant.records.engine import RecordsEngine
    from assistant.records.load import load_records

    return RecordsEngine(load_records(get_settings().records_path)).lexicon.find


def test_cues_are_data():
    cues = load_cues()
    assert "お世話になっております" in cues["greeting"]
    assert ("弊市", "municipality") in cues.self_refs
    assert "照会" in cues["question_end"]


def test_plain_question_is_plain(find):
    m = analyze("R3年度に選定された事業はいくつ？", find)
    assert m.plain and [q.text for q in m.questions] == ["R3年度に選定された事業はいくつ？"]
    assert analyze("そのうち自動運転は？", find).plain


def test_email_greeting_intro_context_question_closing(find):
    text = ("いつもお世話になっております。高知県四万十市 まちづくり推進課でございます。"
            "当市では観光分野でのドローン活用を検討しております。"
            "当市の事業の採択年度はいつでしょうか。"
            "お手数をおかけしますが、ご教示のほどよろしくお願い申し上げます。")
    m = analyze(text, find)
    assert m.kinds() == [GREETING, INTRO, CONTEXT, QUESTION, GREETING]
    assert not m.plain
    assert m.sender is not None and m.sender.name == "高知県四万十市" and m.sender.entity == "四万十市"
    (q,) = m.questions
    assert q.uses_sender and "高知県四万十市の事業の採択年度" in q.text and "当市" not in q.text


@pytest.mark.parametrize("ref, want", [("弊町", "鹿児島県伊仙町"), ("本町", "鹿児島県伊仙町"), ("うちの", "鹿児島県伊仙町の")])
def test_self_references_take_the_senders_name(find, ref, want):
    m = analyze(f"鹿児島県伊仙町 企画課です。{ref}事業の主な活用技術を教えてください。", find)
    assert m.questions[0].text.startswith(want)


def test_prefecture_reference(find):
    m = analyze("お疲れ様です。島根県 政策企画課の者です。本県の事業は何年度の採択ですか。", find)
    assert m.sender.prefecture == "島根県" and not m.sender.municipality
    assert m.questions[0].text.startswith("島根県の事業")


def test_numbered_questions_keep_their_labels(find):
    m = analyze("宇陀市の事業について2点質問です。\n(1) 採択年度はいつですか。\n(2) 主な活用技術は何ですか。", find)
    assert [q.label for q in m.questions] == ["(1)", "(2)"]
    assert all(q.text.startswith("宇陀市の事業について、") for q in m.questions)
    assert TOPIC in m.kinds()


def test_circled_markers_inside_one_sentence(find):
    m = analyze("R2年度に選定された事業について、①何件あるか、②そのうち自動運転を使うのは何件か、教えてください。", find)
    assert [q.label for q in m.questions] == ["①", "②"]
    assert m.questions[1].text.endswith("そのうち自動運転を使うのは何件か")
    assert refers_back(m.questions[1].text)


def test_connectives_start_another_question(find):
    m = analyze("塩尻市の採択年度を教えてください。それと、塩尻市の活用技術も知りたいです。", find)
    assert len(m.questions) == 2
    assert not m.questions[1].text.startswith("それと")
    assert m.questions[1].standalone  # names its own place: asked without the first


def test_decimal_and_year_month_are_not_markers(find):
    m = analyze("R4.12時点の一覧で補助率1/2の事業は？", find)
    assert m.plain and len(m.questions) == 1


def test_memo_caller_is_the_sender(find):
    m = analyze("先方：長野県塩尻市 地域振興課。同市事業の支援期間はいつまでか照会。要回答。", find)
    assert m.kinds()[0] == INTRO and m.kinds()[-1] == GREETING
    assert m.sender.municipality == "塩尻市"
    assert m.questions[0].text.startswith("長野県塩尻市事業の支援期間")
    assert "照会" not in m.questions[0].text


def test_memo_same_as_before_takes_the_earlier_caller(find):
    first = "先方：奈良県宇陀市 企画課。同市事業の採択年度の照会。"
    m = analyze("先方：同上。同県内の他の選定事業の有無。要回答。", find, [first])
    assert m.sender.prefecture == "奈良県"
    assert m.questions[0].text.startswith("奈良県内の他の選定事業")


def test_unknown_place_sender_is_kept(find):
    m = analyze("先方：福岡県久留米市 総合政策課。同市事業の採択年度照会。", find)
    assert m.sender.unknown_place == "久留米市" and m.sender.name == "福岡県久留米市"


def test_quoted_mail_is_left_aside(find):
    text = ("お世話になっております。宇陀市 企画課です。\n追加で、宇陀市の活用技術を教えてください。\n\n"
            "> 宇陀市の採択年度を教えてください。\n"
            "-----Original Message-----\nFrom: someone\n三郷町の予算はいくらですか。")
    body, quoted = split_quoted(text)
    assert "三郷町" in quoted and "> 宇陀市" in quoted and "三郷町" not in body
    m = analyze(text, find)
    assert m.quoted and len(m.questions) == 1 and "活用技術" in m.questions[0].text


def test_bulleted_lines(find):
    m = analyze("以下2点お願いします。\n・四万十市の採択年度は？\n・四万十市の活用技術は？", find)
    assert len(m.questions) == 2


def test_clean_question_strips_politeness_and_tails():
    assert clean_question("恐れ入りますが、支援期間は最長何年でしょうか。") == "支援期間は最長何年でしょうか。"
    assert clean_question("満了後の扱いの照会。") == "満了後の扱いは？"
    assert clean_question("つきましては、選定数をご教示いただけますでしょうか。") == "選定数は？"
    assert clean_question("一覧において、活用技術はどのように記載されていますか。").endswith("活用技術は？")


def test_program_reference_takes_the_named_program(find):
    m = analyze("経済産業省の「地域新MaaS創出推進事業」を検討しております。同事業の予算はいくらですか。", find)
    assert m.questions[0].text.startswith("地域新MaaS創出推進事業の予算")


def test_signature_block_gives_the_sender(find):
    text = "お世話になっております。\n\n当市の採択年度を教えてください。\n\n--\n長野県塩尻市 企画政策部 先端技術推進課\n"
    m = analyze(text, find)
    assert m.kinds() == [GREETING, QUESTION, INTRO]
    assert m.sender.municipality == "塩尻市"
    assert m.questions[0].text.startswith("長野県塩尻市の採択年度")


def test_place_then_name_is_a_self_introduction(find):
    m = analyze("いつもお世話になっております。長野県塩尻市の佐藤です。\n当市の事業について、次の2点をご教示ください。\n"
                "①採択年度\n②主な活用技術\n以上、よろしくお願い申し上げます。", find)
    assert m.sender.municipality == "塩尻市"
    assert m.kinds()[:3] == [GREETING, INTRO, TOPIC]
    assert [q.label for q in m.questions] == ["①", "②"]
    assert [q.text for q in m.questions] == ["長野県塩尻市の事業について、採択年度", "長野県塩尻市の事業について、主な活用技術"]


@pytest.mark.parametrize("sentence", ["宮崎県延岡市の田中です。", "三重県いなべ市 鈴木と申します。"])
def test_place_intro_variants(find, sentence):
    m = analyze(sentence + "弊市の事業の採択年度を教えてください。", find)
    assert m.sender is not None and m.questions[0].uses_sender


@pytest.mark.parametrize("sentence", ["対象は延岡市の事業です。", "延岡市の事業は自動運転を使う取組と承知しているところです。"])
def test_a_statement_about_a_place_is_not_an_introduction(find, sentence):
    m = analyze(sentence + "採択年度を教えてください。", find)
    assert INTRO not in m.kinds()


@pytest.mark.parametrize("lead", ["次の2点をご教示ください。", "以下の3点についてお伺いします。", "2点、確認させてください。"])
def test_count_lead_ins_are_topics(find, lead):
    m = analyze(f"福山市の事業について、{lead}\n1. 採択年度\n2. 主な活用技術", find)
    assert [q.text for q in m.questions] == ["福山市の事業について、採択年度", "福山市の事業について、主な活用技術"]


def test_a_bare_alternative_belongs_to_the_question_before_it():
    from assistant.understand.message import analyze

    msg = analyze("アンケートの集計は市町村ごと？都道府県ごと？")
    assert len(msg.questions) == 1 and "都道府県ごと" in msg.questions[0].text
