"""``assistant eval --variants``: generation rules, facts kept, kept-rate computation.

The names and phrasings here are deliberately not those of the QA sets (eval/qa.jsonl,
shared/eval/*.jsonl): the rules must be general. Sudachi is used (fast, offline); no model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.answer import ABSTAIN_PHRASE
from assistant.config import Settings, get_settings
from assistant.errors import GateFailedError, UsageError
from assistant.evaluate import eval_command
from assistant.evaluate.qa import QAItem
from assistant.evaluate.variants import (
    KINDS,
    Variant,
    abbreviation_variants,
    build_vocabulary,
    era_variants,
    facts,
    generate_variants,
    load_abbreviations,
    order_variant,
    politeness_variants,
    reading_variants,
    romaji_of,
    variants_for_items,
    width_variant,
)
from assistant.evaluate.variants_report import (
    run_variants,
    summarize_variants,
    variant_correct,
    write_variants,
)
from assistant.normalize import find_years, nfkc, normalize_era_years
from assistant.types import Answer, Citation

TOWNS = ["八戸市", "新居浜市", "鶴岡市", "北見市", "松江市", "さくら市", "十日町市", "北杜市", "北斗市"]


@pytest.fixture(scope="module")
def vocab():
    return build_vocabulary(TOWNS)


def questions(found):
    return [q for _, q, _ in found]


def by_kind(found):
    return {k: q for k, q, _ in found}


# ---------------------------------------------------------------- readings


def test_municipality_by_reading_keeps_the_suffix_in_kanji(vocab):
    got = by_kind(reading_variants("八戸市の事業は何件？", vocab))
    assert got == {"hiragana": "はちのへ市の事業は何件？", "katakana": "ハチノヘ市の事業は何件？",
                   "romaji": "Hachinohe市の事業は何件？"}


def test_prefecture_and_municipality_both_rewritten(vocab):
    got = by_kind(reading_variants("島根県松江市の主な活用技術は？", vocab))
    assert got["hiragana"] == "しまね県まつえ市の主な活用技術は？"
    assert got["romaji"] == "Shimane県Matsue市の主な活用技術は？"
    assert by_kind(reading_variants("山梨県の事業は？", vocab))["katakana"] == "ヤマナシ県の事業は？"
    assert by_kind(reading_variants("北海道の事業は？", vocab))["hiragana"] == "ほっかいどうの事業は？"


def test_bare_stem_only_as_a_word_of_its_own(vocab):
    assert by_kind(reading_variants("鶴岡の事業はいつ採択？", vocab))["hiragana"] == "つるおかの事業はいつ採択？"
    assert reading_variants("徳島大学の先生は？", vocab) == []  # 徳島 is part of another name
    assert reading_variants("京都市の事業は？", vocab) == []  # 京都 glued to 市: not 京都府
    hiroshima = build_vocabulary(["広島市"], prefecture_names=[])
    assert reading_variants("東広島市の事業は？", hiroshima) == []  # another town's name
    assert by_kind(reading_variants("広島市内の事業は？", hiroshima))["katakana"] == "ヒロシマ市内の事業は？"


def test_unreliable_or_ambiguous_readings_are_left_alone(vocab):
    assert reading_variants("十日町市の事業は？", vocab) == []  # a numeral: Sudachi's reading is a guess
    assert reading_variants("北杜市の事業は？", vocab) == []  # ホクト: also 北斗市
    assert reading_variants("北斗市の事業は？", vocab) == []


def test_names_already_in_kana(vocab):
    got = by_kind(reading_variants("さくら市の事業は？", vocab))
    assert "hiragana" not in got and got["katakana"] == "サクラ市の事業は？" and got["romaji"] == "Sakura市の事業は？"
    assert reading_variants("予算の内訳は？", vocab) == []  # no place: no variant


def test_romaji_folds_long_vowels():
    assert romaji_of("トウキョウ") == "Tokyo"
    assert romaji_of("オオイタ") == "Oita"
    assert romaji_of("ニイハマ") == "Niihama"
    assert romaji_of("イノウエ") == "Inoue"  # う before a vowel is not a long vowel


# ---------------------------------------------------------------- width


def test_width_both_directions():
    assert width_variant("R3年度の5G事業は？")[0] == "Ｒ３年度の５Ｇ事業は？"
    assert width_variant("Ｈ２８年度のＩｏＴ事業は？")[0] == "H28年度のIoT事業は？"
    assert width_variant("何件ありますか？") is None
    assert width_variant("How many projects use AI?") is None  # English questions are left alone


# ---------------------------------------------------------------- era


def test_era_letter_full_and_western():
    got = questions(era_variants("H28年度の選定数は？"))
    assert got == ["2016年度の選定数は？", "平成28年度の選定数は？"]
    assert questions(era_variants("令和元年度に開催された会議は？")) == ["2019年度に開催された会議は？",
                                                                   "R1年度に開催された会議は？"]
    assert questions(era_variants("2031年度までの目標は？")) == ["R13年度までの目標は？", "令和13年度までの目標は？"]
    assert questions(era_variants("R2からR5までの合計は？"))[0] == "2020年度から2023年度までの合計は？"


def test_era_calendar_years_and_english():
    assert questions(era_variants("2024年3月の会議は？")) == ["R6年3月の会議は？", "令和6年3月の会議は？"]
    assert era_variants("2019年5月の会議は？") == []  # 平成31年 or 令和元年: not rewritten
    assert questions(era_variants("What was the FY2016 budget?")) == ["What was the H28 budget?"]
    assert questions(era_variants("What was the R6 budget?")) == ["What was the FY2024 budget?"]
    assert era_variants("R4.12時点の一覧") == []  # a month, not a fiscal year


# ---------------------------------------------------------------- politeness


@pytest.mark.parametrize(("question", "expected"), [
    ("鶴岡市の事業は何件ありますか？", ["鶴岡市の事業は何件ある？", "鶴岡市の事業は何件あるの？"]),
    ("支援はいつまで続きますか？", ["支援はいつまで続く？", "支援はいつまで続くの？"]),
    ("ワークショップはどこで開催されましたか？", ["ワークショップはどこで開催された？", "ワークショップはどこで開催されたの？"]),
    ("担当者はいつ行った？", ["担当者はいつ行きましたか？", "担当者はいつ行ったの？"]),
    ("補助金の申請はできる？", ["補助金の申請はできますか？", "補助金の申請はできるの？"]),
    ("交付金の上限はいくらですか？", ["交付金の上限はいくら？", "交付金の上限はいくらなの？"]),
    ("協議会とは何ですか？", ["協議会は何？", "協議会って何？"]),
    ("パンフレットの配布先を教えてください。", ["パンフレットの配布先を教えて", "パンフレットの配布先を教えてちょうだい"]),
    ("最新の資料を読んで", ["最新の資料を読んでください", "最新の資料を読んでちょうだい"]),
    ("ワークショップの会場は？", ["ワークショップの会場について教えてください", "ワークショップの会場って？"]),
    ("申請に使うのは？", ["申請に使うのはどれですか？", "申請に使うのってどれ？"]),
    ("申請はいつまでにすればよい？", ["申請はいつまでにすればよいですか？", "申請はいつまでにすればよいの？"]),
])
def test_politeness_registers(question, expected):
    assert questions(politeness_variants(question)) == expected


def test_politeness_round_trips_and_followups():
    for q in ("支援はいつまで続く？", "ワークショップはどこで開催された？", "交付金の上限はいくら？"):
        for _, v, _ in politeness_variants(q):
            assert q in questions(politeness_variants(v)), v
    # An elliptical follow-up is not turned into a request about the bare phrase.
    assert questions(politeness_variants("令和7年度は？", followup=True)) == ["令和7年度はどうですか？", "令和7年度って？"]


def test_politeness_skips_what_it_cannot_rewrite_cleanly():
    assert politeness_variants("北見市に限ると？") == []
    assert politeness_variants("一覧表、要回答。") == []
    assert politeness_variants("How many projects use drones?") == []
    assert politeness_variants("ドローンは入ってない？") == []  # a negative ending: no rule for it


# ---------------------------------------------------------------- abbreviations


def test_abbreviations_table_format_and_coverage():
    path = Path(__file__).resolve().parents[1] / "assistant/data/abbreviations.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "short\tlong\tkind"
    rows = [line.split("\t") for line in lines[1:] if line.strip() and not line.startswith("#")]
    assert all(len(r) == 3 and r[0] and r[1] and r[2] in {"ministry", "agency", "program", "event", "term"}
               for r in rows)
    assert len({(r[0], r[1]) for r in rows}) == len(rows)
    pairs = {(a.long, a.short) for a in load_abbreviations()}
    for pair in [("経済産業省", "経産"), ("国土交通省", "国交"), ("総務省", "総務"), ("シンポジウム", "シンポ"),
                 ("ミニシンポジウム", "ミニシンポ"), ("メールアドレス", "メアド"), ("アンケート", "アンケ"),
                 ("スマートシティ", "スマシティ"), ("厚生労働省", "厚労省"), ("文部科学省", "文科省"),
                 ("農林水産省", "農水省")]:
        assert pair in pairs


def test_abbreviation_one_variant_per_long_form():
    table = load_abbreviations()
    got = questions([("abbreviation", *a) for a in abbreviation_variants("経済産業省と厚生労働省の連携事業は？", table)])
    assert got == ["経産と厚生労働省の連携事業は？", "経済産業省と厚労省の連携事業は？"]
    assert [q for q, _ in abbreviation_variants("ミニシンポジウムのパンフレットは？", table)] == [
        "ミニシンポのパンフレットは？", "ミニシンポジウムのパンフは？"]
    assert abbreviation_variants("北見市の事業は？", table) == []


# ---------------------------------------------------------------- order


def test_order_swaps_two_leading_entities(vocab):
    assert order_variant("R3年度の山梨県の事業は？", vocab)[0] == "山梨県のR3年度の事業は？"
    assert order_variant("ドローンの徳島県の事業は？", vocab)[0] == "徳島県のドローンの事業は？"
    assert order_variant("令和3年度採択の山梨県八戸市の事業は？", vocab)[0] == "山梨県八戸市の令和3年度採択の事業は？"
    assert order_variant("山梨県の徳島県の事業は？", vocab) is None  # same kind
    assert order_variant("R3年度の事業は？", vocab) is None
    assert order_variant("予算のR3年度の山梨県の事業は？", vocab) is None  # not at the start
    assert order_variant("R3年度の山梨県で採択された事業は？", vocab) is None  # different particles


# ---------------------------------------------------------------- facts never change

SAMPLES = [
    "H28年度に採択された八戸市の事業は何件ありますか？",
    "令和元年度の新居浜市のワークショップは何名参加した？",
    "R3年度の山梨県の事業でAIを使うものを教えてください",
    "２０３１年度までに厚生労働省が目指す5G活用の目標は？",
    "鶴岡の事業は2024年3月に終わるの？",
    "松江市のシンポジウムの参加費は1,000円ですか？",
    "What was the FY2016 budget of Matsue?",
]


@pytest.mark.parametrize("question", SAMPLES)
def test_variants_keep_the_facts(vocab, question):
    vs = generate_variants("x", question, vocab)
    assert vs, question
    base_years = [y.year for y in find_years(question)]
    for v in vs:
        assert isinstance(v, Variant) and v.kind in KINDS and v.original == question
        assert v.question != question
        assert facts(v.question) == facts(question), v
        assert [y.year for y in find_years(v.question)] == base_years, v
    assert len({v.question for v in vs}) == len(vs)


def test_facts_treat_year_spellings_as_one():
    assert facts("R4年度の10事業") == facts("2022年度の１０事業") == facts("令和4年度の10事業")
    assert facts("R4年度") != facts("R5年度")


def test_kinds_filter_and_history(vocab):
    only = generate_variants("x", "R3年度の八戸市の事業は？", vocab, kinds=["era"])
    assert {v.kind for v in only} == {"era"}
    item = QAItem(id="f1", question="令和7年度は？", history=["八戸市の事業は何件？"])
    vs = variants_for_items([item], vocab)
    assert vs and all(v.original == "令和7年度は？" and v.item_id == "f1" for v in vs)
    assert "令和7年度はどうですか？" in [v.question for v in vs]


# ---------------------------------------------------------------- kept rate

SRC = "corpus/documents/doc.md"


class RuleAsker:
    """Knows H28 (in any spelling) and 八戸市 written in kanji only; abstains otherwise."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str] | None]] = []

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        self.calls.append((question, history))
        q = normalize_era_years(nfkc(question))
        if "予算" in q:
            return Answer(question, ABSTAIN_PHRASE, abstained=True, route="abstain")
        if "2016年度" in q:
            return Answer(question, "H28年度（2016年度）は12事業です。", [Citation(SRC, "", "H28:12事業")], route="records")
        if "八戸" in q or "山梨" in q:
            return Answer(question, "AIです。", [Citation(SRC, "", "八戸市 AI")], route="records")
        if "北見" in q:
            return Answer(question, "IoTです。", [Citation(SRC, "", "北見市 IoT")], route="records")
        return Answer(question, ABSTAIN_PHRASE, abstained=True, route="abstain")

    def warm_up(self) -> None:
        pass


