import pytest

from assistant.normalize import (
    apply_synonyms,
    find_years,
    match_key,
    normalize_era_years,
    normalize_text,
    parse_fiscal_year,
    western_to_era,
    western_to_era_full,
)


@pytest.mark.parametrize(
    "text,year",
    [
        ("R4", 2022), ("R4年度", 2022), ("令和4年度", 2022), ("令和四年度", 2022), ("Ｒ４年度", 2022),
        ("r4", None), ("2022年度", 2022), ("FY2022", 2022), ("2022", 2022), ("H30", 2018),
        ("平成30年度", 2018), ("Ｈ３０", 2018), ("平成三十年度", 2018), ("令和元年度", 2019),
        ("R1", 2019), ("R 1", 2019), ("令和1年度", 2019), ("H29", 2017), ("令和5年", 2023),
        ("R12", 2030), ("abc", None), ("", None),
    ],
)
def test_parse_fiscal_year(text, year):
    assert parse_fiscal_year(text) == year


def test_era_years_in_running_text():
    assert normalize_era_years("R2年度に選定された事業") == "2020年度に選定された事業"
    assert normalize_era_years("H30:14事業、R1: 8 事業") == "2018年度:14事業、2019年度: 8 事業"
    assert normalize_era_years("令和4年10月27日") == "2022年10月27日"


def test_dates_and_words_are_not_years():
    # "R4.12 時点" is a month, "5G" and "VR/AR" are not eras.
    assert find_years("R4.12 時点") == []
    assert find_years("5Gの人口カバー率") == []
    assert find_years("VR/AR等") == []
    assert find_years("HR4") == []


def test_western_to_era_round_trip():
    for y in range(2015, 2031):
        assert parse_fiscal_year(western_to_era(y)) == y
        assert parse_fiscal_year(western_to_era_full(y)) == y
    assert western_to_era_full(2019) == "令和元年度"
    assert western_to_era(2018) == "H30"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("メルマガは届く?", "メールマガジンは届く?"),
        ("無人航空機の活用", "ドローンの活用"),
        ("自動走行の実証", "自動運転の実証"),
        ("国交省の事業", "国土交通省の事業"),
        ("経産省の方は?", "経済産業省の方は?"),
        ("Which projects use drones?", "Which projects use ドローン?"),
    ],
)
def test_synonyms(text, expected):
    assert apply_synonyms(text) == expected


def test_synonym_inside_canonical_is_kept():
    assert apply_synonyms("地域実装協議会") == "地域実装協議会"
    assert apply_synonyms("VR/AR") == "VR/AR"
    assert apply_synonyms("メールマガジン") == "メールマガジン"


def test_normalize_text_full_width_and_era():
    assert normalize_text("Ｒ２年度のＡＩ事業") == "2020年度のAI事業"


def test_match_key():
    assert match_key("1,000 団体") == match_key("1000団体")
    assert match_key("ＡＢＣ") == "abc"
