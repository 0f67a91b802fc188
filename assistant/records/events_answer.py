"""Answers over the events table (events.csv: symposium and mini-symposium sessions).

A small query algebra. Filters, each read from the question's text against the table's own
columns: the kind(s) named (シンポ / ミニシンポ, several at once: 「秋のシンポジウムと冬のミニシンポジウム」),
the day (1日目, 2日目, 初日, 最終日, 両日 = all), a month or a date (10月, 10月28日), a fiscal or
calendar year, and the participant group (the groups written in ``participants_breakdown``:
選定自治体, 民間事業者, 府省, …). Operations: the asked attributes of each session (date, weekday,
place, programme, participants), the programme items that mention a word of the question (with
「X以外」 leaving X out), yes/no over a set (「両方出てる？」: in the programme of every event named),
sums over days (per group: 4名 + 2名 = 6名), and comparisons of groups or sessions.
Every figure shown is a cell of a cited row or a computation written out in the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.normalize import match_key, nfkc, normalize_text
from assistant.records.load import RecordSet
from assistant.records.query import RecordQuery
from assistant.records.result import RecordComputation, RecordResult, combined, count_of, year_ok
from assistant.records.schema import Event
from assistant.tokenize import content_terms, morphemes, reading

#: Words that ask how, never which programme item.
GENERIC_TERMS = frozenset("""プログラム 内容 何 誰 以外 開催 参加 参加者 人数 日時 場所 会場 曜日 何曜 いつ どこ
    シンポ シンポジウム ミニシンポジウム 両日 両方 二日 日間 初日 最終 概要 program programme""".split())
#: Words of a question that ask, never name (何, 日, 教え…).
QUESTION_TERMS = frozenset("何 人 名 方 日 目 月 年 年度 回 つ 様 ところ こと もの 際 今回 前回 それ これ 他 外 ほか".split())
TOTAL_WORDS = frozenset("合計 合わせる 両日 延べ 計 総数 全部 total altogether".split())
COMPARE_WORDS = frozenset("多い 少ない どちら どっち 比べる 比較 more fewer less most".split())
BOTH_WORDS = frozenset("両方 両日 どちら いずれ 共に とも both each".split())
WEEKDAY_RE = re.compile(r"曜|weekday|day of the week", re.IGNORECASE)
PEOPLE_RE = re.compile(r"何\s*(人|名)|人数|参加者|how many people|participants|attend", re.IGNORECASE)
_DAY_RE = re.compile(r"([0-9]+|一|二|三)\s*日目|\bday\s*([0-9])\b|(初日|first day)|(最終日|last day)|(second day)",
                     re.IGNORECASE)
_KANJI = {"一": "1", "二": "2", "三": "3"}
_DATE_RE = re.compile(r"(?<![0-9])([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日")
_MONTH_RE = re.compile(r"(?<![0-9年])([0-9]{1,2})\s*月(?!\s*[0-9]{1,2}\s*日)")
_EXCEPT_RE = re.compile(r"([^\s、。,?？!！のはをがにでと]+?)\s*(以外|を除いて|を除く|のほか|の他|の外)")


def _words(text: str) -> set[str]:
    return {form for _, form, _ in morphemes(text)}


def _item_terms(text: str) -> set[str]:
    return {t for t in content_terms(text) if len(t) >= 2 and t not in GENERIC_TERMS and not t.isdigit()}


@dataclass
class Item:
    """One programme item: 実証実験見学会（自動運転体験、買い物支援・罨センサー実証の説明） has two parts."""

    text: str
    head: str
    parts: list[str]


def program_items(program: str) -> list[Item]:
    """Split a programme on the 、 outside brackets; each item's bracket is split into its parts."""
    items, depth, cur = [], 0, ""
    for ch in program:
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth -= 1
        if ch == "、" and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    out = []
    for text in (i.strip() for i in items if i.strip()):
        m = re.match(r"^(.*?)[（(](.*)[）)]$", text)
        out.append(Item(text, m.group(1) if m else text, [p.strip() for p in m.group(2).split("、")] if m else []))
    return out


