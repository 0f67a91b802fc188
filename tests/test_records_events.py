"""Event answers as a small query algebra over events.csv: kind, day, month/date and year
filters, participant groups summed across days, weekday from the quoted date, programme items
(with 「X以外」), yes/no over a set of events, and comparisons. The answerer is called directly
on a parsed query, so these tests do not depend on routing."""

from __future__ import annotations

import re
import shutil

import pytest

from assistant.config import REPO_ROOT
from assistant.normalize import nfkc
from assistant.records.events_answer import breakdown, kind_mentions, program_items
from assistant.records.validate import validate_records


def events(engine, question):
    return engine._events(engine.parse(question))


def figures_are_cited(result) -> None:
    quotes = " ".join(nfkc(r.quote) for r in result.rows)
    cited = set(re.findall(r"[0-9]+", quotes)) | set(result.numbers)
    for n in re.findall(r"[0-9]+", nfkc(result.text)):
        assert n in cited, (n, result.text)


def test_helpers(engine):
    kinds = ["シンポジウム", "ミニシンポジウム"]
    assert kind_mentions("秋のシンポと冬のミニシンポ", kinds) == ["ミニシンポジウム", "シンポジウム"]
    assert kind_mentions("ミニシンポジウムの会場", kinds) == ["ミニシンポジウム"]
    assert kind_mentions("symposiumの場所", kinds) == []  # English is normalized upstream
    items = program_items("実証実験見学会（自動運転体験、買い物支援・罨センサー実証の説明）、情報交流会")
    assert [i.head for i in items] == ["実証実験見学会", "情報交流会"]
    assert items[0].parts == ["自動運転体験", "買い物支援・罨センサー実証の説明"]
    day1 = next(e for e in engine.records.events if e.day == "1日目")
    assert breakdown(day1) == [("選定自治体", 16), ("民間事業者", 4)]


@pytest.mark.parametrize("question,place", [("2日目の参加者は何人？", "23名"), ("シンポジウムの最終日の参加人数は？", "23名"),
                                            ("初日は何名参加した？", "20名")])
def test_day_filter(engine, question, place):
    r = events(engine, question)
    assert len(r.rows) == 1 and place in r.text
    figures_are_cited(r)


def test_two_day_span_is_not_day_two(engine):
    r = events(engine, "2日間のシンポジウムの会場は？")
    assert len(r.rows) == 2


@pytest.mark.parametrize("question", ["選定自治体は両日合わせて何人参加した？", "シンポジウムの選定自治体の参加者の合計は？"])
def test_group_summed_over_days(engine, question):
    r = events(engine, question)
    assert "16名 + 21名 = 37名" in r.text and r.numbers == ["37"]
    assert "ミニシンポジウム" not in r.text  # 都道府県及び市町村 is another group
    figures_are_cited(r)


def test_private_companies_by_another_word(engine):
    r = events(engine, "民間企業の参加者は全部で何人？")
    assert "4名 + 2名 = 6名" in r.text


def test_group_on_one_day(engine):
    r = events(engine, "2日目の民間事業者は何名？")
    assert "うち民間事業者は2名" in r.text and len(r.rows) == 1


def test_group_absent_from_the_session(engine):
    r = events(engine, "ミニシンポジウムの民間事業者の参加者は？")
    assert "内訳に民間事業者はありません" in r.text and "74名" in r.text


def test_total_of_days(engine):
    r = events(engine, "シンポジウムの参加者は2日間で合計何人？")
    assert "20名 + 23名 = 43名" in r.text
    figures_are_cited(r)


def test_breakdown_named_in_full(engine):
    r = events(engine, "ミニシンポの参加者の内訳（府省と自治体）は？")
    assert "府省18名、都道府県及び市町村56名" in r.text and "うち" not in r.text


def test_compare_groups_rejects_a_false_premise(engine):
    r = events(engine, "ミニシンポジウムは府省からの参加者が一番多かった？")
    assert "多いのは都道府県及び市町村（56名）" in r.text and "府省（18名）のほうが多いわけではありません" in r.text


