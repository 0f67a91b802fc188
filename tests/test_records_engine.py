"""Records engine: parser + execution across many phrasings, on the real records."""

import pytest

from assistant.config import get_settings
from assistant.records.cells import CellRow
from assistant.records.engine import RecordsEngine
from assistant.records.load import load_records
from assistant.records.schema import Event, Project


@pytest.fixture(scope="module")
def engine() -> RecordsEngine:
    return RecordsEngine(load_records(get_settings().records_path))


def run(engine, question):
    q = engine.parse(question)
    assert not engine.unexplained(question, q), engine.unexplained(question, q)
    return q, engine.run(q)


def projects(result) -> list[Project]:
    """The project rows of a result (it also cites the facts and cells its notes rest on)."""
    return [r for r in result.rows if isinstance(r, Project)]


def expected_projects(engine, pred):
    return {p.no for p in engine.records.projects if pred(p)}


@pytest.mark.parametrize("question", [
    "R2年度に選定された事業のうち自動運転を使うものは？",
    "令和2年度採択で自動走行を活用している自治体はどこ？",
    "2020年度に選ばれた自動運転の事業を一覧で",
    "Ｒ２年度の自動運転の事業は？",
])
def test_year_and_technology_filter(engine, question):
    q, r = run(engine, question)
    assert q.domain == "projects"
    want = expected_projects(engine, lambda p: p.selection_fy == 2020 and "自動運転" in p.technologies)
    assert {p.no for p in r.rows} == want
    assert f"{len(want)}件" in r.text


@pytest.mark.parametrize("question,prefecture", [
    ("大阪府の支援中の事業はいくつ？", "大阪府"),
    ("大阪の事業は何件？", "大阪府"),
    ("鹿児島県の事業の数は？", "鹿児島県"),
])
def test_count_by_prefecture(engine, question, prefecture):
    q, r = run(engine, question)
    want = expected_projects(engine, lambda p: p.prefecture == prefecture)
    assert q.intent == "count" and r.status == "answer"
    assert f"{len(want)}件" in r.text


def test_prefecture_without_projects_is_an_answer_not_abstention(engine):
    _, r = run(engine, "東京都の事業はいくつ？")
    assert r.status == "empty" and "ありません" in r.text and r.rows  # cites the table searched


@pytest.mark.parametrize("question", ["盛岡市の採択年度と活用技術は？", "岩手県盛岡市の技術と採択年度を教えて",
                                      "盛岡の採択年度は？"])
def test_lookup_municipality(engine, question):
    _, r = run(engine, question)
    assert r.status == "answer" and "盛岡市" in r.text and "R4" in r.text and "5G" in r.text


def test_lookup_with_two_rows(engine):
    _, r = run(engine, "河内長野市の採択年度は？")
    assert {p.no for p in projects(r)} == expected_projects(engine, lambda p: "河内長野市" in p.municipalities)
    assert len(projects(r)) == 2


@pytest.mark.parametrize("question,tech", [("5Gを使っている自治体は？", "5G"), ("無人航空機を活用している事業は？", "ドローン"),
                                           ("Which municipalities use drones?", "ドローン")])
def test_technology_list(engine, question, tech):
    _, r = run(engine, question)
    assert {p.no for p in r.rows} == expected_projects(engine, lambda p: tech in p.technologies)


def test_and_or_and_exclusion_of_technologies(engine):
    _, both = run(engine, "AIとドローンの両方を使う事業はいくつ？")
    assert {p.no for p in both.rows} == expected_projects(engine, lambda p: {"AI", "ドローン"} <= set(p.technologies))
    _, either = run(engine, "AIまたはドローンを使う事業はいくつ？")
    assert {p.no for p in either.rows} == expected_projects(engine, lambda p: {"AI", "ドローン"} & set(p.technologies))
    _, excl = run(engine, "R4年度採択で自動運転以外の事業は？")
    assert {p.no for p in excl.rows} == expected_projects(
        engine, lambda p: p.selection_fy == 2022 and "自動運転" not in p.technologies)