def breakdown(e: Event) -> list[tuple[str, int]]:
    """選定自治体16名、民間事業者4名 -> [('選定自治体', 16), ('民間事業者', 4)]."""
    return [(g.strip(), int(n)) for g, n in re.findall(r"([^、,()（）0-9]+?)\s*([0-9]+)\s*名", nfkc(e.participants_breakdown))]


def weekday_of(e: Event) -> str:
    """The weekday written in the row (its ``weekday`` cell, else the （木） of date_as_written)."""
    if e.weekday:
        return e.weekday
    m = re.search(r"\(([月火水木金土日])\)", nfkc(e.date_as_written))
    return m.group(1) if m else ""


def kind_mentions(text: str, kinds: list[str]) -> list[str]:
    """Kinds of the table the text names, abbreviations included (シンポ, ミニシンポ).

    A mention of a shorter kind inside a longer one's (シンポ in ミニシンポ) is not counted.
    """
    t = nfkc(text)
    taken: list[tuple[int, int]] = []
    found: list[str] = []
    for kind in sorted(kinds, key=len, reverse=True):
        k = nfkc(kind)
        stem = k[:max(3, len(k) - 3)]  # シンポジウム -> シンポ, ミニシンポジウム -> ミニシンポ
        for m in re.finditer(re.escape(stem), t):
            if any(a <= m.start() < b for a, b in taken):
                continue
            end = m.end()
            while end < len(t) and end - m.start() < len(k) and t[end] == k[end - m.start()]:
                end += 1
            taken.append((m.start(), end))
            if kind not in found:
                found.append(kind)
    return found


def _label(e: Event, many_kinds: bool = True) -> str:
    return (e.kind if many_kinds or not e.day else "") + (f"（{e.day}）" if e.day else "")


