"""Parse a question into a structured query over the records (no list of known questions).

Entities come from the records' own vocabularies (municipalities, prefectures, technologies,
programs, ministries, KPI names) and fiscal years in any spelling; the intent (count, list,
lookup, compare, total) and the table (projects, programs, KPIs, events) come from cue words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.normalize import find_years, normalize_text
from assistant.records.vocab import Term
from assistant.understand import operators as ops

COUNT_CUES = ("いくつ", "何件", "何事業", "何団体", "何自治体", "何か所", "何個", "件数", "数は", "数を",
              "の数", "選定数", "採択数", "how many", "number of", "count")
LIST_CUES = ("どこ", "どれ", "一覧", "列挙", "挙げ", "教えて", "which", "list", "what are", "名前",
             "どの自治体", "どの事業", "どんな")
TOTAL_CUES = ("合計", "合わせて", "累計", "総数", "全部で", "total", "in all", "altogether")
COMPARE_CUES = ("多い", "多く", "少ない", "少な", "比較", "比べ", "どちら", "more", "fewer", "compare")
EXCLUDE_CUES = ("以外", "使わない", "使っていない", "使用しない", "除く", "含まない", "not use", "without")
ANY_CUES = ("または", "もしくは", "いずれか", "どちらか", " or ")

PROJECT_CUES = ("事業", "自治体", "団体", "採択", "選定", "選ば", "活用技術", "技術", "project",
                "municipal", "selected", "支援中", "支援対象")
YEAR_ATTR_CUES = ("採択年度", "選定年度", "何年度", "いつ", "年度は", "採択年", "which year", "when", "fiscal year",
                  "what year")
TECH_ATTR_CUES = ("活用技術", "技術", "何を使", "technolog", "使って")
FLAG_CUES = ("※", "道路局", "自動運転サービス導入支援", "road bureau")
ENDED_CUES = ("支援終了", "支援が終", "支援満了", "満了", "終わる", "終了する", "終了した", "support end", "ends")
ONGOING_CUES = ("支援中", "支援を受けて", "支援されて", "支援を実施中", "支援を実施している", "currently supported",
                "supported in")
BUDGET_CUES = ("予算", "budget", "億円")
CONTACT_CUES = ("問合せ", "問い合わせ", "連絡先", "メールアドレス", "contact", "email", "窓口", "担当課", "担当部署",
                "担当部局", "担当")
SUPPORT_CUES = ("主な支援", "支援内容", "何を支援")
SUMMARY_CUES = ("概要", "目的", "どんな事業", "とは")
KPI_CUES = ("kpi", "目標", "目指す", "期限", "target", "goal")
SELECTION_CUES = ("選定数", "採択数", "選定され", "採択され", "選ばれ", "selected", "selections")
EVENT_CUES = ("シンポジウム", "symposium", "ミニシンポ")
PARTICIPANT_CUES = ("参加者", "参加人数", "何人", "participants", "attended", "people")
PLACE_CUES = ("場所", "どこで", "会場", "where", "開催地", "開催方法", "開催形式", "オンライン", "online")
DATE_CUES = ("日時", "いつ", "開催日", "日程", "when", "date")
PROGRAM_CUES = ("プログラム", "内容", "programme", "program of", "紹介", "講演", "事例", "座談会", "見学")
SUPERLATIVE_CUES = ("最も多", "一番多", "最多", "最も少な", "一番少な", "一番大き", "最も大き", "最大", "最も高",
                    "most", "fewest", "largest", "biggest")
ALONE_CUES = ("単独", "単体", "のみで", "県のみ", "alone")
JOINT_CUES = ("共同", "連名", "合同", "jointly")
FLAG_NEGATION = re.compile(r"(※|道路局|road bureau)[^。?]{0,12}?(ない|無い|なし|無し|以外|除く|not|without)")
YEAR_SUPPORTED_AFTER = re.compile(r"^\s*(に|において|で)?\s*(支援中|支援を実施|支援を受け|支援され|支援して|支援が行われ|supported)")
FOLLOWUP_CUES = ("そのうち", "その中", "うち", "それ", "その", "では", "方は", "じゃあ", "なら", "限ると",
                 "what about", "and in", "of those", "among them", "those")


#: 「No.33」「No 5」「number 12」: a row of the project table by its number.
NUMBER_REF = re.compile(r"(?i)(?<![a-z])(?:no|number|番号)\.?\s*([0-9]{1,3})(?![0-9])")


def has(text: str, cues: tuple[str, ...]) -> bool:
    low = text.casefold()
    return any(c.casefold() in low for c in cues)


@dataclass
class YearRef:
    year: int
    text: str
    start: int
    bound: str = "eq"  # eq | until (まで/以前) | since (以降/から)
    supported: bool = False  # "R4年度に支援中": the year of support, not of selection
    until: int | None = None  # upper end when bound == "range"


@dataclass
class RecordQuery:
    """What the question asks of the records. Empty lists mean "no filter"."""

    text: str  # normalized question
    intent: str | None = None  # count | list | lookup | total | compare
    domain: str | None = None  # projects | programs | kpis | events
    years: list[YearRef] = field(default_factory=list)
    prefectures: list[str] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
    unknown_places: list[str] = field(default_factory=list)
    technologies: list[str] = field(default_factory=list)
    excluded_technologies: list[str] = field(default_factory=list)
    any_technology: bool = False
    programs: list[str] = field(default_factory=list)  # program ids
    mlit_flag: bool | None = None
    support_ends: bool | None = None
    attributes: set[str] = field(default_factory=set)  # year, technologies, budget, contact, ...
    kpi_ids: list[str] = field(default_factory=list)
    event_kind: str | None = None  # シンポジウム | ミニシンポジウム
    applicant: str | None = None  # prefecture_only (県単独) | joint (共同)
    followup: bool = False
    surfaces: list[str] = field(default_factory=list)  # the question's text of each matched entity
    regions: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (label, prefectures)
    ambiguous: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (surface, candidates)
    notes: list[str] = field(default_factory=list)  # how the question was read (typos, conventions)
    # Operators of the algebra (assistant/understand/operators.py).
    order: str | None = None  # max | min | earliest | latest | first_of_two
    ordinal: int | None = None  # 「2番目に多い」
    group: str | None = None  # region | prefecture | year | technology
    having: int | None = None  # groups with exactly this many rows
    set_all: bool = False  # 「全部〜？」: a yes/no over the filtered set
    same: bool = False  # 「同じ技術？」「かぶってる技術」「バラバラ？」
    other: bool = False  # 「ほかにある？」
    reverse: bool = False  # 「逆に〜は？」 (follow-up: the complement or the opposite order)
    municipality_kind: str | None = None  # 市 | 町 | 村
    op_sum: bool = False
    op_diff: bool = False
    positions: dict[str, int] = field(default_factory=dict)  # where each technology / the flag is named
    spellings: list[tuple[str, str]] = field(default_factory=list)  # (as typed, canonical) of names read by reading
    lang: str = "ja"  # en: an English question, answered in English (quotes stay Japanese)
    numbers: list[int] = field(default_factory=list)  # 「No.33」: rows of the project table by number
    excluded_municipalities: list[str] = field(default_factory=list)
    carried: set[str] = field(default_factory=set)  # slots a follow-up took from the earlier turn  # 「もう1つは？」: not the one before

    @property
    def has_project_filters(self) -> bool:
        return bool(self.prefectures or self.municipalities or self.technologies or self.applicant
                    or self.regions or self.numbers
                    or self.excluded_technologies or self.mlit_flag is not None
                    or self.support_ends is not None or self.unknown_places)


_RANGE_SEP = re.compile(r"^\s*(~|-|から|to|–|→|⇒|->|〜)\s*$")


def _year_refs(text: str) -> list[YearRef]:
    refs: list[YearRef] = []
    years = find_years(text)
    for i, y in enumerate(years):
        # "R1~R4年度" / "2019年度から2022年度": a range, not two single years.
        if i + 1 < len(years) and _RANGE_SEP.match(text[y.end:years[i + 1].start]):
            refs.append(YearRef(y.year, y.text, y.start, "since"))
            continue
        if refs and refs[-1].bound == "since" and i > 0 and _RANGE_SEP.match(text[years[i - 1].end:y.start]):
            refs[-1] = YearRef(refs[-1].year, refs[-1].text, refs[-1].start, "range", until=y.year)
            continue
        tail = text[y.end:y.end + 4]
        bound = "eq"
        if re.match(r"\s*(まで|以前|までに)", tail) or re.search(r"\b(by|until|before)\s*$", text[max(0, y.start - 8):y.start]):
            bound = "until"
        elif re.match(r"\s*(以降|から)", tail):
            bound = "since"
        supported = bool(YEAR_SUPPORTED_AFTER.match(text[y.end:y.end + 12]))
        refs.append(YearRef(y.year, y.text, y.start, bound, supported))
    return refs


def parse_question(question: str, terms_of, programs_of, kpis_of, region_of=None) -> RecordQuery:
    """Build a :class:`RecordQuery`.

    ``terms_of(text) -> list[Term]`` finds places and technologies, ``programs_of(text)`` returns
    matching program ids, ``kpis_of(text)`` matching KPI ids (all from the records' vocabularies).
    """
    raw = normalize_text(question)
    # Years are found on the NFKC text with era spellings intact, then matched as western years.
    q = RecordQuery(text=raw)
    q.years = []
    for r in _year_refs(raw):  # 「FY2021 (R3)」: one year written twice
        if not any((o.year, o.bound, o.until) == (r.year, r.bound, r.until) for o in q.years):
            q.years.append(r)
    terms: list[Term] = terms_of(raw)
    low = raw.casefold()
    excl_pos = min((low.find(c.casefold()) for c in EXCLUDE_CUES if c.casefold() in low), default=-1)
    q.surfaces = [raw[t.start:t.end] for t in terms]
    for t in terms:
        surface = raw[t.start:t.end]
        if t.how == "near" and surface != t.value:
            q.notes.append(f"「{surface}」は{t.value}のことと解釈しました。")
        if t.how in ("reading", "romaji", "near") and t.kind in ("municipality", "prefecture") and surface != t.value:
            q.spellings.append((surface, t.value))
        if t.kind == "region" and region_of is not None:
            label, prefs = region_of(t.value)
            if (label, prefs) not in q.regions:
                q.regions.append((label, prefs))
        elif t.kind == "ambiguous":
            q.ambiguous.append((surface, t.alternatives))
        elif t.kind == "prefecture" and t.value not in q.prefectures:
            q.prefectures.append(t.value)
        elif t.kind == "municipality" and t.value not in q.municipalities:
            q.municipalities.append(t.value)
        elif t.kind == "place" and t.value not in q.unknown_places:
            q.unknown_places.append(t.value)
        elif t.kind == "technology":
            q.positions.setdefault(t.value, t.start)
            # 「自動運転以外」「AIを使っていない」「not AI」: negated before the next entity.
            nxt = min((o.start for o in terms if o.start >= t.end), default=len(raw))
            if (excl_pos >= 0 and t.end <= excl_pos and excl_pos - t.end <= 6) or ops.negated(raw, t.start, t.end, nxt):
                if t.value not in q.excluded_technologies:
                    q.excluded_technologies.append(t.value)
            elif t.value not in q.technologies:
                q.technologies.append(t.value)
    q.any_technology = has(raw, ANY_CUES)
    _coordinated_technologies(q, raw, [t for t in terms if t.kind == "technology"])
    q.programs = programs_of(raw)
    # A KPI must be named by more than a technology or place (「自動運転を使うのは？」 is not a KPI).
    unnamed = raw
    for surface in sorted(q.surfaces, key=len, reverse=True):
        unnamed = unnamed.replace(surface, " ")
    q.kpi_ids = kpis_of(unnamed)
    if has(raw, FLAG_CUES):
        q.mlit_flag = not FLAG_NEGATION.search(raw)
        q.positions["flag"] = min(raw.casefold().find(c.casefold()) for c in FLAG_CUES if c.casefold() in raw.casefold())
    if has(raw, ENDED_CUES):
        q.support_ends = True
    elif has(raw, ONGOING_CUES) and has(raw, ("終了しない", "継続中", "続く")):
        q.support_ends = False

    # Attributes asked for.
    for name, cues in (("year", YEAR_ATTR_CUES), ("technologies", TECH_ATTR_CUES),
                       ("budget", BUDGET_CUES), ("contact", CONTACT_CUES), ("support", SUPPORT_CUES),
                       ("summary", SUMMARY_CUES), ("selections", SELECTION_CUES),
                       ("flag", FLAG_CUES)):
        if has(raw, cues):
            q.attributes.add(name)
    if has(raw, PARTICIPANT_CUES):
        q.attributes.add("participants")
    if has(raw, PLACE_CUES):
        q.attributes.add("place")
    if has(raw, DATE_CUES):
        q.attributes.add("date")
    if has(raw, PROGRAM_CUES):
        q.attributes.add("program")
    if has(raw, SUPERLATIVE_CUES):
        q.attributes.add("superlative")

    if has(raw, ALONE_CUES):
        q.applicant = "prefecture_only" if has(raw, ("都道府県", "県", "府", "prefecture")) else None
    elif has(raw, JOINT_CUES):
        q.applicant = "joint"
    if has(raw, ("ミニシンポ", "mini-symposium", "mini symposium")):
        q.event_kind = "ミニシンポジウム"
    elif has(raw, EVENT_CUES):
        q.event_kind = "シンポジウム"

    # Intent.
    if "superlative" in q.attributes or has(raw, COMPARE_CUES) and (
            len(q.years) > 1 or len(q.programs) > 1 or len(q.prefectures) > 1 or len(q.technologies) > 1
            or len(q.regions) > 1):
        q.intent = "compare"
    elif has(raw, TOTAL_CUES):
        q.intent = "total"
    elif has(raw, COUNT_CUES):
        q.intent = "count"
    elif has(raw, LIST_CUES):
        q.intent = "list"
    if q.intent in (None, "list") and (q.municipalities or q.unknown_places) and (
            q.attributes & {"year", "technologies", "flag"}):
        q.intent = "lookup"

    # Domain.
    if has(raw, EVENT_CUES):
        q.domain = "events"
    elif has(raw, KPI_CUES) or (q.kpi_ids and not has(raw, PROJECT_CUES) and not q.programs):
        q.domain = "kpis"
    elif q.has_project_filters:
        q.domain = "projects"
    elif q.programs or (q.attributes & {"budget", "contact", "support", "summary"}):
        q.domain = "programs"
    elif has(raw, PROJECT_CUES):
        q.domain = "projects"
    q.followup = has(raw, FOLLOWUP_CUES) and len(raw) <= 30
    _operators(q, raw)
    return q


def _coordinated_technologies(q: RecordQuery, raw: str, techs: list[Term]) -> None:
    """「AもBも使っていない」: a negation after the last of a も-list covers every member;
    「AかBを使う」「A or B」: either one."""
    for a, b in zip(techs, techs[1:], strict=False):
        sep = raw[a.end:b.start].strip().casefold()
        if sep in ("か", "or", "または", "もしくは", "あるいは"):
            q.any_technology = True
        if sep == "も" and b.value in q.excluded_technologies and a.value not in q.excluded_technologies:
            q.excluded_technologies.append(a.value)
            if a.value in q.technologies:
                q.technologies.remove(a.value)


def _operators(q: RecordQuery, raw: str) -> None:
    letters = [c for c in raw if not c.isspace()]
    if letters and sum(c.isascii() and c.isalpha() for c in letters) > 0.6 * len(letters):
        q.lang = "en"
    for name in ("max", "min", "earliest", "latest", "first_of_two"):
        if ops.has_op(raw, name):
            q.order = name
            break
    if q.order is None:
        q.order = ops.split_superlative(raw)
    q.ordinal = ops.ordinal(raw)
    if q.order is None and q.ordinal:  # 「2番目に多いのは」: the direction from the adjective alone
        q.order = ops.direction(raw)
    q.group = ops.group_by(raw)
    q.having = ops.having_count(raw)
    if q.having is not None and q.group is None:  # 「事業が2件だけの県」: the noun after it
        q.group = ops.group_after(raw)
    if q.group is None:
        q.having = None
    # English "both X and Y" joins two filters; "are both …?" asks about the set.
    both_and = re.search(r"\bboth\b.{1,40}?\band\b", raw.casefold())
    q.set_all = ops.has_op(raw.replace("全部で", "").replace("全てで", ""), "all") and not (both_and and not ops.has_op(raw.casefold().replace("both", ""), "all")) \
        and bool(re.search(r"[?？]|ますか|ですか|る$|よね|だっけ|\bare\b|\bdo\b", raw))
    q.same = ops.has_op(raw, "same")
    q.other = ops.has_op(raw, "other")
    # 「逆に一番少ないのは」: an explicit direction wins; 逆に alone reverses the previous turn.
    q.reverse = ops.has_op(raw, "reverse") and q.order is None
    masked = raw
    for surface in sorted(q.surfaces, key=len, reverse=True):  # 「あきた県の事業」: 県 of a name
        masked = masked.replace(surface, "、")
    q.municipality_kind = ops.municipality_kind(masked)
    q.op_sum = ops.has_op(raw, "sum")
    q.op_diff = ops.has_op(raw, "difference")
    q.numbers = [int(n) for n in NUMBER_REF.findall(raw)]
    if q.numbers and q.intent in (None, "list"):
        q.intent = "lookup"
    if q.order or q.group or q.same or q.municipality_kind:
        q.domain = q.domain or "projects"
