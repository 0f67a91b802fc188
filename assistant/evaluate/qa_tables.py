"""QA sets as tables: JSON Lines, CSV or Excel (``.xlsx``), read into :class:`QAItem`s.

One row per question; the header row names the columns of ``shared/qa-format.md``
(``id``, ``category``, ``question``, ``history``, ``expected``, ``any_of``, ``forbidden``,
``answerable``, ``accept``, ``gold_sources``, ``note``). List fields in a cell:

- ``history``, ``expected``, ``forbidden``, ``accept``: one entry per line, or entries
  separated by 「|」 (half- or full-width ｜).
- ``any_of``: one group per line; the alternatives of a group separated by 「|」.
- ``gold_sources``: one source per line, ``path|contains`` (the first 「|」 separates them).
- ``answerable``: empty (= true), true/false, はい/いいえ, 1/0, ○/×.

Every problem is named with its row, column and what is wrong (in Japanese), and one bad
row does not hide the others. :func:`write_template_xlsx` / :func:`write_template_csv` write
a header, one example row and (xlsx) a sheet of notes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.evaluate.qa import GoldSource, QAFileError, QAItem

COLUMNS: tuple[str, ...] = ("id", "category", "question", "history", "expected", "any_of", "forbidden",
                            "answerable", "accept", "gold_sources", "note")
SUFFIXES: tuple[str, ...] = (".jsonl", ".csv", ".xlsx")
_LIST_COLUMNS = ("history", "expected", "forbidden", "accept")
_SEP = re.compile(r"[|｜]")
_TRUE = {"", "true", "yes", "1", "はい", "○", "〇", "可"}
_FALSE = {"false", "no", "0", "いいえ", "×", "不可"}

#: Japanese names of the columns (used in messages and in the notes sheet).
COLUMN_LABELS: dict[str, str] = {
    "id": "設問ID", "category": "カテゴリ", "question": "質問", "history": "前の質問",
    "expected": "必ず含む語", "any_of": "いずれかを含む語", "forbidden": "含んではいけない語",
    "answerable": "回答可能", "accept": "誤った前提を正す表現", "gold_sources": "正解の資料", "note": "メモ",
}

COLUMN_NOTES: dict[str, str] = {
    "id": "必須。設問ごとに重複しない記号（例: q001）。",
    "category": "結果を分類する名前（例: count, kpi, unanswerable）。空欄は「未分類」になります。",
    "question": "必須。利用者の質問文。",
    "history": "同じ会話でそれより前に聞いた質問。古い順に1行に1つ（または「|」で区切る）。",
    "expected": "回答に必ず含まれるべき語。1行に1つ（または「|」で区切る）。すべて含めば合格です。",
    "any_of": "1行に1グループ。グループ内の候補は「|」で区切り、各グループで1つ以上含めば合格です。",
    "forbidden": "回答に含まれてはいけない語。1行に1つ（または「|」で区切る）。",
    "answerable": "資料に答えがあるか。空欄・TRUE・はい は「ある」、FALSE・いいえ は「ない」（回答を控えれば合格）。",
    "accept": "回答可能が「いいえ」のときだけ。誤った前提を正しく否定する表現（例: 一覧にありません）。",
    "gold_sources": "検索の評価用（任意）。1行に1つ「資料のパス|含まれる文字列」。",
    "note": "自由記述（採点には使いません）。",
}

EXAMPLE_ROW: dict[str, str] = {
    "id": "q001", "category": "count", "question": "令和4年度に選定された事業はいくつですか？",
    "history": "", "expected": "10", "any_of": "", "forbidden": "", "answerable": "TRUE", "accept": "",
    "gold_sources": "", "note": "例の行です。実際の設問に書き換えてください。",
}


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row (``row`` is the file's line or sheet row, 1-based)."""

    row: int
    column: str  # a column key, or "" for the whole row
    message: str

    def describe(self) -> str:
        where = f"{self.row}行目"
        if self.column:
            where += f"・「{COLUMN_LABELS.get(self.column, self.column)}（{self.column}）」列"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class QATable:
    """The items read from a QA file and every problem found (items of bad rows are left out)."""

    items: list[QAItem]
    problems: list[RowProblem]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.items)

    def problem_text(self, limit: int = 20) -> str:
        lines = [p.describe() for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"ほか {len(self.problems) - limit} 件")
        return "\n".join(lines)


# -- cells ------------------------------------------------------------------------------------------
def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def split_list(cell: str) -> list[str]:
    """A list cell: entries on their own lines or separated by 「|」; empty entries dropped."""
    return [s.strip() for line in cell.splitlines() for s in _SEP.split(line) if s.strip()]


