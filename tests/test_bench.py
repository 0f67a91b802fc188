"""Benchmark: deterministic synthetic corpus, the bench end to end on a tiny corpus with the fake
embedder (fields of the tables, JSON round trip), the no-op build without a model. No timings asserted."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from assistant.bench import CorpusOptions, generate_corpus, markdown, print_tables, run_bench, write_report
from assistant.bench.report import size_result_from_dict
from assistant.cli import app
from assistant.config import Settings
from assistant.index import build_index, clear_cache
from assistant.normalize import nfkc
from assistant.records.load import read_records
from tests.fakes import FakeEmbeddings


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generator_is_deterministic_and_cites_its_rows(tmp_path: Path):
    base = Settings()
    opts = CorpusOptions(max_sections=3, max_section_chars=800, project_every=4)
    a = generate_corpus(base, tmp_path / "a", 25, seed=7, opts=opts)
    generate_corpus(base, tmp_path / "b", 25, seed=7, opts=opts)
    generate_corpus(base, tmp_path / "c", 25, seed=8, opts=opts)
    fa, fb, fc = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert fa == fb
    assert fa != fc and fa.keys() == fc.keys()
    real = len(list(base.documents_path.glob("*.md")))
    assert a.documents == 25 and a.synthetic == 25 - real
    assert len(list(a.settings.documents_path.glob("synth-*.md"))) == a.synthetic
    assert a.project_rows == a.synthetic // 4
    # The settings point into the new folder, never at the repository's corpus or index.
    assert a.settings.documents_path.is_relative_to(tmp_path / "a")
    assert a.settings.index_path.is_relative_to(tmp_path / "a") and a.settings.chroma_url is None

    rs = read_records(a.settings.records_path)
    assert not rs.problems
    synthetic = [p for p in rs.projects if "synth-" in p.source]
    assert len(synthetic) == a.project_rows
    for p in synthetic:  # each row quotes its own document exactly
        assert nfkc(p.quote) in nfkc((tmp_path / "a" / p.source).read_text(encoding="utf-8"))
        assert p.entry == p.prefecture + p.municipalities[0]
    with (base.records_path / "projects.csv").open(encoding="utf-8-sig") as f:
        assert len(rs.projects) == sum(1 for _ in csv.DictReader(f)) + a.project_rows
    # Synthetic text comes from the real sections (headings are kept) with its own title.
    text = (tmp_path / "a" / synthetic[0].source).read_text(encoding="utf-8")
    real_headings = {line for p in base.documents_path.glob("*.md")
                     for line in p.read_text(encoding="utf-8").splitlines() if line.startswith("## ")}
    assert text.startswith("---\ntitle: ") and real_headings & set(text.splitlines())


def test_bench_on_a_tiny_corpus_with_the_fake_embedder(tmp_path: Path):
    clear_cache()
    real_corpus = _files(Settings().root / "corpus")
    report = run_bench(Settings(), ["seed", "12"], [1, 2], limit=10, isolate=False, embedder=FakeEmbeddings(),
                       opts=CorpusOptions(project_every=3), work_dir=tmp_path)
    assert [r.label for r in report.sizes] == ["seed", "12"]
    seed, twelve = report.sizes
    assert twelve.documents == 12 and twelve.project_rows == twelve.synthetic // 3
    for r in report.sizes:
        assert (r.build["cold"].mode, r.build["noop"].mode, r.build["one_changed"].mode) == (
            "full", "noop", "incremental")
        assert r.build["noop"].embedded == 0 and 0 < r.build["one_changed"].embedded < r.build["cold"].embedded
        assert r.chunks > r.record_chunks > 0
        default, naive = r.pipeline("default"), r.pipeline("naive")
        assert default.latency["all"].n == naive.latency["all"].n == 10
        assert sum(s.n for k, s in default.latency.items() if k != "all") == 10
        assert set(default.latency) <= {"records", "documents", "abstention", "error", "exception", "all"}
        assert "exception" not in default.latency
        assert [t.askers for t in default.throughput] == [1, 2]
        assert all(t.questions == 10 and t.qps > 0 for t in default.throughput)
        assert s_ordered(default.latency["all"])
        assert r.rss_mb["peak"] >= r.rss_mb["after_load"] > 0
    assert [(e.threads, e.batch) for e in seed.embedding] == [(1, 8), (1, 16), (2, 8), (2, 16), (2, 32)]
    assert twelve.embedding == []  # the embedding grid runs once
    assert twelve.chunks > seed.chunks
    assert real_corpus == _files(Settings().root / "corpus")  # only copies were changed

    md = markdown(report)
    for heading in ("Build and load", "Warm ask latency", "Throughput", "Embedding"):
        assert heading in md
    assert "| seed | default | all |" in md and "| 12 | naive | all |" in md
    console = Console(record=True, width=200)
    print_tables(report, console)
    out = console.export_text()
    assert "p95" in out and "q/s" in out and "chunks/s" in out

    j, m = write_report(report, tmp_path / "out")
    data = json.loads(j.read_text(encoding="utf-8"))
    assert data["config"]["query_threads"] == 1 and data["machine"]["cpus"]
    assert size_result_from_dict(data["sizes"][1]) == twelve
    assert m.read_text(encoding="utf-8") == md


def s_ordered(s) -> bool:
    return 0 <= s.p50 <= s.p95 <= s.p99 <= s.max


def test_noop_build_does_not_load_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A no-op ``assistant index`` checks the model identity from its manifest only."""
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    (model_dir / "manifest.json").write_text(json.dumps({"checksum": "abc"}), encoding="utf-8")
    corpus = generate_corpus(Settings(), tmp_path / "c", 3)
    s = corpus.settings.model_copy(update={"embedding_model": str(model_dir)})
    emb = FakeEmbeddings()
    emb.model_id, emb.checksum, emb.passage_prefix = str(model_dir), "abc", ""
    assert build_index(s, emb, progress=False).mode == "full"

    def no_model(settings):
        raise AssertionError("the model was loaded for a no-op build")

    monkeypatch.setattr("assistant.index.build.default_embedder", no_model)
    assert build_index(s, None, progress=False).mode == "noop"
    (s.documents_path / "synth-00002.md").write_text("# 追加\n\n新しい文書です。\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="model was loaded"):
        build_index(s, None, progress=False)  # something to embed: now the model is needed


def test_cli_rejects_an_unknown_size():
    result = CliRunner().invoke(app, ["bench", "--sizes", "seed,lots"])
    assert result.exit_code == 2
