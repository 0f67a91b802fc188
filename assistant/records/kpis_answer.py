"""Answers over the KPI table (kpis.csv): a small query algebra.

Filters, each taken from the question's text against the table's own columns: the KPIs named
(by the parser, else by a word only one KPI name has), the deadline year (eq / until / since /
range), the unit counted (人, 団体, 地域, %, か所, …: the ``unit`` column), the section (a heading
of the ``section`` column), and how the deadline is written (``2025年まで`` vs ``2025年度まで``).

Operations: list (one line per KPI, its targets merged), count, group by section, difference
(the stated current level → the target, or two targets of one unit), sum (different KPIs of one
unit), min / max (by target value or by deadline). A named KPI without the asked year abstains,
stating the targets the table has (``RecordResult.text``; status ``abstain``).
Every figure shown is a cell of a cited row or a computation written out in the answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from assistant.normalize import nfkc
from assistant.records.load import RecordSet
from assistant.records.query import RecordQuery
from assistant.records.result import (
    RecordComputation,
    RecordResult,
    combined,
    count_of,
    quantity_of,
    year_ok,
)
from assistant.records.schema import Kpi
from assistant.tokenize import content_terms, morphemes

if TYPE_CHECKING:
    from assistant.records.query import YearRef

#: Words of a question that say how it asks, never which KPI it means.
GENERIC_TERMS = frozenset("""kpi 目標 目標値 期限 目途 目処 数値 値 達成 いつ まで 年度 年 数 何 件 全部 全て 一覧 どれ
    target goal due 計画 予定 現在 今 後 向ける 関する 資料 程度 くらい 位 幾 つ 割合 率""".split())
#: Magnitude prefixes of a unit (万人 counts 人).
MAGNITUDE = "万千百億兆"
#: Questions asking how the KPIs are grouped (the section column).
SECTION_WORDS = frozenset("区分 括り 分類 カテゴリー グループ 分野 見出し 柱 分かれる 分ける セクション section category "
                          "categories group groups".split())
#: Questions asking for a difference of two figures.
DIFF_WORDS = frozenset("増やす 増える 増加 差 差分 残り 伸ばす 伸びる 上がる 上げる 引き上げる 違い 違う 後 increase "
                       "difference more gap".split())
#: Questions asking for a sum.
SUM_WORDS = frozenset("合計 合わせる 足す 総計 total sum".split())
SUPERLATIVE = re.compile(r"(?:(?:最も|一番|いちばん|もっとも)[^。、?？]{0,8}?|最)(多|大|高|少|小|低|早|遅|近|遠|長|短)"
                         r"|\b(most|highest|largest|biggest|fewest|smallest|lowest|earliest|latest)\b", re.IGNORECASE)
_MAX = set("多大高遅遠長") | {"most", "highest", "largest", "biggest", "latest"}
_DEADLINE_DIRECTION = set("早遅近遠") | {"earliest", "latest"}
#: Qualifiers that make a figure approximate (2万人強, 50か所程度, 100か所以上).
APPROX = r"強|弱|約|程度|超|余り|以上|少なくとも|以下|未満"
#: Questions asking for the length of a cumulative period (2022～2026年度累計: 5年間).
PERIOD_RE = re.compile(r"何年間|何か年|期間|how many years", re.IGNORECASE)
_KASHO = re.compile(r"[ヶケカヵ箇]所")
#: 「『年』ではなく『年度』で」: a deadline spelling that the question sets aside.
_NOT_SPELLING = re.compile(r"(?<![0-9何今来昨毎前翌同本当])(年度|年)\s*[』」\"']?\s*(じゃなく|ではなく|でなく|じゃない|ではない|以外|でない)")
_QUOTED_SPELLING = re.compile(r"[『「\"'](年度|年)[』」\"']")


def _terms(text: str) -> list[str]:
    return [t for t in content_terms(text) if t not in GENERIC_TERMS and not t.isdigit()]


def _words(text: str) -> set[str]:
    """Normalized forms of every morpheme (verbs included: 増やす, 分かれる)."""
    return {form for _, form, _ in morphemes(text)}


def unit_counter(unit: str) -> str:
    """What a unit counts: 万人 -> 人, ヶ所 -> か所; % stays %."""
    u = _KASHO.sub("か所", nfkc(unit).strip())
    return u.lstrip(MAGNITUDE) or u


def deadline_spelling(k: Kpi) -> str | None:
    """'年度' for 2027年度まで, '年' for 2025年まで (a calendar year), None for 5年程度 or none."""
    if k.deadline_fy is None:
        return None
    written = nfkc(k.deadline_as_written)
    if re.search(r"[0-9]年度", written):
        return "年度"
    if re.search(r"[0-9]{4}年(?!度)", written):
        return "年"
    return None


def asked_spelling(text: str) -> str | None:
    """The deadline spelling the question asks for: 『年』で書いてある / 年度じゃなくて年."""
    t = nfkc(text)
    neg = _NOT_SPELLING.search(t)
    if neg:
        return "年" if neg.group(1) == "年度" else "年度"
    quoted = {m.group(1) for m in _QUOTED_SPELLING.finditer(t)}
    if len(quoted) == 1:
        return quoted.pop()
    if "暦年" in t:
        return "年"
    return None


def _noun_compounds(text: str) -> set[str]:
    """Surfaces of the text's noun compounds (「多くの団体を」 -> {団体})."""
    out, cur = set(), ""
    for surface, _, pos in [*morphemes(text), ("", "", "")]:
        if pos in ("名詞", "接尾辞", "接頭辞") and surface.strip():
            cur += surface
        elif cur:
            out.add(cur)
            cur = ""
    return out


