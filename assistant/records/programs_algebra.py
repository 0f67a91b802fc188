"""The five programs × fiscal years of selections (and R5 budgets) as a small algebra: sums across
programs, rankings with ordinals, earliest start, change between two years, budget sums.

Each answer shows its operation (「14 + 5 + 20 + 14 + 11 = 64事業」) and cites the rows it used.
"""

from __future__ import annotations

import re

from assistant.records.load import RecordSet
from assistant.records.query import RecordQuery
from assistant.records.result import RecordResult, combined, count_of, quantity_of, year_label, year_ok
from assistant.records.schema import Program, ProgramSelection


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


#: A confirmation (「…だよね？」「…でしたっけ」): the premise is checked, and corrected when wrong.
CONFIRM = re.compile(r"(だ|です|でした|だった)?よね|っけ|でしょうか|ではない|じゃない|right\?|isn't it")


class ProgramAlgebra:
    """Mixin of :class:`RecordsEngine` for operators over programs and program_selections."""

    records: RecordSet
    program_by_id: dict[str, Program]

    def _program_ops(self, q: RecordQuery) -> RecordResult | None:
        progs = [self.program_by_id[i] for i in q.programs if i in self.program_by_id] or list(self.records.programs)
        if self._all_programs_named(q.text):  # 「5つの事業で」「各府省の5事業」「the five programs」
            progs = list(self.records.programs)
        if "budget" in q.attributes:  # budgets: a sum here; superlatives and lookups in tables_answer
            return self._budget_sum(progs) if q.op_sum and len(progs) >= 2 else None
        if not q.programs and q.years and re.search(r"どの事業|どれ|which program", q.text) \
                and not (q.order or q.ordinal or q.op_sum or q.op_diff):
            return self._programs_in_years(q, sels=list(self.records.selections))
        if q.programs and CONFIRM.search(q.text) and (fix := self._which_program_does(q)) is not None:
            return fix
        if "contact" in q.attributes and q.same and len(progs) >= 2:
            return self._same_domain(progs)
        sels = [s for s in self.records.selections if s.program_id in {p.program_id for p in progs}]
        if not sels:
            return None
        if q.op_diff and len(q.years) >= 1 and (len(q.years) == 2 or q.years[0].until):
            y0 = q.years[0].year
            y1 = q.years[0].until if q.years[0].until else q.years[1].year
            return self._change(progs, sels, y0, y1, q)
        one_program = len(progs) == 1
        if one_program and (q.order in ("max", "min") or q.reverse) and not q.years:
            return self._program_best_year(progs[0], sels, q)
        if q.order == "earliest" and not q.years:
            return self._earliest_start(progs, sels)
        if len(progs) > 1 and (q.order in ("max", "min") or q.ordinal):
            return self._rank(progs, sels, q)
        if len(progs) > 1 and (q.op_sum or (q.intent in ("count", "total") and self._all_programs_named(q.text))):
            return self._sum(progs, sels, q)
        return None

    def _all_programs_named(self, text: str) -> bool:
        n = len(self.records.programs)
        words = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七"}.get(n, str(n))
        en = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}.get(n, str(n))
        return bool(re.search(rf"(?<![0-9])({n}|{words})(つ|事業|本|府省)|\ball {n}\b|\ball {en}\b|\b{en} programs?", text,
                              re.IGNORECASE))

    def _picked(self, sels: list[ProgramSelection], q: RecordQuery, pid: str) -> list[ProgramSelection]:
        return [s for s in sels if s.program_id == pid and year_ok(s.fiscal_year, q.years)]

    def _sum(self, progs: list[Program], sels: list[ProgramSelection], q: RecordQuery) -> RecordResult:
        used = [s for p in progs for s in self._picked(sels, q, p.program_id)]
        total = sum(s.count for s in used)
        when = "、".join(year_label(r.year) for r in q.years) or "掲載の全年度"
        parts = " + ".join(f"{s.count}" for s in used)
        detail = "、".join(f"{self.program_by_id[s.program_id].program_name}（{s.fiscal_year_label}）{s.count}事業"
                           for s in used)
        computed = [combined("sum", [s.count for s in used], used, f"{parts} の合計（{when}の各事業の選定数）"),
                    count_of(used, "合計した事業を数えた結果", keys=[p.program_id for p in progs])]
        return RecordResult("answer", f"{when}の選定数を{len(progs)}事業で合計すると{total}事業です"
                            f"（{parts} = {total}）。内訳: {detail}。", rows=used, computed=computed)

    def _rank(self, progs: list[Program], sels: list[ProgramSelection], q: RecordQuery) -> RecordResult:
        totals = {p.program_id: sum(s.count for s in self._picked(sels, q, p.program_id)) for p in progs}
        fewest = (q.order == "min") != q.reverse
        sizes = sorted(set(totals.values()), reverse=not fewest)
        n = q.ordinal or 1
        if n > len(sizes):
            return RecordResult("abstain", "")
        top = [pid for pid, v in totals.items() if v == sizes[n - 1]]
        when = "、".join(year_label(r.year) for r in q.years) or "掲載の全年度の累計"
        word = ("最も少ない" if fewest else "最も多い") if n == 1 else f"{n}番目に{'少ない' if fewest else '多い'}"
        names = "、".join(f"{self.program_by_id[p].program_name}（{self.program_by_id[p].ministry}）" for p in top)
        ranking = "、".join(f"{self.program_by_id[p].program_name} {v}事業"
                            for p, v in sorted(totals.items(), key=lambda kv: -kv[1]))
        rows = [s for p in progs for s in self._picked(sels, q, p.program_id)]
        computed = []
        for p in progs:
            picked = self._picked(sels, q, p.program_id)
            if len(picked) > 1:  # a total over years; one year's count is its cell
                computed.append(combined("sum", [s.count for s in picked], picked,
                                         " + ".join(f"{s.count}" for s in picked)
                                         + f" の合計（{self.program_by_id[p.program_id].program_name}の各年度の選定数）"))
        return RecordResult("answer", f"{when}の選定数で{word}のは{names}で{sizes[n - 1]}事業です。"
                            f"（{ranking}）", rows=rows, computed=computed)

    def _change(self, progs: list[Program], sels: list[ProgramSelection], y0: int, y1: int,
                q: RecordQuery) -> RecordResult:
        lines, ups, downs, rows, computed = [], [], [], [], []
        for p in progs:
            a = next((s for s in sels if s.program_id == p.program_id and s.fiscal_year == y0), None)
            b = next((s for s in sels if s.program_id == p.program_id and s.fiscal_year == y1), None)
            if a is None or b is None:
                continue
            d = b.count - a.count
            rows += [a, b]
            big, small = (b, a) if d >= 0 else (a, b)  # the change as a size (3事業減: 14 − 11)
            computed.append(combined("difference", [big.count, small.count], [a, b],
                                     f"{p.program_name}の{big.fiscal_year_label} {big.count}事業 − "
                                     f"{small.fiscal_year_label} {small.count}事業"))
            (ups if d > 0 else downs if d < 0 else []).append(p.program_name)
            sign = f"{d}事業増" if d > 0 else f"{-d}事業減" if d < 0 else "増減なし"
            lines.append(f"{p.program_name}（{p.ministry}）: {a.fiscal_year_label} {a.count}事業 → "
                         f"{b.fiscal_year_label} {b.count}事業（{b.count} − {a.count} = {d:+d}、{sign}）")
        if not lines:
            return RecordResult("abstain", "")
        head = ""
        if len(lines) > 1:
            down = "減" in q.text and "増" not in q.text  # 「減ったのは？」: the decreases are asked
            picked, word = (downs, "減った") if down else (ups, "増えた")
            head = (f"{year_label(y0)}から{year_label(y1)}にかけて選定数が{word}のは"
                    f"{'、'.join(picked) or 'ありません'}です。\n")
        return RecordResult("answer", head + "\n".join(lines), rows=rows, computed=computed)

    def _program_best_year(self, p: Program, sels: list[ProgramSelection], q: RecordQuery) -> RecordResult:
        mine = [s for s in sels if s.program_id == p.program_id]
        fewest = (q.order == "min") or (q.reverse and q.order != "min")
        best = (min if fewest else max)(s.count for s in mine)
        hit = [s for s in mine if s.count == best]
        word = "最も少ない" if fewest else "最も多い"
        detail = "、".join(f"{s.fiscal_year_label}: {s.count}事業" for s in mine)
        return RecordResult("answer", f"{p.program_name}（{p.ministry}）の選定数が{word}のは"
                            f"{'、'.join(year_label(s.fiscal_year) for s in hit)}の{best}事業です。（{detail}）",
                            rows=hit)

    def _earliest_start(self, progs: list[Program], sels: list[ProgramSelection]) -> RecordResult:
        first = {p.program_id: min(s.fiscal_year for s in sels if s.program_id == p.program_id)
                 for p in progs if any(s.program_id == p.program_id for s in sels)}
        y = min(first.values())
        top = [pid for pid, v in first.items() if v == y]
        rows = [s for s in sels if s.program_id in top and s.fiscal_year == y]
        names = "、".join(f"{self.program_by_id[p].program_name}（{self.program_by_id[p].ministry}）" for p in top)
        others = "、".join(f"{self.program_by_id[p].program_name} {year_label(v)}から"
                           for p, v in sorted(first.items(), key=lambda kv: kv[1]) if p not in top)
        return RecordResult("answer", f"選定数の記載が最も早い年度からあるのは{names}で、{year_label(y)}からです。"
                            f"（ほか: {others}）", rows=rows)

    def _which_program_does(self, q: RecordQuery) -> RecordResult | None:
        """「インフラ管理の高度化を支援するのは経産の事業ですよね？」: the program whose description holds the
        question's own words, against the program the question names."""
        from assistant.tokenize import content_terms

        # in the records' order, not a set's: the answer text must not change with PYTHONHASHSEED
        named = [p.program_id for p in self.records.programs if p.program_id in set(q.programs)]
        org = " ".join(f"{p.ministry} {p.bureau} {p.program_name}" for p in self.records.programs)
        words = [w for w in dict.fromkeys(content_terms(q.text)) if w not in content_terms(org) and len(w) > 1]
        texts = {p.program_id: f"{p.summary} {p.main_support}".casefold() for p in self.records.programs}
        holders = {w: [pid for pid, t in texts.items() if w.casefold() in t] for w in words}
        score: dict[str, float] = {}
        for pids in holders.values():
            for pid in pids:
                score[pid] = score.get(pid, 0) + 1 / len(pids)  # a word only one program has counts most
        if not score:
            return None
        best = max(score, key=score.get)
        if score[best] < 1:
            return None
        p = self.program_by_id[best]
        low = q.text.casefold()
        which = "、".join(q.text[low.find(w.casefold()):low.find(w.casefold()) + len(w)] if w.casefold() in low else w
                          for w, pids in holders.items() if best in pids)
        if best in named:
            if len(named) > 1:
                return None
            return RecordResult("answer", f"はい、資料では「{which}」は{p.ministry}の{p.program_name}に書かれています。"
                                f"概要: {p.summary} 主な支援対象: {p.main_support}", rows=[p])
        others = "、".join(f"{self.program_by_id[i].program_name}（{self.program_by_id[i].ministry}）" for i in named)
        return RecordResult("answer", f"いいえ、資料では「{which}」が書かれているのは{p.ministry}の{p.program_name}です"
                            f"（{others}ではありません）。概要: {p.summary} 主な支援対象: {p.main_support}",
                            rows=[p, *[self.program_by_id[i] for i in named]])

    def _programs_in_years(self, q: RecordQuery, sels: list[ProgramSelection]) -> RecordResult:
        """「H29に選定があるのはどの事業？」: the programs with selections in those years."""
        used = [s for s in sels if year_ok(s.fiscal_year, q.years)]
        when = "、".join(year_label(r.year) for r in q.years)
        if not used:
            return RecordResult("abstain", f"{when}の選定数はどの事業にも記載がありません。", rows=sels[-1:])
        detail = "、".join(f"{self.program_by_id[s.program_id].program_name}（{self.program_by_id[s.program_id].ministry}）"
                           f"{s.count}事業" for s in used)
        count = count_of(used, f"{when}に選定数の記載がある事業を数えた結果", keys=[s.program_id for s in used])
        return RecordResult("answer", f"{when}に選定があるのは{len({s.program_id for s in used})}事業です: {detail}。",
                            rows=used, computed=[count])

    def _same_domain(self, progs: list[Program]) -> RecordResult:
        """「2つの事業の問合せアドレス、ドメイン同じ？」: the part after @ of each address."""
        domains = {p.program_id: p.contact_email.rpartition("@")[2] for p in progs if "@" in p.contact_email}
        lines = "、".join(f"{p.program_name}: {p.contact_email}" for p in progs)
        if len(set(domains.values())) == 1:
            verdict = f"はい、どちらも同じドメイン（{next(iter(domains.values()))}）です。"
        else:
            verdict = "いいえ、ドメインは異なります（" + "、".join(sorted(set(domains.values()))) + "）。"
        return RecordResult("answer", f"{verdict}{lines}", rows=progs)

    def _budget_sum(self, progs: list[Program]) -> RecordResult:
        priced = [p for p in progs if p.budget_r5_oku_yen is not None]
        missing = [p for p in progs if p.budget_r5_oku_yen is None]
        total = sum(p.budget_r5_oku_yen or 0 for p in priced)
        parts = " + ".join(p.budget_r5 for p in priced)  # as written (4.0億円), so each is in its quote
        text = (f"R5年度予算を合計すると{_fmt(total)}億円です（{parts} = {_fmt(total)}億円）。"
                + "、".join(f"{p.program_name}（{p.ministry}）: {p.budget_r5}" for p in priced) + "。")
        if missing:
            text += "金額が示されていない事業: " + "、".join(f"{p.program_name}（{p.budget_r5}）" for p in missing) + "。"
        total_of = combined("sum", [quantity_of(p.budget_r5) for p in priced], priced, f"{parts} の合計")
        return RecordResult("answer", text, rows=priced + missing, computed=[total_of])
