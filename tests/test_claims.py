"""Claims: values found, attributed (quoted / computed / converted) and verified."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest

from assistant.claims import Computation, attribute, find_values, verify
from assistant.claims.model import Claim
from assistant.claims.verify import recompute


@dataclass
class Cite:
    source: str
    quote: str
    locator: str = ""


@dataclass
class Ans:
    text: str
    citations: list[Cite]
    claims: list[Claim] = field(default_factory=list)
    question: str = ""
    history: list[str] = field(default_factory=list)


def answer(text: str, quotes: list[str], computations=(), question: str = "") -> Ans:
    cites = [Cite("doc.md", q) for q in quotes]
    return Ans(text, cites, attribute(text, quotes, computations, question).claims, question)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(v.kind, v.key) for v in find_values(text)]


def test_values_of_each_kind_with_comparison_keys():
    got = kinds("令和5年度の予算は3.5億円、問合せは info@city.example.jp（https://example.jp/a）。11月3日に12団体。")
    assert ("year", "year:2023") in got
    assert ("number", "number:350000000") in got
    assert ("email", "email:info@city.example.jp") in got
    assert ("url", "url:https://example.jp/a") in got
    assert ("date", "date:11-3") in got
    assert ("number", "number:12") in got
    # The e-mail's and the URL's digits are not also numbers.
    assert not any(k == "number:5" for _, k in got)


def test_names_are_places_and_organisations_not_generic_words():
    names = [v.surface for v in find_values("高松市と経済産業省が連携し、関係省庁と各府省が支援する都市") if v.kind == "name"]
    assert "高松市" in names and "経済産業省" in names
    assert not any(n in ("関係省庁", "各府省", "都市") for n in names)


def test_quoted_claim_carries_the_citation_that_states_the_value():
    a = answer("スマートシティ事業のR5年度予算は1.2億円です。", ["スマートシティ事業のR5年度予算", "1.2億円"])
    money = next(c for c in a.claims if c.value_kind == "number")
    assert money.kind == "quoted" and money.citations == (1,)
    assert verify(a) == []


def test_value_in_no_quote_is_unsupported_and_unclaimed():
    text = "予算は9.9億円です。"
    got = attribute(text, ["予算は1.2億円"])
    assert [c.text for c in got.unsupported] == ["9.9億"]
    problems = verify(Ans(text, [Cite("d", "予算は1.2億円")], got.claims))
    assert [p.kind for p in problems] == ["unclaimed"]


def test_figure_must_keep_its_unit_and_not_continue_a_longer_one():
    assert attribute("12事業です。", ["5月12日に開催"]).unsupported
    assert attribute("1件です。", ["11件"]).unsupported


def test_computed_count_is_recomputed_from_its_inputs():
    comp = Computation("count", Decimal(3), ("P:1", "P:2", "P:7"), (0, 1, 2), "条件に合う行を数えた結果")
    a = answer("該当する事業は3件です。", ["| 1 | 甲市 |", "| 2 | 乙町 |", "| 7 | 丙村 |"], [comp])
    claim = next(c for c in a.claims if c.kind == "computed")
    assert claim.operation == "count" and claim.working
    assert verify(a) == []


def test_a_wrong_sum_is_caught():
    comp = Computation("sum", Decimal(7), ("4.0", "2.8"), (0, 1))
    a = answer("合計7億円です。", ["4.0億円", "2.8億円"], [comp])
    assert [p.kind for p in verify(a)] == ["recompute_mismatch"]


@pytest.mark.parametrize(("op", "inputs", "want"), [
    ("sum", ("4.0", "2.8"), "6.8"), ("difference", ("12", "5"), "7"), ("max", ("3", "9", "4"), "9"),
    ("min", ("3", "9"), "3"), ("add_years", ("2019", "5"), "2023"), ("year_span", ("2018", "2022"), "5"),
    ("count", ("a", "b", "a"), "2"),
])
def test_recompute_each_operation(op, inputs, want):
    claim = Claim("computed", "number", want, 0, 1, f"number:{want}", operation=op, inputs=inputs)
    assert recompute(claim) == Decimal(want)


def test_era_spelling_is_a_converted_claim_that_converts_back():
    a = answer("令和3年度（2021年度）の採択です。", ["| 4 | 甲市 | AI | R3 |"])
    conv = [c for c in a.claims if c.kind == "converted"]
    assert {c.rule for c in conv} == {"era"} and {c.source_value for c in conv} == {"R3"}
    assert verify(a) == []
    bad = replace(conv[0], source_value="R4")
    assert [p.kind for p in verify(Ans(a.text, a.citations, [bad if c == conv[0] else c for c in a.claims]))] == [
        "conversion_mismatch"]


def test_scale_conversion():
    a = answer("予算は12,000万円です。", ["1.2億円"])
    (c,) = a.claims
    assert c.kind == "converted" and c.rule == "scale" and verify(a) == []


def test_a_wrong_quote_is_caught_against_the_source_file():
    a = answer("問合せ先は desk@town.example.jp です。", ["desk@town.example.jp"])
    assert verify(a, lambda source: "問合せ先: desk@town.example.jp") == []
    assert [p.kind for p in verify(a, lambda source: "問合せ先: other@town.example.jp")] == ["quote_not_in_source"]


def test_claim_pointing_at_a_quote_without_its_value_is_caught():
    a = answer("予算は1.2億円です。", ["1.2億円", "別の記載"])
    moved = [replace(c, citations=(1,)) for c in a.claims]
    assert [p.kind for p in verify(Ans(a.text, a.citations, moved))] == ["quote_mismatch"]


def test_claims_serialize_for_jsonl():
    comp = Computation("count", Decimal(2), ("a", "b"), (0,), "数えた結果")
    (c,) = [c for c in answer("2件です。", ["x"], [comp]).claims]
    js = c.to_json()
    assert js["kind"] == "computed" and js["value"] == "2" and js["operation"] == "count" and js["citations"] == [0]


def test_the_users_own_words_are_restated_only_when_nothing_else_holds_them():
    q = "1. 浜松市の事業は？ 2. 2023年度の予算は？"
    a = answer("1. 浜松市は一覧にありません。\n2. 令和5年度の予算は1.2億円です。", ["1.2億円"], question=q)
    by_text = {c.text: c.kind for c in a.claims}  # the list labels 1. and 2. are no values
    assert by_text == {"浜松市": "restated", "令和5年度": "restated", "1.2億": "quoted"}
    assert verify(a) == []
    assert [p.kind for p in verify(replace(a, question="予算は？"))] == ["quote_mismatch"] * 2


def test_a_place_typed_in_kana_is_restated_by_its_reading():
    a = answer("浜松市の事業は一覧にありません。", [], question="はままつの事業ある？")
    assert [c.kind for c in a.claims] == ["restated"] and verify(a) == []
    assert attribute("浜松市の事業は一覧にありません。", [], restated="しずおかの事業ある？").unsupported


def test_circled_and_leading_list_labels_are_not_values():
    assert [v.surface for v in find_values("① 12件\n②は…\n(3) 4月1日\n10. 5団体")] == ["12", "4月1日", "5"]


def test_a_value_of_the_place_shown_with_a_quote_is_stated_by_that_citation():
    text = "関連する記載: 開催は年2回（3 説明会の開催）"
    cites = [Cite("doc.md", "開催は年2回", "3 説明会の開催")]
    from assistant.answer.claims import stated_text

    claims = attribute(text, [stated_text(c) for c in cites]).claims
    assert {c.text for c in claims} == {"2", "3"} and verify(Ans(text, cites, claims)) == []
    assert [p.kind for p in verify(Ans(text, [Cite("doc.md", "開催は年2回", "説明会")], claims))] == ["quote_mismatch"]


def test_a_value_stated_by_several_rows_cites_the_row_of_its_list_item():
    rows = ["| 3 | 架空県東山市 | AI | R2 |", "| 4 | 架空県西川町 | IoT | R2 |"]
    a = answer("該当: 架空県東山市（R2）、架空県西川町（R2）", rows)
    years = [c for c in a.claims if c.value_kind == "year"]
    assert [c.citations for c in years] == [(0,), (1,)] and verify(a) == []


def test_a_count_equal_to_an_era_number_is_not_the_year():
    comp = Computation("count", Decimal(2), ("P:1", "P:2"), (0, 1))
    a = answer("令和2年度の事業は2件です。", ["| 1 | 甲市 | R2 |", "| 2 | 乙町 | R2 |"], [comp])
    kinds = {c.text: c.kind for c in a.claims}
    assert kinds["令和2年度"] == "converted" and kinds["2"] == "computed"


def test_fiscal_year_end_in_calendar_form_converts_the_stated_fiscal_year():
    comp = Computation("add_years", Decimal(2025), ("2021", "5"), (0,))
    a = answer("支援はR7年度末（2026年3月末）までです。", ["| 9 | 甲市 | R3 |"], [comp])
    end = next(c for c in a.claims if c.text == "2026年3月末")
    assert end.kind == "converted" and end.rule == "fiscal_year" and end.source_value == "R7年度"
    assert verify(a) == []
    wrong = answer("支援はR7年度末（2027年3月末）までです。", ["| 9 | 甲市 | R3 |"], [comp])
    assert [c.text for c in attribute(wrong.text, ["| 9 | 甲市 | R3 |"], [comp]).unsupported] == ["2027年3月末"]


def test_a_year_range_in_a_quote_states_both_years():
    a = answer("2026年度までの目標です。", ["2022～2026年度累計で50件"])
    assert [c.kind for c in a.claims] == ["quoted"] and verify(a) == []