def test_flag_and_its_negation(engine):
    _, flagged = run(engine, "(※)の事業はいくつ？")
    assert {p.no for p in projects(flagged)} == expected_projects(engine, lambda p: p.mlit_autonomous_support)
    _, unflagged = run(engine, "R3年度採択の自動運転の事業で(※)が付いていないのは？")
    assert {p.no for p in projects(unflagged)} == expected_projects(
        engine, lambda p: p.selection_fy == 2021 and "自動運転" in p.technologies and not p.mlit_autonomous_support)


def test_support_ends(engine):
    _, r = run(engine, "H30年度採択で支援が終わるのはどこ？")
    assert {p.no for p in projects(r)} == expected_projects(engine, lambda p: p.support_ends_r4)


def test_year_range(engine):
    _, r = run(engine, "経済産業省の地域新MaaS創出推進事業のR1〜R4年度の選定数を合計するといくつ？")
    total = sum(s.count for s in engine.records.selections if s.program_id == "meti-maas")
    assert f"{total}事業" in r.text


@pytest.mark.parametrize("question,program,year", [("日本版MaaSのR3の選定数は？", "mlit-maas", 2021),
                                                   ("総務省の令和3年度の選定数は？", "mic-smartcity", 2021),
                                                   ("２０１９年度に国交省都市局のスマートシティ事業で選ばれたのは何件？",
                                                    "mlit-smartcity", 2019)])
def test_program_selection_counts(engine, question, program, year):
    q, r = run(engine, question)
    assert q.programs == [program]
    count = next(s.count for s in engine.records.selections if s.program_id == program and s.fiscal_year == year)
    assert f"{count}事業" in r.text


def test_selected_in_year_reports_both_tables(engine):
    _, r = run(engine, "H30年度に選定された事業はいくつ？")
    selected = next(s.count for s in engine.records.selections if s.program_id == "cao-mirai" and s.fiscal_year == 2018)
    in_table = len(expected_projects(engine, lambda p: p.selection_fy == 2018))
    assert f"{in_table}件" in r.text and f"{selected}事業" in r.text


@pytest.mark.parametrize("question", ["令和6年度の選定数は？", "H29年度の未来技術社会実装事業の選定数は？",
                                      "総務省のR6年度の予算は？", "札幌市の予算は？", "東京都の事業の主な活用技術は？"])
def test_out_of_data_abstains(engine, question):
    q = engine.parse(question)
    r = engine.run(q)
    assert r is not None and r.status == "abstain"


def test_kpis_by_deadline(engine):
    _, r = run(engine, "2027年度が期限のKPIを一覧で")
    want = [k for k in engine.records.kpis if k.deadline_fy == 2027]
    assert want and len(r.rows) == len(want) and f"{len(want)}件" in r.text


def test_kpi_by_name(engine):
    _, r = run(engine, "5Gの人口カバー率の目標は？")
    assert r.rows and all("5G" in k.name for k in r.rows)


def test_program_budget_and_ministry_abbreviation(engine):
    _, r = run(engine, "経産省の事業の予算は？")
    meti = [p for p in engine.records.programs if p.ministry == "経済産業省"]
    assert meti and all(p.budget_r5 in r.text for p in meti)


def test_rows_carry_exact_quotes(engine):
    _, r = run(engine, "5Gを使っている自治体は？")
    for row in r.rows:
        assert isinstance(row, Project) and row.quote and row.source


@pytest.mark.parametrize("question", ["支援終了の通知はいつ行われる？", "地域実装協議会は支援終了後も継続できますか？",
                                      "未来技術社会実装事業の問合せ先の電話番号は？"])
def test_questions_beyond_the_records_are_left_to_documents(engine, question):
    assert engine.unexplained(question, engine.parse(question))


def test_compare_years_and_prefectures(engine):
    _, r = run(engine, "R1とR2でどちらが多く選定された？")
    n1 = len(expected_projects(engine, lambda p: p.selection_fy == 2019))
    n2 = len(expected_projects(engine, lambda p: p.selection_fy == 2020))
    assert f"{n1}件" in r.text and f"{n2}件" in r.text and "最も多い" in r.text
    _, r = run(engine, "大阪府と奈良県ではどちらが事業が多い？")
    assert "大阪府" in r.text.split("最も多い")[0].split("。")[-1]