def asked_counters(text: str, counters: Iterable[str]) -> set[str]:
    """Units the question counts in: 何団体 / 団体数 / 人数 / 何か所 / 「地域」 / 多くの団体 / 割合・率・%."""
    t = _KASHO.sub("か所", nfkc(text))
    compounds = {_KASHO.sub("か所", c) for c in _noun_compounds(t)}
    out: set[str] = set()
    for c in counters:
        if c == "%":
            if re.search(r"%|パーセント|割合|率|percent|percentage|share|rate", t, re.IGNORECASE):
                out.add(c)
        elif re.search(rf"何\s*{re.escape(c)}|{re.escape(c)}\s*数|{re.escape(c)}\s*単位|[『「\"']{re.escape(c)}[』」\"']"
                       rf"|{re.escape(c)}で(数|カウント)", t) or c in compounds:
            out.add(c)
        elif c == "人" and re.search(r"\b(people|persons)\b", t, re.IGNORECASE):
            out.add(c)
    return out


def fmt_number(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,}"


def _target(k: Kpi) -> str:
    d = k.deadline_as_written
    return k.target_as_written + (f"（{d}）" if d and d not in k.target_as_written else "")


def _by_deadline(rows: Iterable[Kpi]) -> list[Kpi]:
    return sorted(rows, key=lambda k: (k.deadline_fy is None, k.deadline_fy or 0))


def kpi_lines(rows: list[Kpi], section: bool = False) -> list[str]:
    """One line per KPI name, its targets in deadline order."""
    names: dict[str, list[Kpi]] = {}
    for k in rows:
        names.setdefault(k.name, []).append(k)
    return [f"・{name}: " + "、".join(_target(k) for k in _by_deadline(ks))
            + (f"［{ks[0].section}］" if section else "") for name, ks in names.items()]


def _year_text(r: YearRef) -> str:
    if r.bound == "range" and r.until is not None:
        return f"{r.year}～{r.until}年度"
    return f"{r.year}年度" + {"until": "まで", "since": "以降"}.get(r.bound, "")


@dataclass
class _Index:
    """Words of the KPI table, computed once per records set."""

    name_terms: dict[str, frozenset[str]]  # KPI name -> its content words
    unique: dict[str, str]  # a word only one KPI name has -> that name
    section_terms: dict[str, frozenset[str]]  # section -> its content words
    counters: frozenset[str]

    @classmethod
    def build(cls, kpis: list[Kpi]) -> _Index:
        names = {k.name: frozenset(_terms(k.name)) for k in kpis}
        df: dict[str, list[str]] = {}
        for name, terms in names.items():
            for t in terms:
                df.setdefault(t, []).append(name)
        counters = frozenset(unit_counter(k.unit) for k in kpis if k.unit)
        unique = {t: ns[0] for t, ns in df.items() if len(ns) == 1 and t not in counters}
        sections = {k.section: frozenset(_terms(k.section)) for k in kpis}
        return cls(names, unique, sections, counters)