def test_compare_days(engine):
    r = events(engine, "1日目と2日目では参加者はどちらが多い？")
    assert "最も多いのはシンポジウム（2日目）（23名）" in r.text


@pytest.mark.parametrize("question,weekday", [("シンポジウムの2日目は何曜日？", "金曜日"), ("10月27日は何曜日だった？", "木曜日"),
                                              ("ミニシンポジウムは何曜日に開かれた？", "火曜日")])
def test_weekday_from_the_quoted_date(engine, question, weekday):
    r = events(engine, question)
    assert len(r.rows) == 1 and weekday in r.text
    e = r.rows[0]
    assert f"({e.weekday})" in nfkc(e.quote) and e.date_as_written in r.text


def test_programme_item_by_its_words(engine):
    r = events(engine, "1日目の基調講演をしたのは誰？")
    assert "基調講演（筑波大 川島教授）" in r.text and "情報交流会" not in r.text
    r = events(engine, "千葉市はミニシンポで何をした？")
    assert "千葉市・河内長野市の取組事例紹介" in r.text and "座談会" in r.text


def test_programme_except(engine):
    r = events(engine, "2日目の見学会では自動運転体験のほかに何の説明があった？")
    assert "自動運転体験以外は「買い物支援・罨センサー実証の説明」" in r.text


def test_yes_no_over_both_events(engine):
    r = events(engine, "川島教授はシンポジウムとミニシンポジウムのどちらにも登壇した？")
    assert r.text.startswith("はい") and "基調講演" in r.text and "座談会" in r.text


def test_yes_no_over_both_days(engine):
    r = events(engine, "川島教授は両日とも出ている？")
    assert r.text.startswith("いいえ") and "2日目" in r.text


def test_item_in_another_session_only(engine):
    r = events(engine, "2日目にも基調講演はあった？")
    assert r.text.startswith("いいえ") and "シンポジウム（1日目）のプログラムにあります: 基調講演" in r.text


def test_items_select_sessions_for_other_attributes(engine):
    r = events(engine, "自動運転体験があった日の会場は？")
    assert [e.day for e in r.rows] == ["2日目"] and "グリーンホール田原" in r.text


def test_calendar_year_and_month(engine):
    r = events(engine, "2023年2月のミニシンポジウムの開催方法は？")
    assert [e.kind for e in r.rows] == ["ミニシンポジウム"] and "WEB開催" in r.text
    assert events(engine, "令和5年度のシンポジウムの会場は？").status == "abstain"


def test_aspect_not_in_the_table_is_left_to_the_documents(engine):
    assert events(engine, "ミニシンポジウムの参加費は？") is None
    assert events(engine, "シンポジウムの座談会の感想は？") is None


def test_weekday_is_validated_against_the_date(tmp_path):
    folder = tmp_path / "records"
    shutil.copytree(REPO_ROOT / "corpus" / "records", folder)
    path = folder / "events.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("選定自治体21名、民間事業者2名,金", "選定自治体21名、民間事業者2名,土"), encoding="utf-8")
    problems = validate_records(folder, REPO_ROOT).problems
    assert [(p.file, p.column) for p in problems] == [("events.csv", "weekday")]


def test_venue_selects_sessions(engine):
    r = events(engine, "グリーンホール田原に来た人は何名？")
    assert [e.day for e in r.rows] == ["2日目"] and "23名" in r.text


def test_city_read_in_another_spelling(engine):
    r = events(engine, "四条畷の会場は？")  # 条 for 條: matched by reading
    assert {e.city for e in r.rows} == {"大阪府四條畷市"} and len(r.rows) == 2


def test_number_of_days_and_of_events(engine):
    r = events(engine, "シンポジウムは何日間開催された？")
    assert "2日間" in r.text and r.numbers == ["2"]
    r = events(engine, "令和4年度は何回開催された？")
    assert "開催は2回" in r.text and "ミニシンポジウム" in r.text
