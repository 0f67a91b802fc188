"""Performance benchmark: synthetic corpora, latency/throughput/build measurements, reports."""

from assistant.bench.command import bench_command, run_bench
from assistant.bench.corpus import CorpusOptions, SyntheticCorpus, corpus_settings, generate_corpus
from assistant.bench.report import BenchReport, SizeResult, markdown, print_tables, write_report
from assistant.bench.runner import SizeSpec, run_size

__all__ = [
    "bench_command", "run_bench", "CorpusOptions", "SyntheticCorpus", "corpus_settings", "generate_corpus",
    "BenchReport", "SizeResult", "markdown", "print_tables", "write_report", "SizeSpec", "run_size",
]
