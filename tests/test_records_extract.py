"""Records from tables: ``records extract`` drafts rows that validate, ``records review`` shows the
diff against the current records per edition, ``records accept`` writes the files with a backup."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import REPO_ROOT, get_settings
from assistant.errors import RecordsInvalidError
from assistant.ingest.loaders import load_document
from assistant.records.extract import extract, write_draft
from assistant.records.load import read_records
from assistant.records.review import accept, compare, render
from assistant.records.validate import validate_records

SEED = "corpus/documents/mirai-gijutsu-torikumi-2023-03-15.md"
LATER = "corpus/documents/mirai-gijutsu-torikumi-2024-03-15.md"
RECORDS = REPO_ROOT / "corpus" / "records"


def _diff(review, file_name: str):
    return next(d for d in review.tables if d.file == file_name)


@pytest.fixture(scope="module")
def seed_draft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("draft")
    write_draft(extract(REPO_ROOT / SEED, REPO_ROOT, read_records(RECORDS)), out)
    return out


def test_seed_tables_are_drafted_with_exact_quotes(seed_draft: Path) -> None:
    rs = read_records(seed_draft)
    assert (len(rs.projects), len(rs.programs), len(rs.selections), len(rs.support_ended)) == (45, 5, 23, 9)
    assert rs.events == [] and rs.facts == []  # described in prose: not drafted
    assert len(rs.kpis) == 24  # KPI targets: from list items and sentences
    text = load_document(REPO_ROOT / SEED, REPO_ROOT).text
    for row in [*rs.projects, *rs.programs, *rs.selections, *rs.support_ended, *rs.kpis]:
        assert row.source == SEED and row.quote in text  # exact, not only after NFKC
    first = rs.projects[0]
    assert first.locator.startswith("事業イメージ > 表「No / 自治体 / 主な活用技術 / 採択年度」")
    assert (first.municipalities, first.prefecture_is_applicant, first.support_ends_r4) == (["岩見沢市", "更別村"], True, True)
    assert sum(p.support_ends_r4 for p in rs.projects) == 9
    assert [s.project_no for s in rs.support_ended] == [1, 5, 14, 22, 23, 25, 29, 35, 42]
    assert {p.program_id for p in rs.programs} == {p.program_id for p in read_records(RECORDS).programs}


def test_seed_draft_validates_and_matches_the_current_records(seed_draft: Path) -> None:
    report = validate_records(seed_draft, REPO_ROOT)
    assert report.problems == []
    assert report.totals == {"selected": 53, "supported": 45, "ended": 8}
    review = compare(seed_draft, RECORDS, REPO_ROOT)
    for name in ("projects.csv", "programs.csv", "program_selections.csv", "support_ended.csv"):
        d = _diff(review, name)
        assert (d.added, d.changed, d.removed) == ([], [], []), render(review)
        assert d.unchanged == d.draft_rows == d.compared
    assert _diff(review, "projects.csv").unchanged == 45
    kpis = _diff(review, "kpis.csv")  # the hand-made KPI records, reproduced from the statements
    assert kpis.drafted and kpis.added == [] and kpis.unchanged == 21
    assert len(kpis.changed) == 3 and len(kpis.removed) == 1, render(review)  # shown for review, not hidden
    assert not _diff(review, "events.csv").drafted


def test_tables_are_recognised_by_their_headers_not_their_titles(tmp_path: Path) -> None:
    doc = tmp_path / "other.md"
    doc.write_text("---\ntitle: 別の資料\ndate: 2025-01-10\n---\n\n# 別の資料\n\n## 一覧\n\n"
                   "| 採択年度 | 団体名 | 活用技術 | 番号 |\n|---|---|---|---|\n"
                   "| R5 | 沖縄県那覇市(※) | AI、ドローン等 | 7 |\n\n"
                   "| 項目 | 値 |\n|---|---|\n| 予定 | 未定 |\n", encoding="utf-8")
    draft = extract(doc, tmp_path, read_records(RECORDS))
    assert set(draft.rows) == {"projects", "support_ended"}  # the second table matches no record table
    (p,) = draft.rows["projects"]
    assert (p.no, p.prefecture, p.municipalities, p.technologies, p.selection_fy, p.mlit_autonomous_support) == \
        (7, "沖縄県", ["那覇市"], ["AI", "ドローン"], 2023, True)
    assert p.quote == "| R5 | 沖縄県那覇市(※) | AI、ドローン等 | 7 |"
    assert draft.rows["support_ended"] == [] and not p.support_ends_r4  # 支援満了 needs its context words


@pytest.fixture()
def later_edition(tmp_path: Path) -> Path:
    """A repository copy with the seed, its records and a later edition: a new date, project No 3
    removed, No 46 added, No 2's technologies changed, one KPI target raised."""
    (tmp_path / "corpus" / "documents").mkdir(parents=True)
    shutil.copy2(REPO_ROOT / SEED, tmp_path / SEED)
    shutil.copytree(RECORDS, tmp_path / "corpus" / "records")
    text = (REPO_ROOT / SEED).read_text(encoding="utf-8")
    for old, new in [("date: 2023-03-15", "date: 2024-03-15"), ("令和5年3月15日", "令和6年3月15日"),
                     ("| 3 | 岩手県盛岡市 | AI、IoT、5G、クラウドコンピューティング等 | R4 |\n", ""),
                     ("| 2 | 北海道旭川市 | AI、IoT、ロボット、ドローン等 | R3 |", "| 2 | 北海道旭川市 | AI、IoT、ロボット等 | R3 |"),
                     ("**95%**（2023年度）", "**96%**（2023年度）"),
                     ("| 45 | 鹿児島県伊仙町(※) | AI、IoT、自動運転等 | R4 |",
                      "| 45 | 鹿児島県伊仙町(※) | AI、IoT、自動運転等 | R4 |\n| 46 | 沖縄県那覇市 | AI、IoT | R4 |")]:
        assert old in text
        text = text.replace(old, new)
    (tmp_path / LATER).write_text(text, encoding="utf-8")
    return tmp_path


