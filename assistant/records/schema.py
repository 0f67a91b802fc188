"""Record schema: one pydantic model per CSV table in ``corpus/records``.

List-valued columns are ``;``-separated in the CSV. Every row carries ``source`` (document path
relative to the repository root), ``locator`` (heading path / table) and ``quote`` (an exact
substring of the source after NFKC that shows the row's facts), so every answer built from a
record can cite it verifiably.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

#: Controlled vocabulary of technologies (as written in the project table, split on 、 and ・).
TECHNOLOGIES: tuple[str, ...] = (
    "AI", "IoT", "5G", "自動運転", "ロボット", "ドローン", "クラウドコンピューティング",
    "キャッシュレス", "ブロックチェーン", "ビッグデータ", "VR/AR",
)


def split_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(";") if v.strip()]


class RecordBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    locator: str
    quote: str


class Project(RecordBase):
    """A project supported in R4 (the 45-row table)."""

    no: int
    prefecture: str
    entry: str  # as written, e.g. 北海道、岩見沢市、更別村 / 岩手県陸前高田市(※)
    municipalities: list[str]  # each municipality, without prefecture; empty for a prefecture alone
    prefecture_is_applicant: bool  # the prefecture itself applied (alone or jointly)
    technologies: list[str]  # from TECHNOLOGIES
    technologies_as_written: str
    selection_year: str  # as written: H30, R1, ...
    selection_fy: int  # western fiscal year: 2018, 2019, ...
    mlit_autonomous_support: bool  # the (※) flag
    support_ends_r4: bool  # H30-selected: support ends at the end of R4 (FY2022)

    _split = field_validator("municipalities", "technologies", mode="before")(split_list)


class Program(RecordBase):
    """One column of the programs comparison table."""

    program_id: str
    ministry: str  # 内閣府, 総務省, 国土交通省, 経済産業省
    bureau: str  # 地方創生推進事務局, 情報流通行政局, ...
    program_name: str
    summary: str
    budget_r5: str  # as written: 0.3億円の内数 (…), 4.0億円, 数億円
    budget_r5_oku_yen: float | None  # number in 億円 where the text gives one
    selections_as_written: str
    main_support: str
    contact: str  # department as written
    contact_email: str


class ProgramSelection(RecordBase):
    """Selection count of one program in one fiscal year (long form of programs.csv)."""

    program_id: str
    fiscal_year_label: str  # H29, R1, ...
    fiscal_year: int
    count: int


class Kpi(RecordBase):
    """One KPI target (a KPI with two targets has two rows)."""

    kpi_id: str
    name: str
    target_as_written: str
    value: float | None
    unit: str
    deadline_as_written: str
    deadline_fy: int | None  # the fiscal (or calendar) year the target is due
    period_start_fy: int | None  # for cumulative periods such as 2022～2026年度累計
    section: str
    baseline_as_written: str = ""  # the current level the document states (現在2万人強), optional
    baseline_value: float | None = None  # its number in the target's unit (2 for 2万人強), optional


class SupportEnded(RecordBase):
    """An H30-selected project whose support ends (支援満了自治体一覧)."""

    no: int
    entry: str
    prefecture: str
    municipalities: list[str]
    technologies: list[str]
    technologies_as_written: str
    project_no: int  # the matching No in projects.csv

    _split = field_validator("municipalities", "technologies", mode="before")(split_list)


class Event(RecordBase):
    """A symposium / mini-symposium session (one row per day)."""

    event_id: str
    kind: str  # シンポジウム | ミニシンポジウム
    date_as_written: str
    date: str  # ISO yyyy-mm-dd
    day: str  # 1日目 / 2日目 / empty
    place: str
    city: str = ""  # the municipality where it was held, when the document says (四條畷市)
    program: str
    participants: int | None
    participants_breakdown: str
    weekday: str = ""  # the weekday written in date_as_written (木 for 令和4年10月27日（木）), optional


class ProgramFact(RecordBase):
    """A figure the text states about a program and answers compute with (最長5年, 8事業は支援終了)."""

    fact_id: str  # support-years-max | ended-before-r4 | supported-r4 | selected-total
    program_id: str
    label: str  # what the figure is, in our words (支援期間の最長); not a quote
    value: float | None = None  # None for a fact that is a name, not a figure (who is invited to apply)
    unit: str  # 年 | 事業 | the name itself (地方公共団体)
