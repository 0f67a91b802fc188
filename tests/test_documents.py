"""Document answerer on a made-up event report: mapped words, list answers, relevance, abstentions.

The report, its places and its words are invented for these tests (not the seed deck), so the
behaviour is checked on spellings the answerer was not developed on.
"""

import numpy as np
import pytest

from assistant.answer import ABSTAIN_PHRASE
from assistant.answer.documents import DocumentAnswerer
from assistant.answer.extractive import Extractor
from assistant.answer.term_map import TermMap
from assistant.normalize import nfkc
from assistant.tokenize import content_terms, morphemes
from assistant.types import Chunk, Hit

SOURCE = "report.md"
SECTIONS = {
    "防災フェアの開催": "日時：令和6年9月7日（土）\n\n場所：みなと防災センター\n\n参加者：**58名**（住民41名、事業者17名）",
    "【来場者の声】": ("Q：体験コーナーについてはいかがでしたか。\n\n■ 満足 ■ 不満\n\n"
                   "- ・煙体験で避難の大切さが実感できた。\n- ・子どもと一緒に参加できてよかった。\n\n"
                   "Q：講演についてはいかがでしたか。\n\n"
                   "- ・専門家の話がわかりやすかった。\n- ・もっと時間がほしかった。"),
    "問合せ先": "防災推進課 bousai@example.jp",
    "目標": ("- 防災アプリの登録者数：**3万人**（2026年度まで）\n"
           "- 避難訓練の参加率：**60%**（2028年度）"),
}
TEXT = "\n\n".join(f"## {h}\n\n{b}" for h, b in SECTIONS.items())
CHUNKS = [Chunk(id=h, doc_id="d", source=SOURCE, text=f"{h}\n{b}", locator=h, meta={"body": b, "kind": "document"})
          for h, b in SECTIONS.items()]


def search(text: str) -> list[Hit]:
    q = set(content_terms(text))
    ranked = sorted(CHUNKS, key=lambda c: -len(q & set(content_terms(c.text))))
    return [Hit(c, 1.0 / (i + 1)) for i, c in enumerate(ranked)]


@pytest.fixture(scope="module")
def answerer():
    df: dict[str, int] = {}
    for c in CHUNKS:
        for t in set(content_terms(c.text)):
            df[t] = df.get(t, 0) + 1
    ex = Extractor(content_terms, lambda t: df.get(t, 0), len(CHUNKS), 0.35, morphemes=morphemes)
    tm = TermMap.from_texts([c.text for c in CHUNKS], content_terms)
    return DocumentAnswerer(search, ex, lambda s: TEXT, lambda s: "防災フェア報告", 0.35, term_map=tm)


def ask(answerer, question):
    return answerer.answer(question, question)


def assert_cited(ans):
    assert ans.citations
    assert all(nfkc(c.quote) in nfkc(TEXT) for c in ans.citations)


def test_an_opinion_word_the_report_lacks_maps_to_its_voices_and_lists_them(answerer):
    ans = ask(answerer, "体験コーナーの感想ってどんなの？")
    assert not ans.abstained, ans.text
    assert "煙体験" in ans.text and "子どもと一緒" in ans.text and "専門家" not in ans.text
    assert "感想→声" in ans.meta["mapped"]
    assert_cited(ans)


def test_reputation_of_the_other_session(answerer):
    ans = ask(answerer, "講演の評判は？")
    assert not ans.abstained and "専門家の話" in ans.text and "煙体験" not in ans.text


def test_a_contact_word_maps_to_the_contact_section(answerer):
    ans = ask(answerer, "防災フェアの窓口は？")
    assert not ans.abstained and "bousai@example.jp" in ans.text


def test_weekday_is_answered_from_the_date(answerer):
    ans = ask(answerer, "防災フェアって何曜日だった？")
    assert not ans.abstained and "（土）" in ans.text


def test_colloquial_endings_and_fillers_do_not_block(answerer):
    ans = ask(answerer, "えーと、防災フェアの参加者って全部で何人だったっけみたいな")
    assert not ans.abstained and "58名" in ans.text