class EventAnswers:
    """Mixin of :class:`RecordsEngine` for ``events.csv``."""

    records: RecordSet

    # -- filters -------------------------------------------------------------------------------
    def _event_selection(self, q: RecordQuery) -> tuple[list[Event], list[str]]:
        t = nfkc(q.text)
        events = list(self.records.events)
        filt: list[str] = []
        kinds = kind_mentions(t, sorted({e.kind for e in events}))
        if not kinds and q.event_kind:
            kinds = [q.event_kind]  # carried from an earlier turn
        if kinds:
            events = [e for e in events if e.kind in kinds]
            filt.append("種類: " + "・".join(kinds))
        days: set[str] = set()
        last = False
        for m in _DAY_RE.finditer(t):
            if m.group(1) or m.group(2):
                days.add(_KANJI.get(m.group(1) or "", m.group(1) or m.group(2)))
            elif m.group(3):
                days.add("1")
            elif m.group(4):
                last = True
            elif m.group(5):
                days.add("2")
        if last:
            numbered = [int(e.day[0]) for e in events if e.day[:1].isdigit()]
            if numbered:
                days.add(str(max(numbered)))
        if days:
            events = [e for e in events if e.day and e.day.split("日")[0] in days]
            filt.append("日: " + "・".join(f"{d}日目" for d in sorted(days)))
        dates = {(int(m), int(d)) for m, d in _DATE_RE.findall(t)}
        months = {int(m) for m in _MONTH_RE.findall(t)}
        if dates or months:
            events = [e for e in events if (int(e.date[5:7]), int(e.date[8:10])) in dates
                      or int(e.date[5:7]) in months]
            filt.append("日付: " + "・".join([f"{m}月{d}日" for m, d in sorted(dates)] + [f"{m}月" for m in sorted(months)]))
        if q.years:
            events = [e for e in events if _year_match(e, q)]
            filt.append("年: " + "・".join(r.text for r in q.years))
        # A venue or city named (グリーンホール田原, 四条畷 read as 四條畷): the sessions held there.
        qread = {reading(w) for w in _item_terms(t)}
        at = [e for e in events if {reading(w) for w in _item_terms(f"{e.place} {e.city}")} & qread]
        if at and len(at) < len(events):
            events = at
            filt.append("場所: " + "・".join(dict.fromkeys(e.place for e in at)))
        return events, filt

    # -- events --------------------------------------------------------------------------------
    def _events(self, q: RecordQuery) -> RecordResult:
        events, filt = self._event_selection(q)
        if not events:
            return RecordResult("abstain", "", filters=filt)
        t = nfkc(q.text)
        words = _words(t)
        if "両日" in words and any(e.day for e in events):
            events = [e for e in events if e.day]  # both days of the multi-day event
        attrs = set(q.attributes) & {"participants", "place", "date", "program"}
        if WEEKDAY_RE.search(t):
            attrs.add("weekday")
        group = self._asked_group(t, events)
        breakdown_asked = group is None
        group = group or {}
        compare = bool(words & COMPARE_WORDS) or q.intent == "compare"
        counting = compare or q.intent in ("total", "count") or bool(words & TOTAL_WORDS)
        if PEOPLE_RE.search(t) or ((group or breakdown_asked) and counting) or (compare and "participants" in attrs):
            attrs.add("participants")
        if "participants" not in attrs:  # 「事例を紹介した自治体は？」 names no participant group
            group, breakdown_asked = {}, False
        # Programme items the question names (川島, 基調講演, 見学会), minus the words that select
        # sessions (kind, place, city, day) or participant groups.
        selectors = set()
        for e in self.records.events:
            selectors |= _item_terms(f"{e.kind} {e.place} {e.city} {e.day} " + " ".join(g for g, _ in breakdown(e)))
        qterms = _item_terms(t) - selectors
        excluded = [m.group(1) for m in _EXCEPT_RE.finditer(t)]
        ex_terms = set().union(*(_item_terms(x) for x in excluded)) if excluded else set()
        wanted = qterms - ex_terms or qterms
        matches = {e.event_id: self._matching_items(e, wanted) for e in events}
        asked = attrs - {"program"} or q.intent in ("total", "count")  # programme words are often the subject
        if not asked and not (any(matches.values()) and _yes_no(t)) and self._unexplained(t):
            return None  # 「ミニシンポの参加費は？」「座談会の評判は？」: not a column of the table
        if any(matches.values()):
            if attrs - {"program"}:  # 「基調講演があった日の会場は？」: the items select the sessions
                events = [e for e in events if matches[e.event_id]]
            else:
                return self._program_items(q, events, matches, excluded, words, filt)
        elif wanted and _yes_no(t) and not attrs - {"program"}:
            # 「川島教授は2日目にも出た？」: named in the programme of other sessions only.
            elsewhere = [e for e in self.records.events if e not in events and self._matching_items(e, wanted)]
            if elsewhere:
                return self._absent_item(events, elsewhere, wanted, filt)
        many_kinds = len({e.kind for e in events}) > 1
        note = ""
        if not group and not breakdown_asked and "participants" in attrs:
            other = self._asked_group(t, [e for e in self.records.events if e not in events])
            if other:  # 「ミニシンポの民間事業者は？」: a group of other sessions only
                names = "・".join(dict.fromkeys(g for g, _ in other.values()))
                note = f"\n{'・'.join(_label(e) for e in events)}の参加者の内訳に{names}はありません。"
        if re.search(r"何日間|何日開催|how many days", t, re.IGNORECASE):
            return self._days(events, filt)
        if re.search(r"何回|回数|how many times", t, re.IGNORECASE) and not re.search(r"頻度|例年|毎年|年に", t):
            return self._count_events(events, filt)
        if "weekday" in attrs and not attrs - {"weekday", "date"}:
            return self._weekdays(events, many_kinds, filt)
        if "participants" in attrs and (group or compare or q.intent == "total" or words & TOTAL_WORDS):
            done = self._participants(q, events, group, compare, words, filt, attrs)
            if done:
                return done
        result = self._sessions(q, events, attrs or {"date", "place", "participants"}, many_kinds, filt)
        result.text += note
        return result

    def _unexplained(self, text: str) -> list[str]:
        """Words of the question that no column of the events table (nor a question word) has."""
        known = getattr(self, "_event_vocab", None)
        if known is None or known[0] is not self.records.events:
            vocab: set[str] = set()
            for e in self.records.events:
                vocab |= set(content_terms(" ".join([e.kind, e.date_as_written, e.day, e.place, e.city, e.program,
                                                     e.participants_breakdown])))
            known = (self.records.events, vocab)
            self._event_vocab = known
        return [w for w in content_terms(text) if w not in known[1] and w not in GENERIC_TERMS
                and w not in QUESTION_TERMS and not w.isdigit()]

    # -- answers -------------------------------------------------------------------------------
    def _sessions(self, q: RecordQuery, events: list[Event], attrs: set[str], many_kinds: bool,
                  filt: list[str]) -> RecordResult:
        lines = []
        for e in events:
            parts = [e.kind + (f"（{e.day}）" if e.day else "")]
            if "date" in attrs or "weekday" in attrs:
                parts.append(f"日時: {e.date_as_written}")
            if "weekday" in attrs and weekday_of(e):
                parts.append(f"{weekday_of(e)}曜日")
            if "place" in attrs:
                parts.append(f"場所: {e.place}" + (f"（{e.city}）" if e.city else ""))
            if "program" in attrs:
                parts.append(f"プログラム: {e.program}")
            if "participants" in attrs and e.participants is not None:
                parts.append(f"参加者: {e.participants}名（{e.participants_breakdown}）")
            lines.append(" / ".join(parts))
        return RecordResult("answer", "\n".join(lines), rows=list(events), filters=filt)

    def _weekdays(self, events: list[Event], many_kinds: bool, filt: list[str]) -> RecordResult:
        lines = []
        for e in events:
            wd = weekday_of(e)
            if wd:
                lines.append(f"{e.kind}{'（' + e.day + '）' if e.day else ''}は{e.date_as_written}で、{wd}曜日です。")
            else:
                lines.append(f"{e.kind}{'（' + e.day + '）' if e.day else ''}は{e.date_as_written}です（曜日の記載はありません）。")
        return RecordResult("answer", "\n".join(lines), rows=list(events), filters=filt)

    def _days(self, events: list[Event], filt: list[str]) -> RecordResult:
        """「シンポジウムは何日間？」: the sessions of each kind, one per day."""
        lines, computed = [], []
        for kind in dict.fromkeys(e.kind for e in events):
            ks = [e for e in events if e.kind == kind]
            days = "、".join(f"{e.day + ' ' if e.day else ''}{e.date_as_written}" for e in ks)
            lines.append(f"{kind}は{len(ks)}日間の開催です（{days}）。")
            computed.append(count_of(ks, f"{kind}の開催日（1日1行）を数えた結果"))
        return RecordResult("answer", "\n".join(lines), rows=list(events), computed=computed, filters=filt)

    def _count_events(self, events: list[Event], filt: list[str]) -> RecordResult:
        """「令和4年度は何回開催された？」: sessions on consecutive days of one kind are one event."""
        groups: list[list[Event]] = []
        for e in sorted(events, key=lambda e: e.date):
            last = groups[-1][-1] if groups else None
            if last and last.kind == e.kind and _next_day(last.date, e.date):
                groups[-1].append(e)
            else:
                groups.append([e])
        listing = "、".join(f"{g[0].kind}（{g[0].date_as_written}" + (f"～{g[-1].date_as_written}" if len(g) > 1 else "")
                           + "）" for g in groups)
        text = f"資料にある開催は{len(groups)}回です: {listing}。"
        count = count_of(events, "同じ種類で連続する日の開催を1回として、開催を数えた結果",
                         keys=[g[0].event_id for g in groups])
        return RecordResult("answer", text, rows=list(events), computed=[count], filters=filt)

    def _asked_group(self, text: str, events: list[Event]) -> dict[str, tuple[str, int]] | None:
        """The participant group the question names in each session (event id -> (group, count)).

        A noun compound of the question names a group when at least half of its words are words
        of the group's name (自治体 -> 選定自治体, 民間企業 -> 民間事業者; not 未来技術社会実装事業).
        In each session the best group counts when it alone scores best and as well as the best
        of all sessions (選定自治体 is not 都道府県及び市町村). Empty when the question names none;
        None when it names several of one session (「内訳（府省／自治体）」: the whole breakdown).
        """
        compounds = _compounds(text)
        per: dict[str, tuple[int, str, int]] = {}
        for e in events:
            scored = sorted(((_group_score(compounds, g), g, n) for g, n in breakdown(e)), reverse=True)
            named = [x for x in scored if x[0]]
            if len(named) > 1:
                return None
            if named:
                per[e.event_id] = named[0]
        best = max((x[0] for x in per.values()), default=0)
        return {eid: (g, n) for eid, (sc, g, n) in per.items() if sc == best}

    def _participants(self, q: RecordQuery, events: list[Event], group: dict[str, tuple[str, int]], compare: bool,
                      words: set[str], filt: list[str], attrs: set[str]) -> RecordResult | None:
        counted = [e for e in events if e.participants is not None]
        if not counted:
            return None
        lines: list[str] = []
        computed: list[RecordComputation] = []
        if group:
            per = [(e, group[e.event_id]) for e in counted if e.event_id in group]
            if not per:
                return None
            if compare and len(per) == 1:
                e, (gname, n) = per[0]
                groups = breakdown(e)
                top = max(groups, key=lambda x: x[1])
                direction = "少ない" if "少ない" in words else "多い"
                pick = min(groups, key=lambda x: x[1]) if direction == "少ない" else top
                listing = "、".join(f"{g}{c}名" for g, c in groups)
                lines.append(f"{_label(e)}の参加者{e.participants}名の内訳は{listing}で、"
                             f"{direction}のは{pick[0]}（{pick[1]}名）です。")
                if pick[0] != gname:
                    lines.append(f"{gname}（{n}名）のほうが{direction}わけではありません。")
                return RecordResult("answer", "\n".join(lines), rows=[e], filters=filt)
            if len(per) == 1:  # one session: its attributes, then the group's figure
                e, (gname, n) = per[0]
                r = self._sessions(q, [e], attrs, False, filt)
                r.text += f"\nうち{gname}は{n}名です。"
                return r
            listing = "、".join(f"{_label(e)}{n}名" for e, (_, n) in per)
            gname = per[0][1][0]
            lines.append(f"{gname}の参加者は{listing}です。")
            total = sum(n for _, (_, n) in per)
            calc = " + ".join(f"{n}名" for _, (_, n) in per) + f" = {total}名"
            lines.append(f"{'両日' if all(e.day for e, _ in per) else ''}合わせて{calc}です（各回の人数の合計）。")
            computed.append(combined("sum", [n for _, (_, n) in per], [e for e, _ in per],
                                     f"{' + '.join(f'{n}名' for _, (_, n) in per)} の合計（各回の{gname}の人数）"))
            lines.extend(f"（{_label(e)}の参加者: {e.participants}名（{e.participants_breakdown}））" for e, _ in per)
            if "place" in attrs:
                lines.extend(f"{_label(e)}の場所: {e.place}" for e, _ in per)
            return RecordResult("answer", "\n".join(lines), rows=[e for e, _ in per], computed=computed, filters=filt)
        if len(counted) < 2:
            return None
        listing = "、".join(f"{_label(e)}{e.participants}名" for e in counted)
        lines.append(f"参加者は{listing}です（内訳: " + "／".join(
            f"{_label(e)} {e.participants_breakdown}" for e in counted) + "）。")
        if compare:
            direction = "少ない" if "少ない" in words else "多い"
            pick = (min if direction == "少ない" else max)(counted, key=lambda e: e.participants)
            lines.append(f"最も{direction}のは{_label(pick)}（{pick.participants}名）です。")
            computed.append(combined("min" if direction == "少ない" else "max", [e.participants for e in counted],
                                     counted, f"各回の参加者数（{listing}）で最も{direction}人数"))
        else:
            total = sum(e.participants for e in counted)
            calc = " + ".join(f"{e.participants}名" for e in counted) + f" = {total}名"
            lines.append(f"合わせて{calc}です（各回の人数の合計）。")
            computed.append(combined("sum", [e.participants for e in counted], counted,
                                     f"{' + '.join(f'{e.participants}名' for e in counted)} の合計（各回の参加者数）"))
        return RecordResult("answer", "\n".join(lines), rows=counted, computed=computed, filters=filt)

    def _absent_item(self, events: list[Event], elsewhere: list[Event], terms: set[str],
                     filt: list[str]) -> RecordResult:
        named = "・".join(_label(e) for e in events)
        lines = [f"いいえ、{named}のプログラムにはありません（プログラム: "
                 + "／".join(e.program for e in events) + "）。"]
        for e in elsewhere:
            lines.append(f"{_label(e)}のプログラムにあります: " + "、".join(i.text for i in self._matching_items(e, terms)))
        return RecordResult("answer", "\n".join(lines), rows=[*events, *elsewhere], filters=filt)

    def _matching_items(self, e: Event, terms: set[str]) -> list[Item]:
        if not terms:
            return []
        scored = [(len(terms & _item_terms(i.text)), i) for i in program_items(e.program)]
        top = max((s for s, _ in scored), default=0)
        return [i for s, i in scored if s and s == top]

    def _program_items(self, q: RecordQuery, events: list[Event], matches: dict[str, list[Item]],
                       excluded: list[str], words: set[str], filt: list[str]) -> RecordResult:
        """The programme items that mention the question's words, per session; yes/no over a set."""
        lines: list[str] = []
        hit = [e for e in events if matches[e.event_id]]
        for e in hit:
            items = matches[e.event_id]
            text = "、".join(i.text for i in items)
            lines.append(f"{_label(e)}: {text}")
            for x in excluded:
                key = match_key(x)
                for i in items:
                    rest = [p for p in i.parts if key not in match_key(p)]
                    if i.parts and len(rest) < len(i.parts) and rest:
                        lines.append(f"  {i.head}のうち{x}以外は「{'、'.join(rest)}」です。")
        kinds = list(dict.fromkeys(e.kind for e in events))
        if words & BOTH_WORDS or len(kinds) > 1:
            units = kinds if len(kinds) > 1 else [_label(e) for e in events]
            found = {e.kind for e in hit} if len(kinds) > 1 else {_label(e) for e in hit}
            missing = [u for u in units if u not in found]
            if not missing:
                head = f"はい、{'と'.join(units)}の{'両方' if len(units) == 2 else 'すべて'}のプログラムにあります。"
            else:
                head = (f"いいえ、{'・'.join(u for u in units if u in found) or 'いずれ'}のプログラムにはありますが、"
                        f"{'・'.join(missing)}のプログラムにはありません。")
            lines.insert(0, head)
        return RecordResult("answer", "\n".join(lines), rows=hit or list(events), filters=filt)


