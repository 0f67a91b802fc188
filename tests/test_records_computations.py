"""The records engine's computed figures and cell citations: every computation recomputes from
its inputs and cites real rows; every shown value of a program (budget, contact, ministry) is
cited by the exact cell of the source table that holds it."""

from __future__ import annotations

import pytest

from assistant.claims import Computation, attribute
from assistant.claims.model import Claim
from assistant.claims.verify import recompute
from assistant.config import get_settings
from assistant.normalize import nfkc
from assistant.records.cells import CellRow, SourceCells, parse_tables
from assistant.records.engine import RecordsEngine
from assistant.records.load import load_records
from assistant.records.result import RecordResult, combined, count_of, quantity_of
from assistant.records.schema import ProgramFact, Project, SupportEnded
from assistant.sources import SourceStore


@pytest.fixture(scope="module")
def store() -> SourceStore:
    return SourceStore(get_settings().root)


@pytest.fixture(scope="module")
def engine(store) -> RecordsEngine:
    return RecordsEngine(load_records(get_settings().records_path), source_text=store.text)


def ask(engine: RecordsEngine, question: str) -> RecordResult:
    result = engine.run(engine.parse(question))
    assert result is not None, question
    return result


def claims_of(result: RecordResult):
    computations = [Computation(c.operation, c.value, c.inputs) for c in result.computed]
    return attribute(result.text, [r.quote for r in result.rows], computations)


def in_source(store: SourceStore, row) -> bool:
    return bool(row.quote) and nfkc(row.quote) in store.text(row.source)


# Questions in our own words, one per kind of computation.
COMPUTING = [
    "R1年度に採択された事業は何件ある？",                      # count of rows
    "ドローンを使う事業を都道府県ごとに数えて一番多いところは？",  # group counts
    "各府省の5事業でR3年度の選定数を足すといくつ？",             # sum over programs
    "地域新MaaS創出推進事業のR2からR3で選定数はどう変わった？",   # difference
    "シンポジウムの参加者は両日で合わせて何名？",                 # sum of participants
    "R2採択の事業の支援はいつまで続く？",                       # support-period arithmetic
    "5つの事業のR5年度予算の合計はいくら？",                     # sum of amounts
]


@pytest.mark.parametrize("question", COMPUTING)
def test_each_computation_recomputes_from_its_inputs(engine, store, question):
    result = ask(engine, question)
    assert result.computed, result.text
    known = {id(r) for table in ("projects", "programs", "selections", "kpis", "support_ended", "events", "facts")
             for r in getattr(engine.records, table)}
    for c in result.computed:
        claim = Claim("computed", "number", "", 0, 0, f"number:{c.value}", operation=c.operation, inputs=c.inputs)
        assert recompute(claim) == c.value, (c, result.text)
        assert c.working and not c.working.isascii(), c  # a Japanese explanation for the reader
        for row in c.rows:  # cited rows: records of the engine, or cells of their sources
            assert id(row) in known or (isinstance(row, CellRow) and in_source(store, row)), row


def test_combined_and_count_of():
    assert combined("sum", [quantity_of("4.0億円"), quantity_of("2.8億円")]).value == quantity_of("6.8億円")
    assert combined("difference", [14, 11]).value == 3
    assert combined("add_years", [2019, 5]).value == 2023  # R1 selection, at most 5 years: until R5
    assert combined("year_span", [2022, 2026]).value == 5
    assert count_of([], "該当なし").value == 0


def test_a_count_of_programs_counts_programs_not_rows(engine):
    result = ask(engine, "H29年度に選定の記載があるのはどの事業？")
    (count,) = result.computed
    assert count.value == len({r.program_id for r in count.rows}) == len(count.inputs)


def test_tables_are_read_cell_by_cell(store, engine):
    program = engine.records.programs[0]
    tables = parse_tables(store.text(program.source))
    holding = [t for t in tables if any(c.text == program.quote for line in t.lines for c in line)]
    assert len(holding) == 1 and len(holding[0].lines[0]) == len(engine.records.programs) + 1


@pytest.mark.parametrize("field", ["budget_r5", "contact_email", "contact", "ministry", "bureau", "main_support"])
def test_a_program_cell_is_an_exact_substring_holding_the_value(engine, store, field):
    cells = SourceCells(store.text)
    for program in engine.records.programs:
        cell = cells.cell_of(program, field)
        assert cell is not None, (program.program_id, field)
        assert cell.quote in store.text(cell.source)  # exact, as the source writes it
        assert nfkc(getattr(program, field)) in cell.quote and cell.quote != program.quote
        assert cell.locator.startswith(program.locator + " > ")


def test_a_budget_answer_cites_the_budget_cell(engine, store):
    program = next(p for p in engine.records.programs if p.budget_r5_oku_yen)
    result = ask(engine, f"{program.program_name}のR5年度の予算額を知りたい")
    assert program.budget_r5 in result.text
    found = claims_of(result)
    assert not found.unsupported, [c.text for c in found.unsupported]
    budget = next(c for c in found.claims if c.value_kind == "number" and c.text in program.budget_r5)
    cited = result.rows[budget.citations[0]]
    assert isinstance(cited, CellRow) and program.budget_r5 in cited.quote and in_source(store, cited)
    year = next(c for c in found.claims if c.value_kind == "year")  # R5 is in the line's label
    assert "予算" in result.rows[year.citations[0]].quote


def test_a_contact_answer_cites_the_cell_with_the_address(engine, store):
    program = engine.records.programs[-1]
    result = ask(engine, f"{program.program_name}へ問い合わせたいので連絡先のアドレスを")
    found = claims_of(result)
    email = next(c for c in found.claims if c.value_kind == "email")
    cited = result.rows[email.citations[0]]
    assert email.text == program.contact_email and program.contact_email in cited.quote
    # one cell holds the department and the address: it is cited once, for whichever came first
    assert isinstance(cited, CellRow) and cited.field in ("contact", "contact_email") and in_source(store, cited)
    assert not found.unsupported, [c.text for c in found.unsupported]


def test_a_selection_count_cites_the_ministry_cell(engine):
    result = ask(engine, "国交省都市局のスマートシティ事業、R2年度は何件選ばれた？")
    found = claims_of(result)
    assert not found.unsupported, [c.text for c in found.unsupported]
    assert any(isinstance(r, CellRow) and r.field == "ministry" for r in result.rows)


def test_the_end_of_support_cites_the_period_and_the_list(engine):
    ended = next(p for p in engine.records.projects if p.support_ends_r4)
    town = ended.municipalities[0] if ended.municipalities else ended.prefecture
    result = ask(engine, f"{town}はどんな技術を使う事業？")
    assert "支援終了" in result.text
    assert any(isinstance(r, SupportEnded) and r.project_no == ended.no for r in result.rows)
    assert any(isinstance(r, ProgramFact) and r.fact_id == "support-years-max" for r in result.rows)
    end = next(c for c in result.computed if c.operation == "add_years")
    assert end.value == ended.selection_fy + 4  # at most 5 years: the 5th fiscal year is the last
    assert any(isinstance(r, Project) for r in result.rows)
    assert not claims_of(result).unsupported
