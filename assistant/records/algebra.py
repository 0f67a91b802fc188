"""The project table as a small query algebra: group-by with superlatives and ordinals, groups
with a given size, earliest/latest, set predicates (all / same), and comparisons of two projects.

Each answer states the operation in plain Japanese and cites every row it used.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.records.query import RecordQuery
from assistant.records.result import RecordResult, count_of, year_label
from assistant.records.schema import Project
from assistant.understand.regions import standard_region_of

GROUP_WORDS = {"region": "地方", "prefecture": "都道府県", "year": "採択年度", "technology": "活用技術"}


def group_keys(kind: str) -> Callable[[Project], list[str]]:
    if kind == "region":
        return lambda p: [r.name if (r := standard_region_of(p.prefecture)) else "不明"]
    if kind == "year":
        return lambda p: [year_label(p.selection_fy)]
    if kind == "technology":
        return lambda p: list(p.technologies)
    return lambda p: [p.prefecture]


def names(rows: list[Project]) -> str:
    return "、".join(f"{p.entry}（{p.selection_year}）" for p in rows)


class ProjectAlgebra:
    """Mixin of :class:`RecordsEngine`: operators over already filtered project rows."""

    def _algebra(self, q: RecordQuery, rows: list[Project], cond: str) -> RecordResult | None:
        if q.same and len(q.municipalities) >= 2:
            return self._same_technologies(q, rows)
        if q.same and q.municipalities and q.other:
            return self._same_as_other(q, rows)
        if q.set_all and rows and (res := self._all(q, rows)) is not None:
            return res
        if q.order == "first_of_two" and len(rows) >= 2:
            return self._which_first(rows)
        if q.group and q.having is not None:
            return self._groups_of_size(q, rows, cond)
        if q.group and q.order in ("max", "min"):
            return self._group_rank(q, rows, cond)
        if q.order in ("earliest", "latest") and rows:
            return self._by_year(q, rows, cond)
        if q.same and rows and not q.municipalities and ("year" in q.attributes or "年度" in q.text):
            return self._same_year(rows, cond)
        if q.set_all and rows:
            return self._all(q, rows)
        return None

    def _same_technologies(self, q: RecordQuery, rows: list[Project]) -> RecordResult:
        by_name = {m: p for p in rows for m in p.municipalities if m in q.municipalities}
        picked = [by_name[m] for m in q.municipalities if m in by_name]
        sets = [set(p.technologies) for p in picked]
        common = set.intersection(*sets) if sets else set()
        order = [t for t in picked[0].technologies if t in common] if picked else []
        lines = [f"{p.entry}: {p.technologies_as_written}" for p in picked]
        if len({frozenset(s) for s in sets}) == 1:
            verdict = f"主な活用技術は同じです（{'、'.join(order)}）。"
        elif common:
            verdict = f"共通する技術は{'、'.join(order)}です。"
        else:
            verdict = "共通する技術はありません。"
        return RecordResult("answer", verdict + "\n" + "\n".join(lines), rows=picked)

    def _same_as_other(self, q: RecordQuery, rows: list[Project]) -> RecordResult:
        base = next((p for p in self.records.projects if set(q.municipalities) & set(p.municipalities)), None)
        if base is None:
            return RecordResult("abstain", "")
        same = [p for p in self.records.projects if p is not base and set(p.technologies) == set(base.technologies)]
        head = f"{base.entry}の主な活用技術（{base.technologies_as_written}）と同じ組み合わせの事業は"
        count = count_of(same, f"支援対象事業一覧で、主な活用技術が{base.entry}と同じ組み合わせのほかの事業を数えた結果")
        if not same:
            return RecordResult("answer", head + "ほかにありません（0件）。", rows=[base], computed=[count])
        return RecordResult("answer", head + f"ほかに{len(same)}件です: {names(same)}。", rows=[base, *same],
                            computed=[count])

    def _which_first(self, rows: list[Project]) -> RecordResult:
        ys = sorted(rows, key=lambda p: p.selection_fy)
        lines = "、".join(f"{p.entry}は{year_label(p.selection_fy)}" for p in ys)
        if len({p.selection_fy for p in ys}) == 1:
            return RecordResult("answer", f"どちらも同じ年度の採択です（{lines}）。", rows=ys)
        return RecordResult("answer", f"{ys[0].entry}の方が先です（{lines}）。", rows=ys)

    def _groups(self, q: RecordQuery, rows: list[Project]) -> dict[str, list[Project]]:
        key = group_keys(q.group or "prefecture")
        groups: dict[str, list[Project]] = {}
        for p in rows:
            for k in key(p):
                groups.setdefault(k, []).append(p)
        return groups

    def _groups_of_size(self, q: RecordQuery, rows: list[Project], cond: str) -> RecordResult:
        groups = self._groups(q, rows)
        hit = {k: v for k, v in groups.items() if len(v) == q.having}
        what = GROUP_WORDS[q.group or "prefecture"]
        text = (f"支援対象事業一覧（{cond}）を{what}別に数えると、事業が{q.having}件の{what}は{len(hit)}です"
                f"（全{len(groups)}{what}中）: " + "、".join(hit) + "。")
        counted = [p for v in groups.values() for p in v]
        computed = [count_of([p for v in hit.values() for p in v], f"{cond}の事業を{what}別に数え、"
                             f"{q.having}件の{what}を数えた結果", keys=list(hit)),
                    count_of(counted, f"{cond}の事業がある{what}を数えた結果", keys=list(groups)),
                    *(count_of(v, f"{cond}のうち{k}の事業を数えた結果") for k, v in list(hit.items())[:1])]
        return RecordResult("answer", text, rows=[p for v in hit.values() for p in v], computed=computed)

    def _group_rank(self, q: RecordQuery, rows: list[Project], cond: str) -> RecordResult:
        groups = self._groups(q, rows)
        fewest = (q.order == "min") != q.reverse
        sizes = sorted({len(v) for v in groups.values()}, reverse=not fewest)
        n = q.ordinal or 1
        if n > len(sizes):
            return RecordResult("abstain", "")
        target = sizes[n - 1]
        top = [k for k, v in groups.items() if len(v) == target]
        what = GROUP_WORDS[q.group or "prefecture"]
        word = ("少ない" if fewest else "多い") if n == 1 else f"{n}番目に{'少ない' if fewest else '多い'}"
        head = "最も" if n == 1 else ""
        ranking = "、".join(f"{k} {len(v)}件" for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1])))
        note = "（地方は8地方区分、三重県は近畿に含めています）" if q.group == "region" else ""
        cited = [p for k in top for p in groups[k]]
        text = (f"支援対象事業一覧（{cond}）を{what}別に数えると、事業が{head}{word}のは"
                f"{'、'.join(top)}（{target}件: {names(cited)}）です。{note}\n内訳: {ranking}")
        computed = [count_of(v, f"{cond}のうち{what}が{k}の事業を数えた結果") for k, v in groups.items()]
        return RecordResult("answer", text, rows=cited, computed=computed)

    def _by_year(self, q: RecordQuery, rows: list[Project], cond: str) -> RecordResult:
        latest = (q.order == "latest") != q.reverse
        y = (max if latest else min)(p.selection_fy for p in rows)
        hit = [p for p in rows if p.selection_fy == y]
        word = "最も新しい" if latest else "最も早い"
        return RecordResult("answer", f"支援対象事業一覧（{cond}）で採択が{word}のは{year_label(y)}の"
                            f"{len(hit)}件: {names(hit)}です。", rows=hit,
                            computed=[count_of(hit, f"{cond}のうち採択が{year_label(y)}の事業を数えた結果")])

    def _same_year(self, rows: list[Project], cond: str) -> RecordResult:
        years = sorted({p.selection_fy for p in rows})
        if len(years) == 1:
            text = f"{cond}の{len(rows)}件は、すべて{year_label(years[0])}の採択です: {names(rows)}。"
        else:
            text = f"{cond}の{len(rows)}件の採択年度は分かれています: {names(rows)}。"
        return RecordResult("answer", text, rows=rows, computed=[count_of(rows, f"{cond}の事業を数えた結果")])

    def _all(self, q: RecordQuery, rows: list[Project]) -> RecordResult | None:
        """「(※)の事業は全部自動運転を使ってる？」: the terms after 全部 are the predicate."""
        from assistant.understand.operators import op_position

        cut = op_position(q.text, "all")
        if cut < 0:
            return None
        pred_techs = [t for t in q.technologies if q.positions.get(t, -1) > cut]
        pred_flag = q.mlit_flag is not None and q.positions.get("flag", -1) > cut
        if not pred_techs and not pred_flag:
            return None
        subject = [p for p in self._filter_projects(_without(q, pred_techs, pred_flag))]
        ok = [p for p in subject if set(pred_techs) <= set(p.technologies)
              and (not pred_flag or p.mlit_autonomous_support == q.mlit_flag)]
        pred = "、".join(pred_techs) + ("(※)の対象" if pred_flag else "")
        bad = [p for p in subject if p not in ok]
        counts = [count_of(subject, "質問の対象の事業を数えた結果"),
                  count_of(ok, f"対象の事業のうち{pred}に該当する事業を数えた結果"),
                  count_of(bad, f"対象の事業のうち{pred}に該当しない事業を数えた結果")]
        if q.lang == "en":
            every = "both" if len(subject) == 2 else f"all {len(subject)}"
            text = (f"Yes, {every} of them: {names(subject)}." if len(ok) == len(subject) else
                    f"No: {len(ok)} of {len(subject)} match ({pred}); not: {names(bad)}.")
            return RecordResult("answer", text, rows=subject, computed=counts)
        if len(ok) == len(subject):
            text = f"はい、{len(subject)}件すべてが{pred}に該当します: {names(subject)}。"
        else:
            text = (f"いいえ、{len(subject)}件のうち{pred}に該当するのは{len(ok)}件で、該当しないのは"
                    f"{len(bad)}件です: {names(bad)}。")
        return RecordResult("answer", text, rows=subject, computed=counts)


def _without(q: RecordQuery, techs: list[str], flag: bool) -> RecordQuery:
    from dataclasses import replace

    return replace(q, technologies=[t for t in q.technologies if t not in techs],
                   mlit_flag=None if flag else q.mlit_flag)
