"""Does the records query explain the whole question?

A question like 「支援終了の通知はいつ行われる？」 mentions the end of support (a records filter) but
asks about a notification the records do not hold. Words of the question that are neither
record vocabulary nor query cue words are "unexplained"; such a question goes to the documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from assistant.records import query as cues
from assistant.records.load import RecordSet

#: Generic words of record questions (besides the cue lists in ``query``), as plain text.
GENERIC_WORDS = """
事業 自治体 団体 年度 年 採択 選定 選ぶ 選ばれる 技術 活用 主 主な 使う 使用 利用 導入 数 件 件数 何 幾つ いくつ 幾ら
どこ 何処 どれ どの 一覧 教える 支援 支援中 中 対象 うち 内 合計 全部 全て すべて 挙げる 多い 少ない 最も 一番 名 人
箇所 か所 実施 其の 其れ 居る 有る 為る 成る 付く 市 町 村 県 都 府 道 区 計 全 各 該当 する いる ある なる 持つ
載る 掲載 記載 リスト 表 もの 物 所 どちら 方 場合 とき 時 関係 取り組む 取組 ところ 及び 並びに また 又 それぞれ
ください 下さい 知る 知れる 分かる 解る 見る 聞く 何件 何事業 何団体 国 政府 府省 省庁 予定 最新 現在 時点 点
両方 両 いずれ 都道府県 単独 共同 連名 組み合わせ 組合せ 限る 毎 ごと 額 予算額 金額 人数 参加 参加者 内訳 会場 開催 開催日
一番 最も 誰 今 今も まだ 現在 行う 単独 単体 のみ 共同 連名 最多 初日 新た 新規 新しい 残る 残り 推移 経緯 年度別 内訳 日 目 日目 比較 比較表 高める 目途 目処 technology technologies 部局 所管 担当 省 局 名称 名前 正式 略称 順 順番 ランキング 上位 以上 以下 未満 超 含む 含まれる
で に は が を の と も へ や か な だ です ます でしょう ください
how many much which what who where when is are was were the a an of in on for to do does did use uses used using
project projects municipality municipalities selected selection year years fiscal fy list all and or by with there
has have had their its it that those these them each per total number count tell me please show give name names
held attended people person participants mark marked carry carries first second day days both under
program programme programs ministry ministries budget target targets deadline goal due kpis most
fewest largest biggest prefecture prefectures
"""


def formal_nouns() -> str:
    """The closed class of formal and colloquial nouns (data file), as text."""
    from importlib import resources

    out = []
    for name in ("formal_nouns.txt", "english_function_words.txt"):
        text = resources.files("assistant").joinpath(f"data/{name}").read_text(encoding="utf-8")
        out += [line for line in text.splitlines() if not line.startswith("#")]
    return " ".join(out)


class CoverageChecker:
    """Finds question words that the records query cannot account for."""

    def __init__(self, records: RecordSet, tokenize: Callable[[str], list[str]],
                 morphemes: Callable[[str], list[tuple[str, str, str]]] | None = None) -> None:
        self.tokenize = tokenize
        self.morphemes = morphemes
        from assistant.understand.operators import GROUP_NOUNS, operator_cues

        texts: list[str] = [GENERIC_WORDS, formal_nouns(), *(" ".join(v) for v in operator_cues().values()),
                            *(" ".join(v) for v in GROUP_NOUNS.values())]
        for name in dir(cues):
            value = getattr(cues, name)
            if name.endswith("_CUES") and isinstance(value, tuple):
                texts.extend(value)
        texts += [p.entry for p in records.projects] + [p.prefecture for p in records.projects]
        # The tables are named by their headings (「事業イメージの比較表」「支援満了自治体一覧」).
        texts += sorted({r.locator for attr in ("projects", "programs", "selections", "support_ended")
                         for r in getattr(records, attr)})
        texts += [t for p in records.projects for t in p.technologies]
        texts += [p.program_name for p in records.programs] + [p.ministry for p in records.programs]
        self.explained = self._vocab(texts)
        # Words explained only when the question is about that table.
        self.by_domain: dict[str, set[str]] = {
            "programs": self._vocab([f"{p.bureau} {p.contact} ドメイン アドレス メールアドレス" for p in records.programs]),
            # Words of a program's description only identify it when a field is asked
            # (「MaaS実証の事業の予算は？」), not when the description itself is the question.
            "programs+description": self._vocab([f"{p.bureau} {p.contact} {p.summary} {p.main_support} ドメイン アドレス"
                                                 for p in records.programs]),
            "kpis": self._vocab([f"{k.name} {k.unit} {k.section} {getattr(k, 'baseline_as_written', '')} "
                                 "分類 区分 括り くくり 種類 カテゴリー 計画 現在 今 あと 後 増やす" for k in records.kpis]),
            "events": self._vocab([f"{e.kind} {e.place} {e.city} {e.program} {e.participants_breakdown} {e.day} "
                                   f"{e.date_as_written} 方法 形式 オンライン 曜日 両日 月 日目"
                                   for e in records.events]),
        }

    def _vocab(self, texts: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for t in texts:
            out.update(self._toks(t))
            out.update(w.casefold() for w in t.split())
        return out

    def _toks(self, text: str) -> Iterable[str]:
        return (t for t in self.tokenize(text) if t)

    def _content(self, text: str) -> Iterable[str]:
        """Nouns and adjectival nouns only: verbs, adjectives, pronouns, particles, auxiliaries and
        sentence-final forms (やってる, とこ, ちょうだい) are how people ask, never what they ask about."""
        if self.morphemes is None:
            return self._toks(text)
        return (form for surface, form, pos in self.morphemes(text)
                if form and not re.fullmatch(r"[ぁ-ん]{1,2}", surface)  # okurigana and particle fragments
                and (pos in ("名詞", "形状詞", "接尾辞") or surface.isascii() and surface.strip().isalnum()))

    def unexplained(self, text: str, domain: str | None = None, matched_spans: Iterable[str] = (),
                    also: Iterable[str] = ()) -> list[str]:
        """Content tokens of ``text`` not covered by records vocabulary, cues or matched entities."""
        extra = self.by_domain.get(domain or "", set()) | set(also)
        t = text
        for m in sorted(matched_spans, key=len, reverse=True):
            t = t.replace(m, "、")  # a separator: the matched name can not fuse with its neighbours (県内 → 体内)
        out: list[str] = []
        for tok in self._content(t):
            # Question words with a counter (何件, 何億, なんこ) ask for a value, they name no topic.
            if tok in self.explained or tok in extra or re.fullmatch(r"[0-9.%/]+|[ぁ-ん]|[a-z]|[^\w]+|(何|なん).*", tok):
                continue
            if tok not in out:
                out.append(tok)
        return out
