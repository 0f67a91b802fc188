"""Sudachi tokens for BM25: content words, normalized forms, era years and synonyms unified."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from assistant.tokenize import get_tokenizer, tokenize, tokenize_many


def test_particles_auxiliaries_and_symbols_are_dropped():
    toks = tokenize("令和4年度に選定された事業は、いくつですか？")
    assert "に" not in toks and "は" not in toks and "た" not in toks
    assert "、" not in toks and "?" not in toks and "？" not in toks
    assert {"選定", "事業"} <= set(toks)


def test_era_years_width_case_and_synonyms_are_unified():
    assert tokenize("R4年度") == tokenize("令和4年度") == tokenize("２０２２年度") == tokenize("2022年度")
    assert tokenize("ＡＩ") == tokenize("ai") == ["ai"]
    assert tokenize("メルマガの配信") == tokenize("メールマガジンの配信")
    assert tokenize("開催しました") == tokenize("開催する")  # normalized forms, auxiliaries dropped


def test_long_and_empty_texts():
    assert tokenize("") == [] and tokenize(" \n ") == []
    long = "未来技術の社会実装を進める。" * 5000  # beyond Sudachi's single-input limit
    assert tokenize(long).count("未来") == 5000


def test_one_tokenizer_is_safe_across_threads():
    texts = [f"自動運転バスの実証を{i}回実施した。" for i in range(200)]
    expected = tokenize_many(texts)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(tokenize, texts))
    assert got == expected
    assert get_tokenizer() is get_tokenizer()
