"""The public QA set (eval/qa.jsonl): schema, and that its answers are grounded in the corpus.

Format: ``/work/shared/qa-format.md`` (mirrored in the README). Every answerable item's
``expected`` strings, and at least one string of each ``any_of`` group, must occur in the corpus
(documents + records CSVs) after the qa-format normalization (NFKC, casefold, no whitespace or
``,``), also allowing era/western year variants (R4 ⇄ 2022). Counts that are computed over the
records (a bare number in an aggregate-style item) need not occur verbatim.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from assistant.normalize import match_key, normalize_era_years

ROOT = Path(__file__).resolve().parents[1]
QA_FILE = ROOT / "eval" / "qa.jsonl"
CORPUS = ROOT / "corpus"
TEXT_SUFFIXES = {".md", ".txt", ".csv", ".html", ".htm"}

REQUIRED = {"id": str, "category": str, "question": str, "expected": list, "answerable": bool}
OPTIONAL = {"history": list, "any_of": list, "forbidden": list, "gold_sources": list, "note": str, "accept": list}
#: Categories whose bare numbers may be computed over the records rather than quoted.
DERIVED_CATEGORIES = {"aggregate", "count", "list", "followup", "paraphrase", "english"}
MIN_ITEMS = 150
MIN_UNANSWERABLE = 15


def load_items(path: Path = QA_FILE) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ITEMS = load_items()


class CorpusText:
    """All text of the corpus, keyed for substring checks in two normalizations."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        joined = "\n".join(texts.values())
        self.key = match_key(joined)
        self.era_key = match_key(normalize_era_years(joined))

    def contains(self, s: str) -> bool:
        return match_key(s) in self.key or match_key(normalize_era_years(s)) in self.era_key


@lru_cache(maxsize=1)
def corpus() -> CorpusText:
    texts = {
        p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(CORPUS.rglob("*"))
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES
    }
    if not any(k.startswith("corpus/documents/") for k in texts):
        pytest.skip("no text documents under corpus/documents")
    return CorpusText(texts)


def _is_str_list(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(s, str) and s.strip() for s in v)


# ------------------------------------------------------------------------------------- schema
def test_file_size_and_ids() -> None:
    assert len(ITEMS) >= MIN_ITEMS
    ids = [it.get("id") for it in ITEMS]
    dupes = [k for k, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    assert sum(1 for it in ITEMS if it.get("answerable") is False) >= MIN_UNANSWERABLE


@pytest.mark.parametrize("item", ITEMS, ids=[str(it.get("id")) for it in ITEMS])
def test_item_schema(item: dict) -> None:
    for key, typ in REQUIRED.items():
        assert isinstance(item.get(key), typ), f"{key} missing or not {typ.__name__}"
    unknown = set(item) - set(REQUIRED) - set(OPTIONAL)
    assert not unknown, f"unknown keys {unknown}"
    for key, typ in OPTIONAL.items():
        if key in item:
            assert isinstance(item[key], typ), f"{key} is not {typ.__name__}"
    assert item["id"].strip() and item["category"].strip() and item["question"].strip()
    assert _is_str_list(item["expected"])
    assert _is_str_list(item.get("history", []))
    assert _is_str_list(item.get("forbidden", []))
    groups = item.get("any_of", [])
    assert all(_is_str_list(g) and g for g in groups), "any_of must be non-empty groups of strings"
    if item["answerable"]:
        assert item["expected"] or groups, "an answerable item needs expected or any_of"
    else:
        assert not item["expected"] and not groups, "an unanswerable item expects nothing"
    if item["category"] == "followup":
        assert item.get("history"), "a follow-up needs history"
    # A forbidden string must not be required (else the item can never pass).
    required = {match_key(s) for s in item["expected"]}
    for bad in item.get("forbidden", []):
        assert not any(match_key(bad) in r for r in required), f"forbidden {bad!r} is expected"
    for gs in item.get("gold_sources", []):
        assert isinstance(gs, dict) and set(gs) == {"source", "contains"}
        assert gs["source"].startswith("corpus/") and gs["contains"].strip()


def test_categories_cover_the_brief() -> None:
    cats = Counter(it["category"] for it in ITEMS)
    for cat in ("count", "aggregate", "lookup", "list", "kpi", "program", "process", "event",
                "followup", "paraphrase", "english", "unanswerable", "survey"):
        assert cats[cat] >= 5, f"too few {cat} items: {cats[cat]}"


# ------------------------------------------------------------------------------ grounding
ANSWERABLE = [it for it in ITEMS if it.get("answerable", True)]


def _derived(item: dict, s: str) -> bool:
    """A computed figure: a bare number in a derived category, or — when the item's ``note`` says
    how it was worked out — a number with its unit or a fiscal year-end (R7年度末)."""
    if item["category"] in DERIVED_CATEGORIES and re.fullmatch(r"[0-9]+", s.strip()):
        return True
    return bool(item.get("note")) and re.fullmatch(
        r"(R|H|令和|平成)?[0-9.]+(件|事業|億円|年度末|年3月)?", s.strip()) is not None


@pytest.mark.parametrize("item", ANSWERABLE, ids=[it["id"] for it in ANSWERABLE])
def test_expected_strings_occur_in_corpus(item: dict) -> None:
    c = corpus()
    missing = [s for s in item["expected"] if not _derived(item, s) and not c.contains(s)]
    assert not missing, f"expected strings not in corpus: {missing}"
    for group in item.get("any_of", []):
        assert any(_derived(item, s) or c.contains(s) for s in group), f"no string of {group} in corpus"


WITH_GOLD = [it for it in ITEMS if it.get("gold_sources")]


@pytest.mark.parametrize("item", WITH_GOLD, ids=[it["id"] for it in WITH_GOLD])
def test_gold_sources_exist_and_contain(item: dict) -> None:
    for gs in item["gold_sources"]:
        path = ROOT / gs["source"]
        assert path.is_file(), f"gold source missing: {gs['source']}"
        text = path.read_text(encoding="utf-8")
        assert match_key(gs["contains"]) in match_key(text), f"{gs['contains']!r} not in {gs['source']}"


def test_retrieval_categories_have_gold_sources() -> None:
    retrieval = {"process", "kpi", "event", "program", "survey", "paraphrase"}
    lacking = [it["id"] for it in ANSWERABLE if it["category"] in retrieval and not it.get("gold_sources")]
    assert not lacking, f"retrieval items without gold_sources: {lacking}"


def test_corpus_check_is_not_vacuous() -> None:
    """The grounding check rejects strings absent from the corpus and accepts era variants."""
    c = corpus()
    assert not c.contains("札幌市")
    assert not c.contains("平成25年度")  # 2013: no such year in the corpus
    assert c.contains("令和4年度") and c.contains("2022年度") and c.contains("R4")
    assert c.contains("１，０００団体")  # full-width and thousands separator
