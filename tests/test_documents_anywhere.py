"""Documents anywhere (issue 15, part 1): source ids for folders outside the repository, citations
resolved and quotes verified there, records citations when the documents folder is elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.claims import verify
from assistant.config import REPO_ROOT, Settings, get_settings
from assistant.ingest.loaders import load_documents, relative_source
from assistant.normalize import nfkc
from assistant.records.validate import validate_records
from assistant.source_files import SourceFolder, SourceTexts, source_folders, source_id
from assistant.sources import SourceStore
from tests.index_fixtures import ALPHA, BETA

DECK = "mirai-gijutsu-torikumi-2023-03-15.md"


def _folders(tmp: Path) -> list[SourceFolder]:
    return [SourceFolder("documents", (tmp / "docs").resolve()), SourceFolder("records", (tmp / "rec").resolve())]


def test_source_ids_repository_relative_role_prefixed_or_absolute(tmp_path: Path):
    root, docs = tmp_path / "repo", tmp_path / "docs"
    (root / "corpus" / "documents").mkdir(parents=True)
    (docs / "2024").mkdir(parents=True)
    inside, outside, stray = root / "corpus/documents/a.md", docs / "2024/b.pdf", tmp_path / "c.md"
    for p in (inside, outside, stray):
        p.write_text("x", encoding="utf-8")
    folders = _folders(tmp_path)
    assert source_id(inside, root, folders) == "corpus/documents/a.md"  # unchanged ids in the repo
    assert source_id(outside, root, folders) == "documents:2024/b.pdf"
    assert relative_source(outside, root, folders) == "documents:2024/b.pdf"
    assert source_id(stray, root, folders) == stray.resolve().as_posix()
    texts = SourceTexts(root, folders=folders)
    assert texts.resolve("documents:2024/b.pdf") == outside.resolve()
    assert texts.resolve(stray.resolve().as_posix()) is None  # no arbitrary file by absolute path
    assert texts.resolve("documents:../c.md") is None  # nor by climbing out of the folder
    assert texts.resolve("records:b.pdf") is None


def test_folders_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ASSISTANT_DOCUMENTS_DIR", str(tmp_path / "docs"))
    get_settings.cache_clear()
    try:
        folders = source_folders(REPO_ROOT)
    finally:
        get_settings.cache_clear()
    assert folders[0] == SourceFolder("documents", (tmp_path / "docs").resolve())
    assert folders[1] == SourceFolder("records", (REPO_ROOT / "corpus/records").resolve())


def test_records_citation_means_the_document_of_the_documents_folder(tmp_path: Path):
    root, docs = tmp_path / "repo", tmp_path / "docs"
    (root / "corpus/documents").mkdir(parents=True)
    (docs / "sub").mkdir(parents=True)
    (root / "corpus/documents/old.md").write_text("リポジトリの版", encoding="utf-8")
    (root / "corpus/documents/same.md").write_text("リポジトリの版", encoding="utf-8")
    (docs / "same.md").write_text("設定した資料フォルダの版", encoding="utf-8")
    (docs / "sub/deep.md").write_text("下位フォルダの資料", encoding="utf-8")
    texts = SourceTexts(root, folders=_folders(tmp_path))
    assert texts.text("corpus/documents/same.md")[0] == "設定した資料フォルダの版"  # the folder wins
    assert texts.text("corpus/documents/deep.md")[0] == "下位フォルダの資料"  # found by file name
    assert texts.text("corpus/documents/old.md")[0] == "リポジトリの版"  # else the repository copy
    assert texts.text("corpus/documents/none.md")[0] is None


def test_records_validate_warns_when_cited_documents_are_not_in_the_folder(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    texts = SourceTexts(REPO_ROOT, folders=[SourceFolder("documents", docs.resolve())])
    report = validate_records(REPO_ROOT / "corpus/records", REPO_ROOT, texts)
    assert report.ok, report.problems[:3]  # the repository copy still verifies every quote
    assert any(f"corpus/documents/{DECK} is not in the documents folder" in w and "repository copy" in w
               for w in report.warnings), report.warnings
    (docs / DECK).write_bytes((REPO_ROOT / "corpus/documents" / DECK).read_bytes())
    moved = validate_records(REPO_ROOT / "corpus/records", REPO_ROOT,
                             SourceTexts(REPO_ROOT, folders=[SourceFolder("documents", docs.resolve())]))
    assert moved.ok and not moved.warnings
    default = validate_records(REPO_ROOT / "corpus/records", REPO_ROOT,
                               SourceTexts(REPO_ROOT, folders=source_folders(REPO_ROOT, Settings())))
    assert default.ok and not default.warnings


@pytest.fixture()
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The repository's records with a documents folder and an index in ``tmp_path`` (outside it)."""
    from assistant.index import clear_cache

    docs = tmp_path / "srv" / "docs"
    (docs / "2022").mkdir(parents=True)
    (docs / "alpha.md").write_text(ALPHA, encoding="utf-8")
    (docs / "2022" / "beta.md").write_text(BETA, encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_DOCUMENTS_DIR", str(docs))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    get_settings.cache_clear()
    clear_cache()
    yield get_settings()
    clear_cache()
    get_settings.cache_clear()


def test_a_documents_folder_outside_the_repository_end_to_end(outside: Settings):
    from assistant.answer.pipeline import Assistant
    from assistant.index import build_index
    from tests.fakes import FakeEmbeddings

    s = outside
    assert not s.documents_path.resolve().is_relative_to(REPO_ROOT)
    docs, warnings = load_documents(sorted(s.documents_path.rglob("*.md")), s.root)
    assert not warnings and {d.source for d in docs} == {"documents:alpha.md", "documents:2022/beta.md"}
    emb = FakeEmbeddings()
    build_index(s, emb, progress=False)
    ans = Assistant(s, embedder=emb).ask("GPS除雪管理システムを導入したのはどこですか？")
    assert not ans.abstained, ans.text
    cited = [c for c in ans.citations if c.source.startswith("documents:")]
    assert cited and all(c.source == "documents:alpha.md" for c in cited), ans.citations
    texts = SourceTexts(s.root)  # the evaluator's reader, its own cache
    for c in cited:
        text, why = texts.text(c.source)
        assert text is not None and nfkc(c.quote) in text, (c, why)
    assert verify(ans, lambda source: texts.text(source)[0]) == []
    assert SourceStore(s.root).title("documents:2022/beta.md") == "遠隔医療の実証"