ITEMS = [
    QAItem(id="a1", question="H28年度の選定数は？", expected=["H28", "12"]),
    QAItem(id="a2", question="八戸市の主な活用技術は？", expected=["AI"]),
    QAItem(id="a3", question="八戸市の予算の内訳は？", answerable=False),
    QAItem(id="a4", question="北見市の主な活用技術は？", expected=["AI"]),  # answered wrongly
]


def test_variant_correct_accepts_another_spelling_of_a_year():
    item = QAItem(id="y", question="R4年度は？", expected=["R4年度"])
    assert variant_correct(item, Answer("", "2022年度は10事業です。"))[0]
    assert not variant_correct(item, Answer("", "2023年度は9事業です。"))[0]
    assert not variant_correct(item, Answer("", ABSTAIN_PHRASE, abstained=True))[0]


def test_kept_rate_with_a_fake_asker(vocab):
    variants = variants_for_items(ITEMS, vocab)
    asker = RuleAsker()
    original = {"a1": True, "a2": True, "a3": True, "a4": False}
    results = run_variants(asker, ITEMS, variants, original, progress=False)
    assert len(asker.calls) == len(variants)
    s = summarize_variants(results, n_items=len(ITEMS))
    count = {k: sum(v.kind == k for v in variants) for k in KINDS}
    for k in KINDS:
        assert s["by_kind"][k]["generated"] == count[k]
    # Place readings break a2 (the asker only knows 八戸 in kanji) but not a3 (it still abstains).
    a2_readings = [v for v in variants if v.item_id == "a2" and v.kind in ("hiragana", "katakana", "romaji")]
    a3_readings = [v for v in variants if v.item_id == "a3" and v.kind in ("hiragana", "katakana", "romaji")]
    assert len(a2_readings) == 3 and len(a3_readings) == 3
    assert s["by_kind"]["hiragana"] == {"generated": 3, "on_correct": 2, "kept": 1, "kept_rate": 0.5, "broken": 1,
                                        "on_wrong": 1, "gained": 0}
    # Era variants of a1 are kept: the asker knows the year in any spelling.
    era = s["by_kind"]["era"]
    assert era["on_correct"] >= 2 and era["kept"] == era["on_correct"]
    broken = [r for r in results if r.broken]
    assert {r.variant.item_id for r in broken} == {"a2"}
    assert s["on_correct"] == sum(original[v.item_id] for v in variants)
    assert s["kept"] == s["on_correct"] - len(broken)
    assert s["kept_rate"] == round(s["kept"] / s["on_correct"], 4)
    assert s["on_wrong"] == sum(v.item_id == "a4" for v in variants) and s["gained"] == 0