def split_groups(cell: str) -> list[list[str]]:
    """``any_of``: one group per line, alternatives separated by 「|」."""
    groups = [[s.strip() for s in _SEP.split(line) if s.strip()] for line in cell.splitlines()]
    return [g for g in groups if g]


def split_sources(cell: str) -> list[GoldSource]:
    out = []
    for line in cell.splitlines():
        if not line.strip():
            continue
        parts = _SEP.split(line, maxsplit=1)
        source = parts[0].strip()
        contains = parts[1].strip() if len(parts) > 1 else ""
        out.append(GoldSource(source=source, contains=contains))
    return out


def _bool(cell: str) -> bool | None:
    key = cell.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    return None


# -- rows -------------------------------------------------------------------------------------------
def _row_item(n: int, row: dict[str, Any]) -> tuple[QAItem | None, list[RowProblem]]:
    cells = {k: _text(v) for k, v in row.items()}
    problems: list[RowProblem] = []
    data: dict[str, Any] = {"id": cells.get("id", ""), "question": cells.get("question", "")}
    if not data["id"]:
        problems.append(RowProblem(n, "id", "設問IDが空欄です。"))
    if not data["question"]:
        problems.append(RowProblem(n, "question", "質問が空欄です。"))
    if cells.get("category"):
        data["category"] = cells["category"]
    for key in _LIST_COLUMNS:
        data[key] = split_list(cells.get(key, ""))
    data["any_of"] = split_groups(cells.get("any_of", ""))
    data["gold_sources"] = split_sources(cells.get("gold_sources", ""))
    answerable = _bool(cells.get("answerable", ""))
    if answerable is None:
        problems.append(RowProblem(n, "answerable", f"「{cells['answerable']}」は使えません。"
                                   "TRUE か FALSE（はい／いいえ）を入れてください。"))
    else:
        data["answerable"] = answerable
    if data["accept"] and answerable:
        problems.append(RowProblem(n, "accept", "回答可能が「はい」の設問には書けません（回答可能を FALSE にするか、空欄にしてください）。"))
    if cells.get("note"):
        data["note"] = cells["note"]
    if problems:
        return None, problems
    return _validated(n, data)


def _validated(n: int, data: dict[str, Any]) -> tuple[QAItem | None, list[RowProblem]]:
    try:
        return QAItem.model_validate(data), []
    except ValidationError as e:
        return None, [RowProblem(n, str(er["loc"][0]) if er["loc"] else "", _ja_error(er)) for er in e.errors()]


def _ja_error(er: Any) -> str:
    kind = er.get("type", "")
    if kind == "missing":
        return "必須の値がありません。"
    if kind in ("string_type", "list_type", "bool_type", "bool_parsing"):
        return "値の種類が違います。"
    if kind == "value_error":
        return "値が空か、正しくありません。"
    return "値が正しくありません。"


def _check_header(header: Sequence[str]) -> list[RowProblem]:
    problems = [RowProblem(1, "", f"「{h}」という列は使えません（使える列: {', '.join(COLUMNS)}）。")
                for h in header if h and h not in COLUMNS]
    for need in ("id", "question"):
        if need not in header:
            problems.append(RowProblem(1, need, "この列が見出し行にありません。"))
    return problems


def parse_rows(header: Sequence[Any], rows: Iterable[tuple[int, Sequence[Any]]]) -> QATable:
    """Items of table rows (``(row number, cells)``); empty rows skipped, duplicates named."""
    keys = [_text(h).lower() for h in header]
    problems = _check_header(keys)
    if problems:
        return QATable([], problems)
    items: list[QAItem] = []
    seen: dict[str, int] = {}
    for n, cells in rows:
        if all(not _text(c) for c in cells):
            continue
        row = {k: (cells[i] if i < len(cells) else None) for i, k in enumerate(keys) if k}
        _keep(n, *_row_item(n, row), items, seen, problems)
    return QATable(items, problems)


def _keep(n: int, item: QAItem | None, bad: list[RowProblem], items: list[QAItem], seen: dict[str, int],
          problems: list[RowProblem]) -> None:
    """Row ``n``'s item joins ``items`` unless it is invalid or its id was seen (both named)."""
    problems += bad
    if item is None:
        return
    if item.id in seen:
        problems.append(RowProblem(n, "id", f"設問ID「{item.id}」は{seen[item.id]}行目と重複しています。"))
        return
    seen[item.id] = n
    items.append(item)


# -- files ------------------------------------------------------------------------------------------
def _read_csv_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp932")  # Excel's 「CSV (コンマ区切り)」 on Japanese Windows


def read_csv(path: Path) -> QATable:
    rows = list(csv.reader(io.StringIO(_read_csv_text(path.read_bytes()), newline="")))
    if not rows:
        return QATable([], [RowProblem(1, "", "見出し行がありません。")])
    # csv.reader joins a quoted multi-line cell; the row number is the record's position.
    return parse_rows(rows[0], ((i, r) for i, r in enumerate(rows[1:], start=2)))


