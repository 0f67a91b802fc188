"""One error base class with exit codes, caught once by the CLI group."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from assistant import errors
from assistant.cli import AssistantGroup
from assistant.index.store import IndexCorrupted, IndexMissing


def test_exit_codes_and_message():
    assert errors.AssistantError.exit_code == 1 and errors.GateFailedError.exit_code == 1
    assert {c.exit_code for c in (errors.UsageError, errors.ConfigError, errors.QAFileInvalidError,
                                  errors.IndexCorruptedError, errors.PipelineUnavailableError)} == {2}
    assert errors.UsageError("--limit must be positive").user_message() == \
        "使い方の誤り / error: --limit must be positive"


def test_the_index_and_file_errors_are_assistant_errors_of_their_kind():
    err = IndexMissing("no index at x")
    assert isinstance(err, errors.IndexMissingError) and err.exit_code == 1 and str(err) == "no index at x"
    assert isinstance(IndexCorrupted("bad"), errors.IndexCorruptedError) and IndexCorrupted.exit_code == 2
    assert isinstance(err, RuntimeError)  # callers that catch RuntimeError keep working


def _app() -> typer.Typer:
    app = typer.Typer(cls=AssistantGroup)
    sub = typer.Typer()
    app.add_typer(sub, name="sub")

    @sub.command("fail")
    def fail(kind: str) -> None:
        if kind == "usage":
            raise errors.UsageError("bad option")
        if kind == "foreign":
            raise IndexCorrupted("unreadable; run `assistant index --rebuild`")
        raise RuntimeError("a bug")

    @app.command("ok")
    def ok() -> None:
        print("fine")

    return app


@pytest.mark.parametrize(("kind", "code", "line"), [
    ("usage", 2, "使い方の誤り / error: bad option"),
    ("foreign", 2, "索引が壊れています / error: unreadable; run `assistant index --rebuild`"),
])
def test_group_prints_once_on_stderr_and_exits_with_the_code(kind, code, line):
    r = CliRunner().invoke(_app(), ["sub", "fail", kind])
    assert r.exit_code == code and r.stdout == "" and r.stderr == line + "\n"


def test_group_leaves_other_exceptions_and_success_alone():
    r = CliRunner().invoke(_app(), ["sub", "fail", "bug"])
    assert isinstance(r.exception, RuntimeError)
    r = CliRunner().invoke(_app(), ["ok"])
    assert r.exit_code == 0 and r.stdout == "fine\n"


def test_ask_reply_errors_are_typed(monkeypatch):
    import assistant.answer.pipeline as pipeline
    from assistant.ask_cli import ask_command
    from assistant.config import Settings

    monkeypatch.setattr(pipeline, "build_assistant", lambda settings, pipeline="default": object())
    with pytest.raises(errors.UsageError, match="--reply"):
        ask_command(Settings(), None, reply=True)
    with pytest.raises(errors.InvalidQuestionError) as err:
        ask_command(Settings(), "   ", reply=True)
    assert err.value.exit_code == 1