def test_errors_count_as_broken(vocab):
    class Failing:
        def ask(self, question, history=None):
            raise RuntimeError("boom")

    variants = variants_for_items(ITEMS[:1], vocab)
    results = run_variants(Failing(), ITEMS[:1], variants, {"a1": True}, progress=False)
    assert results and all(r.broken and r.error for r in results)
    assert summarize_variants(results)["kept_rate"] == 0.0


def test_write_variants_appends_a_section(tmp_path, vocab):
    variants = variants_for_items(ITEMS, vocab)
    results = run_variants(RuleAsker(), ITEMS, variants, {"a1": True, "a2": True, "a3": True, "a4": False},
                           progress=False)
    from assistant.evaluate.variants_report import broken_list

    report = {"pipelines": {"default": {"summary": summarize_variants(results, n_items=4),
                                        "broken": broken_list(results), "variants": [r.to_dict() for r in results]}}}
    (tmp_path / "report.md").write_text("# Evaluation report\n", encoding="utf-8")
    path = write_variants(report, tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["pipelines"]["default"]["broken"][0]["id"] == "a2"
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Evaluation report") and "## Metamorphic variants" in md and "はちのへ市" in md


# ---------------------------------------------------------------- the eval command


@pytest.fixture()
def env(tmp_path: Path):
    (tmp_path / "corpus/documents").mkdir(parents=True)
    (tmp_path / SRC).write_text("# 選定数\n\nH28:12事業\n\n八戸市 AI\n\n北見市 IoT\n", encoding="utf-8")
    qa = tmp_path / "qa.jsonl"
    # No records here: the vocabulary is the 47 prefectures (山梨県 by reading breaks the asker).
    items = [*ITEMS, QAItem(id="a5", question="山梨県の主な活用技術は？", expected=["AI"])]
    qa.write_text("".join(json.dumps(i.model_dump(mode="json"), ensure_ascii=False) + "\n" for i in items),
                  encoding="utf-8")
    return Settings(root=tmp_path), qa


def test_eval_with_variants_writes_variants_json(env, capsys):
    settings, qa = env
    rc = eval_command(settings, qa, progress=False, factory=lambda s, n: RuleAsker(), variants=True)
    assert rc == 0
    out_dir = settings.root / "eval/reports/latest"
    data = json.loads((out_dir / "variants.json").read_text(encoding="utf-8"))
    s = data["pipelines"]["default"]["summary"]
    assert s["generated"] == data["n_variants"] > 0 and set(KINDS) <= set(s["by_kind"])
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    assert report["pipelines"]["default"]["summary"]["variants_kept"] == s["kept_rate"]
    assert report["pipelines"]["default"]["summary"]["accuracy"] == 0.8  # the originals, as without --variants
    assert s["by_kind"]["hiragana"]["broken"] == 1 and s["kept_rate"] < 1
    assert "## Metamorphic variants" in (out_dir / "report.md").read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert "Metamorphic variants" in out and "hiragana" in out


def test_eval_variants_floor(env):
    settings, qa = env
    factory = lambda s, n: RuleAsker()  # noqa: E731
    with pytest.raises(GateFailedError):
        eval_command(settings, qa, progress=False, factory=factory, variants=True, fail_under=["variants_kept=0.99"])
    assert eval_command(settings, qa, progress=False, factory=factory, variants=True,
                        fail_under=["variants_kept=0.5"]) == 0
    assert eval_command(settings, qa, progress=False, factory=factory, variants=True,
                        fail_under=["variants.by_kind.era.kept_rate=1.0"]) == 0
    # A variants floor without --variants is a usage error; without the flag nothing is written.
    with pytest.raises(UsageError, match="needs --variants"):
        eval_command(settings, qa, progress=False, factory=factory, fail_under=["variants_kept=0.5"])
    (settings.root / "eval/reports/latest/variants.json").unlink()
    assert eval_command(settings, qa, progress=False, factory=factory) == 0
    assert not (settings.root / "eval/reports/latest/variants.json").exists()


def test_cli_has_the_flag(env, monkeypatch):
    from assistant.cli import app

    settings, qa = env
    monkeypatch.setenv("ASSISTANT_ROOT", str(settings.root))
    get_settings.cache_clear()
    try:
        res = CliRunner().invoke(app, ["eval", "--help"])
        assert "--variants" in res.output
        res = CliRunner().invoke(app, ["eval", str(qa), "--fail-under", "variants_kept=0.9"])
        assert res.exit_code == 2
    finally:
        get_settings.cache_clear()