def test_a_year_the_passage_does_not_have_is_not_answered(answerer):
    ans = ask(answerer, "避難訓練の参加率って2030年度だと何%？")
    assert ans.abstained and ans.text.startswith(ABSTAIN_PHRASE)
    assert "2030年度" in ans.text and "60%" in ans.text  # says what is missing and what is there
    assert "資料にない語" not in ans.text
    assert ans.reason == "year" and ans.evidence and {"missing"} <= set(ans.meta)
    assert_cited(ans)


def test_a_confirmation_is_corrected_not_refused(answerer):
    ans = ask(answerer, "避難訓練の参加率って2030年度で60%だよね？")
    assert not ans.abstained and "2028年度" in ans.text


def test_a_deadline_the_report_does_not_give(answerer):
    ans = ask(answerer, "防災アプリの登録っていつから始まった？")
    assert ans.abstained and "開始時期は記載されていません" in ans.text


def test_a_place_question_needs_a_place(answerer):
    ans = ask(answerer, "防災アプリの登録者数はどこで数えてる？")
    assert ans.abstained and "場所" in ans.text


def test_an_unknown_word_that_is_asked_about(answerer):
    ans = ask(answerer, "防災フェアの駐車場は？")
    assert ans.abstained and ans.text.startswith(ABSTAIN_PHRASE)
    assert "「駐車場」" in ans.text and "記載が見当たりません" in ans.text
    assert ans.reason == "missing_terms" and ans.meta["missing"] == ["駐車"]  # Sudachi: 駐車 + 場


def test_records_abstention_keeps_its_filters(answerer):
    ans = answerer.abstain("品川区の事業は？", "品川区の事業は？", reason="records", filters=["自治体: 品川区"])
    assert ans.abstained and ans.text.startswith(ABSTAIN_PHRASE)
    assert ans.reason == "records" and ans.meta == {"filters": ["自治体: 品川区"], "missing": []}


def test_embedding_fallback_respects_both_thresholds():
    # Unit vectors: 見物 is close to 見学 only; 写真 is equally close to everything (no stand-out).
    vocab = ["見学", "講演", "避難", "参加", "防災", "登録", "目標", "時間", "会場", "受付", "掲示", "案内"]
    rng = np.random.default_rng(0)
    base = rng.normal(size=(len(vocab), 32))
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    vecs = dict(zip(vocab, base, strict=True))
    near = base[0] + 0.05 * rng.normal(size=32)
    vecs["見物"] = near / np.linalg.norm(near)
    flat = base.mean(axis=0)
    vecs["写真"] = flat / np.linalg.norm(flat)

    def embed(texts):
        return np.stack([vecs[t] for t in texts])

    from collections import Counter

    tm = TermMap(lambda t: t in vocab, lambda t: [t], Counter({v: 1 for v in vocab}), embed=embed,
                 sim_min=0.9, z_min=2.0)
    got = tm.map([("見物", "見物"), ("写真", "写真")])
    assert got["見物"].target == "見学" and got["見物"].how == "embedding"
    assert "写真" not in got


@pytest.mark.integration
def test_calibration_of_the_embedding_step(prepared_model):
    """The real model over the seed deck's vocabulary: no unrelated word maps, and some synonyms do."""
    from importlib import resources

    from assistant.config import REPO_ROOT, Settings
    from assistant.embeddings import get_embedder

    emb = get_embedder(Settings())
    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO_ROOT / "corpus/documents").glob("*.md"))]
    tm = TermMap.from_texts(texts, content_terms, embed=lambda ts: np.asarray(emb.embed_queries(ts)))
    rows = [line.split("\t") for line in resources.files("assistant").joinpath(
        "data/term_map_calibration.tsv").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")]
    near = tm.nearest([w for w, _ in rows])
    wrong = [(w, near[w][0]) for w, ok in rows if w in near and near[w][0] not in ok.split(",")]
    right = [w for w, ok in rows if ok and w in near and near[w][0] in ok.split(",")]
    assert not wrong, wrong
    assert len(right) >= 5, right
