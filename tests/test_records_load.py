"""Loading the records CSVs: real folder, Excel-style files (BOM + CRLF), cell coercion, cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT
from assistant.records.load import TABLES, coerce_cell, load_records, read_records

RECORDS = REPO_ROOT / "corpus" / "records"


def test_real_records_load_with_expected_sizes():
    rs = read_records(RECORDS)
    assert rs.problems == []
    sizes = {attr: len(getattr(rs, attr)) for attr in TABLES}
    assert sizes == {"projects": 45, "programs": 5, "selections": 23, "kpis": 25,
                     "support_ended": 9, "events": 3, "facts": 7}
    p3 = next(p for p in rs.projects if p.no == 3)
    assert (p3.prefecture, p3.municipalities, p3.selection_fy) == ("岩手県", ["盛岡市"], 2022)
    tochigi = next(p for p in rs.projects if p.entry == "栃木県")
    assert tochigi.municipalities == [] and tochigi.prefecture_is_applicant
    maebashi = next(p for p in rs.projects if p.entry == "群馬県前橋市")
    assert maebashi.technologies == ["キャッシュレス", "ブロックチェーン"]
    datacenter = next(k for k in rs.kpis if k.target_as_written == "十数か所")
    assert datacenter.value is None and datacenter.deadline_fy is None
    assert rs.line_of(rs.projects[0]) == 2


def _excel_copy(tmp_path: Path) -> Path:
    out = tmp_path / "excel"
    out.mkdir()
    for name, _ in TABLES.values():
        text = (RECORDS / name).read_text(encoding="utf-8")
        (out / name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    return out


def test_excel_style_copy_loads_identically(tmp_path):
    excel = _excel_copy(tmp_path)
    assert (excel / "projects.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in (excel / "events.csv").read_bytes()
    original, copy = read_records(RECORDS), read_records(excel)
    assert copy.problems == []
    for attr in TABLES:
        assert getattr(copy, attr) == getattr(original, attr), attr


@pytest.mark.parametrize(("kind", "optional", "raw", "expected"), [
    ("bool", False, "○", True), ("bool", False, "×", False), ("bool", False, "TRUE", True),
    ("bool", False, "0", False), ("float", True, "", None), ("float", True, "1,741", 1741.0),
    ("int", True, " ", None), ("int", False, "45", 45), ("list", False, "AI; IoT；5G", ["AI", "IoT", "5G"]),
    ("list", False, "", []), ("str", False, "", ""), ("str", False, "a\r\nb", "a\nb"),
])
def test_coerce_cell(kind, optional, raw, expected):
    assert coerce_cell(kind, optional, raw) == expected


@pytest.mark.parametrize(("kind", "raw"), [("bool", "maybe"), ("int", "4.5"), ("int", ""), ("float", "abc")])
def test_coerce_cell_rejects(kind, raw):
    with pytest.raises(ValueError):
        coerce_cell(kind, False, raw)


def test_bad_rows_are_skipped_and_reported(tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(RECORDS, folder)
    path = folder / "projects.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[2].endswith(",R3,2021,false,false")
    lines[2] = lines[2][: -len("false,false")] + "maybe,false"
    path.write_text("\n".join(lines), encoding="utf-8")
    rs = read_records(folder)
    assert len(rs.projects) == 44
    assert [(p.file, p.row, p.column) for p in rs.problems] == [("projects.csv", 3, "mlit_autonomous_support")]


def test_missing_column_and_file_are_problems(tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(RECORDS, folder)
    (folder / "events.csv").unlink()
    text = (folder / "kpis.csv").read_text(encoding="utf-8").replace(",section\n", ",sektion\n", 1)
    (folder / "kpis.csv").write_text(text, encoding="utf-8")
    rs = read_records(folder)
    found = {(p.file, p.column) for p in rs.problems}
    assert ("events.csv", "-") in found and ("kpis.csv", "section") in found
    assert rs.kpis == [] and rs.events == []


def test_load_records_is_cached_until_a_file_changes(tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(RECORDS, folder)
    first = load_records(folder)
    assert load_records(folder) is first
    path = folder / "events.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    second = load_records(folder)
    assert second is not first and second.events == first.events