def test_event_day_filter(engine):
    _, r = run(engine, "シンポジウム2日目の会場は？")
    events = [e for e in r.rows if isinstance(e, Event)]
    assert len(events) == 1 and events[0].day.startswith("2日")
    # the city shown with the place is not in the row's quote: the sentence stating it is cited
    assert any(isinstance(c, CellRow) and events[0].city.removeprefix("大阪府") in c.quote for c in r.rows)


def test_lookup_with_particle_after_name(engine):
    # 「三郷町はいつ…」: the particle after the name must not become a word of its own.
    _, r = run(engine, "三郷町はいつ採択された？")
    assert "三郷町" in r.text and "R2" in r.text


def test_superlatives(engine):
    _, r = run(engine, "R4年度の選定数が最も多かったのはどの事業？")
    best = max((s for s in engine.records.selections if s.fiscal_year == 2022), key=lambda s: s.count)
    name = next(p.program_name for p in engine.records.programs if p.program_id == best.program_id)
    assert "最も多い" in r.text and f"{name}（" in r.text.split("（", 1)[1] and f"{best.count}事業" in r.text
    _, r = run(engine, "日本版MaaSの選定数が一番多い年度は？")
    top = max((s for s in engine.records.selections if s.program_id == "mlit-maas"), key=lambda s: s.count)
    assert f"最も多いのは{top.fiscal_year_label}" in r.text


def test_applicant_kinds(engine):
    _, alone = run(engine, "都道府県が単独で選定されている事業は？")
    assert {p.no for p in alone.rows} == expected_projects(engine, lambda p: p.prefecture_is_applicant
                                                           and not p.municipalities)
    _, joint = run(engine, "共同で申請した事業は？")
    assert joint.rows and all(len(p.municipalities) + p.prefecture_is_applicant > 1 for p in joint.rows)


def test_unknown_city_inside_known_prefecture(engine):
    q = engine.parse("京都府京都市は何年度に採択された？")
    assert q.unknown_places == ["京都市"] and engine.run(q).status == "abstain"
    assert engine.run(engine.parse("京都市の事業はいくつ？")).status == "empty"


def test_event_program_and_city(engine):
    _, r = run(engine, "ミニシンポジウムで取組事例を紹介した自治体は？")
    assert "千葉市" in r.text and "河内長野市" in r.text
    _, r = run(engine, "令和4年度のシンポジウムはどこで開催された？")
    assert all(e.city in r.text for e in r.rows if isinstance(e, Event))


def test_flag_yes_no_lookup(engine):
    _, r = run(engine, "三重県いなべ市は(※)の対象？")
    assert "対象ではありません" in r.text and len(projects(r)) == 1


def test_budget_superlative_uses_numeric_budgets_only(engine):
    _, r = run(engine, "予算が一番大きい事業は？")
    top = max((p for p in engine.records.programs if p.budget_r5_oku_yen is not None),
              key=lambda p: p.budget_r5_oku_yen)
    assert f"最も大きいのは{top.program_name}" in r.text
    assert all(p.budget_r5 in r.text for p in engine.records.programs)


def test_prefecture_superlative(engine):
    _, r = run(engine, "事業が最も多い都道府県は？")
    counts = {}
    for p in engine.records.projects:
        counts[p.prefecture] = counts.get(p.prefecture, 0) + 1
    best = max(counts.values())
    assert all(k in r.text.split("（上位")[0] for k, v in counts.items() if v == best)


@pytest.mark.parametrize("question,kpi_word", [("物流DXの目標は？", "物流"), ("光ファイバの世帯カバー率は？", "光ファイバ")])
def test_kpi_named_by_part_of_its_name(engine, question, kpi_word):
    _, r = run(engine, question)
    assert r.rows and all(kpi_word in k.name for k in r.rows)


def test_technology_alone_does_not_name_a_kpi(engine):
    q = engine.parse("自動運転を使うのは？")
    assert q.kpi_ids == [] and q.domain == "projects"


@pytest.mark.parametrize("question,name", [("In which fiscal year was Morioka selected?", "盛岡市"),
                                           ("Which technologies does Shiojiri use?", "塩尻市")])
def test_romanized_municipalities(engine, question, name):
    q, r = run(engine, question)
    assert q.municipalities == [name] and name in r.text