def read_xlsx(path: Path) -> QATable:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        return QATable([], [RowProblem(1, "", "Excel ファイルとして開けませんでした。")])
    try:
        ws = wb["QA"] if "QA" in wb.sheetnames else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            return QATable([], [RowProblem(1, "", "見出し行がありません。")])
        return parse_rows(list(header), ((i, list(r)) for i, r in enumerate(it, start=2)))
    finally:
        wb.close()


def read_jsonl(path: Path) -> QATable:
    items: list[QAItem] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#") or s.startswith("//"):
            continue
        try:
            data = json.loads(s)
        except json.JSONDecodeError:
            problems.append(RowProblem(n, "", "JSON として読めません。"))
            continue
        if not isinstance(data, dict):
            problems.append(RowProblem(n, "", "1行に1つのオブジェクト（{…}）を書いてください。"))
            continue
        _keep(n, *_validated(n, data), items, seen, problems)
    return QATable(items, problems)


def read_qa_table(path: Path) -> QATable:
    """The items and problems of a QA file, by its suffix (.jsonl, .csv, .xlsx)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        return QATable([], [RowProblem(0, "", "ファイルが見つかりません。")])
    readers = {".jsonl": read_jsonl, ".json": read_jsonl, ".csv": read_csv, ".xlsx": read_xlsx}
    if suffix not in readers:
        return QATable([], [RowProblem(0, "", "JSONL・CSV・Excel（.xlsx）のいずれかを選んでください。")])
    try:
        table = readers[suffix](path)
    except (UnicodeDecodeError, csv.Error):
        return QATable([], [RowProblem(0, "", "文字コードか形式が読めません。UTF-8 の CSV で保存してください。")])
    if not table.items and not table.problems:
        return QATable([], [RowProblem(0, "", "設問が1件もありません。")])
    return table


def load_qa_any(path: Path) -> list[QAItem]:
    """Items of a QA file in any of the three formats; :class:`QAFileError` names every problem."""
    table = read_qa_table(path)
    if table.problems:
        raise QAFileError(f"{path.name}:\n{table.problem_text()}")
    return table.items


# -- writing ----------------------------------------------------------------------------------------
def item_row(item: QAItem) -> list[str]:
    """An item as the cells of one row (the inverse of reading it)."""
    note = (item.model_extra or {}).get("note")
    cells = {
        "id": item.id, "category": item.category, "question": item.question,
        "history": "\n".join(item.history), "expected": "\n".join(item.expected),
        "any_of": "\n".join("|".join(g) for g in item.any_of), "forbidden": "\n".join(item.forbidden),
        "answerable": "TRUE" if item.answerable else "FALSE", "accept": "\n".join(item.accept),
        "gold_sources": "\n".join(f"{g.source}|{g.contains}" if g.contains else g.source for g in item.gold_sources),
        "note": "" if note is None else str(note),
    }
    return [cells[c] for c in COLUMNS]


def write_items_xlsx(items: Sequence[QAItem], path: Path) -> Path:
    """A QA set as a workbook in the template's layout (e.g. ``eval/qa.jsonl`` for editing in Excel)."""
    from openpyxl import load_workbook

    write_template_xlsx(path)
    wb = load_workbook(path)
    ws = wb["QA"]
    ws.delete_rows(2, ws.max_row)
    for item in items:
        ws.append(item_row(item))
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    wb.save(path)
    return path


# -- templates --------------------------------------------------------------------------------------
def write_template_csv(path: Path) -> Path:
    """Header + one example row, UTF-8 with BOM (Excel opens it with the right characters)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerow([EXAMPLE_ROW[c] for c in COLUMNS])
    return path


def write_template_xlsx(path: Path) -> Path:
    """Sheet 「QA」 (header + one example row) and sheet 「説明」 (each column explained)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "QA"
    ws.append(list(COLUMNS))
    ws.append([EXAMPLE_ROW[c] for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for i, c in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = 40 if c in ("question", "note") else 18
    for cell in ws[2]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    notes = wb.create_sheet("説明")
    notes.append(["列", "意味", "書き方"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for c in COLUMNS:
        notes.append([c, COLUMN_LABELS[c], COLUMN_NOTES[c]])
    notes.append([])
    notes.append(["", "共通", "1行に1つの設問を書きます。「QA」シートの見出し行（1行目）は変えないでください。"
                  "複数の値は、セル内で改行するか「|」で区切ります。"])
    notes.append(["", "照合", "全角・半角、大文字・小文字、空白、桁区切りのコンマの違いは区別しません。"])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 22
    notes.column_dimensions["C"].width = 90
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)
    return path