def _compounds(text: str) -> list[tuple[str, set[str]]]:
    """The question's noun compounds: (surface, words), e.g. ('民間事業者', {民間, 事業, 者})."""
    out: list[tuple[str, set[str]]] = []
    surface, words = "", set()
    for surf, form, pos in [*morphemes(text), ("", "", "")]:
        if pos in ("名詞", "接尾辞", "接頭辞") and form and not form.isdigit():
            surface += surf
            words.add(form)
        elif words:
            out.append((surface, words))
            surface, words = "", set()
    return out


def _group_score(compounds: list[tuple[str, set[str]]], group: str) -> int:
    """How well one of the compounds names ``group``: its text inside the group's name (府省,
    自治体 in 選定自治体), or half its words shared with at least one word of two characters or
    more (民間企業 ~ 民間事業者; 参加者 shares only 者 with 民間事業者)."""
    name = normalize_text(group)
    words = set(content_terms(group))
    score = 0
    for surface, cw in compounds:
        inside = len(surface) >= 2 and surface in name
        shared = cw & words
        if not inside and not (any(len(w) >= 2 for w in shared) and len(shared) * 2 >= len(cw)):
            continue
        score = max(score, len(shared) + inside)
    return score


_INTERROGATIVE = re.compile(r"何|誰|どこ|いつ|どう|どんな|どの|どれ|いくつ|\b(what|who|where|when|which|how)\b", re.IGNORECASE)


def _yes_no(text: str) -> bool:
    """A yes/no question: a predicate (出た, あった) and no question word."""
    return not _INTERROGATIVE.search(text) and any(pos == "動詞" for _, _, pos in morphemes(text))


def _next_day(a: str, b: str) -> bool:
    from datetime import date, timedelta

    try:
        return date.fromisoformat(b) - date.fromisoformat(a) == timedelta(days=1)
    except ValueError:
        return False


def _year_match(e: Event, q: RecordQuery) -> bool:
    """A fiscal year (令和4年度) against the fiscal year of the date; 2023年 also against its calendar year."""
    try:
        y, m = int(e.date[:4]), int(e.date[5:7])
    except ValueError:
        return False
    fy = y if m >= 4 else y - 1
    if year_ok(fy, q.years):
        return True
    return any(not r.text.endswith("年度") and r.bound == "eq" and r.year == y for r in q.years)