@dataclass
class _Spec:
    """The KPI question as filters and an operation."""

    names: list[str] = field(default_factory=list)  # KPI names asked about
    section: str | None = None
    counters: set[str] = field(default_factory=set)
    spelling: str | None = None  # 年 | 年度
    group: bool = False
    diff: bool = False
    total: bool = False
    superlative: tuple[str, str] | None = None  # (value|deadline, max|min)

    @property
    def filtered(self) -> bool:
        return bool(self.names or self.section or self.counters or self.spelling)


class KpiAnswers:
    """Mixin of :class:`RecordsEngine` for ``kpis.csv``."""

    records: RecordSet

    def _kpi_index(self) -> _Index:
        cached = getattr(self, "_kpi_index_cache", None)
        if cached is None or cached[0] is not self.records.kpis:
            cached = (self.records.kpis, _Index.build(self.records.kpis))
            self._kpi_index_cache = cached
        return cached[1]

    def _kpi_spec(self, q: RecordQuery) -> _Spec:
        idx = self._kpi_index()
        spec = _Spec()
        by_id = {k.kpi_id: k for k in self.records.kpis}
        words = _words(q.text)
        terms = set(_terms(q.text))
        spec.names = list(dict.fromkeys(by_id[i].name for i in q.kpi_ids if i in by_id))
        if "kpi_ids" not in q.carried and not (terms - idx.counters) & set().union(
                *(idx.name_terms.get(n, frozenset()) for n in spec.names)):
            spec.names = []  # named only by words that ask (割合, 率) or count (地域数): no KPI is meant
        # Without a name from the parser: a word only one KPI name has (委員, 光ファイバ, モデル).
        named = spec.names or list(dict.fromkeys(idx.unique[t] for t in terms if t in idx.unique))
        # A section heading the question spells out better than any KPI name (地域ビジョンの実現に向けたKPI).
        name_cov = max((len(terms & idx.name_terms[n]) / len(idx.name_terms[n])
                        for n in named if idx.name_terms.get(n)), default=0.0)
        sec_cov = {s: len(terms & st) / len(st) for s, st in idx.section_terms.items() if st}
        best = max(sec_cov.values(), default=0.0)
        top = [s for s, c in sec_cov.items() if c == best]
        if best >= 0.5 and len(top) == 1 and best > name_cov:
            spec.section, spec.names = top[0], []
        else:
            spec.names = named
        spec.counters = asked_counters(q.text, idx.counters)
        spec.spelling = asked_spelling(q.text)
        spec.group = bool(words & SECTION_WORDS)
        spec.diff = bool(words & DIFF_WORDS) and not re.search(r"どこまで|what level", q.text)  # a level, not a change
        spec.total = q.intent == "total" or bool(words & SUM_WORDS)
        m = SUPERLATIVE.search(q.text)
        if m:
            word = (m.group(1) or m.group(2)).casefold()
            key = "deadline" if word in _DEADLINE_DIRECTION or words & {"期限", "いつ", "締め切り", "deadline"} else "value"
            spec.superlative = (key, "max" if word in _MAX else "min")
        return spec

    # -- KPIs ----------------------------------------------------------------------------------
    def _kpis(self, q: RecordQuery) -> RecordResult | None:
        spec = self._kpi_spec(q)
        if not (spec.filtered or q.years or spec.group or spec.superlative
                or q.intent in ("list", "count", "total")):
            return None  # a KPI question naming no KPI of the records: let the documents answer
        kpis: list[Kpi] = list(self.records.kpis)
        filt: list[str] = []
        if spec.names:
            kpis = [k for k in kpis if k.name in spec.names]
        if spec.section:
            kpis = [k for k in kpis if k.section == spec.section]
            filt.append(f"区分「{spec.section}」")
        if spec.counters:
            by_unit = [k for k in kpis if unit_counter(k.unit) in spec.counters]
            if spec.names:  # 「脱炭素先行地域は何か所？」 the counted target of the KPI named, if any
                kpis = by_unit or kpis
            elif len(by_unit) < len(kpis):
                kpis = by_unit
                filt.append("単位「" + "・".join(sorted(spec.counters)) + "」")
        if spec.spelling:
            kpis = [k for k in kpis if deadline_spelling(k) == spec.spelling]
            filt.append(f"期限の書き方「{spec.spelling}」")
        named = list(kpis)
        if q.years:
            kpis = [k for k in kpis if year_ok(k.deadline_fy, q.years)]
            filt.append(_years_label(q.years))
        if not kpis:
            return self._kpi_none(q, spec, named, filt)
        if spec.group and not spec.filtered:
            return self._kpi_groups(kpis, filt)
        if spec.group:
            return self._kpi_sections_of(kpis, filt)
        if PERIOD_RE.search(q.text) and any(k.period_start_fy for k in kpis):
            return self._kpi_periods(kpis, filt)
        if spec.diff:
            diff = self._kpi_difference(kpis)
            if diff:
                return diff
        if spec.superlative:
            return self._kpi_superlative(kpis, spec.superlative, filt)
        if spec.total:
            total = self._kpi_total(kpis, filt)
            if total:
                return total
        return self._kpi_list(q, spec, kpis, filt)

    # -- operations ----------------------------------------------------------------------------
    def _kpi_none(self, q: RecordQuery, spec: _Spec, named: list[Kpi], filt: list[str]) -> RecordResult:
        if named and q.years and spec.names:
            # 「5Gの人口カバー率の2027年度の目標は？」: the KPI is there, not for that year.
            by_name: dict[str, list[Kpi]] = {}
            for k in named:
                by_name.setdefault(k.name, []).append(k)
            said = "。".join(f"{name}の目標は" + "、".join(_target(k) for k in _by_deadline(ks))
                            for name, ks in by_name.items())
            years = "、".join(_year_text(r) for r in q.years)
            text = f"{said}で、{years}の値は資料にありません。"
            return RecordResult("abstain", text, rows=named, filters=[*filt, text])
        if filt and not spec.names:
            return RecordResult("empty", "、".join(filt) + "のKPIは資料の一覧にありません（0件）。",
                                rows=self.records.kpis[:1],
                                computed=[count_of([], "、".join(filt) + "のKPIを数えた結果")], filters=filt)
        return RecordResult("abstain", "", filters=filt)

    def _kpi_list(self, q: RecordQuery, spec: _Spec, kpis: list[Kpi], filt: list[str]) -> RecordResult:
        until = [r for r in q.years if r.bound == "until"]
        names = len({k.name for k in kpis})
        computed: list[RecordComputation] = []
        if until and len(until) == 1:
            # 「2025年度までの目標」: those due that year first, then the ones due earlier.
            y = until[0].year
            exact = [k for k in kpis if k.deadline_fy == y]
            earlier = [k for k in kpis if k.deadline_fy is not None and k.deadline_fy < y]
            if spec.names and earlier and not exact:
                text = (f"期限が{y}年度の目標は資料にありません。{y}年度より前の目標:\n" + "\n".join(kpi_lines(earlier)))
                return RecordResult("answer", text, rows=earlier, filters=filt)
            if exact and earlier:
                label = "、".join(f for f in filt if f != _years_label(q.years))
                cond = f"（{label}）" if label else ""
                text = (f"期限が{y}年度（まで）のKPI{cond}は{len(exact)}件です。\n" + "\n".join(kpi_lines(exact))
                        + f"\nこのほか、期限がそれより前のもの{len(earlier)}件（合わせて{len(kpis)}件）:\n"
                        + "\n".join(kpi_lines(earlier)))
                computed = [count_of(exact, f"期限が{y}年度のKPIを数えた結果"),
                            count_of(earlier, f"期限が{y}年度より前のKPIを数えた結果"),
                            count_of(kpis, "該当するKPIを数えた結果")]
                return RecordResult("answer", text, rows=[*exact, *earlier], computed=computed, filters=filt)
        head = ""
        if (filt and not spec.names) or (q.intent == "count" and not spec.names):
            label = "、".join(filt)
            extra = f"（{names}項目）" if names != len(kpis) else ""
            head = f"{label}のKPIは{len(kpis)}件{extra}です。\n" if label else f"KPIは{len(kpis)}件{extra}です。\n"
            what = f"{label}のKPI" if label else "KPI"
            computed = [count_of(kpis, f"{what}（目標ごとに1件）を数えた結果")]
            if extra:
                computed.append(count_of(kpis, f"{what}の項目（KPIの名前）を数えた結果", keys=[k.name for k in kpis]))
        return RecordResult("answer", head + "\n".join(kpi_lines(kpis)), rows=list(kpis), computed=computed,
                            filters=filt)

    def _kpi_groups(self, kpis: list[Kpi], filt: list[str]) -> RecordResult:
        """「KPIはどういうくくり？」: the sections, each with its KPIs."""
        sections: dict[str, list[Kpi]] = {}
        for k in kpis:
            sections.setdefault(k.section, []).append(k)
        headed = [s for s in sections if "kpi" in s.casefold()]
        other = [s for s in sections if s not in headed]
        order = headed or other
        lines = [f"KPIは資料の{len(order)}つの見出しに分かれています。"]
        counted = [k for s in order for k in sections[s]]
        computed = [count_of(counted, "KPIの見出しを数えた結果", keys=order)]
        for s in order:
            n = len({k.name for k in sections[s]})
            lines.append(f"■ {s}（{n}項目）")
            lines.extend("  " + line for line in kpi_lines(sections[s]))
            computed.append(count_of(sections[s], f"「{s}」のKPIの項目を数えた結果", keys=[k.name for k in sections[s]]))
        if headed and other:
            for s in other:
                lines.append(f"このほか「{s}」の項に次の目標があります。")
                lines.extend("  " + line for line in kpi_lines(sections[s]))
        rows = [k for s in [*order, *(other if headed else [])] for k in sections[s]]
        return RecordResult("answer", "\n".join(lines), rows=rows, computed=computed, filters=filt)

    def _kpi_sections_of(self, kpis: list[Kpi], filt: list[str]) -> RecordResult:
        """「光ファイバの目標はどの区分？」: the section of each KPI asked about."""
        names: dict[str, Kpi] = {}
        for k in kpis:
            names.setdefault(k.name, k)
        lines = [f"{name}は「{k.section}」に入っています。" for name, k in names.items()]
        if len(names) > 1:
            by_section: dict[str, list[str]] = {}
            for name, k in names.items():
                by_section.setdefault(k.section, []).append(name)
            lines = [f"「{s}」: " + "、".join(ns) for s, ns in by_section.items()]
        return RecordResult("answer", "\n".join(lines) + "\n" + "\n".join(kpi_lines(kpis)), rows=list(kpis),
                            filters=filt)

    def _kpi_difference(self, kpis: list[Kpi]) -> RecordResult | None:
        """Current level → target (5万人 − 2万人強 = 約3万人), or two targets of one unit."""
        numeric = [k for k in kpis if k.value is not None]
        with_base = [k for k in numeric if k.baseline_value is not None]
        if with_base and len({k.name for k in numeric}) == 1:
            k = _by_deadline(with_base)[-1]
            d = k.value - k.baseline_value
            approx = "約" if re.search(APPROX, k.baseline_as_written + k.target_as_written) else ""
            calc = f"{fmt_number(k.value)}{k.unit} − {_strip_prefix(k.baseline_as_written)} = {approx}{fmt_number(d)}{k.unit}"
            text = f"{k.name}の目標は{_target(k)}で、増やす数は{calc}です。"
            figures = [_figure(k.value, k.unit), _figure(k.baseline_value, k.unit)]
            return RecordResult("answer", text, rows=[k], computed=[combined("difference", figures, [k], calc)])
        units = {unit_counter(k.unit) for k in numeric}
        if len(numeric) < 2 or len(units) != 1:
            return None
        ordered = _by_deadline(numeric)
        if len({k.name for k in numeric}) == 1:
            a, b = ordered[0], ordered[-1]  # earliest and latest target of one KPI
        elif len(numeric) == 2:
            a, b = sorted(numeric, key=lambda k: k.value)
        else:
            return None
        d = b.value - a.value
        unit = b.unit if b.unit != "%" else "ポイント"
        approx = "約" if any(re.search(APPROX, k.target_as_written) for k in (a, b)) else ""
        calc = f"{b.target_as_written} − {a.target_as_written} = {approx}{fmt_number(d)}{unit}"
        if a.name == b.name:
            text = f"{a.name}の目標は{_target(a)}から{_target(b)}へ、差は{calc}です。"
        else:
            text = f"{b.name}（{_target(b)}）と{a.name}（{_target(a)}）の差は{calc}です。"
        figures = [_figure(b.value, b.unit), _figure(a.value, a.unit)]
        return RecordResult("answer", text + "\n" + "\n".join(kpi_lines([a, b])), rows=[a, b],
                            computed=[combined("difference", figures, [b, a], calc)])

    def _kpi_periods(self, kpis: list[Kpi], filt: list[str]) -> RecordResult:
        """「デジタル推進人材は何年間で230万人？」: a cumulative period's length, computed."""
        lines, computed, rows = [], [], []
        for k in kpis:
            if k.period_start_fy and k.deadline_fy:
                n = k.deadline_fy - k.period_start_fy + 1
                lines.append(f"{k.name}の目標{k.target_as_written}は{k.deadline_as_written}で、期間は"
                             f"{k.period_start_fy}年度から{k.deadline_fy}年度までの{n}年間です。")
                computed.append(combined("year_span", [k.period_start_fy, k.deadline_fy], [k],
                                         f"{k.period_start_fy}年度から{k.deadline_fy}年度までの年数（両端を含む）"))
                rows.append(k)
        return RecordResult("answer", "\n".join(lines), rows=rows, computed=computed, filters=filt)

    def _kpi_superlative(self, kpis: list[Kpi], how: tuple[str, str], filt: list[str]) -> RecordResult:
        key, direction = how
        pick = max if direction == "max" else min
        if key == "deadline":
            dated = [k for k in kpis if k.deadline_fy is not None]
            if not dated:
                return self._kpi_list_plain(kpis, filt)
            y = pick(k.deadline_fy for k in dated)
            best = [k for k in dated if k.deadline_fy == y]
            word = "最も遅い" if direction == "max" else "最も早い"
            text = f"期限が{word}のは{y}年度のKPI（{len(best)}件）です。\n" + "\n".join(kpi_lines(best))
            return RecordResult("answer", text, rows=best, filters=filt)
        by_unit: dict[str, list[Kpi]] = {}
        for k in kpis:
            if k.value is not None:
                by_unit.setdefault(unit_counter(k.unit), []).append(k)
        if not by_unit:
            return self._kpi_list_plain(kpis, filt)
        word = "最も大きい" if direction == "max" else "最も小さい"
        lines, rows = [], []
        for unit, ks in by_unit.items():
            v = pick(k.value for k in ks)
            best = [k for k in ks if k.value == v]
            lines.append(f"{'単位「' + unit + '」で' if len(by_unit) > 1 else ''}目標が{word}のは"
                         + "、".join(f"{k.name}（{_target(k)}）" for k in best) + "です。")
            rows.extend(best)
        rest = [k for k in kpis if k not in rows]
        text = "\n".join(lines) + ("\n比べたKPI:\n" + "\n".join(kpi_lines(rest)) if rest else "")
        return RecordResult("answer", text, rows=[*rows, *rest], filters=filt)

    def _kpi_total(self, kpis: list[Kpi], filt: list[str]) -> RecordResult | None:
        """A sum only of different KPIs counted in one unit (targets of one KPI are levels, not parts)."""
        numeric = [k for k in kpis if k.value is not None]
        if len(numeric) < 2:
            return None
        if len({k.name for k in numeric}) != len(numeric):
            return None
        if len({k.unit for k in numeric}) != 1:
            text = ("単位が異なるため合計できません。\n" + "\n".join(kpi_lines(kpis)))
            return RecordResult("answer", text, rows=list(kpis), filters=filt)
        total = sum(k.value for k in numeric)
        unit = numeric[0].unit
        calc = " + ".join(f"{fmt_number(k.value)}{unit}" for k in numeric) + f" = {fmt_number(total)}{unit}"
        text = f"合計は{calc}です（各KPIの目標値を足した数）。\n" + "\n".join(kpi_lines(numeric))
        total_of = combined("sum", [_figure(k.value, unit) for k in numeric], numeric, f"{calc}（各KPIの目標値の合計）")
        return RecordResult("answer", text, rows=numeric, computed=[total_of],
                            filters=filt)

    def _kpi_list_plain(self, kpis: list[Kpi], filt: list[str]) -> RecordResult:
        return RecordResult("answer", "\n".join(kpi_lines(kpis)), rows=list(kpis), filters=filt)


def _figure(value: float | None, unit: str) -> Decimal:
    """A KPI figure as the answer writes it (5 with unit 万人 -> 50000)."""
    return quantity_of(f"{fmt_number(value or 0).replace(',', '')}{unit}")


def _years_label(refs: list[YearRef]) -> str:
    return "期限" + "・".join(_year_text(r) for r in refs)


def _strip_prefix(written: str) -> str:
    """現在2万人強 -> 2万人強 (the figure of a stated current level)."""
    m = re.search(r"[0-9][0-9,.]*.*$", written)
    return m.group(0) if m else written
