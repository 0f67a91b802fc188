"""One pipeline of an evaluation report as typed values in Japanese: what the Excel and HTML
reports and the 評価 tab show (one model, several renderers).

Built from the ``report.json`` dict of :func:`assistant.evaluate.report.build_report`.
Nothing here shows a file path: a citation is named by its document's title (or file name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from assistant.normalize import match_key

#: Overall figures: (summary key, Japanese label, kind).
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("accuracy", "正答率", "ratio"),
    ("answerable_accuracy", "答えのある設問の正答率", "ratio"),
    ("abstention_recall", "答えのない設問で回答を控えた割合", "ratio"),
    ("abstention_precision", "回答を控えた判断の正しさ", "ratio"),
    ("citation_validity", "引用の正しさ（引用ごと）", "ratio"),
    ("cited_answers", "根拠を示した回答の割合", "ratio"),
    ("latency_p50_ms", "応答時間の中央値（ミリ秒）", "ms"),
    ("latency_p95_ms", "応答時間の95パーセンタイル（ミリ秒）", "ms"),
    ("errors", "エラーになった設問", "int"),
)


@dataclass(frozen=True)
class Figure:
    label: str
    value: float | int | None
    kind: str  # ratio | ms | int

    @property
    def shown(self) -> str:
        if self.value is None:
            return "―"
        if self.kind == "ratio":
            return f"{self.value * 100:.1f}%"
        if self.kind == "ms":
            return f"{self.value:.0f}"
        return str(self.value)


#: Japanese names of the categories the project's QA set uses (a set's own names are shown as written).
CATEGORY_JA = {
    "count": "件数", "aggregate": "集計", "kpi": "KPI", "process": "手続き", "lookup": "照会", "list": "一覧",
    "followup": "続けての質問", "paraphrase": "言い換え", "unanswerable": "資料にない質問", "english": "英語の質問",
    "program": "府省庁の事業", "event": "イベント", "survey": "調査", "program_algebra": "事業の計算",
    "region": "地域", "false_premise": "誤った前提", "support_period": "支援期間", "uncategorized": "未分類",
}


@dataclass(frozen=True)
class CategoryRow:
    category: str
    n: int
    correct: int
    accuracy: float | None

    @property
    def short(self) -> str:
        """The name on the chart: the Japanese name of a known category, else the set's own."""
        return CATEGORY_JA.get(self.category, self.category)

    @property
    def label(self) -> str:
        """The name in tables: 「件数（count）」 for a known category (the set's name kept for filters)."""
        ja = CATEGORY_JA.get(self.category)
        return f"{ja}（{self.category}）" if ja else self.category


@dataclass(frozen=True)
class CitationView:
    document: str  # title, or the file name without folders
    locator: str
    quote: str
    valid: bool

    @property
    def line(self) -> str:
        place = f"（{self.locator}）" if self.locator else ""
        mark = "" if self.valid else "　※資料の本文と一致しません"
        # Markdown emphasis of the source is not shown (report.json keeps the exact quote).
        return f"{self.document}{place}「{self.quote.replace('**', '')}」{mark}"


@dataclass(frozen=True)
class ItemView:
    id: str
    category: str
    question: str
    history: list[str]
    expected: str
    answer: str
    abstained: bool
    correct: bool
    reasons: list[str]
    citations: list[CitationView]

    @property
    def status(self) -> str:
        return "合格" if self.correct else "不合格"


@dataclass(frozen=True)
class ReportView:
    pipeline: str
    created: str
    n_items: int
    figures: list[Figure]
    categories: list[CategoryRow]
    items: list[ItemView]
    compared: bool  # a baseline was compared with
    newly_failing: list[str] = field(default_factory=list)
    newly_passing: list[str] = field(default_factory=list)
    baseline_note: str = ""

    @property
    def failing(self) -> list[ItemView]:
        return [i for i in self.items if not i.correct]

    @property
    def accuracy(self) -> Figure:
        return self.figures[0]

    @property
    def correct(self) -> int:
        return sum(i.correct for i in self.items)