def test_later_edition_review_shows_exactly_the_edits(later_edition: Path) -> None:
    root, out = later_edition, later_edition / "draft"
    write_draft(extract(root / LATER, root, read_records(root / "corpus/records")), out)
    assert validate_records(out, root).problems == []
    review = compare(out, root / "corpus/records", root)
    d = _diff(review, "projects.csv")
    assert d.added == ["No 46 沖縄県那覇市 (R4)"]
    assert d.removed == ["No 3 岩手県盛岡市 (R4)"]
    assert [(c.label, [col for col, _, _ in c.columns]) for c in d.changed] == \
        [("No 2 北海道旭川市 (R3)", ["technologies", "technologies_as_written"])]
    assert d.unchanged == 43 and d.recited["source"] == 43
    assert dict(d.editions) == {"未来技術社会実装事業における最近の取組について (2023-03-15)": 45}
    assert "(2024-03-15)" in review.edition
    for name in ("programs.csv", "program_selections.csv", "support_ended.csv"):
        assert (_diff(review, name).added, _diff(review, name).changed, _diff(review, name).removed) == ([], [], [])
    changed = [(c.label, c.columns) for c in _diff(review, "kpis.csv").changed]
    assert ("5Gの人口カバー率 96%（2023年度）", [("target_as_written", "95%", "96%"), ("value", "95", "96")]) in changed
    shown = render(review)
    assert "+ No 46 沖縄県那覇市 (R4)" in shown and "- No 3 岩手県盛岡市 (R4)" in shown
    assert "technologies_as_written: 'AI、IoT、ロボット、ドローン等' → 'AI、IoT、ロボット等'" in shown


def test_accept_writes_the_tables_with_a_backup(later_edition: Path) -> None:
    root, out, records = later_edition, later_edition / "draft", later_edition / "corpus/records"
    write_draft(extract(root / LATER, root, read_records(records)), out)
    events_before = (records / "events.csv").read_bytes()
    old_projects = (records / "projects.csv").read_bytes()
    written, backup = accept(out, records, root, root / "var/records-backup")
    assert dict(written)["projects.csv"] == 45
    assert backup is not None and (backup / "projects.csv").read_bytes() == old_projects
    rs = read_records(records)
    entries = {p.entry for p in rs.projects}
    assert "沖縄県那覇市" in entries and "岩手県盛岡市" not in entries
    assert {p.source for p in rs.projects} == {LATER}
    assert (records / "events.csv").read_bytes() == events_before  # not drafted: left alone
    assert next(k.value for k in rs.kpis if k.kpi_id == "5g-coverage-2023") == 96
    assert validate_records(records, root).problems == []


def test_accept_refuses_an_invalid_draft(later_edition: Path) -> None:
    root, out, records = later_edition, later_edition / "draft", later_edition / "corpus/records"
    write_draft(extract(root / LATER, root, read_records(records)), out)
    path = out / "projects.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("沖縄県那覇市 | AI、IoT", "沖縄県那覇市 | AI、5G"),
                    encoding="utf-8")
    before = (records / "projects.csv").read_bytes()
    with pytest.raises(RecordsInvalidError):
        accept(out, records, root, root / "var/records-backup")
    assert (records / "projects.csv").read_bytes() == before
    assert not (root / "var").exists()


def test_cli_extract_review_accept(later_edition: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_ROOT", str(later_edition))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["records", "extract", str(later_edition / LATER)])
        assert result.exit_code == 0, result.output
        draft = later_edition / "var/records-review/mirai-gijutsu-torikumi-2024-03-15"
        assert "projects.csv: 45 rows" in result.output and "kpis.csv: 24 rows" in result.output \
            and "events.csv: not drafted" in result.output
        assert runner.invoke(app, ["records", "validate", str(draft)]).exit_code == 0
        result = runner.invoke(app, ["records", "review", str(draft)])
        assert result.exit_code == 0 and "added 1, changed 1, removed 1, unchanged 43" in result.output
        result = runner.invoke(app, ["records", "accept", str(draft), "--table", "projects", "--table", "support_ended"])
        assert result.exit_code == 0, result.output
        assert "assistant index" in result.output and "programs.csv" not in result.output.splitlines()[0]
        result = runner.invoke(app, ["records", "review", str(later_edition / "nowhere")])
        assert result.exit_code == 2 and "draft folder" in result.output
    finally:
        get_settings.cache_clear()
