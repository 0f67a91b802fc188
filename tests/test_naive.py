"""The naive baseline: dense top-k on a Chroma collection, first sentence, one exact citation."""

from __future__ import annotations

from pathlib import Path

import chromadb
import pytest
from langchain_chroma import Chroma

from assistant.answer import ABSTAIN_PHRASE
from assistant.answer.naive import NaiveAssistant, first_sentence, longest_common_substring
from assistant.config import Settings
from assistant.evaluate.metrics import check_citation
from assistant.source_files import SourceTexts
from tests.fakes import FakeEmbeddings

DOC_A = "# 支援\n\n選定から5年で社会実装を目指す。複数年にわたる伴走型支援を行う。\n"
DOC_B = "# メルマガ\n\nメールマガジンを毎月配信しています。登録は無料です。\n"


def test_first_sentence_skips_markup():
    assert first_sentence("## 概要\n- **AI**を活用する。次の文。") == "概要"
    assert first_sentence("\n\n- 選定から5年で実装。残り") == "選定から5年で実装。"
    assert first_sentence("Hello world! Second.") == "Hello world!"


def test_longest_common_substring():
    assert longest_common_substring("選定から5年で", "…選定から5年で社会実装") == "選定から5年で"
    assert longest_common_substring("【支援】選定から5年", "…選定から5年で") == "選定から5年"
    assert longest_common_substring("xyz", "abc") == ""


@pytest.fixture()
def naive(tmp_path: Path) -> NaiveAssistant:
    docs = tmp_path / "corpus/documents"
    docs.mkdir(parents=True)
    (docs / "a.md").write_text(DOC_A, encoding="utf-8")
    (docs / "b.md").write_text(DOC_B, encoding="utf-8")
    settings = Settings(root=tmp_path, top_k=2, collection="test")
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    emb = FakeEmbeddings()
    Chroma(client=client, collection_name="test", embedding_function=emb).add_texts(
        # The chunk text carries a breadcrumb that is not in the file: the quote must shrink.
        ["【支援】選定から5年で社会実装を目指す。複数年にわたる伴走型支援を行う。",
         "メールマガジンを毎月配信しています。登録は無料です。"],
        metadatas=[{"source": "corpus/documents/a.md", "locator": "支援"},
                   {"source": "corpus/documents/b.md", "locator": "メルマガ"}])
    return NaiveAssistant(settings, embedder=emb, client=client)


def test_naive_answers_with_first_sentence_and_valid_citation(naive):
    ans = naive.ask("メールマガジンを毎月配信していますか")
    assert ans.route == "naive" and not ans.abstained
    assert ans.text == "メールマガジンを毎月配信しています。"
    (c,) = ans.citations
    assert (c.source, c.locator) == ("corpus/documents/b.md", "メルマガ")
    assert c.quote == ans.text
    assert [h.chunk.source for h in ans.evidence][0] == "corpus/documents/b.md"
    assert len(ans.evidence) == 2


def test_naive_quote_is_longest_exact_substring(naive, tmp_path):
    ans = naive.ask("選定から5年で社会実装を目指す")
    assert ans.text.startswith("【支援】")
    (c,) = ans.citations
    assert c.quote == "選定から5年で社会実装を目指す。"
    assert check_citation(c.source, c.quote, SourceTexts(tmp_path))[0]


def test_naive_abstains_only_without_hits(tmp_path):
    settings = Settings(root=tmp_path, collection="empty")
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    client.create_collection("empty")
    ans = NaiveAssistant(settings, embedder=FakeEmbeddings(), client=client).ask("何か")
    assert ans.abstained and ans.text == ABSTAIN_PHRASE and ans.citations == []


def test_chunk_body_drops_only_the_breadcrumb():
    from assistant.answer.naive import chunk_body

    assert chunk_body("概要 > 表\n本文です。", "概要|表") == "本文です。"
    assert chunk_body("概要\n本文です。", "概要") == "本文です。"
    assert chunk_body("別の行\n本文です。", "概要") == "別の行\n本文です。"
    assert chunk_body("本文だけ", "") == "本文だけ"