def expected_text(i: dict[str, Any]) -> str:
    """What the item asks of an answer, in Japanese."""
    if not i.get("answerable", True):
        return "資料に答えがないため、回答を控えること"
    parts = []
    if i.get("expected"):
        parts.append("すべて含む: " + "、".join(i["expected"]))
    for g in i.get("any_of") or []:
        parts.append("いずれかを含む: " + "・".join(g))
    if i.get("forbidden"):
        parts.append("含まない: " + "、".join(i["forbidden"]))
    return " ／ ".join(parts) or "回答すること（語の指定なし）"


def reasons_ja(i: dict[str, Any]) -> list[str]:
    """Why an item failed, in Japanese (worked out from the item and its answer)."""
    if i.get("error"):
        return ["回答の作成中にエラーが発生しました。"]
    if not i.get("answerable", True):
        return [] if i.get("correct") else ["資料に答えがない設問に回答しました。"]
    if i.get("abstained"):
        return ["答えのある設問で回答を控えました。"]
    key = match_key(i.get("answer", ""))
    out = [f"「{e}」が回答にありません。" for e in i.get("expected") or [] if match_key(e) not in key]
    out += ["「" + "・".join(g) + "」のどれも回答にありません。" for g in i.get("any_of") or []
            if g and not any(match_key(x) in key for x in g)]
    out += [f"含んではいけない「{f}」が回答にあります。" for f in i.get("forbidden") or [] if f and match_key(f) in key]
    return out


def _document(c: dict[str, Any]) -> str:
    return str(c.get("title") or "") or PurePosixPath(str(c.get("source", "")).replace("\\", "/")).name or "資料"


def item_view(i: dict[str, Any]) -> ItemView:
    return ItemView(
        id=str(i["id"]), category=str(i.get("category", "")), question=str(i.get("question", "")),
        history=[str(h) for h in i.get("history") or []], expected=expected_text(i),
        answer=str(i.get("answer", "")), abstained=bool(i.get("abstained")), correct=bool(i.get("correct")),
        reasons=reasons_ja(i),
        citations=[CitationView(_document(c), str(c.get("locator", "")), str(c.get("quote", "")),
                                bool(c.get("valid"))) for c in i.get("citations") or []],
    )


def report_view(report: dict[str, Any], pipeline: str | None = None) -> ReportView:
    """The view of ``pipeline`` (default: the first one) of a ``report.json`` dict."""
    name = pipeline or next(iter(report["pipelines"]))
    p = report["pipelines"][name]
    s = p["summary"]
    gate = report.get("gate") or {}
    compared = bool(gate.get("baseline"))
    note = ""
    if not compared:
        note = "比較できる基準の結果がありません。"
    elif gate.get("note"):  # another QA set: only the items both share unchanged are compared
        common = [c for c in gate.get("checks") or [] if c.get("metric") == "accuracy_on_common_items"]
        note = ("基準の結果とは設問が一部異なるため、変わっていない設問だけを比べています。" if common
                else "基準の結果と同じ設問がないため、比べられる設問はありません。")
        compared = bool(common)
    return ReportView(
        pipeline=name, created=str(report.get("created", "")), n_items=int(report.get("n_items") or s["n"]),
        figures=[Figure(label, s.get(key), kind) for key, label, kind in FIGURES],
        categories=[CategoryRow(cat, int(c["n"]), int(c["correct"]), c.get("accuracy"))
                    for cat, c in (s.get("by_category") or {}).items()],
        items=[item_view(i) for i in p["items"]],
        compared=compared,
        newly_failing=list((gate.get("regressed") or {}).get(name) or []),
        newly_passing=list((gate.get("fixed") or {}).get(name) or []),
        baseline_note=note,
    )
